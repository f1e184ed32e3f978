"""Database URLs, connections and the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import psycopg
import pytest

from twomass.core import database
from twomass.core.database import Database
from twomass.core.errors import DatabaseNotReady, DatabaseUnavailable
from twomass.core.settings import Settings
from twomass.migrations import revision


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://me:s3cret@db.example:5432/cat", "postgresql://me:***@db.example:5432/cat"),
        ("postgres://me@db/cat", "postgres://me@db/cat"),
        ("postgresql:///cat?host=/tmp&password=s3cret", "postgresql:///cat?host=/tmp&password=***"),
    ],
)
def test_mask_url_hides_passwords(url: str, masked: str) -> None:
    assert database.mask_url(url) == masked


def test_postgres_scheme_is_accepted(db_url: str) -> None:
    legacy = "postgres://" + db_url.removeprefix("postgresql://")
    assert database.normalize_url(legacy) == db_url
    with database.connection(legacy) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("url", ["mysql://me@host/db", "not a url", "postgresql://[::1/db"])
def test_malformed_url_is_rejected_with_masked_url(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="malformed database URL"):
        database.normalize_url(url)


def test_unreachable_server_gives_one_line_error_without_password() -> None:
    url = "postgresql://me:s3cret@127.0.0.1:1/cat"
    with pytest.raises(DatabaseUnavailable) as info:
        database.connect(url)
    message = str(info.value)
    assert "s3cret" not in message
    assert "postgresql://me:***@127.0.0.1:1/cat" in message
    assert "\n" not in message


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWOMASS_DATABASE_URL", "postgres://u@h/d")
    monkeypatch.setenv("TWOMASS_HOME", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "postgres://u@h/d"
    assert settings.embedded_pgdata == tmp_path / "pgdata"
    assert database.resolve_url(settings) == "postgresql://u@h/d"


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOMASS_")}
    env["TWOMASS_HOME"] = str(home)
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=120, cwd=home.parent
    )


def test_embedded_server_starts_on_demand_and_is_reused_by_later_commands(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    start_time = [
        sys.executable,
        "-c",
        (
            "from twomass.core.database import Database\n"
            "from twomass.core.settings import Settings\n"
            "with Database.from_settings(Settings()) as db, db.connection() as c:\n"
            "    print(c.execute('SELECT pg_postmaster_start_time(), current_database()')"
            ".fetchone())"
        ),
    ]
    try:
        first = _run(start_time, home)
        assert first.returncode == 0, first.stderr
        assert "'twomass')" in first.stdout
        demo = _run([sys.executable, "-m", "twomass", "demo"], home)
        assert demo.returncode == 0, demo.stderr
        assert demo.stdout.splitlines()[-1].startswith("demo: ")
        check = _run([sys.executable, "-m", "twomass", "db", "check"], home)
        assert check.returncode == 0, check.stdout + check.stderr
        assert _run(start_time, home).stdout == first.stdout  # the same server, not a new one
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
        pgserver.get_server(home / "pgdata", cleanup_mode="delete").cleanup()


def test_database_pools_connections_and_resets_sessions(db_url: str) -> None:
    with Database(db_url, max_size=2) as db:
        with db.connection() as conn:
            first_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            conn.execute("SET work_mem = '77MB'")
        with db.connection() as conn:  # the same server session, its settings reset
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] == first_pid
            assert conn.execute("SHOW work_mem").fetchone()[0] != "77MB"
        with db.connection(autocommit=True) as conn:
            assert conn.autocommit
        with db.connection() as conn:
            assert not conn.autocommit


def test_revision_is_checked_once_per_database(db_url: str) -> None:
    with Database(db_url) as db:
        assert revision.require_current(db).problem is None
        with psycopg.connect(db_url, autocommit=True) as other:
            other.execute("UPDATE twomass_meta.database SET healpix_order = 12")
        assert revision.require_current(db) is db.status  # not read again
    with Database(db_url) as fresh, pytest.raises(DatabaseNotReady, match="order 12"):
        revision.require_current(fresh)


def test_an_unreachable_database_is_one_line() -> None:
    with Database("postgresql://nobody@127.0.0.1:1/none") as db:
        with pytest.raises(DatabaseUnavailable, match="cannot connect to") as failure:
            with db.connection():
                pass
    assert "\n" not in str(failure.value)
