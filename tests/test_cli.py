"""The ``twomass`` command line: exit statuses, one-line errors, summaries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from twomass import demo, pixeldemo
from twomass.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOMASS_")}
    return subprocess.run(
        [sys.executable, "-m", "twomass", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://me:s3cret@127.0.0.1:1/cat", "postgresql://me:***@127.0.0.1:1/cat"),
        ("mysql://me:s3cret@host/cat", "mysql://me:***@host/cat"),
    ],
)
def test_bad_database_url_exits_2_with_one_line(url: str, shown: str) -> None:
    result = run_cli("--db", url, "db", "check")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twomass: error: ")
    assert shown in lines[0] and "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_url_from_environment(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("TWOMASS_DATABASE_URL", "postgres://me:pw@127.0.0.1:1/cat")
    assert main(["db", "check"]) == 2
    assert "postgresql://me:***@127.0.0.1:1/cat" in capsys.readouterr().err


def test_db_init_then_check(empty_db_url: str, capsys) -> None:
    assert main(["--db", empty_db_url, "db", "check"]) == 1
    out = capsys.readouterr().out
    assert "run `twomass db init`" in out.splitlines()[-1]

    assert main(["--db", empty_db_url, "db", "init"]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith("db init: created the twomass schemas at revision")
    )
    assert main(["--db", empty_db_url, "db", "check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("db check: ok")
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 0
    assert "nothing to do" in capsys.readouterr().out.splitlines()[-1]


def test_demo_runs_the_whole_path(db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch,
                                  capsys) -> None:
    monkeypatch.setenv("TWOMASS_HOME", str(tmp_path))
    monkeypatch.setattr(demo, "REGION", ((150.0, 150.4), (20.0, 20.4)))
    assert main(["--db", db_url, "demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "healpix:         order 29 NESTED" in out
    ingest = next(line for line in lines if line.startswith("ingest: "))
    assert " loaded, 0 replaced, 0 unchanged)" in ingest and "(0 loaded" not in ingest
    assert any(line.startswith("release demo: ") for line in lines)
    assert any(line.startswith("cone: ") and "psc sources within 60 arcsec" in line
               for line in lines)
    assert any(line.startswith("  completeness (S/N > 10 in any band)") for line in lines)
    assert any(line.startswith("  reliability (S/N > 10 in any band)") for line in lines)
    assert lines[-1].startswith("demo: release demo published with ")
    assert "completeness" in lines[-1] and "reliability" in lines[-1]
    products = list((tmp_path / "demo").glob("*/truth.parquet"))
    assert len(products) == 1

    # A rerun reuses the products, skips the loaded nights and adds release demo_2.
    assert main(["--db", db_url, "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("(reused from an earlier run)" in line for line in lines)
    ingest = next(line for line in lines if line.startswith("ingest: "))
    assert "(0 loaded, 0 replaced, " in ingest
    assert lines[-1].startswith("demo: release demo_2 published with ")


def test_demo_pixels_goes_from_frames_to_a_published_catalog(
        db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("TWOMASS_HOME", str(tmp_path))
    monkeypatch.setattr(pixeldemo, "REGION", ((137.25, 137.40), (9.0, 9.12)))
    monkeypatch.setattr(pixeldemo, "CAL_FRAMES", 10)
    assert main(["--db", db_url, "demo", "--pixels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("pipeline: 3 scans, ") for line in lines)
    assert any(line.startswith("release demo: ") for line in lines)
    assert lines[-1].startswith("demo --pixels: release demo published with ")
    assert "completeness" in lines[-1] and "reliability" in lines[-1]
    # A rerun reuses the frames and products, skips the loaded night, adds demo_2.
    assert main(["--db", db_url, "demo", "--pixels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("pipeline: ") for line in lines)
    assert "(0 loaded, 0 replaced, " in next(line for line in lines
                                            if line.startswith("ingest: "))
    assert lines[-1].startswith("demo --pixels: release demo_2 published with ")


def test_commands_refuse_a_database_with_other_settings(db_url: str, capsys) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE twomass_meta.database SET healpix_scheme = 'RING'")
    assert main(["--db", db_url, "demo"]) == 2
    err = capsys.readouterr().err
    assert "order 29 RING" in err and "`twomass db init`" in err
    assert main(["--db", db_url, "db", "check"]) == 1
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT healpix_scheme FROM twomass_meta.database").fetchone() == (
            "RING",
        )


@pytest.mark.parametrize("under", ["/proc", "FILE"])
def test_simulate_into_an_impossible_directory_exits_2_with_one_line(
        under: str, tmp_path: Path) -> None:
    parent = Path(under)
    if under == "FILE":
        parent = tmp_path / "a-file"
        parent.write_text("not a directory\n")
    result = run_cli("simulate", str(parent / "x"), "--ra", "10", "10.1", "--dec", "0", "0.1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"twomass: error: {parent / 'x'}: cannot create the output directory: "
        + ("No such file or directory" if under == "/proc" else "Not a directory")]


# Stands still while importing the command modules' libraries, after saying so.
_SLOW_IMPORT = """
import sys, time
from importlib.abc import MetaPathFinder

class Slow(MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "twomass.cli.context":
            print("importing", flush=True)
            time.sleep(60)

sys.meta_path.insert(0, Slow())
from twomass.cli import main
sys.exit(main(["db", "check"]))
"""


def test_ctrl_c_while_importing_exits_130_with_one_line() -> None:
    child = subprocess.Popen([sys.executable, "-c", _SLOW_IMPORT], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        assert child.stdout.readline() == "importing\n"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130
    assert err == "twomass: interrupted; nothing was committed\n"
