"""``twomass cone RA DEC RADIUS_ARCSEC``: catalog rows near a position."""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time

from astropy.table import Column, Table

from twomass.cli.context import Context
from twomass.query import cone

FORMATS = ("table", "csv", "json", "votable")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cone", help="rows of a catalog within a radius of a position, nearest first")
    parser.add_argument("ra", type=float, metavar="RA", help="centre right ascension [deg]")
    parser.add_argument("dec", type=float, metavar="DEC", help="centre declination [deg]")
    parser.add_argument("radius_arcsec", type=float, metavar="RADIUS_ARCSEC",
                        help="search radius [arcsec]")
    parser.add_argument("--catalog", choices=sorted(cone.CATALOGS), default="psc",
                        help="psc or xsc (published release) or wdb (working extractions)")
    parser.add_argument("--format", choices=FORMATS, default="table", dest="fmt",
                        help="output format on stdout (default: table)")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N rows (the nearest)")
    parser.set_defaults(handler=run)


def render(table: Table, fmt: str) -> str:
    """The table as text in output format ``fmt``."""
    if fmt == "table":
        return "\n".join(table.pformat(max_lines=-1, max_width=-1)) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        table.write(out, format="ascii.csv")
        return out.getvalue()
    if fmt == "json":
        columns = {name: _json_values(table[name]) for name in table.colnames}
        records = [{name: values[i] for name, values in columns.items()}
                   for i in range(len(table))]
        return json.dumps(records, indent=1, allow_nan=False) + "\n"
    out_bytes = io.BytesIO()
    table.write(out_bytes, format="votable")
    return out_bytes.getvalue().decode("utf-8")


def _json_values(column: Column) -> list[object]:
    """The column as Python values, NULL (masked) as None.

    ``tolist`` is what turns a masked entry into None: reading entries one by one gives
    NumPy's masked constant, whose value is the fill (0). JSON has no NaN or infinity,
    so those are written as null too.
    """
    return [None if isinstance(v, float) and not math.isfinite(v) else v
            for v in column.tolist()]


def run(args: argparse.Namespace, ctx: Context) -> int:
    start = time.perf_counter()
    cone.check_arguments(args.ra, args.dec, args.radius_arcsec, args.catalog, args.limit)
    table = cone.cone(ctx.current_db(), args.ra, args.dec, args.radius_arcsec, args.catalog,
                      args.limit)
    sys.stdout.write(render(table, args.fmt))
    print(f"cone: {len(table)} {args.catalog} rows within {args.radius_arcsec:g} arcsec of "
          f"({args.ra:g}, {args.dec:g}) in {time.perf_counter() - start:.2f} s",
          file=sys.stderr)
    return 0
