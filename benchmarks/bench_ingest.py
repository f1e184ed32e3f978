"""Ingest of one large night against a bare binary COPY of the same rows.

Writes a synthetic night of ``--rows`` point extractions (default 1,000,000) with the
tests' sample-night generator (``tests/ingest/sample.py``), then, in one run and on one
server:

1. bare COPY: the night's ``wdb.pts`` rows, already encoded (encoding not timed), copied
   into an unindexed table with the same columns, in the binary format ingest uses and,
   for reference, as CSV; and the binary payload into a table with ``wdb.pts``'s two
   indexes, the floor any ingest that keeps the indexes has;
2. ingest: ``ingest_nights`` on the night directory, everything included (Parquet read,
   SHA-256, validation, HEALPix, encoding, COPY into the indexed ``wdb`` tables,
   provenance, commit, ANALYZE).

Prints the times, the ratio ingest / bare binary COPY (target <= 2.0) and ingest rows per
second (target >= 100,000). Runs in a scratch database created and dropped on the
server of ``--db`` / ``TWOMASS_DATABASE_URL`` (default: the embedded server).

3. with ``--layouts none,1,2``: the ingest of step 2 again into a database of each
   layout, plain tables (``none``) or partitioned by sky at a HEALPix order, in turn
   within each run (the order rotating from run to run); the median over the runs of
   each layout's time over the plain tables' time of the same run is printed. (Ingest
   writes a night's rows in hpx order, so COPY fills one partition after the other:
   how many partitions a night touches changes little.)

    python benchmarks/bench_ingest.py [--rows N] [--repeat K] [--db URL]
                                      [--layouts none,1,2]

The machine is shared: each run times bare COPY and ingest side by side, and the figure
is the median of the per-run ratios over ``--repeat`` runs (default 5).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from psycopg import sql
from pyarrow import csv

from twomass.core import database
from twomass.core.database import Database
from twomass.core.healpix import ang2hpx
from twomass.core.settings import Settings
from twomass.ingest import load, payload
from twomass.ingest.products import read_night
from twomass.migrations import revision
from twomass.schema import wdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ingest"))
from sample import write_night  # noqa: E402  (the tests' sample-night generator)


def _pts_columns(night: Path) -> tuple[pa.Table, list[payload.Column]]:
    """The night's wdb.pts rows as Arrow and as COPY columns (scan numbers as keys)."""
    products = read_night(night)
    data = products.tables["pts.parquet"]
    scan_key = data.column("scan").to_numpy().astype(np.int32)
    hpx = ang2hpx(data.column("ra").to_numpy(), data.column("dec").to_numpy())
    derived = {
        "scan_key": payload.Column("scan_key", np.dtype(">i4"), scan_key),
        "hpx": payload.Column("hpx", np.dtype(">i8"), hpx),
    }
    columns = load._columns(wdb.pts, products, "pts.parquet", derived)
    arrays = {c.name: data.column(c.name) for c in wdb.pts.columns
              if c.name in data.column_names}
    arrays |= {"scan_key": pa.array(scan_key), "hpx": pa.array(hpx)}
    return pa.table({c.name: arrays[c.name] for c in columns}), columns


