"""Partitioning by sky: cone latency and planning time per layout, plain tables against
HEALPix orders 0 to 3.

In one run, on one server: a database per layout (``twomass db init`` with that
partition order, so the cone functions and the tables are the real ones), the same
``--rows`` points (default 2,000,000, uniform on the sky, in hpx order as ingest writes
them) in ``wdb.pts`` of each; then, alternating the layouts cone by cone (A B C ... A B C
...), the median client latency of

1. ``wdb_cone`` at 2", 60", 600" and 1 deg (a PL/pgSQL generic plan joining
   ``hpx_cone_ranges`` to the table: run-time pruning), in a session that already ran one
   cone (its plan cached), and the first cone of a new session (planning the generic
   plan over every partition: what a new connection pays once);
2. ``hpx_radial_query`` with constants, counted (planned every time: plan-time pruning);
3. planning alone (``EXPLAIN``) of a count of the whole table, which prunes nothing.

Every layout must count the same rows. Prints a table and each layout's ratios to the
plain tables. Scratch databases are created and dropped on the server of ``--db`` /
``TWOMASS_DATABASE_URL`` (default: the embedded server).

    python benchmarks/bench_partitions.py [--rows N] [--repeat K] [--layouts none,0,1,2,3]
                                          [--db URL]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import psycopg

from twomass.core import database
from twomass.core.database import Database
from twomass.core.healpix import ang2hpx
from twomass.core.settings import Settings
from twomass.migrations import revision

RADII_ARCSEC = (2.0, 60.0, 600.0, 3600.0)
#: NOT NULL columns of wdb.pts other than the position, with values.
REQUIRED = {"scan_key": 1, "err_maj": 0.1, "err_min": 0.1, "err_ang": 0, "rd_flg": "222",
            "bl_flg": "111", "cc_flg": "000", "ndet": "666666", "cnf_flg": "000000",
            "x_scan": 0.0, "y_scan": 0.0, "jdate": 2451000.5, "dist_edge_ns": 10,
            "dist_edge_ew": 10, "dist_edge_flg": "ne", "coadd": 1}


def _name(layout: int | None) -> str:
    return "plain" if layout is None else f"order {layout}"


def load(url: str, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, rows)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))
    hpx = ang2hpx(ra, dec)
    order = np.argsort(hpx)
    names = ["id", "ra", "dec", "hpx", *REQUIRED]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY wdb.pts ({', '.join(names)}) FROM STDIN") as copy:
            for i in order:
                copy.write_row([int(i), ra[i], dec[i], int(hpx[i]), *REQUIRED.values()])
        cur.execute("ANALYZE wdb.pts")


def copy_rows(source: str, target: str) -> None:
    """wdb.pts of ``source`` into ``target`` (binary COPY, same order)."""
    with psycopg.connect(source) as src, psycopg.connect(target) as dst:
        with src.cursor().copy("COPY wdb.pts TO STDOUT (FORMAT BINARY)") as out, \
                dst.cursor().copy("COPY wdb.pts FROM STDIN (FORMAT BINARY)") as into:
            for block in out:
                into.write(block)
        dst.execute("ANALYZE wdb.pts")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("VACUUM wdb.pts")


def timed(conn: psycopg.Connection, query: str, params: tuple = ()) -> tuple[float, object]:
    start = time.perf_counter()
    row = conn.execute(query, params).fetchone()
    return time.perf_counter() - start, row[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=31, help="cones per radius")
    parser.add_argument("--layouts", default="none,0,1,2,3")
    parser.add_argument("--db", help="URL of a database on the server to use")
    args = parser.parse_args()
    layouts = [None if x == "none" else int(x) for x in args.layouts.split(",")]
    if None not in layouts:
        layouts.insert(0, None)
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin = database.resolve_url(settings)
    urls: dict[int | None, str] = {}
    try:
        for layout in layouts:
            urls[layout] = database.create_database(admin, "twomass_bench_partitions")
            with Database(urls[layout], partition_order=layout) as db:
                revision.init(db)
            start = time.perf_counter()
            if layout is None:
                load(urls[layout], args.rows)
            else:
                copy_rows(urls[None], urls[layout])
            print(f"{_name(layout)}: {args.rows:,d} rows loaded in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
        measure(urls, layouts, args.repeat)
    finally:
        for url in urls.values():
            database.drop_database(admin, url)
    return 0


def measure(urls: dict[int | None, str], layouts: list[int | None], repeat: int) -> None:
    rng = np.random.default_rng(7)
    conns = {k: psycopg.connect(urls[k], autocommit=True) for k in layouts}
    times: dict[tuple, list[float]] = {}

    def record(key: tuple, seconds: float) -> None:
        times.setdefault(key, []).append(seconds)

    try:
        for k in layouts:  # each session's generic plan, planned once
            conns[k].execute("SELECT count(*) FROM wdb_cone(1, 1, 1)")
        for radius in RADII_ARCSEC:
            for _ in range(repeat):
                ra0 = float(rng.uniform(0, 360))
                dec0 = float(np.degrees(np.arcsin(rng.uniform(-0.95, 0.95))))
                counts = set()
                for k in layouts:
                    seconds, n = timed(conns[k], "SELECT count(*) FROM wdb_cone(%s, %s, %s)",
                                       (ra0, dec0, radius))
                    record(("wdb_cone", radius, k), seconds)
                    seconds, m = timed(
                        conns[k], "SELECT count(*) FROM wdb.pts "
                        "WHERE hpx_radial_query(hpx, ra, dec, %s, %s, %s)",
                        (ra0, dec0, radius / 3600))
                    record(("hpx_radial_query", radius, k), seconds)
                    counts |= {n, m}
                assert len(counts) == 1, (ra0, dec0, radius, counts)
        for _ in range(max(5, repeat // 3)):
            for k in layouts:
                with psycopg.connect(urls[k], autocommit=True) as fresh:
                    seconds, _ = timed(fresh, "SELECT count(*) FROM wdb_cone(%s, %s, 60)",
                                       (10.0, 10.0))
                    record(("first wdb_cone of a session", 60.0, k), seconds)
                    seconds, _ = timed(fresh, "EXPLAIN SELECT count(*) FROM wdb.pts")
                    record(("planning, no pruning", 0.0, k), seconds)
    finally:
        for conn in conns.values():
            conn.close()
    print(f"\nmedian latency [ms] ({', '.join(_name(k) for k in layouts)}) "
          "and ratio to plain tables:")
    for key in sorted({(what, radius) for what, radius, _ in times}):
        base = statistics.median(times[(*key, None)])
        cells = [f"{1000 * statistics.median(times[(*key, k)]):8.2f}" for k in layouts]
        ratios = [f"{statistics.median(times[(*key, k)]) / base:5.2f}" for k in layouts[1:]]
        label = f"{key[0]} {key[1]:g}\"" if key[1] else key[0]
        print(f"  {label:36s} {' '.join(cells)}   x {' '.join(ratios)}")


if __name__ == "__main__":
    raise SystemExit(main())
