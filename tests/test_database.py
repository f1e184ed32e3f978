"""Database URLs, connections and the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from twomass.core import database
from twomass.core.errors import DatabaseUnavailable
from twomass.core.settings import Settings


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
            "from twomass import database; from twomass.core.settings import Settings\n"
            "with database.connection(database.resolve_url(Settings())) as c:\n"
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
