"""``twomass nights list | drop NIGHT``: the nights in the working database."""

from __future__ import annotations

import argparse

from twomass.cli.context import Context
from twomass.ingest.nights import drop_night, list_nights


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nights", help="list the loaded nights, or drop one loaded by mistake")
    commands = parser.add_subparsers(dest="nights_command", required=True, metavar="ACTION")
    commands.add_parser("list", help="every loaded night, with its rows and source "
                        "directory").set_defaults(handler=run_list)
    drop = commands.add_parser(
        "drop", help="remove one night (its scans, extractions, tiles no other night "
        "observed, and its provenance) in one transaction")
    drop.add_argument("night", metavar="NIGHT",
                      help="date and hemisphere, as the night directories are named "
                      "(e.g. 2000-05-01n)")
    drop.set_defaults(handler=run_drop)


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    nights = list_nights(ctx.current_db())
    for n in nights:
        print(f"{n.label}  {n.rows.get('scan', 0):>5,d} scans {n.rows.get('pts', 0):>12,d} pts "
              f"{n.rows.get('ext', 0):>9,d} ext  ingested {n.ingested_at:%Y-%m-%d %H:%M:%S}  "
              f"from {n.directory or '(no ingest record)'}")
    total = sum(n.rows.get("pts", 0) for n in nights)
    print(f"nights list: {len(nights)} night(s), {total:,d} pts rows")
    return 0


def run_drop(args: argparse.Namespace, ctx: Context) -> int:
    print(drop_night(ctx.current_db(), args.night).line())
    return 0
