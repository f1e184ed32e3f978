"""``twomass tap``: publish a release to TAP/ADQL through GAVO DaCHS (docs/tap.md)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from twomass.cli.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tap", help="publish a release's psc and xsc to TAP/ADQL through GAVO DaCHS")
    commands = parser.add_subparsers(dest="tap_command", required=True, metavar="ACTION")

    init = commands.add_parser(
        "init", help="create a DaCHS site (settings, roles, system tables) in ROOT")
    init.add_argument("root", type=Path, metavar="ROOT", help="DaCHS root directory")
    init.add_argument("--dachs-db", required=True, metavar="URL",
                      help="superuser URL of DaCHS's own database, on a PostgreSQL server "
                      "with q3c and pg_sphere (not the embedded server)")
    init.add_argument("--port", type=int, default=8080,
                      help="port of DaCHS's web server (default %(default)s)")
    init.add_argument("--host", default="127.0.0.1",
                      help="address it binds to (default %(default)s)")
    init.add_argument("--server-url", metavar="URL",
                      help="public URL of the server (default http://HOST:PORT)")
    init.set_defaults(handler=run_init)

    publish = commands.add_parser(
        "publish", help="copy release NAME's psc and xsc into DaCHS as twomass.psc/xsc")
    publish.add_argument("name", metavar="NAME", help="release name")
    publish.add_argument("--settings", type=Path, metavar="FILE",
                         help="DaCHS settings file (default: $GAVOSETTINGS, else "
                         "/etc/gavo.rc)")
    publish.set_defaults(handler=run_publish)


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    from twomass import tap

    start = time.perf_counter()
    site = tap.init_site(args.root, args.dachs_db, port=args.port, host=args.host,
                         server_url=args.server_url)
    print(f"DaCHS site in {args.root} ready in {time.perf_counter() - start:.1f} s; "
          f"run it with: GAVOSETTINGS={site.settings} gavo serve start")
    return 0


def run_publish(args: argparse.Namespace, ctx: Context) -> int:
    from twomass import tap

    site = tap.DachsSite.from_environment(args.settings)
    print(tap.publish(ctx.current_db(), args.name, site).line())
    return 0
