"""Shards: cone latency and cross-match time, unpartitioned vs partitioned vs a foreign shard.

In one run, in a scratch database on the server of ``--db`` (created and dropped), with a
private PostgreSQL 15 cluster as the shard (``tests/tap/cluster.py``, started and
stopped by this script):

1. the same ``--rows`` points (default 3,000,000) uniform on the sky in three tables:
   ``flat`` (one table, B-tree on hpx), ``parts`` (partitioned by RANGE (hpx) at
   HEALPix order ``--order``, default 2, every partition local) and ``sharded`` (the
   same partitions, ``--moved`` of them, default 8, moved to the shard with
   ``twomass.scale.shards.move``);
2. median latency (client wall clock, planning included) of cones at radii 2", 60",
   600" and 1 deg around the same random centres inside the moved pixels, on the three
   tables in turn (A B C, C A B, ...), in three forms: ``hpx_radial_query`` returning
   the rows, the statement of psc_cone (its rows, nearest first) and psc_nearest's
   count, as bench_cone.py defines them; every table must give the same counts;
3. ``hpx_xmatch`` at 2" of a table of every tenth point moved by 1" against each of
   the three tables (both sides read and hashed), once as the server plans it and once
   without parallel workers (``max_parallel_workers_per_gather = 0``), and of
   ``--targets`` (default 100) of those points against each (the probe plan),
   alternated, ``--repeat-xmatch`` times.

With ``--extension`` (as root), the hpx functions are also packaged as an extension
(``twomass_hpx_bench``: a control file and a script made of sql/hpx/*.sql, written to the
share/extension folder of /usr/lib/postgresql/15 and removed at the end) and installed
as that extension on the coordinator and the shard, and the probe cross-match runs on
the sharded table a second time with the shard's ``extensions`` option naming it, so
that postgres_fdw ships the near-cover bounds (PL/pgSQL) to the shard too.

Prints medians, the ratios partitioned / unpartitioned and shard / unpartitioned, and
the load average.

    python benchmarks/bench_shards.py [--db URL] [--rows N] [--order K] [--moved M]
                                      [--repeat K] [--repeat-xmatch K] [--targets N]
                                      [--extension]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_cone
import numpy as np
import psycopg

from twomass import sql as sqlfiles
from twomass.core import database, healpix
from twomass.core.database import Database
from twomass.scale import shards

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tap"))
from cluster import BIN, PrivateCluster  # noqa: E402

RADII_ARCSEC = (2.0, 60.0, 600.0, 3600.0)
EXTENSION = "twomass_hpx_bench"
TABLES = ("flat", "parts", "sharded")
FORMS = {
    "radial rows": "SELECT id, ra, dec FROM {table} "
                   "WHERE hpx_radial_query(hpx, ra, dec, %(ra)s, %(dec)s, %(r)s)",
    "cone fn rows": "SELECT ra, dec FROM {table}_cone(%(ra)s, %(dec)s, %(r)s * 3600)",
    "count fn": "SELECT {table}_cone_count(%(ra)s, %(dec)s, %(r)s * 3600)",
}


def load(conn: psycopg.Connection, rows: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The three tables, with the same points; returns the points' ra and dec."""
    rng = np.random.default_rng(1)
    ra = rng.uniform(0, 360, rows)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))
    hpx = healpix.ang2hpx(ra, dec)
    conn.execute("CREATE TABLE flat (id bigint, ra float8, dec float8, hpx bigint)")
    with conn.cursor() as cur, cur.copy("COPY flat FROM STDIN") as copy:
        step = 200_000
        for first in range(0, rows, step):
            last = min(rows, first + step)
            copy.write("".join(f"{i}\t{r!r}\t{d!r}\t{h}\n" for i, r, d, h in zip(
                range(first, last), ra[first:last].tolist(), dec[first:last].tolist(),
                hpx[first:last].tolist(), strict=True)))
    shift = 2 * (29 - order)
    for table in ("parts", "sharded"):
        conn.execute(f"CREATE TABLE {table} (LIKE flat) PARTITION BY RANGE (hpx)")
        for pixel in range(12 * 4**order):
            conn.execute(f"CREATE TABLE {table}_p{pixel} PARTITION OF {table} "
                         f"FOR VALUES FROM ({pixel << shift}) TO ({(pixel + 1) << shift})")
    for table in TABLES:
        if table != "flat":
            conn.execute(f"INSERT INTO {table} SELECT * FROM flat")
        conn.execute(f"CREATE INDEX ON {table} (hpx)")
        conn.execute(f"VACUUM ANALYZE {table}")
    return ra, dec


