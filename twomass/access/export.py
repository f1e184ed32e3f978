"""``twomass export``: a catalog, or the part of it a selection picks, into a file.

Rows stream from the server to the file and are never all in memory: PSV is PostgreSQL's
own ``COPY ... TO STDOUT`` text (bar-delimited, ``\\N`` for NULL, values rounded to the
2MASS bulk files' decimals in the query), every other format reads Arrow record batches
through ADBC (``adbc-driver-postgresql``, the fastest route out of PostgreSQL: binary
COPY into Arrow in C). The file is written under a temporary name and renamed at the end,
so a failed export leaves nothing behind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from tqdm import tqdm

from twomass.access import formats
from twomass.access.selections import EVERYTHING, Selection
from twomass.access.source import Source, resolve
from twomass.access.tables import CATALOG_COLUMNS, described_columns
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.migrations import revision
from twomass.schema import catalogs

FORMATS = ("psv", "csv", "parquet", "hats", "fits", "votable", "ipac")

#: Decimals of the 2MASS bulk files (Explanatory Supplement sec. 2.2a formats: ra %10.6f,
#: j_m %6.3f, ...); the files print a value with at most these, trailing zeros dropped.
#: A column not listed is printed as PostgreSQL prints it (the shortest exact form).
PSV_DECIMALS: dict[str, int] = {
    "ra": 6, "dec": 6, "sup_ra": 6, "sup_dec": 6, "err_maj": 2, "err_min": 2,
    "prox": 1, "glon": 3, "glat": 3, "x_scan": 1, "jdate": 4, "dist_opt": 1,
    "b_m_opt": 1, "vr_m_opt": 1, "x_coadd": 1, "y_coadd": 1, "density": 3,
    "r_k20fe": 1, "r_3sig": 1, "r_ext": 1, "sup_ba": 2,
    **{f"{b}_{name}": n for b in "jhk" for name, n in (
        ("m", 3), ("cmsig", 3), ("msigcom", 3), ("snr", 1), ("psfchi", 2), ("m_stdap", 3),
        ("msig_stdap", 3), ("ba", 2), ("m_k20fe", 3), ("msig_k20fe", 3), ("m_7", 3),
        ("msig_7", 3), ("m_ext", 3), ("msig_ext", 3))},
}

_FLOAT4, _FLOAT8 = 700, 701


class ExportError(TwomassError):
    """An export that cannot be made: a bad format, output path or missing extra."""


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    seconds: float
    path: Path
    fmt: str

    def line(self, catalog: str, selection: Selection) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        return (f"export: {self.rows} {catalog} rows ({selection.describe()}) to {self.path} "
                f"as {self.fmt} in {self.seconds:.2f} s ({rate:,.0f} rows/s)")


def describe(conn: psycopg.Connection, query: sql.Composable) -> list[psycopg.Column]:
    """The result columns of ``query`` (names, type oids, char(n) widths), unrun."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(query))
        return list(cur.description or [])


def estimate_rows(conn: psycopg.Connection, query: sql.Composable) -> int:
    """The planner's row estimate: a progress bar's total without counting."""
    plan = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query)).fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def text_widths(conn: psycopg.Connection, source: Source, selection: Selection,
                columns: list[psycopg.Column]) -> dict[str, int]:
    """Widths of the text columns (char(n): n; text: the longest value selected), for
    the fixed-width formats."""
    widths = {c.name: c.display_size for c in columns if c.display_size}
    free = [c.name for c in columns if c.type_code == 25]  # text
    if free:
        items = sql.SQL(", ").join(sql.SQL("coalesce(max(octet_length(t.{})), 1)").format(
            sql.Identifier(n)) for n in free)
        row = conn.execute(sql.SQL("SELECT {} FROM {} AS t WHERE ({})").format(
            items, source.relation, selection.where())).fetchone()
        widths |= dict(zip(free, row, strict=True))
    widths |= {c.name: 10 for c in columns if c.type_code == 1082}  # date
    return widths


def psv_query(source: Source, selection: Selection, types: dict[str, int]) -> sql.Composed:
    """The PSV ``SELECT``: the columns, floats rounded to the bulk files' decimals (in
    float8, so PostgreSQL prints the shortest form: 12.467, 1.6, -89.91861)."""
    items = []
    for name in source.columns:
        column = sql.SQL("t.{}").format(sql.Identifier(name))
        decimals = PSV_DECIMALS.get(name)
        if decimals is not None and types.get(name) in (_FLOAT4, _FLOAT8):
            scale = sql.Literal(float(10 ** decimals))
            item = sql.SQL("round({c}::float8 * {s}) / {s}").format(c=column, s=scale)
            if types[name] == _FLOAT4:
                item = sql.SQL("({})::real").format(item)
            column = sql.SQL("{} AS {}").format(item, sql.Identifier(name))
        items.append(column)
    return sql.SQL("SELECT {} FROM {} AS t WHERE ({})").format(
        sql.SQL(", ").join(items), source.relation, selection.where())


