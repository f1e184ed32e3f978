"""Partition-wise release build (``--jobs 2``) against the single-table build, same rows.

For each region size (boxes centred at RA 254.5, Dec 24.5, as ``bench_release.py``)
simulates the sky and ingests it into a scratch database (neither timed), then builds
the release alternately single-table and partition-wise at each pixel order of
``--orders`` (A B C A B C ...), ``--repeat`` times, checks that every build has the
single build's content checksum, and prints the medians, the ratios, the rows per
second and the per-phase seconds of the partition-wise builds. Last, a projection of
the full 2MASS working database (1.3e9 rows) from the largest region's per-row rates:
the per-pixel phases spread over every core, the others (snapshot copy, numbering,
final transaction) run by one connection per server over that server's rows.

With ``--incremental``: the sky but its last night is ingested and built partition-wise
(release ``old``), the last night ingested, then the incremental build from ``old``
(``--incremental-from``), the single-table build and the partition-wise build of the
same rows, alternated, checksums compared.

Usage: python benchmarks/bench_scaleout.py [--db URL] [--area 36] [--orders 4 5]
       [--jobs 2] [--repeat 2] [--seed N] [--incremental]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time
from collections.abc import Callable

import psycopg
from bench_release import DEC, RA  # (same sky as the release benchmark)

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.core.settings import Settings


def _ingest(admin_url: str, area: float, seed: int,
            between: Callable[[str], None] | None = None) -> str:
    """A scratch database holding ``area`` square degrees simulated and ingested; with
    ``between``, the last night is ingested after ``between(url)`` ran."""
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
        batches = [nights] if between is None else [nights[:-1], nights[-1:]]
        with Database(url) as db:
            revision.init(db)
            for i, batch in enumerate(batches):
                if i:
                    between(url)
                ingest_nights(db, batch, on_warning="ignore", progress=False)
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE")
    return url


def _incremental(admin_url: str, area: float, seed: int, jobs: int, order: int,
                 repeat: int) -> None:
    """The rebuild after one new night against the full builds of the same rows."""
    old_stats: dict = {}

    def build_old(url: str) -> None:
        with Database(url) as db:
            old_stats.update(release.build(db, "old", publish_after=False, progress=False,
                                           jobs=jobs, partitioned=True, order=order).counts)

    url = _ingest(admin_url, area, seed, between=build_old)
    try:
        with psycopg.connect(url) as conn:
            rows, last = conn.execute(
                "SELECT (SELECT count(*) FROM wdb.pts), (SELECT count(*) FROM wdb.pts "
                "WHERE scan_key IN (SELECT scan_key FROM wdb.scan WHERE night_key = "
                "(SELECT max(night_key) FROM wdb.night)))").fetchone()
        times: dict[str, list[float]] = {}
        checksums = set()
        phases: dict = {}
        n = 0
        for _ in range(repeat):
            for variant in ("incremental", "single", "partition-wise"):
                n += 1
                steps: dict[str, float] = {}
                start = time.perf_counter()
                with Database(url) as db, contextlib.redirect_stderr(io.StringIO()) as err:
                    record = release.build(
                        db, f"n{n}", publish_after=False, progress=True, jobs=jobs,
                        partitioned=variant != "single", order=order, step_seconds=steps,
                        incremental_from="old" if variant == "incremental" else None)
                    seconds = time.perf_counter() - start
                    release.drop(db, f"n{n}")
                plan = [line for line in err.getvalue().splitlines() if "rebuilt" in line]
                if plan:
                    print("  " + plan[-1].split("\r")[-1])
                times.setdefault(variant, []).append(seconds)
                checksums.add(record.content_checksum)
                phases[variant] = steps
                print(f"  build {n}: {variant} {seconds:.1f} s, load {os.getloadavg()[0]:.1f}",
                      flush=True)
        single = statistics.median(times["single"])
        print(f"{area:6.0f} deg2, {rows:>10,d} working rows, the last night {last:,d} of them "
              f"(jobs {jobs}, order {order}): content checksums "
              f"{'all equal' if len(checksums) == 1 else 'DIFFER'}")
        for variant, values in times.items():
            t = statistics.median(values)
            print(f"    {variant:<16} {t:7.1f} s (runs {', '.join(f'{x:.1f}' for x in values)}), "
                  f"this / single {t / single:5.3f}")
        print("        incremental phases: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in phases["incremental"].items()))
    finally:
        database.drop_database(admin_url, url)


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


#: The partition-wise build's phases that run over ``jobs`` connections, pixel by pixel.
PARALLEL_PHASES = ("views", "rules A", "rules B")
SERIAL_PHASES = ("global", "numbering", "final")


def _projection(rows: int, phases: dict[str, float], jobs: int, single: float,
                target: float = 1.3e9, cores: int = 16) -> None:
    """Print the projected build time of ``target`` working rows on 1 and 4 servers."""
    core_seconds = sum(phases[p] for p in PARALLEL_PHASES) * jobs / rows
    serial = sum(phases[p] for p in SERIAL_PHASES) / rows
    print(f"projection to {target:.2g} working rows from {rows:,d} (per million rows: "
          f"{core_seconds * 1e6:.1f} core-seconds in the per-pixel phases, "
          f"{serial * 1e6:.1f} s in the serial ones; single-table build "
          f"{single / rows * 1e6:.1f} s):")
    for servers in (1, 4):
        hours = target / servers * (serial + core_seconds / cores) / 3600
        print(f"    {servers} server(s) of {cores} cores, jobs {cores}: {hours:5.1f} h "
              f"(single-table build on one: {target * single / rows / 3600:5.1f} h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    parser.add_argument("--area", type=float, nargs="+", default=[36.0])
    parser.add_argument("--orders", type=int, nargs="+", default=[4, 5])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--incremental", action="store_true",
                        help="instead: the rebuild after one new night (--incremental-from) "
                        "against the full builds, at the first of --orders")
    args = parser.parse_args()
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    if args.incremental:
        for area in args.area:
            _incremental(admin_url, area, args.seed, args.jobs, args.orders[0], args.repeat)
        return
    largest = None
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
                    largest = (rows, phases[variant], single)
        finally:
            database.drop_database(admin_url, url)
    if largest is not None:
        _projection(largest[0], largest[1], args.jobs, largest[2])


if __name__ == "__main__":
    main()
