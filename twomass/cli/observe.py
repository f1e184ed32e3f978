"""``twomass observe OUT_DIR --ra MIN MAX --dec MIN MAX``: raw frames of a region of sky.

Needs no database: it writes what the telescopes recorded (raw nights) and the truth,
which ``twomass pipeline`` then processes.
"""

from __future__ import annotations

import argparse

from twomass.cli.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "observe",
        help="write raw 2MASS frames (Read_1/Read_2 cubes), calibration data and reference "
        "lists for a region of sky",
        description="Simulate what the camera and telescope recorded for every scan that "
        "touches an RA/Dec box: one raw night directory per night and site (scans clipped "
        "to the region), and truth.parquet as `twomass simulate` writes it.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="output directory (new or empty)")
    p.add_argument("--ra", nargs=2, type=float, metavar=("RA_MIN", "RA_MAX"), required=True,
                   help="RA range [deg] within [0, 360], eastward from RA_MIN to RA_MAX")
    p.add_argument("--dec", nargs=2, type=float, metavar=("DEC_MIN", "DEC_MAX"),
                   required=True, help="Dec range [deg], -90 <= DEC_MIN < DEC_MAX <= 90")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--min-qual", type=int, default=4, metavar="Q",
                   help="omit scans with QA score below Q (default 4)")
    p.add_argument("--max-frames", type=int, default=None, metavar="N",
                   help="clip every survey scan to at most N frames around the region's "
                   "centre (default: all frames over the region)")
    p.add_argument("--cal-frames", type=int, default=10, metavar="N",
                   help="frames per calibration scan (default 10)")
    p.add_argument("--minor-planets", type=float, default=None, metavar="PER_DEG2",
                   help="minor planets per deg^2 on the ecliptic (default 1.5; more to "
                   "measure their association)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.pipeline.sim.region import SimulationError
    from twomass.pipeline.stages.observe import observe

    if args.max_frames is not None and args.max_frames < 1:
        raise SimulationError("--max-frames must be at least 1")
    if args.cal_frames < 1:
        raise SimulationError("--cal-frames must be at least 1")
    if args.minor_planets is not None and args.minor_planets < 0:
        raise SimulationError("--minor-planets must not be negative")
    density = {} if args.minor_planets is None else {"minor_planet_density": args.minor_planets}
    s = observe(args.out_dir, tuple(args.ra), tuple(args.dec), seed=args.seed,
                min_qual=args.min_qual, max_frames=args.max_frames,
                cal_frames=args.cal_frames, progress=True, **density)
    print(f"observe: {s.nights} nights, {s.scans} survey and {s.cal_scans} calibration scans, "
          f"{s.band_frames:,d} band-frames, {s.truth_rows:,d} true sources in {s.out_dir} "
          f"({s.seconds:.1f} s)")
    return 0
