"""``twomass export CATALOG --format FMT OUT``: a catalog, or a region of it, to a file."""

from __future__ import annotations

import argparse
import sys

from twomass.cli.context import Context

CATALOGS = ("psc", "xsc", "scan_info", "psc_reject", "xsc_reject", "wdb")
FORMATS = ("psv", "csv", "parquet", "hats", "fits", "votable", "ipac")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a catalog (or a cone, box or polygon of it) to a file",
        description="Stream a catalog's rows to a file: psv (the 2MASS bulk layout; .gz "
                    "compresses), csv, parquet, hats (needs twomass[hats]), fits, votable, "
                    "ipac. Units, UCDs and descriptions go where each format keeps them.")
    parser.add_argument("catalog", choices=CATALOGS, metavar="CATALOG",
                        help=f"one of {', '.join(CATALOGS)}")
    parser.add_argument("out", metavar="OUT", help="output file (hats: output directory)")
    parser.add_argument("--format", choices=FORMATS, required=True, dest="fmt")
    parser.add_argument("--release", metavar="NAME",
                        help="a built release's tables (default: the published release)")
    region = parser.add_mutually_exclusive_group()
    region.add_argument("--cone", nargs=3, type=float, metavar=("RA", "DEC", "R"),
                        help="rows within R arcsec of (RA, DEC) [deg]")
    region.add_argument("--box", nargs=4, type=float,
                        metavar=("RA_MIN", "RA_MAX", "DEC_MIN", "DEC_MAX"),
                        help="rows in an RA/Dec range [deg]; RA_MIN > RA_MAX crosses RA 0")
    region.add_argument("--polygon", nargs="+", type=float, metavar="RA DEC",
                        help="rows inside the polygon RA1 DEC1 RA2 DEC2 ... [deg]")
    parser.add_argument("--columns", metavar="A,B,...",
                        help="comma-separated columns, in this order (default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def selection_of(args: argparse.Namespace):
    """The --cone, --box or --polygon of the arguments (every row without one)."""
    from twomass.access import selections

    if args.cone:
        return selections.cone(*args.cone)
    if args.box:
        return selections.box(*args.box)
    if args.polygon:
        return selections.polygon(args.polygon)
    return selections.EVERYTHING


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.access.export import export

    selection = selection_of(args)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns \
        else None
    summary = export(ctx.current_db(), args.catalog, args.fmt, args.out, release=args.release,
                     selection=selection, columns=columns, progress=not args.no_progress)
    print(summary.line(args.catalog, selection), file=sys.stderr)
    return 0
