"""``twomass ingest``: summary lines, warnings, and one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from twomass.cli import main


def _console_script() -> list[str]:
    """The ``twomass`` command installed with the running interpreter, or ``python -m``."""
    script = Path(sys.executable).with_name("twomass")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "twomass"]


def test_ingest_prints_nights_and_summary(db_url, make_night, capsys):
    night = make_night()
    assert main(["--db", db_url, "ingest", str(night.directory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2000-06-01n: loaded 3 tile, 3 scan, 10 ext, 200 pts from ")
    assert out[-1].startswith("ingest: 1 nights (1 loaded, 0 replaced, 0 unchanged), "
                              "216 rows in ")
    assert out[-1].endswith(" rows/s)")
    assert main(["--db", db_url, "ingest", str(night.directory)]) == 0
    assert "unchanged, identical files already ingested" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(db_url, make_night, capsys, edit_parquet, set_value):
    night = make_night()
    edit_parquet(night.directory / "pts.parquet", lambda t: set_value(t, "dec", 4, 91.0))
    assert main(["--db", db_url, "ingest", str(night.directory)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"twomass: error: {night.directory / 'pts.parquet'} row 4 column dec: "
                   "declination 91.0 outside [-90, 90]"]


def test_replace_flag_and_refusal(db_url, make_night, capsys):
    old, new = make_night(seed=1), make_night(seed=2)
    assert main(["--db", db_url, "ingest", str(old.directory)]) == 0
    assert main(["--db", db_url, "ingest", str(new.directory)]) == 2
    assert "use --replace" in capsys.readouterr().err
    assert main(["--db", db_url, "ingest", "--replace", str(new.directory)]) == 0
    assert "2000-06-01n: replaced" in capsys.readouterr().out


def test_on_warning_modes(db_url, make_night, capsys, edit_parquet, set_value):
    night = make_night()
    edit_parquet(night.directory / "scans.parquet", lambda t: set_value(t, "qual", 1, 2))
    assert main(["--db", db_url, "ingest", "--on-warning", "error", str(night.directory)]) == 2
    err = capsys.readouterr().err
    assert "W03: scans.parquet row 1 column qual: QA score 2 below 4" in err
    assert "--on-warning error" in err
    assert main(["--db", db_url, "ingest", str(night.directory)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("twomass: warning: ") == 1
    assert "W03" in captured.err
    other = make_night(seed=9, date=night.date.replace(day=9))
    edit_parquet(other.directory / "scans.parquet", lambda t: set_value(t, "qual", 1, 2))
    assert main(["--db", db_url, "ingest", "--on-warning", "ignore",
                 str(other.directory)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_console_script_missing_directory(db_url, tmp_path):
    run = subprocess.run([*_console_script(), "--db", db_url, "ingest", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"twomass: error: {tmp_path / 'nope'}: not a directory"]
    assert "Traceback" not in run.stderr
