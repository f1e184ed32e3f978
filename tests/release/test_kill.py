"""A build whose client is killed stops on the server within seconds and frees its locks;
whoever waits for it meanwhile is told whom it waits for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from twomass import release
from twomass.core import locks
from twomass.core.database import Database
from twomass.release.builder import WDB_TABLES
from twomass.release.registry import _RELEASE_LOCK

# The build of the child process: its second step runs for a minute, as the big rules do
# on a full working database, so that the kill lands inside one long statement, which
# only the server's check of the client's socket can stop.
CHILD = """
import sys
from twomass.core.database import Database
from twomass.release import builder

steps = builder.steps()
builder.steps = lambda: steps[:1] + [("15_long.sql", "SELECT pg_sleep(60)")] + steps[1:]
with Database(sys.argv[1]) as db:
    builder.build(db, "killed", progress=False)
"""


def _poll(found: Callable[[], Any], seconds: float) -> Any:
    """The first true value of ``found()`` within ``seconds``; fails the test otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(0.1)
    pytest.fail(f"nothing found within {seconds} s")


def _backend(url: str, application_name: str, sleeping: bool = False) -> int | None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database() AND (NOT %s OR wait_event = 'PgSleep')",
            (application_name, sleeping)).fetchone()
    return row[0] if row else None


def test_a_killed_build_stops_and_those_waiting_are_told(
        db: Database, capfd: pytest.CaptureFixture[str]) -> None:
    # Started outside the checkout, so that it imports the installed package.
    child = subprocess.Popen([sys.executable, "-c", CHILD, db.url], stderr=subprocess.PIPE,
                             cwd="/")
    try:
        def sleeping() -> int | None:
            assert child.poll() is None, child.stderr.read().decode()
            return _backend(db.url, "twomass release build killed", sleeping=True)

        pid = _poll(sleeping, 120)
        # An ingest-like writer and a second build both wait for it, and say so.
        waits: list[str] = []
        with psycopg.connect(db.url) as writer:
            locking = threading.Thread(target=locks.lock_tables,
                                       args=(writer, WDB_TABLES, "ROW EXCLUSIVE", waits.append))
            locking.start()
            built: list[release.ReleaseRecord] = []
            second = threading.Thread(
                target=lambda: built.append(release.build(db, "second", progress=False)))
            second.start()
            err = _poll(lambda: (text := capfd.readouterr().err) and "waiting" in text and text,
                        30)
            holder = f"twomass release build killed (pid {pid}, started at "
            assert err.startswith(f"twomass: waiting for {holder}")
            assert err.rstrip().endswith(", which holds the release lock")
            _poll(lambda: waits, 30)
            assert waits[0].startswith(f"waiting for {holder}")
            assert waits[0].endswith("which holds a lock on wdb.scan, wdb.pts, wdb.ext, "
                                     "wdb.bright_star")

            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
            killed = time.monotonic()
            _poll(lambda: _backend(db.url, "twomass release build killed") is None, 15)
            assert time.monotonic() - killed < locks.CLIENT_CHECK_MS / 1000 + 5
            locking.join(timeout=10)
            assert not locking.is_alive()  # the writer has its lock
            writer.rollback()
        second.join(timeout=120)
        assert [r.name for r in built] == ["second"] and built[0].is_published
    finally:
        child.kill()
        child.communicate()
    with psycopg.connect(db.url) as conn:
        conn.execute("LOCK TABLE wdb.scan, wdb.pts, wdb.ext IN ROW EXCLUSIVE MODE NOWAIT")
        assert conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_RELEASE_LOCK,)
                            ).fetchone() == (True,)
        assert conn.execute("SELECT to_regnamespace('rel_killed')").fetchone() == (None,)
    assert [r.name for r in release.list_releases(db)] == ["second"]


def test_a_free_lock_is_taken_without_a_word(db: Database) -> None:
    said: list[str] = []
    with psycopg.connect(db.url) as conn:
        locks.lock_tables(conn, WDB_TABLES, "SHARE", said.append)
        locks.advisory_xact_lock(conn, _RELEASE_LOCK, "the release lock", said.append)
        # The lock timeout of the try is the session's own again.
        assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)
    assert said == []


def test_a_held_advisory_lock_names_its_holder(db: Database) -> None:
    said: list[str] = []
    with psycopg.connect(db.url) as holder, psycopg.connect(db.url) as waiter:
        locks.name_session(holder, "ingest 2000-06-01n")
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (0x324D, -7))
        pid = holder.info.backend_pid
        waiting = threading.Thread(target=locks.advisory_xact_lock,
                                   args=(waiter, (0x324D, -7), "the night's lock", said.append))
        waiting.start()
        _poll(lambda: said, 30)
        assert said[0].startswith(f"waiting for twomass ingest 2000-06-01n (pid {pid}, started at ")
        assert said[0].endswith(", which holds the night's lock")
        assert waiting.is_alive()
        holder.commit()
        waiting.join(timeout=30)
        assert not waiting.is_alive()
