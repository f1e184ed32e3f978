"""``twomass ingest NIGHT_DIR...``: load night product directories into ``wdb``."""

from __future__ import annotations

import argparse
import sys
import warnings

from twomass.cli.context import Context
from twomass.ingest.load import ingest_nights
from twomass.ingest.validate import ON_WARNING, IngestWarning


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest", help="validate night product directories and load them, one "
        "transaction per night")
    parser.add_argument("directories", nargs="+", metavar="NIGHT_DIR",
                        help="night product directory (night.json and the Parquet files)")
    parser.add_argument("--replace", action="store_true",
                        help="swap a night already loaded from different files for this one")
    parser.add_argument("--on-warning", choices=ON_WARNING, default="warn",
                        help="what implausible values (warning classes W01...) do "
                        "(default: warn)")
    parser.set_defaults(handler=run)


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"twomass: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace, ctx: Context) -> int:
    db = ctx.current_db()
    with warnings.catch_warnings():
        warnings.simplefilter("always", IngestWarning)
        warnings.showwarning = _print_warning
        summary = ingest_nights(db, args.directories, replace=args.replace,
                                on_warning=args.on_warning)
    for night in summary.nights:
        print(night.line())
    print(summary.line())
    return 0
