"""Cone search and cross-match: hpx_radial_query against a full scan and against Q3C.

In one run, on one server, in a scratch database (created and dropped):

1. a table of ``--rows`` points (default 5,000,000) uniform on the sky, in random
   heap order, with a B-tree on ``hpx`` and, when the Q3C extension is available, a
   Q3C index on ``q3c_ang2ipix(ra, dec)`` of the same rows;
2. median latency (client wall clock, planning included) of cone searches at radii 2",
   60", 600" and 1 deg around the same random centres, in two forms side by side: the
   count (psc_nearest's count of the cone against ``q3c_radial_query`` counted) and the
   rows (psc_cone's statement, the rows with their distance, nearest first, against Q3C
   returning the same rows with ``q3c_dist``, nearest first), each on a copy of the table
   in its own index order; and, on the table in random order, the cone function's rows,
   ``hpx_radial_query``, ``q3c_radial_query`` and a full scan with the same exact test,
   counted; each cone's pages are read in by an untimed run of each method first, and
   every method must count the same rows;
3. a self cross-match at 2" of the first ``--xmatch-rows`` points (default 1,000,000):
   the first ``--xmatch-sample`` of them (default 50,000) as centres against all of them,
   with ``hpx_radial_query`` and with ``q3c_join``, times scaled to all centres; and
   ``q3c_join`` on all centres, measured; then ``hpx_xmatch`` and ``q3c_join`` on all
   rows at 2", 10" and 60", and those rows against the whole table at 2";
4. with ``--q3c-regression``: Q3C's 745 regression cones on its regenerated 1,000,000
   row table, counts compared with Q3C's expected output;
5. with ``--big-rows N`` (say 50,000,000): a second table ``pts_big`` of N points,
   generated in chunks of 1,000,000 with progress on stderr, and the cone latencies of
   step 2 on it, printed beside the first table's.

``--keep NAME`` uses (and creates if missing) the database NAME instead of a scratch
database and keeps it: a table that already has the requested rows is reused, so the
large table is generated once (``--no-xmatch`` times the cones only, ``--no-cones`` the
cross-matches only).

Q3C comes from the Debian package ``postgresql-15-q3c`` on this machine's PostgreSQL 15
(the script installs it with apt-get when it is missing and it runs as root, and says
what it found). Prints a table of ratios and a one-line summary.

    python benchmarks/bench_cone.py [--db URL] [--rows N] [--repeat K] [--big-rows N]
                                    [--keep NAME] [--no-xmatch] [--no-cones] [--q3c-regression]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

from twomass import sql as sqlfiles
from twomass.core import database, healpix

RADII_ARCSEC = (2.0, 60.0, 600.0, 3600.0)
XMATCH_RADII_ARCSEC = (2.0, 10.0, 60.0)
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def q3c_available(conn: psycopg.Connection) -> tuple[bool, str]:
    """Create the q3c extension, installing the Debian package first if needed."""
    query = "SELECT 1 FROM pg_available_extensions WHERE name = 'q3c'"
    note = "found installed"
    if conn.execute(query).fetchone() is None:
        if shutil.which("apt-get") and hasattr(sys, "getuid") and __import__("os").getuid() == 0:
            print("q3c: not available; running apt-get install -y postgresql-15-q3c",
                  file=sys.stderr)
            subprocess.run(["apt-get", "install", "-y", "postgresql-15-q3c"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            note = "installed by this run (postgresql-15-q3c)"
        if conn.execute(query).fetchone() is None:
            return False, "not available on this server (no comparison)"
    conn.execute("CREATE EXTENSION IF NOT EXISTS q3c")
    version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'q3c'").fetchone()
    return True, f"q3c {version[0]} {note}"


def load(conn: psycopg.Connection, table: str, chunks: Iterable[tuple[np.ndarray, np.ndarray]],
         with_q3c: bool, total: int | None = None) -> None:
    """Table (ra, dec, hpx) of the chunks' points in the given (random) order, indexed,
    analyzed; with ``total``, progress on stderr."""
    start = time.perf_counter()
    conn.execute(sql.SQL("CREATE TABLE {} (ra float8, dec float8, hpx bigint)").format(
        sql.Identifier(table)))
    done = 0
    for ra, dec in chunks:
        hpx = healpix.ang2hpx(ra, dec)
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(
                sql.Identifier(table))) as copy:
            step = 200_000
            for first in range(0, ra.size, step):
                block = "".join(f"{r!r}\t{d!r}\t{h}\n" for r, d, h in zip(
                    ra[first:first + step].tolist(), dec[first:first + step].tolist(),
                    hpx[first:first + step].tolist(), strict=True))
                copy.write(block)
        done += ra.size
        if total:
            print(f"  {table}: {done:,d} of {total:,d} rows written, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    steps = [("hpx index", sql.SQL("CREATE INDEX ON {} (hpx)"))]
    if with_q3c:
        steps.append(("q3c index", sql.SQL("CREATE INDEX ON {} (q3c_ang2ipix(ra, dec))")))
    steps.append(("vacuum analyze", sql.SQL("VACUUM ANALYZE {}")))
    for what, statement in steps:
        conn.execute(statement.format(sql.Identifier(table)))
        if total:
            print(f"  {table}: {what} done, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)


def uniform_chunks(rows: int, seed: int, chunk: int
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``rows`` points uniform on the sky, in chunks of ``chunk`` (one generator per chunk,
    so a chunk never holds more than ``chunk`` points in memory)."""
    for i, first in enumerate(range(0, rows, chunk)):
        rng = np.random.default_rng([seed, i])
        n = min(chunk, rows - first)
        yield rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def table_rows(conn: psycopg.Connection, table: str) -> int | None:
    """Rows of ``table``, or None when it does not exist."""
    if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
        return None
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(table))).fetchone()[0]