def extension_files() -> list[Path]:
    """The control file and script of the hpx functions as an extension, written to the
    system PostgreSQL 15's share/extension folder (both nodes here run its binaries)."""
    share = subprocess.run([str(BIN / "pg_config"), "--sharedir"], check=True,
                           capture_output=True, text=True).stdout.strip()
    control = Path(share) / "extension" / f"{EXTENSION}.control"
    script = Path(share) / "extension" / f"{EXTENSION}--1.sql"
    control.write_text("comment = 'twomass hpx_* functions (bench_shards.py)'\n"
                       "default_version = '1'\nrelocatable = false\nschema = public\n")
    script.write_text("\n".join(sqlfiles.read(name) for name in shards.HPX_FILES))
    return [control, script]


def timed(conn: psycopg.Connection, query: str, params: dict | None = None) -> tuple[float, list]:
    start = time.perf_counter()
    found = conn.execute(query, params).fetchall()
    return time.perf_counter() - start, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=bench_cone.DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--order", type=int, default=2)
    parser.add_argument("--moved", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=21, help="cones per radius")
    parser.add_argument("--repeat-xmatch", type=int, default=3)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--extension", action="store_true",
                        help="also the probe cross-match with hpx_* as an extension (root)")
    args = parser.parse_args()
    if not (BIN / "initdb").exists():
        sys.exit(f"bench_shards: {BIN}/initdb is missing: the shard is a PostgreSQL 15 cluster")
    admin_url = database.normalize_url(args.db)
    cluster = PrivateCluster()
    url = database.create_database(admin_url, "twomass_bench_shards")
    written: list[Path] = []
    try:
        cluster.start()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shard")
        if args.extension:
            written = extension_files()
            with psycopg.connect(cluster.url("shard"), autocommit=True) as conn:
                conn.execute(f"CREATE EXTENSION {EXTENSION}")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET jit = off")
            if args.extension:
                conn.execute(f"CREATE EXTENSION {EXTENSION}")
            for name in sqlfiles.FUNCTION_FILES[:4]:  # the hpx files and xmatch.sql
                conn.execute(sqlfiles.read(name))
            start = time.perf_counter()
            ra, dec = load(conn, args.rows, args.order)
            print(f"tables: {args.rows:,d} points x 3 in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
            for table in TABLES:
                conn.execute(bench_cone.CONE_FUNCTION.format(fn=f"{table}_cone", table=table))
                conn.execute(bench_cone.COUNT_FUNCTION.format(fn=f"{table}_cone_count",
                                                              table=table))
        rng = np.random.default_rng(2)
        pixel_of = healpix.to_order(healpix.ang2hpx(ra, dec), args.order)
        moved = sorted(rng.choice(12 * 4**args.order, args.moved, replace=False).tolist())
        with Database(url) as db:
            print(shards.add_shard(db, "shard", cluster.url("shard")), file=sys.stderr)
            start = time.perf_counter()
            print(shards.move(db, "sharded", moved, "shard"), "in "
                  f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
        inside = np.flatnonzero(np.isin(pixel_of, moved))
        centres = [(float(ra[i]), float(dec[i]))
                   for i in rng.choice(inside, args.repeat, replace=False)]
        lat: dict[tuple[str, str, float], list[float]] = {}
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET jit = off")
            for form, query in FORMS.items():
                for radius in RADII_ARCSEC:
                    for k, (ra0, dec0) in enumerate(centres):
                        params = {"ra": ra0, "dec": dec0, "r": radius / 3600}
                        order = TABLES[k % 3:] + TABLES[:k % 3]
                        counts = {}
                        for table in order:  # untimed: the pages read in, plans cached
                            counts[table] = len(timed(conn, query.format(table=table),
                                                      params)[1])
                        for table in order:
                            seconds, found = timed(conn, query.format(table=table), params)
                            lat.setdefault((form, table, radius), []).append(seconds)
                            assert len(found) == counts[table]
                        if form == "count fn":
                            counts = {t: timed(conn, query.format(table=t), params)[1][0][0]
                                      for t in TABLES}
                        if len(set(counts.values())) != 1:
                            sys.exit(f"bench_shards: the tables disagree at {params}: {counts}")
            print(f"\ncone latency, median of {args.repeat} centres inside the moved pixels "
                  f"[ms]; {args.rows:,d} points, order {args.order}")
            print(f"{'form':14s} {'radius':>7s} {'flat':>8s} {'parts':>8s} {'sharded':>8s} "
                  f"{'parts/flat':>11s} {'shard/flat':>11s}")
            for form in FORMS:
                for radius in RADII_ARCSEC:
                    m = {t: statistics.median(lat[(form, t, radius)]) * 1000 for t in TABLES}
                    print(f"{form:14s} {radius:6.0f}\" {m['flat']:8.2f} {m['parts']:8.2f} "
                          f"{m['sharded']:8.2f} {m['parts'] / m['flat']:11.2f} "
                          f"{m['sharded'] / m['flat']:11.2f}")
            conn.execute("CREATE TABLE nbr AS SELECT id, ra + 1 / 3600.0 * cos(id) / "
                         "greatest(cosd(dec), 0.01) AS ra, dec + 1 / 3600.0 * sin(id) AS dec "
                         "FROM flat WHERE id % 10 = 0 AND abs(dec) < 89")
            conn.execute("ALTER TABLE nbr ADD hpx bigint")
            conn.execute("UPDATE nbr SET ra = ra - 360 * floor(ra / 360)")
            conn.execute("UPDATE nbr SET hpx = hpx_ang2ipix(ra, dec)")
            conn.execute("CREATE TABLE targets AS SELECT * FROM nbr WHERE id = ANY(%s)",
                         ([int(i) for i in rng.choice(inside, args.targets)],))
            conn.execute("VACUUM ANALYZE nbr")
            conn.execute("VACUUM ANALYZE targets")
            xm: dict[tuple[str, str], list[float]] = {}
            runs = [(side, t) for side in ("nbr", "nbr serial", "targets") for t in TABLES]
            if args.extension:
                runs.append(("targets", "sharded+ext"))
            for k in range(args.repeat_xmatch):
                pairs: dict[str, set] = {}
                for side, table in runs[k % len(runs):] + runs[:k % len(runs)]:
                    if table == "sharded+ext":
                        conn.execute(f"ALTER SERVER shard OPTIONS (ADD extensions '{EXTENSION}')")
                    conn.execute("SET max_parallel_workers_per_gather = "
                                 + ("0" if side.endswith("serial") else "DEFAULT"))
                    seconds, found = timed(conn, f"SELECT count(*) FROM hpx_xmatch("
                                           f"'{side.split()[0]}', '{table.split('+')[0]}', "
                                           "2 / 3600.)")
                    if table == "sharded+ext":
                        conn.execute("ALTER SERVER shard OPTIONS (DROP extensions)")
                    xm.setdefault((side, table), []).append(seconds)
                    pairs.setdefault(side.split()[0], set()).add(found[0][0])
                if any(len(p) != 1 for p in pairs.values()):
                    sys.exit(f"bench_shards: the tables disagree on hpx_xmatch: {pairs}")
            print(f"\nhpx_xmatch at 2\", median of {args.repeat_xmatch} [s]")
            print(f"{'side':26s} {'flat':>8s} {'parts':>8s} {'sharded':>8s} "
                  f"{'parts/flat':>11s} {'shard/flat':>11s}")
            for side, label in (("nbr", "every 10th point (hash)"),
                                ("nbr serial", "  the same, no workers"),
                                ("targets", f"{args.targets} targets (probe)")):
                m = {t: statistics.median(xm[(side, t)]) for t in TABLES}
                print(f"{label:26s} {m['flat']:8.3f} {m['parts']:8.3f} {m['sharded']:8.3f} "
                      f"{m['parts'] / m['flat']:11.2f} {m['sharded'] / m['flat']:11.2f}")
            if args.extension:
                m_ext = statistics.median(xm[("targets", "sharded+ext")])
                print(f"{'  sharded, hpx extension':26s} {'':8s} {'':8s} {m_ext:8.3f} {'':11s} "
                      f"{m_ext / statistics.median(xm[('targets', 'flat')]):11.2f}")
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        database.drop_database(admin_url, url)
        cluster.stop()
        for path in written:
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
