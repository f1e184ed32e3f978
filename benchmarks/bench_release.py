"""Release build time against a single-pass CREATE TABLE AS of the S/N-passing rows.

Generates a working database of a grid of overlapping tiles directly in SQL (true
sources observed by every scan covering them, a lower-quality second scan of every
fourth tile, faint noise), then, at each size, times in the same run:

- ``release.build`` (all steps, no publish), and
- ``CREATE TABLE ... AS SELECT * FROM wdb.pts WHERE <S/N >= 7 in a band>``.

The target is build <= 5 x the single pass; two sizes show how the build grows.

Usage: python benchmarks/bench_release.py [--admin-url URL] [--rows 1000000 3000000]
"""

from __future__ import annotations

import argparse
import time
import uuid

import psycopg
from psycopg import sql

from twomass import release, revision

GENERATE = """
-- Tiles 8.5' x 1 deg near Dec 0, overlapping 60" in RA and 6' in Dec.
INSERT INTO wdb.night (night_key, hemis, date, pipeline_version)
OVERRIDING SYSTEM VALUE VALUES (1, 'n', '1999-01-01', 'bench');
CREATE TEMP TABLE grid AS
SELECT i, j, i * %(nrow)s + j + 1 AS tile,
       10 + i * (8.5 / 60 - 60 / 3600.0) AS ra, j * 0.9 AS dec
FROM generate_series(0, %(ncol)s - 1) AS i, generate_series(0, %(nrow)s - 1) AS j;
INSERT INTO wdb.tile (tile, dec_band, ra, dec, hpx, ra_1, dec_1, ra_2, dec_2, ra_3, dec_3,
                      ra_4, dec_4)
SELECT tile, 0, ra, dec, hpx_ang2ipix(ra, dec), ra + 8.5 / 120, dec - 0.5, ra - 8.5 / 120,
       dec - 0.5, ra + 8.5 / 120, dec + 0.5, ra - 8.5 / 120, dec + 0.5 FROM grid;
INSERT INTO wdb.scan (night_key, hemis, date, scan, tile, ra, dec, hpx, ra_1, dec_1, ra_2,
                      dec_2, ra_3, dec_3, ra_4, dec_4, sd, qual, jdate,
                      j_msnr10, h_msnr10, k_msnr10)
SELECT 1, 'n', '1999-01-01', row_number() OVER (ORDER BY v, tile), tile, ra, dec,
       hpx_ang2ipix(ra, dec), ra + 8.5 / 120, dec - 0.5, ra - 8.5 / 120, dec - 0.5,
       ra + 8.5 / 120, dec + 0.5, ra - 8.5 / 120, dec + 0.5, 'n', 10 - v * 3, 2451179.5,
       15.8, 15.1, 14.3
FROM grid, (VALUES (0), (1)) AS visit(v)
WHERE v = 0 OR tile %% 4 = 0;
CREATE TEMP TABLE truth AS
SELECT n, 10 - 8.5 / 120 + random() * (%(ncol)s * (8.5 / 60 - 60 / 3600.0) + 60 / 3600.0) AS ra,
       -0.5 + random() * (%(nrow)s * 0.9 + 0.1) AS dec, 10 + 7 * random() AS mag
FROM generate_series(1, %(ntrue)s) AS n;
INSERT INTO wdb.pts (scan_key, id, ra, dec, hpx, err_maj, err_min, err_ang, j_m, j_cmsig,
                     j_msigcom, j_snr, h_m, h_cmsig, h_msigcom, h_snr, k_m, k_cmsig,
                     k_msigcom, k_snr, rd_flg, bl_flg, cc_flg, ndet, cnf_flg, mp_flg, x_scan,
                     y_scan, jdate, j_psfchi, h_psfchi, k_psfchi, dist_edge_ns, dist_edge_ew,
                     dist_edge_flg, coadd, a, nopt_mchs)
SELECT s.scan_key, row_number() OVER (PARTITION BY s.scan_key ORDER BY t.n), o.ra, o.dec,
       hpx_ang2ipix(o.ra, o.dec), 0.1, 0.1, 0, t.mag, 1.0857 / o.snr, 1.0857 / o.snr, o.snr,
       t.mag - 0.5, 1.0857 / o.snr, 1.0857 / o.snr, o.snr, t.mag - 0.8, 1.0857 / o.snr,
       1.0857 / o.snr, o.snr, '222', '111', CASE WHEN t.n %% 50 = 0 THEN 'D00' ELSE '000' END,
       '666666', '000000', 0, 0, 0, 2451179.5, 1.0, 1.0, 1.0,
       floor(least(o.dec - (s.dec - 0.5), s.dec + 0.5 - o.dec) * 3600)::int,
       floor(least(o.ra - (s.ra - 8.5 / 120), s.ra + 8.5 / 120 - o.ra) * 3600)::int,
       'ne', 1, '0', 0
FROM truth AS t
CROSS JOIN (VALUES (0, 0), (0, 1), (1, 0), (1, 1)) AS d(di, dj)
JOIN grid AS g ON g.i = floor((t.ra - 10 + 8.5 / 120) / (8.5 / 60 - 60 / 3600.0))::int - d.di
              AND g.j = floor((t.dec + 0.5) / 0.9)::int - d.dj
JOIN wdb.scan AS s ON s.tile = g.tile
CROSS JOIN LATERAL (SELECT t.ra + (random() - 0.5) * 0.3 / 3600 AS ra,
                           t.dec + (random() - 0.5) * 0.3 / 3600 AS dec,
                           10 * 10 ^ (-0.4 * (t.mag - 15.8)) AS snr) AS o
WHERE abs(o.ra - s.ra) < 8.5 / 120 AND abs(o.dec - s.dec) < 0.5;
ANALYZE wdb.scan;
ANALYZE wdb.pts;
"""

