"""``twomass simulate OUT_DIR --ra MIN MAX --dec MIN MAX``: night products from a synthetic sky.

Needs no database: it writes files that ``twomass ingest`` loads.
"""

from __future__ import annotations

import argparse

from twomass.cli.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="write 2MASS-like night products and a truth table for a region of sky",
        description="Simulate every night that observed an RA/Dec box: one directory per "
        "night (night.json, tiles/scans/pts/ext Parquet files) and truth.parquet.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="output directory (new or empty)")
    p.add_argument("--ra", nargs=2, type=float, metavar=("RA_MIN", "RA_MAX"), required=True,
                   help="RA range [deg] within [0, 360], eastward from RA_MIN to RA_MAX; "
                   "RA_MIN > RA_MAX crosses RA 0 (--ra 355 5 is 10 deg wide)")
    p.add_argument("--dec", nargs=2, type=float, metavar=("DEC_MIN", "DEC_MAX"),
                   required=True, help="Dec range [deg], -90 <= DEC_MIN < DEC_MAX <= 90")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--min-qual", type=int, default=4, metavar="Q",
                   help="omit scans with QA score below Q (default 4: the 2MASS working "
                   "database loaded only Q > 3 scans; 0 writes every scan)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.pipeline.sim.simulate import simulate

    s = simulate(args.out_dir, tuple(args.ra), tuple(args.dec), seed=args.seed,
                 min_qual=args.min_qual, progress=True)
    print(f"simulate: {s.nights} nights, {s.scans} scans, {s.pts_rows:,d} point and "
          f"{s.ext_rows:,d} extended extractions, {s.truth_rows:,d} true sources "
          f"in {s.out_dir} ({s.seconds:.1f} s)")
    return 0
