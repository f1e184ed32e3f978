"""Partition-wise release build (``--jobs 2``) against the single-table build, same rows.

For each region size (boxes centred at RA 254.5, Dec 24.5, as ``bench_release.py``)
simulates the sky and ingests it into a scratch database (neither timed), then builds
the release alternately single-table and partition-wise at each pixel order of
``--orders`` (A B C A B C ...), ``--repeat`` times, checks that every build has the
single build's content checksum, and prints the medians, the ratios, the rows per
second and the per-phase seconds of the partition-wise builds.

Usage: python benchmarks/bench_scaleout.py [--db URL] [--area 36] [--orders 4 5]
       [--jobs 2] [--repeat 2] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg
from bench_release import DEC, RA  # (same sky as the release benchmark)

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.core.settings import Settings


def _ingest(admin_url: str, area: float, seed: int) -> str:
    """A scratch database holding ``area`` square degrees simulated and ingested."""
    import math
    import tempfile
    from pathlib import Path

    from twomass.ingest.load import ingest_nights
    from twomass.migrations import revision
    from twomass.pipeline.sim.simulate import simulate

    half = area ** 0.5 / 2
    lo, hi = math.radians(DEC - half), math.radians(DEC + half)
    width = area / (math.sin(hi) - math.sin(lo)) * math.pi / 180
    url = database.create_database(admin_url, "twomass_bench_scaleout")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sky"
        simulate(out, (RA - width / 2, RA + width / 2), (DEC - half, DEC + half), seed=seed)
        nights = sorted(p for p in out.iterdir() if p.is_dir())
        with Database(url) as db:
            revision.init(db)
            ingest_nights(db, nights, on_warning="ignore", progress=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


def _build(url: str, name: str, jobs: int, order: int | None) -> tuple[float, str, dict]:
    phases: dict[str, float] = {}
    start = time.perf_counter()
    with Database(url) as db:
        record = release.build(db, name, publish_after=False, progress=False, jobs=jobs,
                               partitioned=order is not None, order=order,
                               step_seconds=phases)
        seconds = time.perf_counter() - start
        release.drop(db, name)
    return seconds, record.content_checksum, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    parser.add_argument("--area", type=float, nargs="+", default=[36.0])
    parser.add_argument("--orders", type=int, nargs="+", default=[4, 5])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    for area in args.area:
        url = _ingest(admin_url, area, args.seed)
        try:
            with psycopg.connect(url) as conn:
                rows = conn.execute("SELECT count(*) FROM wdb.pts").fetchone()[0]
            variants = [("single", None)] + [(f"jobs {args.jobs} order {k}", k)
                                             for k in args.orders]
            times: dict[str, list[float]] = {v: [] for v, _ in variants}
            phases: dict[str, dict] = {}
            checksums = set()
            n = 0
            for _ in range(args.repeat):
                for variant, order in variants:
                    n += 1
                    seconds, checksum, steps = _build(url, f"b{n}", args.jobs, order)
                    times[variant].append(seconds)
                    phases[variant] = steps
                    checksums.add(checksum)
                    print(f"  build {n}: {variant} {seconds:.1f} s, load "
                          f"{os.getloadavg()[0]:.1f}", flush=True)
            single = statistics.median(times["single"])
            print(f"{area:6.0f} deg2, {rows:>10,d} working rows, load {os.getloadavg()[0]:.1f}:"
                  f" content checksums {'all equal' if len(checksums) == 1 else 'DIFFER'}")
            for variant, _ in variants:
                t = statistics.median(times[variant])
                runs = ", ".join(f"{x:.1f}" for x in times[variant])
                print(f"    {variant:<20} {t:7.1f} s (runs {runs}), {rows / t:9,.0f} rows/s, "
                      f"{t / rows * 1e6:6.1f} s per million rows, "
                      f"single / this {single / t:4.2f}")
                if variant != "single":
                    print("        phases: " + ", ".join(f"{k} {v:.1f} s"
                                                      for k, v in phases[variant].items()))
        finally:
            database.drop_database(admin_url, url)


if __name__ == "__main__":
    main()
