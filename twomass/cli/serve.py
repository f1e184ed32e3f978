"""``twomass serve``: the IVOA Simple Cone Search service on uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import time

from twomass.cli.context import Context
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.migrations import revision


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve /scs/psc and /scs/xsc: IVOA Simple Cone Search over HTTP")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000,
                        help="TCP port (default 8000; 0 picks a free one)")
    parser.add_argument("--max-radius", type=float, default=1.0, metavar="DEG",
                        help="largest search radius SR [deg] (default 1)")
    parser.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                        help="most rows in one answer (default 10000)")
    parser.add_argument("--statement-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="longest a search may run in the database (default 10)")
    parser.add_argument("--role", default=None, metavar="NAME",
                        help="read-only role to create or refresh and log in as "
                             "(default twomass_reader)")
    parser.add_argument("--reader-url", metavar="URL",
                        help="log in with this URL instead (a read-only role an "
                             "administrator made, with its password); nothing is granted")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.serve import reader, scs
    from twomass.serve.app import create_app

    if args.max_radius <= 0 or args.max_rows < 1 or args.statement_timeout <= 0:
        raise TwomassError("--max-radius, --max-rows and --statement-timeout must be > 0")
    if args.reader_url:
        url = reader.reader_url(args.reader_url, role="",
                                statement_timeout_s=args.statement_timeout)
    else:
        role = args.role or reader.READER_ROLE
        try:
            created = reader.grant_reader(ctx.current_db(), role)
            print(f"serve: {'created' if created else 'refreshed'} the read-only role {role}",
                  file=sys.stderr)
        except reader.ReaderRoleError as exc:
            if not reader.role_exists(ctx.db, role):
                raise
            # An administrator made the role; this user may only use it as it is.
            print(f"serve: note: {exc}; using role {role} as it is", file=sys.stderr)
        url = reader.reader_url(ctx.db.url, role, statement_timeout_s=args.statement_timeout)
    db = Database(url, max_size=8)
    try:
        user = reader.check_reader(db)
        revision.require_current(db)
        return _serve(create_app(db, scs.Limits(args.max_radius, args.max_rows)), args, user)
    finally:
        db.close()


def _serve(app, args: argparse.Namespace, user: str) -> int:
    import uvicorn

    try:
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise TwomassError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    host, port = sock.getsockname()[:2]

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            """Ctrl-C or SIGTERM stop the server gracefully, and the command then ends
            with its summary (uvicorn's own handler would raise the signal again)."""
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    server = Server(uvicorn.Config(app, log_level="warning", access_log=False))
    start = time.perf_counter()
    print(f"serve: listening on http://{host}:{port}/ (cone searches /scs/psc, /scs/xsc; "
          f"connected as {user}, read-only, statement timeout {args.statement_timeout:g} s); "
          "Ctrl-C stops", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    served = app.state.served
    print(f"serve: stopped after {time.perf_counter() - start:.0f} s: {served['requests']} "
          f"cone searches answered, {served['errors']} of them errors", file=sys.stderr)
    return 0
