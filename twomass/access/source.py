"""Which relation a catalog name means, which of its columns, and the query over them.

``psc``, ``xsc``, ``scan_info``, ``psc_reject`` and ``xsc_reject`` are the public views
of the published release, or the tables of a named release (``--release NAME``); ``wdb``
is the working point extractions ``wdb.pts``. Column names are checked against
``twomass.schema.catalogs``, so a typo is a one-line error, not a database error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
import pyarrow as pa
from psycopg import sql

from twomass.access.selections import Selection
from twomass.access.tables import CATALOG_COLUMNS, described_columns
from twomass.core.errors import TwomassError
from twomass.release import registry
from twomass.schema import catalogs


class SourceError(TwomassError):
    """A catalog, release or column that does not exist."""


@dataclass(frozen=True)
class Source:
    """A catalog's relation and the columns to read from it, in order."""

    catalog: str
    schema: str
    name: str
    columns: tuple[str, ...]

    @property
    def relation(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def regclass(self) -> str:
        """The relation's name as a ``regclass`` literal reads it."""
        return ".".join('"' + p.replace('"', '""') + '"' for p in (self.schema, self.name))

    @property
    def described(self) -> dict[str, catalogs.CatalogColumn]:
        return described_columns(self.catalog)

    def query(self, selection: Selection, *, distance_from: tuple[float, float] | None = None,
              order: str | None = None, limit: int | None = None) -> sql.Composed:
        """``SELECT`` of the columns over the selected rows; with ``distance_from`` it adds
        ``dist_arcsec`` and, with ``order='distance'``, sorts nearest first."""
        items: list[sql.Composable] = [sql.SQL("t.{}").format(sql.Identifier(c))
                                       for c in self.columns]
        if distance_from is not None:
            items.append(sql.SQL("public.hpx_dist(t.ra, t.dec, {}, {}) * 3600 AS dist_arcsec")
                         .format(sql.Literal(distance_from[0]), sql.Literal(distance_from[1])))
        query = sql.SQL("SELECT {} FROM {} AS t WHERE ({})").format(
            sql.SQL(", ").join(items), self.relation, selection.where())
        if order == "distance" and distance_from is not None:
            query += sql.SQL(" ORDER BY dist_arcsec")
        if limit is not None:
            query += sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
        return query


def resolve(conn: psycopg.Connection, catalog: str, release: str | None = None,
            columns: Sequence[str] | None = None) -> Source:
    """The relation of ``catalog`` (in ``release``, else the published one) and the
    columns asked for (default: all of the catalog's, in table order)."""
    described_columns(catalog)  # raises on an unknown catalog
    if catalog == "wdb":
        if release is not None:
            raise SourceError("--release selects a release's tables; wdb has no release")
        schema, name = "wdb", "pts"
    elif release is not None:
        schema = registry.schema_for(release)
        if not _exists(conn, f"{schema}.{catalog}"):
            raise SourceError(f"no release {release!r}: `twomass release list` shows the "
                              "releases built")
        name = catalog
    else:
        if not _exists(conn, f"public.{catalog}"):
            raise SourceError(f"no release is published, so there is no {catalog}: "
                              "`twomass release build NAME` builds and publishes one, or "
                              "--release NAME reads a built one")
        schema, name = "public", catalog
    names = tuple(c.name for c in CATALOG_COLUMNS[catalog])
    if columns:
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise SourceError(f"no column {unknown[0]!r} in {catalog}: its columns are "
                              f"{', '.join(names)}")
        names = tuple(dict.fromkeys(columns))
    return Source(catalog, schema, name, names)


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def fetch_arrow(url: str, query_text: str) -> pa.Table:
    """The whole answer of ``query_text`` as Arrow, through ADBC (for answers a caller
    keeps in memory anyway: a cone, a box, a polygon)."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query_text)
        return cur.fetch_arrow_table()