def _bulk_columns(catalog: str) -> list[str]:
    """The bulk files' columns: the catalog's without our ``hpx``."""
    return [c.name for c in CATALOG_COLUMNS[catalog] if c.name != "hpx"]


def export(db: Database, catalog: str, fmt: str, out: Path | str, *,
           release: str | None = None, selection: Selection = EVERYTHING,
           columns: Sequence[str] | None = None, progress: bool = True) -> ExportSummary:
    """Write the selected rows of ``catalog`` to ``out`` in format ``fmt``.

    Parameters
    ----------
    catalog
        ``psc``, ``xsc``, ``scan_info``, ``psc_reject``, ``xsc_reject`` or ``wdb``.
    fmt
        One of ``FORMATS``; ``psv``, ``csv``, ``votable`` and ``ipac`` are gzipped when
        ``out`` ends in ``.gz``; ``hats`` writes a catalog directory ``out``.
    release
        Read this built release's tables instead of the published ones.
    selection
        A cone, box or polygon from ``twomass.access.selections``; default every row.
    columns
        Columns to write, in this order; default all (PSV: the bulk files' 60 for psc,
        the catalog's without ``hpx`` otherwise).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.name.endswith(".gz") and fmt not in ("psv", "csv", "votable", "ipac"):
        raise ExportError(f"{out}: {fmt} cannot be gzipped; drop the .gz")
    if not out.parent.is_dir():
        raise ExportError(f"{out}: directory {out.parent} does not exist")
    if fmt == "hats":
        from twomass.access import hats
        return hats.export_hats(db, catalog, out, release=release, selection=selection,
                                columns=columns, progress=progress)
    revision.require_current(db)
    described_columns(catalog)  # an unknown catalog is named before anything else
    if fmt == "psv" and not columns:
        columns = _bulk_columns(catalog)
    start = time.perf_counter()
    partial = out.with_name(f".partial-{out.name}")  # keeps the .gz that compresses
    try:
        with db.connection() as conn:
            source = resolve(conn, catalog, release, columns)
            query = source.query(selection)
            result_columns = describe(conn, query)
            total = estimate_rows(conn, query)
            bar = tqdm(total=total, unit=" rows", disable=not progress, leave=False,
                       desc=f"export {catalog}")
            if fmt == "psv":
                types = {c.name: c.type_code for c in result_columns}
                rows = _copy_psv(conn, psv_query(source, selection, types), partial, bar)
            else:
                widths = text_widths(conn, source, selection, result_columns)
                query_text = query.as_string(conn)
                rows = stream_arrow(db.url, query_text, lambda schema: formats.arrow_writer(
                    fmt, partial, schema, widths=widths, described=source.described,
                    name=catalog, table_metadata=_table_metadata(catalog, release, selection)),
                    bar)
            bar.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportSummary(rows, time.perf_counter() - start, out, fmt)


def _table_metadata(catalog: str, release: str | None, selection: Selection) -> dict[str, str]:
    description = catalogs.TABLE_DESCRIPTIONS.get(
        catalog, "Working point extractions (wdb.pts).")
    return {"catalog": catalog, "release": release or "published",
            "selection": selection.describe(), "description": description}


def _copy_psv(conn: psycopg.Connection, query: sql.Composed, path: Path, bar: tqdm) -> int:
    conn.execute("SET LOCAL extra_float_digits = 1")
    conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    rows = 0
    with formats.open_binary(path) as stream, conn.cursor() as cur, cur.copy(
            sql.SQL("COPY ({}) TO STDOUT (FORMAT text, DELIMITER '|')").format(query)) as copy:
        for chunk in copy:
            stream.write(chunk)
            n = bytes(chunk).count(b"\n")
            rows += n
            bar.update(n)
    return rows


def stream_arrow(url: str, query_text: str, make_writer, bar: tqdm | None = None) -> int:
    """Run ``query_text`` through ADBC and hand each record batch to the writer that
    ``make_writer(schema)`` returns; the row count."""
    import adbc_driver_postgresql.dbapi as adbc

    rows = 0
    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query_text)
        reader = cur.fetch_record_batch()
        writer = make_writer(reader.schema)
        try:
            for batch in reader:
                writer.write(batch)
                rows += batch.num_rows
                if bar is not None:
                    bar.update(batch.num_rows)
        finally:
            writer.close()
    return rows