#: The statement of psc_cone (sql/cone.sql) on a benchmark table, in a PL/pgSQL function
#: of the same shape, so that its plan is made once per session as psc_cone's is.
CONE_FUNCTION = """
CREATE OR REPLACE FUNCTION {fn}(ra0_deg float8, dec0_deg float8, radius_arcsec float8)
RETURNS TABLE (ra float8, "dec" float8, hpx bigint, dist_arcsec float8)
LANGUAGE plpgsql STABLE ROWS 100 SET plan_cache_mode = force_generic_plan
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
    INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
    RETURN QUERY
    SELECT w.ra, w.dec, w.hpx, degrees(2 * asin(sqrt(w.hav))) * 3600
    FROM (SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                      + u.sin_ddec * u.sin_ddec AS hav
          FROM (SELECT t.*, c.whole AS in_whole,
                       sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                       cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                       sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                CROSS JOIN LATERAL (
                    SELECT * FROM {table} AS p
                    WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                      AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
                OFFSET 0) AS u
          OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < s_max
    ORDER BY degrees(2 * asin(sqrt(w.hav))) * 3600;
END
$$"""

#: The cone statement before partitioned tables (main 0e781e4): the cover's ranges joined to
#: the table, no arrays, no span bounds; kept to measure what the partition-pruning form
#: costs on a plain table, side by side.
JOIN_FUNCTION = """
CREATE OR REPLACE FUNCTION {fn}(ra0_deg float8, dec0_deg float8, radius_arcsec float8)
RETURNS TABLE (ra float8, "dec" float8, hpx bigint, dist_arcsec float8)
LANGUAGE plpgsql STABLE ROWS 100 SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
BEGIN
    RETURN QUERY
    SELECT w.ra, w.dec, w.hpx, degrees(2 * asin(sqrt(w.hav))) * 3600
    FROM (SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                      + u.sin_ddec * u.sin_ddec AS hav
          FROM (SELECT t.*, c.whole AS in_whole,
                       sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                       cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                       sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
                JOIN {table} AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
                OFFSET 0) AS u
          OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < s_max
    ORDER BY degrees(2 * asin(sqrt(w.hav))) * 3600;
END
$$"""