def timed_copy(url: str, pieces: list[bytes], names: list[str], fmt: str,
               indexes: bool = False) -> float:
    """Seconds to COPY pre-encoded pieces into a fresh table shaped like wdb.pts."""
    statement = sql.SQL("COPY bare_pts ({}) FROM STDIN (FORMAT {})").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(fmt))
    with database.connection(url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bare_pts")
        cur.execute("CREATE TABLE bare_pts (LIKE wdb.pts INCLUDING INDEXES)" if indexes
                    else "CREATE TABLE bare_pts (LIKE wdb.pts)")
        conn.commit()
        start = time.perf_counter()
        with cur.copy(statement) as copy:
            for piece in pieces:
                copy.write(piece)
        conn.commit()
        seconds = time.perf_counter() - start
        cur.execute("DROP TABLE bare_pts")
    return seconds


def bare_copies(url: str, night: Path) -> dict[str, float]:
    """Bare COPY times of the night's pts rows, each payload encoded beforehand."""
    table, columns = _pts_columns(night)
    names = [c.name for c in columns]
    binary = [bytes(p) for p in payload.chunks(columns)]
    buffer = io.BytesIO()
    csv.write_csv(table, buffer, csv.WriteOptions(include_header=False))
    text = [buffer.getvalue()]
    return {
        "binary": timed_copy(url, binary, names, "binary"),
        "csv": timed_copy(url, text, names, "csv"),
        "binary_indexed": timed_copy(url, binary, names, "binary", indexes=True),
    }


def _layout(text: str) -> int | None:
    return None if text == "none" else int(text)


def layout_ingest(admin_url: str, night: Path, layout: int | None) -> load.IngestSummary:
    """``ingest_nights`` of the night into a new database of ``layout``."""
    url = database.create_database(admin_url, "twomass_bench_ingest")
    try:
        with Database(url, partition_order=layout) as db:
            revision.init(db)
            return load.ingest_nights(db, [night], progress=False)
    finally:
        database.drop_database(admin_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="URL of a database on the server to use")
    parser.add_argument("--layouts", type=lambda t: [_layout(x) for x in t.split(",")],
                        default=[], help="comma-separated: none (plain tables) or orders")
    args = parser.parse_args()
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        night = write_night(Path(tmp) / "2000-06-01n", n_pts=args.rows,
                            n_ext=args.rows // 100, n_scans=40).directory
        print(f"night of {args.rows:,d} point rows written in "
              f"{time.perf_counter() - start:.1f} s")
        if args.layouts:
            compare_layouts(admin_url, night, args.layouts, args.repeat, args.rows)
            return
        best: dict[str, float] = {}
        ratios: list[float] = []
        for i in range(args.repeat):
            url = database.create_database(admin_url, "twomass_bench_ingest")
            try:
                with Database(url) as db:
                    revision.init(db)
                    bare = bare_copies(url, night)
                    summary = load.ingest_nights(db, [night], progress=False)
            finally:
                database.drop_database(admin_url, url)
            rows = summary.rows
            times = bare | {"ingest": summary.seconds}
            best = {k: min(v, best.get(k, v)) for k, v in times.items()}
            ratios.append(summary.seconds / bare["binary"])
            print(f"run {i + 1}: bare binary COPY {bare['binary']:.2f} s, bare CSV COPY "
                  f"{bare['csv']:.2f} s, binary COPY into a table with wdb.pts's two "
                  f"indexes {bare['binary_indexed']:.2f} s; ingest {summary.seconds:.2f} s "
                  f"({rows:,d} rows, {rows / summary.seconds:,.0f} rows/s); "
                  f"ratio {summary.seconds / bare['binary']:.2f}")
            phases = summary.nights[0].phases
            print("  ingest phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    rate = rows / best["ingest"]
    # Each run times both side by side; the median of those ratios is the figure, as a
    # lucky or unlucky moment of a shared machine only moves one run's pair.
    ratio = float(np.median(ratios))
    print(f"best of {args.repeat}: ingest / bare binary COPY = "
          f"{best['ingest'] / best['binary']:.2f}; "
          f"ingest / bare CSV COPY = {best['ingest'] / best['csv']:.2f}; "
          f"indexes alone (indexed / bare binary COPY) = "
          f"{best['binary_indexed'] / best['binary']:.2f}")
    verdict = "ok" if ratio <= 2.0 and rate >= 100_000 else "MISSED"
    print(f"bench_ingest: {args.rows:,d} pts rows, ingest / bare binary COPY = {ratio:.2f} "
          f"(median of {args.repeat} runs; target <= 2.0), ingest {rate:,.0f} rows/s "
          f"(target >= 100,000): {verdict}")


def compare_layouts(admin_url: str, night: Path, layouts: list[int | None], repeat: int,
                    rows: int) -> None:
    """Ingest times per layout, alternated; ratios to plain tables per run, medians."""
    if None not in layouts:
        layouts = [None, *layouts]
    times: dict[int | None, list[float]] = {k: [] for k in layouts}
    phases: dict[int | None, dict[str, float]] = {}
    for i in range(repeat):
        turn = layouts[i % len(layouts):] + layouts[:i % len(layouts)]
        for layout in turn:
            summary = layout_ingest(admin_url, night, layout)
            times[layout].append(summary.seconds)
            phases[layout] = summary.nights[0].phases
        print(f"run {i + 1}: " + ", ".join(
            f"{_name(k)} {times[k][-1]:.2f} s" for k in layouts), flush=True)
        for layout in layouts:
            print(f"  {_name(layout)} phases: " + ", ".join(
                f"{k} {v:.2f} s" for k, v in phases[layout].items()))
    for layout in layouts:
        ratio = np.median([t / p for t, p in zip(times[layout], times[None], strict=True)])
        print(f"bench_ingest layouts: {_name(layout):>8}: median {np.median(times[layout]):.2f} s "
              f"({rows / np.median(times[layout]):,.0f} rows/s), / plain tables = "
              f"{ratio:.2f} (median of {repeat} runs)")


def _name(layout: int | None) -> str:
    return "plain" if layout is None else f"order {layout}"


if __name__ == "__main__":
    main()
