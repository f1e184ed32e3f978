"""``twomass.Catalog``: the catalogs from Python, as astropy Tables.

>>> from twomass import Catalog
>>> cat = Catalog("postgresql://user@host/twomass")
>>> near = cat.cone(10.6847, 41.2690, 30, columns=["designation", "j_m", "k_m"])
>>> pairs = cat.xmatch(my_table, radius=2.0, nearest=True)

Every method reads through ADBC into Arrow and returns a Table whose columns carry unit,
UCD and description (``twomass.access.tables.catalog_table``), NULLs masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from astropy.table import Table

from twomass.access import selections, xmatch
from twomass.access.selections import Selection
from twomass.access.source import Source, fetch_arrow, resolve
from twomass.access.tables import catalog_table
from twomass.core.database import Database
from twomass.migrations import revision


class Catalog:
    """The catalogs of one database.

    Parameters
    ----------
    db
        A ``twomass.core.database.Database`` or a PostgreSQL URL.
    catalog
        The default catalog of the methods: ``psc``, ``xsc``, ``scan_info``,
        ``psc_reject``, ``xsc_reject`` or ``wdb``.
    release
        Read this built release's tables instead of the published release.
    """

    def __init__(self, db: Database | str, catalog: str = "psc",
                 release: str | None = None) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self.catalog = catalog
        self.release = release

    def _source(self, catalog: str | None, columns: Sequence[str] | None) -> Source:
        revision.require_current(self.db)
        with self.db.connection() as conn:
            return resolve(conn, catalog or self.catalog, self.release, columns)

    def _select(self, selection: Selection, catalog: str | None,
                columns: Sequence[str] | None, limit: int | None) -> Table:
        if limit is not None and limit < 0:
            raise selections.SelectionError(f"limit must be >= 0, got {limit}")
        source = self._source(catalog, columns)
        query = source.query(selection, distance_from=selection.centre,
                             order="distance" if selection.kind == "cone" else None,
                             limit=limit)
        with self.db.connection() as conn:
            text = query.as_string(conn)
        arrow = fetch_arrow(self.db.url, text)
        return catalog_table(arrow.column_names, arrow, source.catalog)

    def cone(self, ra: float, dec: float, radius_arcsec: float, *,
             columns: Sequence[str] | None = None, catalog: str | None = None,
             limit: int | None = None) -> Table:
        """Rows strictly within ``radius_arcsec`` of (``ra``, ``dec``) [deg], nearest
        first, with ``dist_arcsec``."""
        return self._select(selections.cone(ra, dec, radius_arcsec), catalog, columns, limit)

    def box(self, ra_min: float, ra_max: float, dec_min: float, dec_max: float, *,
            columns: Sequence[str] | None = None, catalog: str | None = None,
            limit: int | None = None) -> Table:
        """Rows with ra in [ra_min, ra_max], dec in [dec_min, dec_max] [deg]
        (``ra_min > ra_max`` crosses RA 0), with ``dist_arcsec`` from the box centre."""
        return self._select(selections.box(ra_min, ra_max, dec_min, dec_max), catalog,
                            columns, limit)

    def polygon(self, vertices: Sequence[float] | Sequence[tuple[float, float]], *,
                columns: Sequence[str] | None = None, catalog: str | None = None,
                limit: int | None = None) -> Table:
        """Rows inside the polygon of vertices ``[(ra1, dec1), ...]`` or
        ``[ra1, dec1, ra2, ...]`` [deg], great-circle edges."""
        flat = [float(v) for vertex in vertices
                for v in (vertex if isinstance(vertex, tuple | list) else (vertex,))]
        return self._select(selections.polygon(flat), catalog, columns, limit)

    def xmatch(self, table: Table | str | Path, radius: float | None = None,
               nearest: bool = False, *, columns: Sequence[str] | None = None,
               catalog: str | None = None, ra: str = "ra", dec: str = "dec",
               radius_column: str | None = None, origin: str | None = None) -> Table:
        """Cross-match ``table`` (a Table, or a CSV, VOTable, FITS or Parquet file) with
        the catalog: every catalog row strictly within ``radius`` [arcsec] (or each row's
        ``radius_column``) of each row, or only the nearest with ``nearest=True``.

        Returns the user's columns, repeated per match, then the catalog's (a name the
        user's table has already gets the catalog's name as prefix, ``psc_ra``) and
        ``dist_arcsec``; rows without a match are left out. ``origin`` names the table
        in error messages (default: its file name).
        """
        origin = origin or (str(table) if isinstance(table, str | Path) else "table")
        if isinstance(table, str | Path):
            table = xmatch.read_upload(table)
        upload = xmatch.prepare_upload(table, radius, ra=ra, dec=dec,
                                       radius_column=radius_column, origin=origin)
        source = self._source(catalog, columns)
        query = xmatch.xmatch_query(source, xmatch.max_radius(upload), nearest)
        with self.db.connection() as conn:
            text = query.as_string(conn)
        result = xmatch.run_xmatch(self.db.url, text, upload, "_key")
        return xmatch.join_upload(table, result, source)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