#: The count of psc_nearest (sql/cone.sql): the rows of the whole ranges from the index
#: alone, the others through the exact test.
COUNT_FUNCTION = """
CREATE OR REPLACE FUNCTION {fn}(ra0_deg float8, dec0_deg float8, radius_arcsec float8)
RETURNS bigint LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
    found_rows bigint;
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
    INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
    SELECT (SELECT count(*)
            FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
            CROSS JOIN LATERAL (
                SELECT 1 FROM {table} AS p
                WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                  AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
            WHERE c.whole)
         + (SELECT count(*) FROM (
                SELECT u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                       + u.sin_ddec * u.sin_ddec AS hav
                FROM (SELECT sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                             cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                             sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                      FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                      CROSS JOIN LATERAL (
                          SELECT p.ra, p.dec FROM {table} AS p
                          WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                            AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
                      WHERE NOT c.whole OFFSET 0) AS u
                OFFSET 0) AS w
            WHERE w.hav < s_max)
    INTO found_rows;
    RETURN found_rows;
END
$$"""

#: Cone methods: name -> (table suffix, query); %(ra)s, %(dec)s, %(r)s in degrees.
METHODS = {
    "cone": ("", "SELECT count(*) FROM {fn}(%(ra)s, %(dec)s, %(r)s * 3600)"),
    "radial": ("", "SELECT count(*) FROM {table} "
                   "WHERE hpx_radial_query(hpx, ra, dec, %(ra)s, %(dec)s, %(r)s)"),
    "q3c": ("", "SELECT count(*) FROM {table} "
                "WHERE q3c_radial_query(ra, dec, %(ra)s, %(dec)s, %(r)s)"),
    "cone_sorted": ("_hpx", "SELECT count(*) FROM {fn}(%(ra)s, %(dec)s, %(r)s * 3600)"),
    "join_sorted": ("_hpx", "SELECT count(*) FROM {fn}_join(%(ra)s, %(dec)s, %(r)s * 3600)"),
    "count_sorted": ("_hpx", "SELECT {fn}_count(%(ra)s, %(dec)s, %(r)s * 3600)"),
    "q3c_sorted": ("_q3c", "SELECT count(*) FROM {table} "
                           "WHERE q3c_radial_query(ra, dec, %(ra)s, %(dec)s, %(r)s)"),
    # The same rows as the cone function gives: with their distance, nearest first.
    "q3c_sorted_rows": ("_q3c", "SELECT count(*) FROM (SELECT ra, dec, hpx, "
                                "q3c_dist(ra, dec, %(ra)s, %(dec)s) * 3600 AS d FROM {table} "
                                "WHERE q3c_radial_query(ra, dec, %(ra)s, %(dec)s, %(r)s) "
                                "ORDER BY d) AS s"),
    "scan": ("", "SELECT count(*) FROM {table} WHERE _hpx_sindist(ra, dec, %(ra)s, %(dec)s) "
                 "< power(sin(radians(%(r)s) / 2), 2)"),
}


