"""Cross-match of an uploaded table with a catalog, as one set-based query.

The upload (its row number, position, order-29 ``hpx`` and search radius) goes into a
temporary table through ADBC's bulk ingest (binary COPY); ``hpx_xmatch`` or
``hpx_xmatch_nearest`` (``sql/xmatch.sql``) pairs it with the catalog at the largest
radius asked for, and the query keeps the pairs within each row's own radius
(``sql/upload_xmatch.sql``). The answer comes back as Arrow and is joined to the user's
columns in memory, so the output keeps every column of the upload as it was read.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from astropy.table import MaskedColumn, Table, hstack
from psycopg import sql

from twomass.access.source import Source
from twomass.access.tables import catalog_table, masked_column
from twomass.core import healpix
from twomass.core.errors import TwomassError

#: Catalog -> its integer key, which hpx_xmatch pairs by.
KEYS = {"psc": "pts_key", "xsc": "ext_key", "psc_reject": "pts_key",
        "xsc_reject": "ext_key", "scan_info": "scan_key"}

#: Largest radius accepted [arcsec]: beyond it a cross-match is a cone search.
MAX_RADIUS_ARCSEC = 3600.0

UPLOAD_TABLE = "twomass_upload"


class XmatchError(TwomassError):
    """An upload that cannot be cross-matched: unreadable, missing or bad columns."""


@cache
def _query_template() -> str:
    return resources.files("twomass.access").joinpath("sql", "upload_xmatch.sql").read_text()


def read_upload(path: Path | str) -> Table:
    """A CSV, VOTable, FITS or Parquet file as a Table, by its extension."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if not path.is_file():
        raise XmatchError(f"{path}: no such file")
    try:
        if name.endswith(".csv"):
            return Table.read(path, format="ascii.csv")
        if name.endswith((".vot", ".votable", ".xml")):
            return Table.read(path, format="votable")
        if name.endswith((".fits", ".fit", ".fts")):
            return Table.read(path, format="fits")
        if name.endswith((".parquet", ".pq")):
            arrow = pq.read_table(path)
            return Table({n: masked_column(arrow.column(n)) for n in arrow.column_names})
    except XmatchError:
        raise
    except Exception as exc:  # the reader's own reason, on one line
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise XmatchError(f"{path}: cannot read it: {reason}") from None
    raise XmatchError(f"{path}: unknown table format: name it .csv, .vot/.xml, .fits or "
                      ".parquet")


def _find_column(table: Table, name: str, what: str, origin: str) -> str:
    if name in table.colnames:
        return name
    folded = {c.lower(): c for c in table.colnames}
    if name.lower() in folded:
        return folded[name.lower()]
    raise XmatchError(f"{origin}: no {what} column {name!r}; its columns are "
                      f"{', '.join(table.colnames)}")


def _numbers(table: Table, column: str, origin: str) -> np.ndarray:
    """A column as float64, with a one-line error naming the first bad row."""
    col = table[column]
    mask = np.asarray(getattr(col, "mask", np.zeros(len(col), bool)), dtype=bool)
    if mask.shape != (len(col),):
        mask = np.zeros(len(col), bool)
    if mask.any():
        row = int(np.flatnonzero(mask)[0]) + 1
        raise XmatchError(f"{origin}: row {row}, column {column!r}: value is missing")
    values = np.asarray(col)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        for i, v in enumerate(values):
            try:
                float(v)
            except (TypeError, ValueError):
                raise XmatchError(f"{origin}: row {i + 1}, column {column!r}: {str(v)!r} is not "
                                  "a number") from None
        raise
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise XmatchError(f"{origin}: row {row + 1}, column {column!r}: {values[row]!r} is "
                          "not a finite number")
    return numbers


