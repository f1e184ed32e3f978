"""``twomass ingest NIGHT_DIR...``: load night product directories into ``wdb``.

Each night's line is printed as the night commits, so that when a later night fails or
the run is interrupted, what the user has read is what the database holds; the closing
message then says how many nights were committed and which were not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twomass.cli.context import Context, printed_warnings
from twomass.core.errors import TwomassError
from twomass.ingest.load import NightResult, ingest_nights
from twomass.ingest.products import night_directories, printable
from twomass.ingest.validate import ON_WARNING, IngestWarning

#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest", help="validate night product directories and load them, one "
        "transaction per night")
    parser.add_argument("directories", nargs="+", metavar="NIGHT_DIR",
                        help="night product directory (night.json and the Parquet files), "
                        "or a directory of them (as `twomass simulate` writes), whose nights "
                        "load in name order")
    parser.add_argument("--replace", action="store_true",
                        help="swap a night already loaded from different files for this one")
    parser.add_argument("--on-warning", choices=ON_WARNING, default="warn",
                        help="what implausible values (warning classes W01...) do "
                        "(default: warn)")
    parser.set_defaults(handler=run)


def _committed(done: list[NightResult], nights: list[Path]) -> str:
    """What a stopped run left behind: the nights committed and those that were not."""
    if not done:
        return "nothing was committed"
    text = f"{len(done)} of {len(nights)} nights committed, their lines above"
    if len(done) < len(nights):
        text += f"; not committed: {printable(nights[len(done)])}"
        if len(nights) - len(done) > 1:
            text += f" and {len(nights) - len(done) - 1} later"
    return text


def run(args: argparse.Namespace, ctx: Context) -> int:
    db = ctx.current_db()
    nights = night_directories(args.directories)
    done: list[NightResult] = []

    def report(result: NightResult) -> None:
        print(result.line(), flush=True)
        done.append(result)

    with printed_warnings(IngestWarning):
        try:
            summary = ingest_nights(db, nights, replace=args.replace,
                                    on_warning=args.on_warning, on_night=report)
        except TwomassError as exc:
            if not done:
                raise
            raise TwomassError(f"{exc} ({_committed(done, nights)})") from None
        except KeyboardInterrupt:
            print(f"twomass: interrupted; {_committed(done, nights)}", file=sys.stderr)
            return INTERRUPTED
    print(summary.line())
    return 0
