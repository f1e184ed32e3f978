"""``twomass db init|upgrade|check``: create, migrate and check the database."""

from __future__ import annotations

import argparse

from twomass.cli.context import Context
from twomass.migrations import revision


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="create, migrate or check the database")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("init", help="create the schemas in an empty database").set_defaults(
        handler=init
    )
    actions.add_parser("upgrade", help="migrate to this code's revision").set_defaults(
        handler=upgrade
    )
    actions.add_parser(
        "check", help="exit 0 only if the database is at this code's revision and settings"
    ).set_defaults(handler=check)
    grant = actions.add_parser(
        "grant-reader", help="create or refresh the read-only role the cone search service "
                             "logs in as")
    grant.add_argument("--role", default="twomass_reader", metavar="NAME",
                       help="role name (default twomass_reader)")
    grant.set_defaults(handler=grant_reader)


def describe(status: revision.DatabaseStatus) -> str:
    """Multi-line description of a database's status."""
    return "\n".join(line for line in [
        f"database:        {status.url}",
        f"server:          PostgreSQL {status.server_version}",
        f"revision:        {status.revision or '(none)'} (code expects {status.head})",
        f"healpix:         order {status.healpix_order} {status.healpix_scheme}"
        if status.healpix_order is not None else "healpix:         (not set)",
        ("partitions:      plain tables (not partitioned by sky)"
         if status.partition_order is None else
         f"partitions:      by sky, HEALPix order {status.partition_order} "
         f"({12 * 4 ** status.partition_order} per table)") if status.revision else "",
        f"last migrated by twomass {status.code_version}" if status.code_version else "",
    ] if line)


def init(args: argparse.Namespace, ctx: Context) -> int:
    before, after = revision.init(ctx.db)
    print(describe(after))
    if before.revision == after.revision:
        print(f"db init: {after.url} already at revision {after.revision}; nothing to do")
    else:
        print(f"db init: created the twomass schemas at revision {after.revision}")
    return 0


def upgrade(args: argparse.Namespace, ctx: Context) -> int:
    before, after = revision.upgrade(ctx.db)
    print(describe(after))
    if before.revision == after.revision:
        print(f"db upgrade: already at revision {after.revision}; nothing to do")
    else:
        print(f"db upgrade: migrated from revision {before.revision} to {after.revision}")
    return 0


def check(args: argparse.Namespace, ctx: Context) -> int:
    status = revision.status(ctx.db)
    print(describe(status))
    if status.problem:
        print(f"db check: FAILED: {status.problem}")
        return 1
    print(f"db check: ok, revision {status.revision}, HEALPix order {status.healpix_order} "
          f"{status.healpix_scheme}")
    return 0


def grant_reader(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.serve import reader

    created = reader.grant_reader(ctx.current_db(), args.role)
    print(f"db grant-reader: {'created' if created else 'refreshed'} role {args.role}: "
          "LOGIN, read-only transactions, SELECT on the published psc and xsc (and on "
          "views published later) and the revision tables, nothing else")
    return 0
