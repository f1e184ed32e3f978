"""``twomass demo``: the whole path on the configured (by default embedded) database."""

from __future__ import annotations

import argparse
import time

from twomass import demo
from twomass.cli.context import Context, printed_warnings
from twomass.cli.db import describe
from twomass.ingest.validate import IngestWarning


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="simulate a small sky, ingest it, build and publish a release, "
        "cone-search it and measure completeness and reliability against the truth")
    p.add_argument("--pixels", action="store_true",
                   help="the path from pixels instead: observe a small region's raw frames, "
                   "run the pixel pipeline, ingest its night products, build and publish a "
                   "release and measure its catalog against the sources the frames showed "
                   "(a few minutes)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = time.perf_counter()
    if args.pixels:
        return _run_pixels(ctx, started)
    with printed_warnings(IngestWarning):
        report = demo.run(ctx.db, ctx.settings.home, progress=True, say=print, started=started)
    cone = report.cone
    for row in cone.rows[:5]:
        print(f"  {row['designation']:<17} {row['dist_arcsec']:6.2f} arcsec  "
              f"Ks {row['k_m']:6.3f}  ph_qual {row['ph_qual']}")
    for line in report.validation.lines():
        print(line)
    print(describe(report.status))
    for table, rows in report.table_rows.items():
        print(f"  {table:<22} {rows:>12,d} rows")
    print("  " + ", ".join(f"{phase} {s:.1f} s" for phase, s in report.seconds.items()))
    print(report.summary())
    return 0


def _run_pixels(ctx: Context, started: float) -> int:
    from twomass import pixeldemo
    from twomass.pipeline.stages.photcal import CalibrationWarning

    with printed_warnings(IngestWarning, CalibrationWarning):
        report = pixeldemo.run(ctx.db, ctx.settings.home, progress=True, say=print,
                               started=started)
    print("  " + ", ".join(f"{phase} {s:.1f} s" for phase, s in report.seconds.items()))
    print(report.summary())
    return 0

