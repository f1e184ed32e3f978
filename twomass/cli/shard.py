"""``twomass shard add NAME URL`` and ``twomass shard move TABLE PIXEL... --to NAME``:
partitions of an hpx-partitioned table on other PostgreSQL servers (postgres_fdw)."""

from __future__ import annotations

import argparse

from twomass.cli.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "shard", help="hold partitions of hpx-partitioned tables on other PostgreSQL servers",
        description="Shards through postgres_fdw (server mode only: the embedded server has "
                    "no contrib modules). See docs/scale-out.md.")
    commands = parser.add_subparsers(dest="shard_command", required=True, metavar="SUBCOMMAND")
    add = commands.add_parser("add", help="declare a shard server and install hpx_* there")
    add.add_argument("name", metavar="NAME", help="name of the foreign server")
    add.add_argument("url", metavar="URL",
                     help="postgresql://user:password@host:port/dbname of the shard")
    add.set_defaults(handler=run_add)
    move = commands.add_parser("move", help="move partitions (pixels) of a table to a shard")
    move.add_argument("table", metavar="TABLE", help="table partitioned by RANGE (hpx)")
    move.add_argument("pixels", metavar="PIXEL", type=int, nargs="+",
                      help="pixels of the table's partition order")
    move.add_argument("--to", required=True, metavar="NAME", help="the shard")
    move.set_defaults(handler=run_move)
    listing = commands.add_parser("list", help="the partitions of a table and where they are")
    listing.add_argument("table", metavar="TABLE", help="table partitioned by RANGE (hpx)")
    listing.set_defaults(handler=run_list)


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.scale import shards

    print(shards.add_shard(ctx.db, args.name, args.url))
    return 0


def run_move(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.scale import shards

    print(shards.move(ctx.db, args.table, args.pixels, args.to))
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.scale import shards

    with ctx.db.connection() as conn:
        parts = shards.partitions(conn, args.table)
    order = shards.partition_order(parts)
    for part in parts:
        pixel = part.lo >> (2 * (29 - order))
        print(f"{pixel}\t{part.schema}.{part.name}\t{part.server or 'local'}")
    remote = sum(p.server is not None for p in parts)
    print(f"{args.table}: {len(parts)} partitions of order {order}, {remote} on shards")
    return 0
