"""``twomass demo``: the main job on the configured (by default embedded) database."""

from __future__ import annotations

import argparse
import time

from twomass import demo
from twomass.cli.context import Context
from twomass.cli.db import describe


def register(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser(
        "demo", help="set up the database and run the whole path on a small simulated sky"
    ).set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    start = time.perf_counter()
    report = demo.run(ctx.url)
    print(describe(report.status))
    for table, rows in report.table_rows.items():
        print(f"  {table:<22} {rows:>12,d} rows")
    print(f"demo: database ready at revision {report.status.revision} "
          f"({sum(report.table_rows.values()):,d} working rows) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0
