"""``twomass pipeline RAW_NIGHT... --out DIR``: raw nights to night products.

Needs no database. Runs the 2MAPPS stages: frame calibration, detection, registration,
co-adding, point-source extraction and band merging, every night's scans as tasks on a
Dask cluster (local, or ``--scheduler``); writes each night's Atlas Images, their
inventory and the night products `twomass ingest` loads. Restartable: nights already done
are kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from twomass.cli.context import Context, printed_warnings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pipeline",
        help="process raw nights (from `twomass observe`) into Atlas Images and night "
        "products",
        description="Run the pixel pipeline on raw night directories: dark, flat and sky "
        "calibration, frame detection, registration to the astrometric reference, "
        "photometric calibration from the calibration scans, and drizzled Atlas Images with "
        "coverage maps and their inventory (atlas.parquet), then point sources from the Atlas "
        "Images, band-merged, and each scan's measured metadata, written as night products "
        "(night.json, tiles, scans, pts, ext) for `twomass ingest`. Every input is checked "
        "before anything is written.",
    )
    p.add_argument("raw_nights", nargs="+", metavar="RAW_NIGHT",
                   help="raw night directories (e.g. OUT/2001-07-13s), or a directory of them "
                   "(as `twomass observe` writes)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory; nights it already holds from the same inputs "
                   "are kept, a night left half-written by a killed run is redone")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="Dask worker processes of the local cluster, one scan at a time "
                   "each (default: the machine's CPUs; 1: everything in this process); "
                   "the products are the same bytes whatever N")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the scans on the existing Dask cluster at ADDRESS (e.g. "
                   "tcp://host:8786) instead of a local one; its workers must see the same "
                   "paths")
    p.add_argument("--force", action="store_true",
                   help="redo nights of the output directory whose products came from other "
                   "inputs or another pipeline version (refused otherwise)")
    p.add_argument("--ingest", action="store_true",
                   help="then load each night's Atlas Image inventory into wdb.atlas_image "
                   "(replacing the night's rows)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.pipeline.stages.photcal import CalibrationWarning
    from twomass.pipeline.stages.rawio import night_directories
    from twomass.pipeline.stages.run import run_pipeline

    db = ctx.current_db() if args.ingest else None  # refuse a bad database before work
    if args.jobs < 1:
        print(f"pipeline: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    with printed_warnings(CalibrationWarning):
        s = run_pipeline([Path(p) for p in args.raw_nights], Path(args.out), progress=True,
                         jobs=args.jobs, scheduler=args.scheduler, force=args.force)
    if db is not None:
        from twomass.ingest.atlas import load_atlas_inventory

        for raw in night_directories(args.raw_nights):
            rows = load_atlas_inventory(db, Path(args.out) / raw.name)
            print(f"pipeline: {rows} Atlas Images of {raw.name} loaded into wdb.atlas_image")
    skipped = f" ({s.skipped} already done, kept)" if s.skipped else ""
    print(f"pipeline: {s.nights} nights{skipped}, {s.scans} scans, {s.band_frames:,d} band-frames, "
          f"{s.atlas_images:,d} Atlas Images, {s.pts_rows:,d} point sources in {args.out} "
          f"({s.seconds:.1f} s)")
    return 0
