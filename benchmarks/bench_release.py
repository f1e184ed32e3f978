"""Release build time against a single-pass CREATE TABLE AS of the S/N-passing rows.

For each region size (boxes of that solid angle centred at RA 254.5, Dec 24.5: Galactic
l 45, b +35 deg, as in the simulator benchmark),
simulates the sky with ``twomass.pipeline.sim.simulate`` and ingests it into a scratch
database (neither is timed), then times in the same run and on the same data:

- ``CREATE TABLE ... AS SELECT * FROM wdb.pts WHERE <S/N >= 7 in a band>`` (median of
  three runs), and
- ``release.build`` (every step, no publish), with the time of each step, and
- the write floor: what the build must do at least whatever its rules, i.e. write every
  working row once in hpx order (into a catalog or a reject table), index it on hpx and
  on its key, and hash it for the content checksum; no rule evaluated.

The target is build <= 5 x the single pass; two sizes show how the build, and the
duplicate-resolution and nearest-neighbour steps in particular, grow with the rows.

Usage: python benchmarks/bench_release.py [--db URL] [--area 36 110] [--seed N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.core.settings import Settings
from twomass.ingest.load import ingest_nights
from twomass.migrations import revision
from twomass.pipeline.sim.simulate import simulate

#: The single pass: one CREATE TABLE AS of the rows passing the S/N cut.
SINGLE_PASS = ["""
CREATE TABLE bench_table AS
SELECT * FROM wdb.pts
WHERE (substr(rd_flg, 1, 1) <> '0' AND (j_snr >= 7.0 OR j_cmsig <= 0.1551))
   OR (substr(rd_flg, 2, 1) <> '0' AND (h_snr >= 7.0 OR h_cmsig <= 0.1551))
   OR (substr(rd_flg, 3, 1) <> '0' AND (k_snr >= 7.0 OR k_cmsig <= 0.1551))
"""]

#: The write floor: every working row written, indexed and hashed once, as the release
#: tables are.
WRITE_FLOOR = [
    "CREATE TABLE bench_table AS SELECT * FROM wdb.pts ORDER BY hpx, scan_key, id",
    "CREATE INDEX ON bench_table (hpx)",
    "CREATE INDEX ON bench_table (scan_key, id)",
    "SELECT count(*), sum(hash_record_extended(t, 0)) FROM bench_table AS t",
]

#: The single pass is short and its time varies more from run to run than the build's:
#: the figure is the median of this many runs.
SINGLE_PASS_RUNS = 3

RA, DEC = 254.5, 24.5


def _timed(url: str, statements: list[str]) -> float:
    """Seconds of ``statements`` in one transaction; their table is dropped afterwards."""
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_table")
        conn.commit()
    return seconds


def run_size(admin_url: str, area: float, seed: int) -> dict:
    """Simulate and ingest ``area`` square degrees, then time single pass and build."""
    # Dec side sqrt(area); RA side widened so that the box covers `area` of sky.
    half = area ** 0.5 / 2
    lo, hi = math.radians(DEC - half), math.radians(DEC + half)
    width = area / (math.sin(hi) - math.sin(lo)) * math.pi / 180
    url = database.create_database(admin_url, "twomass_bench_release")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sky"
            simulate(out, (RA - width / 2, RA + width / 2), (DEC - half, DEC + half), seed=seed)
            nights = sorted(p for p in out.iterdir() if p.is_dir())
            with Database(url) as db:
                revision.init(db)
                ingest_nights(db, nights, on_warning="ignore", progress=False)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE wdb.pts")
            rows = conn.execute("SELECT count(*) FROM wdb.pts").fetchone()[0]
        single = statistics.median(_timed(url, SINGLE_PASS) for _ in range(SINGLE_PASS_RUNS))
        floor = _timed(url, WRITE_FLOOR)
        steps: dict[str, float] = {}
        start = time.perf_counter()
        with Database(url) as db:
            release.build(db, "bench", publish_after=False, progress=False,
                          step_seconds=steps)
        build = time.perf_counter() - start
        return {"area": area, "rows": rows, "single": single, "floor": floor, "build": build,
                "steps": steps}
    finally:
        database.drop_database(admin_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    parser.add_argument("--area", type=float, nargs="+", default=[36.0, 110.0],
                        help="region sizes [deg^2]")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    results = []
    for area in args.area:
        r = run_size(admin_url, area, args.seed)
        results.append(r)
        print(f"{r['area']:6.0f} deg2, {r['rows']:>10,d} working rows: single pass "
              f"{r['single']:6.1f} s, release build {r['build']:6.1f} s, "
              f"ratio {r['build'] / r['single']:5.1f}; write floor {r['floor']:6.1f} s, "
              f"ratio {r['floor'] / r['single']:4.1f}", flush=True)
        print("    steps: " + ", ".join(f"{k.split('_', 1)[0]} {v:.1f} s"
                                        for k, v in r["steps"].items()), flush=True)
    first, last = results[0], results[-1]
    growth = last["rows"] / first["rows"]
    per_step = ", ".join(
        f"{k.split('_', 1)[0]} x{last['steps'][k] / max(first['steps'][k], 1e-3):.1f}"
        for k in first["steps"] if first["steps"][k] > 0.5)
    worst = max(r["build"] / r["single"] for r in results)
    print(f"bench_release: build / single pass <= {worst:.1f} (target 5); rows x{growth:.1f} "
          f"-> build x{last['build'] / first['build']:.1f} ({per_step})")


if __name__ == "__main__":
    main()
