"""Cone search from Python: the rows of a catalog near a position, as an astropy Table.

A thin layer over the SQL functions ``psc_cone``, ``xsc_cone`` and ``wdb_cone``
(``sql/cone.sql``): the database does the index-driven search and sorts by distance;
this module validates the arguments, so a mistake gets a one-line error naming the bad
value, and turns the rows into a Table whose columns carry the unit, UCD and description
of ``twomass.schema.catalogs`` (the VOTable writer takes the UCD from ``meta['ucd']``).
"""

from __future__ import annotations

import math

import numpy as np
from astropy.table import MaskedColumn, Table
from psycopg import sql

from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.migrations import revision
from twomass.schema import catalogs

#: Catalog name -> SQL function that searches it.
CATALOGS = {"psc": "psc_cone", "xsc": "xsc_cone", "wdb": "wdb_cone"}

#: Catalog name -> the columns its search returns, by name.
_COLUMNS = {catalog: {c.name: c for c in (*columns, catalogs.DIST_ARCSEC)}
            for catalog, columns in (("psc", catalogs.PSC), ("xsc", catalogs.XSC),
                                     ("wdb", catalogs.WDB_PTS))}


class ConeSearchError(TwomassError):
    """A cone search was asked with an impossible centre, radius, limit or catalog, or of
    a catalog not yet published."""


def check_arguments(ra: float, dec: float, radius_arcsec: float, catalog: str,
                    limit: int | None) -> None:
    """Raise ``ConeSearchError`` naming the first impossible argument."""
    if catalog not in CATALOGS:
        raise ConeSearchError(f"unknown catalog {catalog!r}: choose one of "
                              f"{', '.join(CATALOGS)}")
    if not math.isfinite(ra):
        raise ConeSearchError(f"RA must be a finite number of degrees, got {ra}")
    if not -90.0 <= dec <= 90.0:
        raise ConeSearchError(f"Dec must be in [-90, 90] degrees, got {dec}")
    if not 0.0 <= radius_arcsec <= 180 * 3600:
        raise ConeSearchError(
            f"radius must be in [0, 648000] arcsec (180 deg), got {radius_arcsec}")
    if limit is not None and limit < 0:
        raise ConeSearchError(f"limit must be >= 0, got {limit}")


def cone(db: Database, ra: float, dec: float, radius_arcsec: float, catalog: str = "psc",
         limit: int | None = None) -> Table:
    """Rows of ``catalog`` within ``radius_arcsec`` of (ra, dec), nearest first.

    Parameters
    ----------
    db
        The database; it must be at this code's schema revision.
    ra, dec
        Centre in degrees (ICRS).
    radius_arcsec
        Search radius in arcseconds; a row exactly on the circle is excluded (as Q3C).
    catalog
        ``psc`` or ``xsc`` (the published release; refused until one is published)
        or ``wdb`` (every working point extraction).
    limit
        Return at most this many rows (the nearest ones).

    Returns
    -------
    astropy.table.Table
        Every column of the catalog plus ``dist_arcsec``, the distance to the centre.
    """
    check_arguments(ra, dec, radius_arcsec, catalog, limit)
    revision.require_current(db)
    query = sql.SQL("SELECT * FROM {}(%s, %s, %s)").format(
        sql.Identifier("public", CATALOGS[catalog]))
    params: list[object] = [float(ra), float(dec), float(radius_arcsec)]
    if limit is not None:
        query += sql.SQL(" LIMIT %s")
        params.append(int(limit))
    with db.connection() as conn, conn.cursor() as cur:
        if catalog != "wdb" and cur.execute(
                "SELECT to_regclass(%s) IS NULL", (f"public.{catalog}",)).fetchone()[0]:
            raise ConeSearchError(
                f"no release is published, so there is no {catalog} to search: "
                "`twomass release build NAME` builds and publishes one; "
                "--catalog wdb searches the working database")
        cur.execute(query, params)
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
    return _table(names, rows, _COLUMNS[catalog])


def _table(names: list[str], rows: list[tuple],
           described: dict[str, catalogs.CatalogColumn]) -> Table:
    """Column-wise Table; NULLs become masked entries, and each column takes the unit,
    description and UCD ``described`` gives it."""
    table = Table()
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        mask = np.array([v is None for v in values], dtype=bool)
        present = [v for v in values if v is not None]
        sample = present[0] if present else 0.0
        if isinstance(sample, str):
            data = np.array([v if v is not None else "" for v in values], dtype=str)
        elif isinstance(sample, bool | int | float):
            fill = 0 if isinstance(sample, bool | int) else np.nan
            data = np.array([v if v is not None else fill for v in values])
        else:  # dates and other types: keep their text form
            data = np.array([str(v) if v is not None else "" for v in values], dtype=str)
        if not rows:
            data = np.zeros(0, dtype=float)
        column = MaskedColumn(data, mask=mask)
        if name in described:
            info = described[name]
            column.unit = info.unit or None
            column.description = info.description
            column.meta["ucd"] = info.ucd
        table[name] = column
    return table
