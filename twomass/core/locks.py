"""Lock waits that say what they wait for, and sessions that die with their client.

A statement that needs a lock another session holds waits silently, for as long as that
session keeps it: a release build holds the release lock and a SHARE lock on the working
tables for its whole run, so an ingest started meanwhile would sit at 0 % with no word.
``advisory_xact_lock`` and ``lock_tables`` try the lock for a moment; when it is held
they name the sessions holding it (``pg_locks`` and ``pg_stat_activity``), then wait.
twomass sessions name themselves (``name_session``), so that the message says
"twomass release build dr2" rather than a process id alone.

A client killed in the middle of a long statement leaves its backend running, locks
held, until the statement ends; ``end_with_client`` has the server check the client's
socket while it runs and stop the statement when the client is gone.

Every function here acts on the current transaction: the connection must not be in
autocommit mode.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

#: How long a lock is tried before the wait is announced [ms].
TRY_MS = 1000

#: How often the server checks that the client of a running statement is alive [ms].
CLIENT_CHECK_MS = 2000

#: Lock modes that conflict with each table lock mode (PostgreSQL "Table-Level Locks").
CONFLICTS = {
    "ACCESS SHARE": ("AccessExclusiveLock",),
    "ROW SHARE": ("ExclusiveLock", "AccessExclusiveLock"),
    "ROW EXCLUSIVE": ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                      "AccessExclusiveLock"),
    "SHARE UPDATE EXCLUSIVE": ("ShareUpdateExclusiveLock", "ShareLock",
                               "ShareRowExclusiveLock", "ExclusiveLock",
                               "AccessExclusiveLock"),
    "SHARE": ("RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock",
              "ExclusiveLock", "AccessExclusiveLock"),
    "SHARE ROW EXCLUSIVE": ("RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
                            "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"),
    "EXCLUSIVE": ("RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
                  "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                  "AccessExclusiveLock"),
    "ACCESS EXCLUSIVE": ("AccessShareLock", "RowShareLock", "RowExclusiveLock",
                         "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                         "ExclusiveLock", "AccessExclusiveLock"),
}

Notify = Callable[[str], None]


@dataclass(frozen=True)
class LockHolder:
    """A session holding a lock another one waits for.

    Attributes
    ----------
    pid
        Server process id of the session (``pg_terminate_backend(pid)`` ends it).
    application_name
        What the session calls itself (``twomass release build dr2`` for twomass).
    xact_start
        When its transaction started (None if not visible to this user).
    """

    pid: int
    application_name: str
    xact_start: datetime | None

    def describe(self) -> str:
        """``twomass release build dr2 (pid 123, started at 2026-12-06 23:40:01)``."""
        who = self.application_name or "another session"
        started = f", started at {self.xact_start:%Y-%m-%d %H:%M:%S}" if self.xact_start else ""
        return f"{who} (pid {self.pid}{started})"


def to_stderr(message: str) -> None:
    """The default ``notify``: one line on standard error."""
    print(f"twomass: {message}", file=sys.stderr, flush=True)


def name_session(conn: psycopg.Connection, name: str) -> None:
    """Name this session ``twomass <name>`` in ``pg_stat_activity`` for the transaction,
    so that whoever waits for its locks is told what it is."""
    conn.execute("SELECT set_config('application_name', %s, true)", (f"twomass {name}",))


def end_with_client(conn: psycopg.Connection) -> None:
    """Have the server stop this transaction's statements once the client is gone.

    Without it a killed client's statement runs to its end (minutes for a release
    build), holding its locks; ``client_connection_check_interval`` (PostgreSQL >= 14)
    makes the backend check the socket every ``CLIENT_CHECK_MS`` while it runs.
    """
    conn.execute("SELECT set_config('client_connection_check_interval', %s, true)",
                 (f"{CLIENT_CHECK_MS}ms",))


def advisory_xact_lock(conn: psycopg.Connection, key: int | tuple[int, int], what: str,
                       notify: Notify = to_stderr) -> None:
    """``pg_advisory_xact_lock(key)`` (one bigint or two int4 keys), announcing the wait
    when another session holds it. ``what`` names the lock in the message."""
    mask = 0xFFFFFFFF
    if isinstance(key, tuple):  # pg_locks: classid = key1, objid = key2, objsubid = 2
        statement = sql.SQL("SELECT pg_advisory_xact_lock({}, {})").format(*key)
        params = (key[0] & mask, key[1] & mask, 2)
    else:  # classid = the high half, objid = the low half, objsubid = 1
        statement = sql.SQL("SELECT pg_advisory_xact_lock({})").format(key)
        params = ((key >> 32) & mask, key & mask, 1)
    _acquire(conn, statement, what, notify,
             _HOLDERS + "AND l.locktype = 'advisory' AND l.classid::bigint = %s "
             "AND l.objid::bigint = %s AND l.objsubid = %s "
             "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
             params)


def lock_tables(conn: psycopg.Connection, tables: Sequence[str], mode: str,
                notify: Notify = to_stderr) -> None:
    """``LOCK TABLE tables IN mode MODE``, announcing the wait when other sessions hold
    conflicting locks. ``tables`` are qualified names (``wdb.pts``)."""
    if mode not in CONFLICTS:
        raise ValueError(f"unknown lock mode {mode!r}")
    statement = sql.SQL("LOCK TABLE {} IN {} MODE").format(
        sql.SQL(", ").join(sql.Identifier(*t.split(".")) for t in tables), sql.SQL(mode))
    _acquire(conn, statement, f"a lock on {', '.join(tables)}", notify,
             _HOLDERS + "AND l.locktype = 'relation' AND l.relation = ANY(%s::regclass[]) "
             "AND l.mode = ANY(%s)", (list(tables), list(CONFLICTS[mode])))


def holders(conn: psycopg.Connection, query: str, params: Sequence[Any]) -> list[LockHolder]:
    """The sessions a ``_HOLDERS`` query finds, oldest transaction first."""
    rows = conn.execute(query + " ORDER BY 3 NULLS LAST, 1", params).fetchall()
    return [LockHolder(*row) for row in rows]


_HOLDERS = ("SELECT DISTINCT a.pid, a.application_name, a.xact_start "
            "FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid) "
            "WHERE l.granted AND l.pid <> pg_backend_pid() ")


def _acquire(conn: psycopg.Connection, statement: sql.Composable, what: str, notify: Notify,
             query: str, params: Sequence[Any]) -> None:
    """Run the locking ``statement`` with a lock timeout of ``TRY_MS``; on timeout name the
    holders, then run it again without one (under the session's own ``lock_timeout``)."""
    before = conn.execute("SELECT current_setting('lock_timeout')").fetchone()[0]
    try:
        with conn.transaction():  # a savepoint: a timeout must not abort the transaction
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{TRY_MS}ms",))
            conn.execute(statement)
        return
    except psycopg.errors.LockNotAvailable:
        found = holders(conn, query, params)
        if found:
            notify(f"waiting for {'; '.join(h.describe() for h in found)}, which holds {what}")
    finally:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (before,))
    conn.execute(statement)
