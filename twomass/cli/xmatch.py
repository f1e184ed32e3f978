"""``twomass xmatch TABLE --radius ARCSEC``: cross-match an uploaded table with a catalog."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from twomass.cli.context import Context

OUTPUT_FORMATS = {".csv": "ascii.csv", ".vot": "votable", ".xml": "votable",
                  ".votable": "votable", ".fits": "fits", ".fit": "fits",
                  ".parquet": "parquet", ".pq": "parquet", ".ecsv": "ascii.ecsv"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "xmatch", help="cross-match a CSV, VOTable, FITS or Parquet table with a catalog",
        description="Every catalog row within the radius of each row of TABLE (or only the "
                    "nearest), in one set-based query; the output keeps TABLE's columns "
                    "and adds the catalog's and dist_arcsec.")
    parser.add_argument("table", metavar="TABLE", help=".csv, .vot/.xml, .fits or .parquet")
    parser.add_argument("--radius", type=float, metavar="ARCSEC",
                        help="search radius [arcsec] (or --radius-column)")
    parser.add_argument("--radius-column", metavar="NAME",
                        help="column of TABLE holding each row's radius [arcsec]")
    parser.add_argument("--nearest", action="store_true", help="only the nearest match")
    parser.add_argument("--catalog", default="psc",
                        choices=("psc", "xsc", "scan_info", "psc_reject", "xsc_reject"))
    parser.add_argument("--release", metavar="NAME", help="a built release's tables")
    parser.add_argument("--ra-column", default="ra", metavar="NAME")
    parser.add_argument("--dec-column", default="dec", metavar="NAME")
    parser.add_argument("--columns", metavar="A,B,...", help="catalog columns (default: all)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file, format by extension (default: CSV on stdout)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.access.catalog import Catalog
    from twomass.access.xmatch import XmatchError, read_upload

    if args.radius is None and args.radius_column is None:
        raise XmatchError("give --radius ARCSEC or --radius-column NAME")
    out_format = None
    if args.output:
        out_format = OUTPUT_FORMATS.get(Path(args.output).suffix.lower())
        if out_format is None:
            raise XmatchError(f"{args.output}: unknown output format: name it "
                              f"{', '.join(OUTPUT_FORMATS)}")
    start = time.perf_counter()
    table = read_upload(args.table)
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    catalog = Catalog(ctx.current_db(), args.catalog, args.release)
    result = catalog.xmatch(table, args.radius, args.nearest, columns=columns,
                            ra=args.ra_column, dec=args.dec_column,
                            radius_column=args.radius_column, origin=args.table)
    result.meta.clear()
    if args.output:
        result.write(args.output, format=out_format, overwrite=True)
    else:
        result.write(sys.stdout, format="ascii.csv")
    radius = f"{args.radius:g} arcsec" if args.radius is not None else \
        f"the radius in {args.radius_column}"
    print(f"xmatch: {len(table)} rows of {args.table}, {len(result)} "
          f"{'nearest ' if args.nearest else ''}{args.catalog} matches within {radius} in "
          f"{time.perf_counter() - start:.2f} s", file=sys.stderr)
    return 0
