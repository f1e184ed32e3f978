"""Exports and upload cross-match against the bare database routes, side by side.

In one run, on one server, in a scratch database at the head revision (created and
dropped), with a table ``public.psc`` of the release layout holding ``--rows`` random
rows (default 1,000,000) uniform on the sky, NULLs in the nullable columns:

1. ``twomass export psc --format parquet`` against a bare ADBC fetch of the same rows
   into Arrow (batches read and dropped): required >= 0.5 x its rows/s;
2. ``twomass export psc --format psv`` against a bare ``COPY (SELECT the same columns)
   TO STDOUT`` read by psycopg and dropped: required >= 0.7 x its rows/s;
3. ``Catalog.xmatch`` of a ``--upload``-row table (default 100,000; positions within
   1.5" of catalog rows) at 2" (upload, query and the astropy Table included) against
   the query ``q3c_join`` of the same rows, already in a table with its index, fetched
   with the same catalog columns through ADBC: required <= 2 x its time; needs the
   q3c extension (Debian ``postgresql-15-q3c``), skipped with a note without it.

Each pair is timed alternately ``--repeat`` times (default 3); medians are printed with
rows/s and the ratios, then a one-line summary.

    python benchmarks/bench_export.py [--db URL] [--rows N] [--upload N] [--repeat K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import numpy as np
import psycopg
from astropy.table import Table
from psycopg import sql

from twomass.access import selections
from twomass.access.catalog import Catalog
from twomass.access.export import _bulk_columns, export
from twomass.access.source import resolve
from twomass.core import database, healpix
from twomass.core.database import Database
from twomass.migrations import revision

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def layout() -> list[tuple[str, str]]:
    """(name, type) of the PSC release layout, as ``sql/cone.sql`` declares psc_cone."""
    text = resources.files("twomass.sql").joinpath("cone.sql").read_text()
    start = text.index("RETURNS TABLE (", text.index("FUNCTION public.psc_cone(")) + 15
    inner = " ".join(text[start:text.index(")\nLANGUAGE", start)].split())
    pairs = [item.split(" ", 1) for item in inner.split(", ")]
    return [(n.strip('"'), k) for n, k in pairs if n != "dist_arcsec"]


def random_expression(name: str, kind: str) -> str:
    """SQL for a random value of a column (NULL one time in six where nullable)."""
    fixed = {"ra": "s.ra", "dec": "s.dec", "hpx": "s.hpx", "pts_key": "s.id"}
    if name in fixed:
        return fixed[name]
    value = {"double precision": "2451000 + random() * 1000",
             "real": "(5 + random() * 15)::real", "smallint": "(random() * 360)::smallint",
             "integer": "(random() * 1e6)::integer", "bigint": "(random() * 1e12)::bigint",
             "date": "date '1997-06-01' + (random() * 1500)::integer"}.get(kind)
    if value is None:  # character(n)
        width = int(kind[kind.index("(") + 1:-1])
        value = f"substr(md5(random()::text), 1, {width})"
    if name == "designation":
        return value
    return f"CASE WHEN random() < 0.17 THEN NULL ELSE {value} END"


def build(url: str, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ra = rng.uniform(0, 360, rows)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))
    hpx = healpix.ang2hpx(ra, dec)
    columns = layout()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE UNLOGGED TABLE seed (id integer, ra float8, dec float8, "
                     "hpx bigint)")
        with conn.cursor() as cur, cur.copy("COPY seed FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["integer", "float8", "float8", "bigint"])
            for i in range(rows):
                copy.write_row((i + 1, float(ra[i]), float(dec[i]), int(hpx[i])))
        conn.execute(sql.SQL("CREATE TABLE public.psc ({})").format(sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k)) for n, k in columns)))
        conn.execute(sql.SQL("INSERT INTO public.psc SELECT {} FROM seed AS s ORDER BY s.hpx")
                     .format(sql.SQL(", ").join(sql.SQL(random_expression(n, k))
                                                for n, k in columns)))
        conn.execute("DROP TABLE seed")
        conn.execute("CREATE INDEX ON public.psc (hpx)")
        conn.execute("CREATE UNIQUE INDEX ON public.psc (pts_key)")
        conn.execute("VACUUM ANALYZE public.psc")
    return ra, dec


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_adbc(url: str, query: str) -> None:
    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query)
        for _ in cur.fetch_record_batch():
            pass


def bare_copy(url: str, query: sql.Composable) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(
            sql.SQL("COPY ({}) TO STDOUT").format(query)) as copy:
        for _ in copy:
            pass


def q3c_ready(url: str) -> str | None:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'q3c'"
                        ).fetchone() is None:
            return None
        conn.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        conn.execute("CREATE INDEX ON public.psc (q3c_ang2ipix(ra, dec))")
        conn.execute("ANALYZE public.psc")
        return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'q3c'"
                            ).fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL, help="server URL (a scratch database "
                        "is created there)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--upload", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("exports", "xmatch"), help="run one part only")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    results: list[str] = []
    with database.scratch_database(args.db, "twomass_bench_export") as url, \
            tempfile.TemporaryDirectory() as tmp:
        with Database(url) as db:
            revision.init(db)
        start = time.perf_counter()
        ra, dec = build(url, args.rows, rng)
        print(f"table: {args.rows:,} rows of the PSC layout in "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
        with Database(url) as db:
            with db.connection() as conn:
                source = resolve(conn, "psc")
                select = source.query(selections.EVERYTHING)
                select_text = select.as_string(conn)
                bulk = resolve(conn, "psc", columns=_bulk_columns("psc"))
                bare_psv = bulk.query(selections.EVERYTHING)
            out = Path(tmp)
            pairs = {
                "parquet": (lambda: bare_adbc(url, select_text),
                            lambda: export(db, "psc", "parquet", out / "p.parquet",
                                           progress=False)),
                "psv": (lambda: bare_copy(url, bare_psv),
                        lambda: export(db, "psc", "psv", out / "p.psv", progress=False)),
            }
            print(f"{'route':<28}{'median s':>10}{'rows/s':>14}{'ratio':>8}{'required':>10}")
            for fmt, (bare, ours) in pairs.items() if args.only != "xmatch" else ():
                bare_times, our_times = [], []
                for _ in range(args.repeat):
                    bare_times.append(timed(bare))
                    our_times.append(timed(ours))
                b, o = statistics.median(bare_times), statistics.median(our_times)
                ratio = b / o
                need = 0.5 if fmt == "parquet" else 0.7
                name = "bare ADBC fetch" if fmt == "parquet" else "bare COPY TO STDOUT"
                print(f"{name:<28}{b:>10.2f}{args.rows / b:>14,.0f}")
                print(f"{'export --format ' + fmt:<28}{o:>10.2f}{args.rows / o:>14,.0f}"
                      f"{ratio:>8.2f}{'>= ' + str(need):>10}")
                results.append(f"{fmt} {ratio:.2f}x of bare ({'ok' if ratio >= need else 'MISS'})")

            version = q3c_ready(url) if args.only != "exports" else "skipped"
            if version == "skipped":
                pass
            elif version is None:
                print("xmatch: q3c is not available on this server; no comparison")
                results.append("xmatch: no q3c")
            else:
                pick = rng.choice(args.rows, args.upload, replace=False)
                sep = rng.uniform(0, 1.5, args.upload) / 3600
                pa_ = rng.uniform(0, 2 * np.pi, args.upload)
                up_dec = np.clip(dec[pick] + sep * np.cos(pa_), -90, 90)
                up_ra = (ra[pick] + sep * np.sin(pa_) / np.maximum(
                    np.cos(np.radians(up_dec)), 1e-6)) % 360
                upload = Table({"id": np.arange(args.upload), "ra": up_ra, "dec": up_dec})
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE TABLE upload (id integer, ra float8, dec float8)")
                    with conn.cursor() as cur, cur.copy(
                            "COPY upload FROM STDIN (FORMAT binary)") as copy:
                        copy.set_types(["integer", "float8", "float8"])
                        for row in zip(range(args.upload), up_ra.tolist(), up_dec.tolist(),
                                       strict=True):
                            copy.write_row(row)
                    conn.execute("CREATE INDEX ON upload (q3c_ang2ipix(ra, dec))")
                    conn.execute("ANALYZE upload")
                columns = sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(c))
                                             for c in source.columns)
                q3c_query = sql.SQL(
                    "SELECT u.id, {}, q3c_dist(u.ra, u.dec, p.ra, p.dec) * 3600 AS dist "
                    "FROM upload u JOIN public.psc p "
                    "ON q3c_join(u.ra, u.dec, p.ra, p.dec, 2 / 3600.)").format(columns)
                with db.connection() as conn:
                    q3c_text = q3c_query.as_string(conn)
                catalog = Catalog(db)
                n_ours = n_q3c = 0
                q_times, o_times = [], []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    with adbc.connect(url) as conn, conn.cursor() as cur:
                        cur.execute(q3c_text)
                        n_q3c = cur.fetch_arrow_table().num_rows
                    q_times.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    n_ours = len(catalog.xmatch(upload, 2.0))
                    o_times.append(time.perf_counter() - t)
                q, o = statistics.median(q_times), statistics.median(o_times)
                print(f"q3c_join {version} (query only){q:>10.2f}{args.upload / q:>14,.0f}"
                      f"   pairs {n_q3c:,}")
                print(f"{'Catalog.xmatch (all)':<28}{o:>10.2f}{args.upload / o:>14,.0f}"
                      f"{o / q:>8.2f}{'<= 2':>10}   pairs {n_ours:,}")
                same = "same pairs" if n_ours == n_q3c else "PAIR COUNTS DIFFER"
                results.append(f"xmatch {o / q:.2f}x q3c_join ({'ok' if o <= 2 * q else 'MISS'},"
                               f" {same})")
    print(f"bench_export: {args.rows:,} rows, {args.upload:,} uploads: " + "; ".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
