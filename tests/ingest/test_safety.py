"""Crash safety (SIGKILL mid-ingest) and concurrent ingests."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from twomass.core.database import Database
from twomass.ingest import provenance
from twomass.ingest.load import ingest_night

APP = "twomass-ingest-crash-test"
CHILD = (
    "import sys\n"
    "from twomass.core.database import Database\n"
    "from twomass.ingest.load import ingest_night\n"
    "ingest_night(Database(sys.argv[1]), sys.argv[2], progress=False)\n"
)


def _backend_state(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            # An ingest names its session after the night once its transaction starts.
            "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND (application_name = %s OR application_name LIKE 'twomass ingest %%')", (APP,)
        ).fetchall()


def _start(url: str, directory) -> subprocess.Popen:
    env = os.environ | {"PGAPPNAME": APP}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(directory)],
        env=env,
        cwd=str(directory),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_and_wait(url: str, child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while _backend_state(url):  # the server notices the closed connection and rolls back
        assert time.monotonic() < deadline, "backend of the killed ingest did not end"
        time.sleep(0.05)


def test_sigkill_during_copy_leaves_no_partial_night(db, db_url, make_night, snapshot):
    ingest_night(db, make_night(date=dt.date(2000, 5, 1)).directory, progress=False)
    before = snapshot(db_url)
    night = make_night(n_pts=150_000, n_ext=100, n_scans=6)
    child = _start(db_url, night.directory)
    deadline = time.monotonic() + 60
    while not any(
        state == "active" and query.startswith('COPY "wdb"."pts"')
        for state, query in _backend_state(db_url)
    ):
        assert child.poll() is None, "ingest ended before its COPY into wdb.pts was seen"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _kill_and_wait(db_url, child)
    assert snapshot(db_url) == before
    # Nothing is left locked or half-written: the same night loads normally afterwards.
    assert ingest_night(db, night.directory, progress=False).status == "loaded"
    assert snapshot(db_url)["pts"] == before["pts"] + 150_000


@pytest.mark.parametrize("delay_s", [0.4, 1.0, 1.6, 2.4])
def test_sigkill_at_any_moment_leaves_nothing_or_everything(delay_s, db_url, make_night, snapshot):
    before = snapshot(db_url)
    night = make_night(n_pts=60_000, n_ext=100, n_scans=6)
    child = _start(db_url, night.directory)
    time.sleep(delay_s)
    _kill_and_wait(db_url, child)
    after = snapshot(db_url)
    if after != before:  # the commit happened before the kill: the whole night is there
        assert (after["night"], after["scan"], after["pts"], after["ext"], after["ingest_log"]) == (
            1,
            6,
            60_000,
            100,
            1,
        )


def _run_all(url: str, targets) -> tuple[list, list]:
    results, errors = [], []
    barrier = threading.Barrier(len(targets))

    def run(directory) -> None:
        barrier.wait()
        try:
            with Database(url) as db:  # one pool per user, as separate processes would
                results.append(ingest_night(db, directory, progress=False))
        except Exception as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_two_different_nights_at_once_both_land(db_url, make_night, snapshot):
    a = make_night(n_pts=20_000, date=dt.date(2000, 6, 1))
    b = make_night(n_pts=30_000, date=dt.date(2000, 6, 2), seed=3)
    results, errors = _run_all(db_url, [a.directory, b.directory])
    assert errors == []
    assert sorted(r.status for r in results) == ["loaded", "loaded"]
    state = snapshot(db_url)
    assert (state["night"], state["pts"], state["ingest_log"], state["tile"]) == (2, 50_000, 2, 3)


def test_same_night_twice_at_once_loads_once(db_url, make_night, snapshot):
    a = make_night(n_pts=30_000)
    twin = make_night(n_pts=30_000)  # identical files, another directory
    results, errors = _run_all(db_url, [a.directory, twin.directory, a.directory])
    assert errors == []
    assert sorted(r.status for r in results) == ["loaded", "unchanged", "unchanged"]
    state = snapshot(db_url)
    assert (state["night"], state["scan"], state["pts"], state["ingest_log"]) == (1, 3, 30_000, 1)


def test_ingest_of_a_night_being_ingested_waits_for_it(db, db_url, make_night, capsys):
    night = make_night()
    key = provenance.night_lock_key("n", night.date)
    results = []
    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (provenance.LOCK_NAMESPACE, key))
        worker = threading.Thread(
            target=lambda: results.append(ingest_night(db, night.directory))
        )
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive() and results == []
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", (provenance.LOCK_NAMESPACE, key))
        worker.join(timeout=60)
    assert [r.status for r in results] == ["loaded"]
    assert (
        "2000-06-01n: another session is ingesting this night; waiting for it to finish"
        in capsys.readouterr().err
    )


def test_ingest_behind_a_release_build_names_the_build(db, db_url, make_night, capsys):
    night = make_night(date=dt.date(2000, 6, 2))
    with psycopg.connect(db_url) as build:  # what a build holds while it reads wdb
        build.execute("SET application_name = 'twomass release build dr9'")
        build.execute("LOCK TABLE wdb.scan, wdb.pts, wdb.ext IN SHARE MODE")
        results = []
        worker = threading.Thread(
            target=lambda: results.append(ingest_night(db, night.directory)))
        worker.start()
        time.sleep(2.0)
        assert worker.is_alive() and results == []
        build.rollback()
        worker.join(timeout=60)
    assert [r.status for r in results] == ["loaded"]
    err = capsys.readouterr().err
    assert "waiting for twomass release build dr9 (pid" in err and "wdb.scan" in err