def sorted_copies(conn: psycopg.Connection, table: str, with_q3c: bool, verbose: bool
                  ) -> float:
    """``table``_hpx in hpx order with its B-tree, and (with Q3C) ``table``_q3c in Q3C's
    pixel order with its Q3C index: each catalog as its system stores it (a release writes
    its catalogs in hpx order; Q3C's documentation clusters on its index). Reused when
    they hold the table's rows. Returns the seconds spent."""
    start = time.perf_counter()
    rows = table_rows(conn, table)
    orders = [("_hpx", "hpx", "(hpx)")]
    if with_q3c:
        orders.append(("_q3c", "q3c_ang2ipix(ra, dec)", "(q3c_ang2ipix(ra, dec))"))
    for suffix, order, index in orders:
        copy = table + suffix
        if table_rows(conn, copy) == rows:
            continue
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(copy)))
        conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {} ORDER BY " + order).format(
            sql.Identifier(copy), sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE INDEX ON {} " + index).format(sql.Identifier(copy)))
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(copy)))
        if verbose:
            print(f"  {copy}: written in {order} order and indexed, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    for suffix in ("", "_hpx"):
        conn.execute(CONE_FUNCTION.format(fn=f"bench_cone_{table}{suffix}",
                                          table=f"{table}{suffix}"))
        conn.execute(COUNT_FUNCTION.format(fn=f"bench_cone_{table}{suffix}_count",
                                           table=f"{table}{suffix}"))
        conn.execute(JOIN_FUNCTION.format(fn=f"bench_cone_{table}{suffix}_join",
                                          table=f"{table}{suffix}"))
    return time.perf_counter() - start


def timed(conn: psycopg.Connection, query: str, params: tuple | dict) -> tuple[float, int]:
    start = time.perf_counter()
    (count,) = conn.execute(query, params).fetchone()
    return time.perf_counter() - start, count


def cone_latencies(conn: psycopg.Connection, table: str, repeat: int, with_q3c: bool
                   ) -> dict[float, dict[str, float]]:
    """Median latency per radius and method (``METHODS``) on ``table`` and its sorted
    copies; every method must count the same rows."""
    names = [m for m in METHODS if with_q3c or not m.startswith("q3c")]
    queries = {m: METHODS[m][1].format(table=table + METHODS[m][0],
                                       fn=f"bench_cone_{table}{METHODS[m][0]}") for m in names}
    timed_methods = [m for m in names if m != "scan"]
    rng = np.random.default_rng(42)
    ra0 = rng.uniform(0, 360, repeat)
    dec0 = np.degrees(np.arcsin(rng.uniform(-1, 1, repeat)))
    results: dict[float, dict[str, float]] = {}
    for radius in RADII_ARCSEC:
        times: dict[str, list[float]] = {m: [] for m in names}
        for i in range(repeat):
            params = {"ra": float(ra0[i]), "dec": float(dec0[i]), "r": radius / 3600}
            # The tables exceed shared_buffers, so the first query of a cone reads its
            # pages in for the next: each method runs once untimed, then all are timed,
            # interleaved (background load hits them alike) in an order that alternates
            # from cone to cone.
            for method in timed_methods:
                timed(conn, queries[method], params)
            counts = {}
            for method in timed_methods if i % 2 == 0 else timed_methods[::-1]:
                elapsed, counts[method] = timed(conn, queries[method], params)
                times[method].append(elapsed)
            if i < 3:  # a full scan takes seconds; three are enough for its median
                elapsed, counts["scan"] = timed(conn, queries["scan"], params)
                times["scan"].append(elapsed)
            if len(set(counts.values())) != 1:
                raise AssertionError(f"counts differ at {params}: {counts}")
        results[radius] = {k: statistics.median(v) for k, v in times.items()}
        print(f"  {table} radius {radius:>6g}\": " + ", ".join(
            f"{m} {t * 1e3:.2f} ms" for m, t in results[radius].items()), file=sys.stderr)
    return results


def cross_match(conn: psycopg.Connection, rows: int, sample: int, with_q3c: bool
                ) -> dict[str, float]:
    """Seconds for the 2" self cross-match of the first ``rows`` points (scaled if sampled)."""
    conn.execute(sql.SQL("CREATE TABLE xm AS SELECT row_number() OVER () AS id, * "
                         "FROM (SELECT * FROM pts LIMIT {}) AS p").format(sql.Literal(int(rows))))
    conn.execute("CREATE INDEX ON xm (hpx)")
    if with_q3c:
        conn.execute("CREATE INDEX ON xm (q3c_ang2ipix(ra, dec))")
    conn.execute("VACUUM ANALYZE xm")
    conn.execute(sql.SQL("CREATE TABLE xm_outer AS SELECT * FROM xm LIMIT {}").format(
        sql.Literal(int(sample))))
    out: dict[str, float] = {}
    # One untimed run of each join first, so that neither reads the pages in for the other.
    conn.execute("SELECT count(*) FROM xm_outer a JOIN xm b "
                 "ON hpx_radial_query(b.hpx, b.ra, b.dec, a.ra, a.dec, 2.0 / 3600)").fetchone()
    if with_q3c:
        conn.execute("SELECT count(*) FROM xm_outer a JOIN xm b "
                     "ON q3c_join(a.ra, a.dec, b.ra, b.dec, 2.0 / 3600)").fetchone()
    # Default planner settings: the join must find the inner hpx index by itself.
    start = time.perf_counter()
    (pairs,) = conn.execute(
        "SELECT count(*) FROM xm_outer a JOIN xm b "
        "ON hpx_radial_query(b.hpx, b.ra, b.dec, a.ra, a.dec, 2.0 / 3600)").fetchone()
    out["hpx"] = (time.perf_counter() - start) * rows / sample
    out["hpx_pairs_sample"] = pairs
    if with_q3c:
        start = time.perf_counter()
        (pairs_q3c,) = conn.execute(
            "SELECT count(*) FROM xm_outer a JOIN xm b "
            "ON q3c_join(a.ra, a.dec, b.ra, b.dec, 2.0 / 3600)").fetchone()
        out["q3c"] = (time.perf_counter() - start) * rows / sample
        out["q3c_pairs_sample"] = pairs_q3c
        start = time.perf_counter()
        (pairs_full,) = conn.execute(
            "SELECT count(*) FROM xm a JOIN xm b "
            "ON q3c_join(a.ra, a.dec, b.ra, b.dec, 2.0 / 3600)").fetchone()
        out["q3c_full"] = time.perf_counter() - start
        out["q3c_pairs_full"] = pairs_full
    # hpx_xmatch on all rows against q3c_join on all rows, alternately, at each radius.
    for radius in XMATCH_RADII_ARCSEC:
        queries = {"xmatch": "SELECT count(*) FROM hpx_xmatch('xm', 'xm', %s)"}
        if with_q3c:
            queries["q3c"] = "SELECT count(*) FROM xm a JOIN xm b " \
                             "ON q3c_join(a.ra, a.dec, b.ra, b.dec, %s)"
        for method, query in queries.items():
            out[f"{method}_{radius:g}"], out[f"{method}_{radius:g}_pairs"] = timed(
                conn, query, (radius / 3600,))
    # The same rows against the whole table at 2" (pts has no id column: its hpx is the key).
    queries = {"xmatch": "SELECT count(*) FROM hpx_xmatch('xm', 'pts', %s, key_b => 'hpx')"}
    if with_q3c:
        queries["q3c"] = "SELECT count(*) FROM xm a JOIN pts b " \
                         "ON q3c_join(a.ra, a.dec, b.ra, b.dec, %s)"
    for method, query in queries.items():
        out[f"{method}_big"], out[f"{method}_big_pairs"] = timed(conn, query, (2.0 / 3600,))
    return out


def q3c_regression(conn: psycopg.Connection) -> tuple[int, int]:
    """(matching, total) counts of Q3C's 745 regression cones."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "spatial"))
    from q3c_data import cones, gen_data  # the regression table generator of the tests

    ra, dec = gen_data(1, 1_000_000)
    load(conn, "q3ctest", ra, dec, with_q3c=False)
    good = 0
    all_cones = cones()
    for ra0, dec0, radius, expected in all_cones:
        (got,) = conn.execute(
            "SELECT count(*) FROM q3ctest WHERE hpx_radial_query(hpx, ra, dec, %s, %s, %s)",
            (ra0, dec0, radius)).fetchone()
        good += got == expected
        if got != expected:
            print(f"  cone ({ra0}, {dec0}, {radius}): {got}, Q3C expects {expected}",
                  file=sys.stderr)
    return good, len(all_cones)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL, help=f"server URL (default {DEFAULT_URL})")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--big-rows", type=int, default=0,
                        help="also a table of this many points (e.g. 50000000), its cone "
                             "latencies printed beside the first table's")
    parser.add_argument("--keep", metavar="NAME",
                        help="use (and create if missing) database NAME and keep it: tables "
                             "of the right size are reused by the next run")
    parser.add_argument("--repeat", type=int, default=31, help="cones per radius")
    parser.add_argument("--xmatch-rows", type=int, default=1_000_000)
    parser.add_argument("--xmatch-sample", type=int, default=50_000)
    parser.add_argument("--no-xmatch", action="store_true", help="cone latencies only")
    parser.add_argument("--no-cones", action="store_true", help="cross-matches only")
    parser.add_argument("--q3c-regression", action="store_true")
    args = parser.parse_args()
    admin_url = database.normalize_url(args.db)
    if args.keep:
        url = database.with_dbname(admin_url, args.keep)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (args.keep,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.keep)))
    else:
        url = database.create_database(admin_url, "twomass_bench_cone")
    lat_big: dict[float, dict[str, float]] = {}
    xm: dict[str, float] = {}
    built: dict[str, float] = {}
    sorted_built: dict[str, float] = {}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET jit = off")
            # A kept database may hold hpx_cone_ranges of an earlier shape (the files
            # replace functions, the migrations drop what changes shape).
            conn.execute("DROP FUNCTION IF EXISTS hpx_cone_ranges(float8, float8, float8)")
            for name in sqlfiles.FUNCTION_FILES[:4]:  # the hpx files and xmatch.sql
                conn.execute(sqlfiles.read(name))
            with_q3c, note = q3c_available(conn)
            print(f"q3c: {note}")
            for table in ("xm", "xm_outer", "q3ctest"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            tables = [("pts", args.rows)] + ([("pts_big", args.big_rows)] if args.big_rows else [])
            for table, rows in tables:
                if table_rows(conn, table) == rows:
                    print(f"table: {table}, {rows:,d} points, reused", file=sys.stderr)
                    continue
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
                start = time.perf_counter()
                if table == "pts":  # one generator, as the published figures were made
                    rng = np.random.default_rng(1)
                    ra = rng.uniform(0, 360, rows)
                    chunks: Iterable = [(ra, np.degrees(np.arcsin(rng.uniform(-1, 1, rows))))]
                else:
                    chunks = uniform_chunks(rows, 2, 1_000_000)
                load(conn, table, chunks, with_q3c, total=rows if table != "pts" else None)
                built[table] = time.perf_counter() - start
                print(f"table: {table}, {rows:,d} points generated, loaded and indexed in "
                      f"{built[table]:.0f} s", file=sys.stderr)
            if not args.no_cones:
                for table, _ in tables:
                    seconds = sorted_copies(conn, table, with_q3c, verbose=True)
                    if seconds > 5:
                        sorted_built[table] = seconds
            lat = {} if args.no_cones else cone_latencies(conn, "pts", args.repeat, with_q3c)
            if args.big_rows and not args.no_cones:
                lat_big = cone_latencies(conn, "pts_big", args.repeat, with_q3c)
            if not args.no_xmatch:
                xm = cross_match(conn, min(args.xmatch_rows, args.rows),
                                 min(args.xmatch_sample, args.xmatch_rows), with_q3c)
            regression = q3c_regression(conn) if args.q3c_regression else None
            for table in ("xm", "xm_outer", "q3ctest"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    finally:
        if not args.keep:
            database.drop_database(admin_url, url)

    for table, seconds in built.items():
        print(f"\n{table}: generated, loaded and indexed in {seconds:.0f} s")
    for table, seconds in sorted_built.items():
        print(f"{table}: copies in hpx and Q3C order written and indexed in {seconds:.0f} s")
    if lat:
        report_cones(args, [(args.rows, lat)] + ([(args.big_rows, lat_big)] if lat_big else []),
                     with_q3c)
    if xm:
        report_xmatch(args, xm, with_q3c)
    if regression:
        print(f"\nQ3C regression cones: {regression[0]} of {regression[1]} counts equal")
    ratios = [(t["cone"] / t["q3c"], t["count_sorted"] / t["q3c_sorted"],
               t["cone_sorted"] / t["q3c_sorted_rows"])
              for lats in (lat, lat_big) for t in lats.values()] if with_q3c and lat else []
    print("\nbench_cone: "
          + (f"2\" cone {lat[2.0]['scan'] / lat[2.0]['cone']:.0f}x faster than a full scan "
             "(target >= 100)" if lat else "cones not timed")
          + (f"; against Q3C, tables in their index order, worst count/q3c "
             f"{max(r[1] for r in ratios):.2f}, rows/q3c rows {max(r[2] for r in ratios):.2f}; "
             f"random order, cone rows/q3c count {max(r[0] for r in ratios):.2f} "
             "(target <= 0.3)" if ratios else "")
          + (f"; hpx_radial_query join/q3c {xm['hpx'] / xm['q3c']:.1f}"
             if with_q3c and xm else "")
          + (f"; hpx_xmatch/q3c_join at 2\" {xm['xmatch_2'] / xm['q3c_2']:.2f}"
             if with_q3c and xm else ""))
    return 0


def report_cones(args: argparse.Namespace, sizes: list[tuple[int, dict]], with_q3c: bool
                 ) -> None:
    print(f"\nCone search, median of {args.repeat} cones (client wall clock, planning "
          "included), ms. Random heap order (one table with both indexes): cone = the rows "
          "of psc_cone's statement (PL/pgSQL: the disc's cover joined with the hpx index; "
          "the rows with their distance, nearest first), counted; radial = a "
          "hpx_radial_query predicate, counted; q3c = q3c_radial_query, counted. Sorted "
          "(each method on a copy in its own index order: hpx order, as a release writes "
          "its catalogs; Q3C's order, as its documentation clusters), side by side: "
          "count = psc_nearest's count (whole ranges from the index alone) against "
          "q3c_radial_query counted; rows = psc_cone's statement against Q3C returning the "
          "same rows with q3c_dist, nearest first (both counted by the client's query); "
          "join form = the statement before partitioned tables (the cover's ranges joined "
          "to the table, JOIN_FUNCTION) on the same copy, and its ratio to rows.")
    for rows, lats in sizes:
        print(f"\n{rows:,d} points")
        head = f"{'radius':>8} {'cone':>7} {'radial':>7} {'scan':>8}"
        if with_q3c:
            head += (f" {'q3c':>7} {'cone/q3c':>9} {'radial/q3c':>11} | sorted: {'count':>6} "
                     f"{'q3c':>7} {'count/q3c':>10} | {'rows':>6} {'q3c rows':>9} "
                     f"{'rows/q3c':>9} | join form: {'rows':>6} {'join/rows':>9}")
        print(head)
        for radius in RADII_ARCSEC:
            t = {k: v * 1e3 for k, v in lats[radius].items()}
            line = f"{radius:>7g}\" {t['cone']:7.2f} {t['radial']:7.2f} {t['scan']:8.1f}"
            if with_q3c:
                line += (f" {t['q3c']:7.2f} {t['cone'] / t['q3c']:9.2f} "
                         f"{t['radial'] / t['q3c']:11.2f} |         {t['count_sorted']:6.2f} "
                         f"{t['q3c_sorted']:7.2f} {t['count_sorted'] / t['q3c_sorted']:10.2f} | "
                         f"{t['cone_sorted']:6.2f} {t['q3c_sorted_rows']:9.2f} "
                         f"{t['cone_sorted'] / t['q3c_sorted_rows']:9.2f} |            "
                         f"{t['join_sorted']:6.2f} {t['join_sorted'] / t['cone_sorted']:9.2f}")
            print(line)


def report_xmatch(args: argparse.Namespace, xm: dict[str, float], with_q3c: bool) -> None:
    n_xm = min(args.xmatch_rows, args.rows)
    print(f"\nSelf cross-match at 2\" of {n_xm:,d} points (outer rows sampled: "
          f"{min(args.xmatch_sample, n_xm):,d}, times scaled to all {n_xm:,d})")
    print(f"  hpx_radial_query join: {xm['hpx']:.1f} s (scaled)")
    if with_q3c:
        print(f"  q3c_join:              {xm['q3c']:.1f} s (scaled), {xm['q3c_full']:.1f} s "
              f"measured on all rows ({xm['q3c_pairs_full']:,d} pairs)")
        print(f"  pairs in the sample: hpx {xm['hpx_pairs_sample']:,d}, "
              f"q3c {xm['q3c_pairs_sample']:,d}; hpx/q3c time {xm['hpx'] / xm['q3c']:.1f}")
    print(f"\nSelf cross-match of all {n_xm:,d} points, hpx_xmatch against q3c_join")
    for radius in XMATCH_RADII_ARCSEC:
        t, n = xm[f"xmatch_{radius:g}"], xm[f"xmatch_{radius:g}_pairs"]
        line = f"  {radius:>4g}\": hpx_xmatch {t:6.1f} s ({n:,d} pairs)"
        if with_q3c:
            tq, nq = xm[f"q3c_{radius:g}"], xm[f"q3c_{radius:g}_pairs"]
            line += f", q3c_join {tq:6.1f} s ({nq:,d} pairs), ratio {t / tq:.2f}"
        print(line)
    n_pts = args.rows
    line = (f"  {n_xm:,d} x {n_pts:,d} at 2\": hpx_xmatch {xm['xmatch_big']:6.1f} s "
            f"({xm['xmatch_big_pairs']:,d} pairs)")
    if with_q3c:
        line += (f", q3c_join {xm['q3c_big']:6.1f} s ({xm['q3c_big_pairs']:,d} pairs), "
                 f"ratio {xm['xmatch_big'] / xm['q3c_big']:.2f}")
    print(line)


if __name__ == "__main__":
    raise SystemExit(main())