def prepare_upload(table: Table, radius_arcsec: float | None, *, ra: str = "ra",
                   dec: str = "dec", radius_column: str | None = None,
                   origin: str = "upload") -> pa.Table:
    """The rows to ingest: ``row_id`` (0-based), ``ra``, ``dec``, ``hpx``,
    ``radius_arcsec``; every value checked, errors naming row and column."""
    if len(table) == 0:
        raise XmatchError(f"{origin}: the table has no rows")
    ra_name = _find_column(table, ra, "RA", origin)
    dec_name = _find_column(table, dec, "Dec", origin)
    ra_deg = _numbers(table, ra_name, origin) % 360.0
    dec_deg = _numbers(table, dec_name, origin)
    outside = np.abs(dec_deg) > 90
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise XmatchError(f"{origin}: row {row + 1}, column {dec_name!r}: Dec "
                          f"{dec_deg[row]:g} is not in [-90, 90]")
    if radius_column is not None:
        radius_name = _find_column(table, radius_column, "radius", origin)
        radius = _numbers(table, radius_name, origin)
        what = f"column {radius_name!r}"
    else:
        if radius_arcsec is None:
            raise XmatchError("give a radius (--radius ARCSEC) or a radius column")
        radius = np.full(len(table), float(radius_arcsec))
        radius_name, what = None, "--radius"
    bad = ~((radius > 0) & (radius <= MAX_RADIUS_ARCSEC))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = f"row {row + 1}, {what}" if radius_name else what
        raise XmatchError(f"{origin}: {where}: radius {radius[row]:g} arcsec is not in "
                          f"(0, {MAX_RADIUS_ARCSEC:g}]")
    return pa.table({"row_id": pa.array(np.arange(len(table), dtype=np.int64)),
                     "ra": ra_deg, "dec": dec_deg, "hpx": healpix.ang2hpx(ra_deg, dec_deg),
                     "radius_arcsec": radius})


def xmatch_query(source: Source, max_radius_arcsec: float, nearest: bool) -> sql.Composed:
    """The set-based query of ``sql/upload_xmatch.sql`` for this catalog."""
    if source.catalog not in KEYS:
        raise XmatchError(f"cannot cross-match with {source.catalog}: it has no single "
                          f"key; choose one of {', '.join(KEYS)}")
    pairs = (sql.SQL("public.hpx_xmatch_nearest({u}, {r}, {d}, 1, 'row_id', {k})")
             if nearest else sql.SQL("public.hpx_xmatch({u}, {r}, {d}, 'row_id', {k})"))
    pairs = pairs.format(
        u=sql.Literal(f"pg_temp.{UPLOAD_TABLE}"), r=sql.Literal(source.regclass),
        d=sql.Literal(max_radius_arcsec * (1 + 1e-12) / 3600.0), k=sql.Literal(
            KEYS[source.catalog]))
    columns = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c))
                                 for c in source.columns)
    columns += sql.SQL(", c.{} AS _key").format(sql.Identifier(KEYS[source.catalog]))
    return sql.SQL(_query_template()).format(
        pairs=pairs, upload=sql.Identifier(UPLOAD_TABLE), relation=source.relation,
        key=sql.Identifier(KEYS[source.catalog]), columns=columns)


def run_xmatch(url: str, query_text: str, upload: pa.Table, key: str) -> pa.Table:
    """Ingest ``upload`` into a temporary table and run the cross-match, on one ADBC
    connection (the temporary table is that session's); rows in upload order, each
    row's matches nearest first (ties by the catalog ``key``)."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.adbc_ingest(UPLOAD_TABLE, upload, mode="create", temporary=True)
        cur.execute(f"ANALYZE pg_temp.{UPLOAD_TABLE}")
        cur.execute(query_text)
        result = cur.fetch_arrow_table()
        conn.rollback()
    order = pc.sort_indices(result, sort_keys=[
        ("row_id", "ascending"), ("dist_arcsec", "ascending"), (key, "ascending")])
    return result.take(order)


def join_upload(table: Table, result: pa.Table, source: Source) -> Table:
    """The user's rows (repeated per match) beside the catalog's columns and
    ``dist_arcsec``; a catalog column named as one of the user's takes the catalog's
    name as prefix (``psc_ra``)."""
    row_ids = result.column("row_id").to_numpy(zero_copy_only=False).astype(np.int64)
    left = table[row_ids] if len(row_ids) else table[:0]
    names = [n for n in result.column_names if n not in ("row_id", "_key")]
    right = catalog_table(names, result.select(names), source.catalog)
    for name in list(right.colnames):
        if name in left.colnames:
            right.rename_column(name, f"{source.catalog}_{name}")
    if len(left) == 0:
        out = Table(left, masked=True)
        for name in right.colnames:
            out[name] = MaskedColumn(right[name])
        return out
    return hstack([left, right], join_type="exact", metadata_conflicts="silent")


def max_radius(upload: pa.Table) -> float:
    value = float(pc.max(upload.column("radius_arcsec")).as_py())
    return value if math.isfinite(value) else MAX_RADIUS_ARCSEC