SINGLE_PASS = """
CREATE TABLE bench_single_pass AS
SELECT * FROM wdb.pts
WHERE (substr(rd_flg, 1, 1) <> '0' AND (j_snr >= 7.0 OR j_cmsig <= 0.1551))
   OR (substr(rd_flg, 2, 1) <> '0' AND (h_snr >= 7.0 OR h_cmsig <= 0.1551))
   OR (substr(rd_flg, 3, 1) <> '0' AND (k_snr >= 7.0 OR k_cmsig <= 0.1551))
"""


def run_size(admin_url: str, rows: int) -> tuple[int, float, float]:
    name = f"twomass_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        revision.init(url)
        ncol, nrow = 16, 4
        # Client-side binding: the generator is several statements.
        with psycopg.connect(url, cursor_factory=psycopg.ClientCursor) as conn:
            conn.execute(GENERATE, {"ncol": ncol, "nrow": nrow, "ntrue": int(rows / 1.6)})
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE wdb.pts")
            n = conn.execute("SELECT count(*) FROM wdb.pts").fetchone()[0]
        start = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute(SINGLE_PASS)
        single = time.perf_counter() - start
        start = time.perf_counter()
        steps: dict[str, float] = {}
        release.build(url, "bench", publish_after=False, progress=False, step_seconds=steps)
        build = time.perf_counter() - start
        print("  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()), flush=True)
        return n, single, build
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        n, single, build = run_size(args.admin_url, rows)
        results.append((n, single, build))
        print(f"{n:>10,d} working rows: single pass {single:7.1f} s, release build "
              f"{build:7.1f} s, ratio {build / single:5.2f}, "
              f"{build / n * 1e6:6.2f} us/row", flush=True)
    (n0, _, b0), (n1, _, b1) = results[0], results[-1]
    worst = max(b / s for _, s, b in results)
    print(f"summary: build/single-pass ratio <= {worst:.2f} (target 5); "
          f"rows x{n1 / n0:.1f} -> build time x{b1 / b0:.1f}")


if __name__ == "__main__":
    main()
