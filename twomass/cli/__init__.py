"""The ``twomass`` command: a few lines per command over the library's functions.

Each command lives in its own module exposing ``register(subparsers)``; the handler
it sets receives the parsed arguments and a ``Context``. Errors a user can act on
(``TwomassError``) print one line and exit 2, never a traceback.

This module imports only the standard library: the libraries behind the commands take
seconds to load, and Ctrl-C while they load must end as it does anywhere else (one
line, status 130), which only code inside ``main`` can arrange.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Command modules, in the order ``twomass --help`` lists them.
COMMAND_MODULES = ["demo", "db", "ingest", "nights", "simulate", "observe", "pipeline", "release",
                   "cone", "export", "xmatch", "shard", "serve", "tap", "qa"]

#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    import twomass

    parser = argparse.ArgumentParser(
        prog="twomass",
        description="2MASS-style catalog system: working database, releases, cone search.",
    )
    parser.add_argument("--version", action="version", version=f"twomass {twomass.__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="PostgreSQL URL (default: $TWOMASS_DATABASE_URL, else the embedded server)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"twomass.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("twomass: interrupted; nothing was committed", file=sys.stderr)
        return INTERRUPTED


def _run(argv: Sequence[str] | None) -> int:
    """Parse the arguments and run the command: everything ``main`` guards."""
    from twomass.cli.context import Context
    from twomass.core.errors import TwomassError
    from twomass.core.settings import Settings

    args = build_parser().parse_args(argv)
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    ctx = Context(settings)
    try:
        return int(args.handler(args, ctx) or 0)
    except TwomassError as exc:
        print(f"twomass: error: {exc}", file=sys.stderr)
        return exc.exit_status
    finally:
        ctx.close()
