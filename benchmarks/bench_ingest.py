"""Ingest of one large night against a bare binary COPY of the same rows.

Writes a synthetic night of ``--rows`` point extractions (default 1,000,000) with
``twomass.ingest.sample``, then, in one run and on one server:

1. bare COPY: the night's ``wdb.pts`` rows, already encoded as binary COPY payload
   (encoding not timed), copied into an unindexed table with the same columns;
2. ingest: ``ingest_nights`` on the night directory, everything included (Parquet read,
   SHA-256, validation, HEALPix, encoding, COPY into the indexed ``wdb`` tables,
   provenance, commit, ANALYZE).

Prints both times, the ratio ingest / bare COPY (target <= 2.0) and ingest rows per
second (target >= 100,000). Runs in a scratch database created and dropped on the
server of ``--db`` / ``TWOMASS_DATABASE_URL`` (default: the embedded server).

    /work/venv/bin/python benchmarks/bench_ingest.py [--rows N] [--repeat K] [--db URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from psycopg import sql

from twomass import database, revision
from twomass.ingest import load, payload
from twomass.ingest.products import read_night
from twomass.ingest.sample import write_night
from twomass.schema import wdb
from twomass.settings import Settings


def scratch_database(admin_url: str) -> str:
    name = f"twomass_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def bare_copy(url: str, night: Path) -> float:
    """Seconds to COPY the night's pts rows, pre-encoded, into an unindexed table."""
    products = read_night(night)
    data = products.tables["pts.parquet"]
    n = data.num_rows
    derived = {
        "scan_key": payload.Column("scan_key", np.dtype(">i4"),
                                   data.column("scan").to_numpy().astype(np.int32)),
        "hpx": payload.Column("hpx", np.dtype(">i8"), np.arange(n, dtype=np.int64)),
    }
    columns = load._columns(wdb.pts, products, "pts.parquet", derived)
    pieces = list(payload.chunks(columns))
    statement = sql.SQL("COPY bare_pts ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    with database.connection(url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bare_pts")
        cur.execute("CREATE TABLE bare_pts (LIKE wdb.pts)")  # no indexes
        conn.commit()
        start = time.perf_counter()
        with cur.copy(statement) as copy:
            for piece in pieces:
                copy.write(piece)
        conn.commit()
        seconds = time.perf_counter() - start
        cur.execute("DROP TABLE bare_pts")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--db", help="URL of a database on the server to use")
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
        best_bare = best_ingest = float("inf")
        for i in range(args.repeat):
            url = scratch_database(admin_url)
            try:
                revision.init(url)
                bare = bare_copy(url, night)
                summary = load.ingest_nights(url, [night], progress=False)
            finally:
                drop_database(admin_url, url)
            rows = summary.rows
            print(f"run {i + 1}: bare COPY {bare:.2f} s ({args.rows / bare:,.0f} rows/s); "
                  f"ingest {summary.seconds:.2f} s ({rows:,d} rows, "
                  f"{rows / summary.seconds:,.0f} rows/s); ratio {summary.seconds / bare:.2f}")
            phases = summary.nights[0].phases
            print("  ingest phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
            best_bare, best_ingest = min(best_bare, bare), min(best_ingest, summary.seconds)
    ratio = best_ingest / best_bare
    rate = rows / best_ingest
    verdict = "ok" if ratio <= 2.0 and rate >= 100_000 else "MISSED"
    print(f"bench_ingest: {args.rows:,d} pts rows, ingest / bare COPY = {ratio:.2f} "
          f"(target <= 2.0), ingest {rate:,.0f} rows/s (target >= 100,000): {verdict}")


if __name__ == "__main__":
    main()
