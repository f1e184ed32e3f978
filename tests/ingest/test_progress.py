"""Runs of several nights: a line per night as it commits, and true messages when one
stops; a directory of nights (as the simulator writes it); page checksums end to end."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from twomass.cli import main
from twomass.ingest import load
from twomass.ingest.load import ingest_nights
from twomass.ingest.validate import Limits
from twomass.pipeline.sim import photometry, sky
from twomass.pipeline.sim.simulate import simulate


def _three_nights(make_night):
    return [make_night(date=dt.date(2000, 6, day), seed=day) for day in (1, 2, 3)]


def _loaded(snapshot, db_url) -> int:
    return snapshot(db_url)["night"]


def test_each_line_is_printed_as_its_night_commits(db_url, make_night, capsys, monkeypatch):
    nights = _three_nights(make_night)
    seen_before_reading: list[str] = []
    read_night = load.read_night

    def reading(directory):
        seen_before_reading.append(capsys.readouterr().out)
        return read_night(directory)

    monkeypatch.setattr(load, "read_night", reading)
    assert main(["--db", db_url, "ingest", *(str(n.directory) for n in nights)]) == 0
    seen_before_reading.append(capsys.readouterr().out)
    assert [s.count("\n") for s in seen_before_reading] == [0, 1, 1, 2]
    assert seen_before_reading[1].startswith("2000-06-01n: loaded ")
    assert seen_before_reading[2].startswith("2000-06-02n: loaded ")
    assert seen_before_reading[3].splitlines()[-1].startswith("ingest: 3 nights (3 loaded")


def test_a_failing_later_night_says_which_nights_were_committed(db_url, make_night, capsys,
                                                                  snapshot):
    nights = _three_nights(make_night)
    (nights[1].directory / "pts.parquet").unlink()
    assert main(["--db", db_url, "ingest", *(str(n.directory) for n in nights)]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("2000-06-01n: loaded ")
    assert len(captured.out.splitlines()) == 1
    assert captured.err.splitlines()[-1] == (  # after the first night's progress bar
        f"twomass: error: {nights[1].directory / 'pts.parquet'}: file is missing (a night "
        "product directory holds night.json, tiles.parquet, scans.parquet, pts.parquet, "
        "ext.parquet) (1 of 3 nights committed, their lines above; not committed: "
        f"{nights[1].directory} and 1 later)")
    assert _loaded(snapshot, db_url) == 1


def test_ctrl_c_during_a_later_night_says_which_nights_were_committed(
        db_url, make_night, capsys, snapshot, monkeypatch):
    nights = _three_nights(make_night)[:2]
    write_log = load.provenance.write_log
    calls = []

    def interrupted_on_the_second_night(*args, **kw):
        calls.append(1)
        if len(calls) == 2:  # in the second night's transaction, after its COPYs
            raise KeyboardInterrupt
        write_log(*args, **kw)

    monkeypatch.setattr(load.provenance, "write_log", interrupted_on_the_second_night)
    assert main(["--db", db_url, "ingest", *(str(n.directory) for n in nights)]) == 130
    captured = capsys.readouterr()
    assert captured.out.startswith("2000-06-01n: loaded ")
    assert captured.err.splitlines()[-1] == (
        "twomass: interrupted; 1 of 2 nights committed, their lines above; not committed: "
        f"{nights[1].directory}")
    state = snapshot(db_url)
    assert (state["night"], state["scan"], state["pts"], state["ingest_log"]) == (1, 3, 200, 1)


def test_a_real_ctrl_c_in_the_second_night(db_url, make_night, snapshot):
    first = make_night(date=dt.date(2000, 6, 1))
    second = make_night(date=dt.date(2000, 6, 2), n_pts=150_000, n_scans=6)
    script = Path(sys.executable).with_name("twomass")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "twomass"]
    app = "twomass-ctrl-c-test"
    child = subprocess.Popen([*command, "--db", db_url, "ingest", str(first.directory),
                              str(second.directory)], env=os.environ | {"PGAPPNAME": app},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    with psycopg.connect(db_url, autocommit=True) as conn:
        while not conn.execute(  # the first night committed, the second one copying
                "SELECT (SELECT count(*) FROM wdb.night) = 1 AND EXISTS (SELECT 1 FROM "
                "pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND application_name IN (%s, 'twomass ingest 2000-06-02n') AND "
                "query LIKE 'COPY \"wdb\".\"pts\"%%')", (app,)).fetchone()[0]:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert out.startswith("2000-06-01n: loaded ")
    assert err.splitlines()[-1] == ("twomass: interrupted; 1 of 2 nights committed, their "
                                    f"lines above; not committed: {second.directory}")
    assert "Traceback" not in err
    state = snapshot(db_url)
    assert (state["night"], state["pts"]) == (1, 200)


def test_ctrl_c_during_a_commit_waits_for_the_night_to_be_reported(db, db_url, make_night,
                                                                    snapshot):
    nights = _three_nights(make_night)
    reported = []

    def report(result):
        signal.raise_signal(signal.SIGINT)  # as if Ctrl-C came with the COMMIT
        reported.append(result.night)

    with pytest.raises(KeyboardInterrupt):
        ingest_nights(db, [n.directory for n in nights], progress=False, on_night=report)
    assert reported == ["2000-06-01n"]
    assert _loaded(snapshot, db_url) == 1


def test_a_directory_of_nights_loads_them_in_name_order(db_url, make_night, tmp_path, capsys):
    out = tmp_path / "out"
    for day in (3, 1, 2):
        make_night(f"out/2000-06-0{day}n", date=dt.date(2000, 6, day), seed=day)
    make_night("out/2000-06-04n.partial", date=dt.date(2000, 6, 4))
    (out / "truth.parquet").write_bytes(b"")
    assert main(["--db", db_url, "ingest", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:12] for line in lines[:3]] == ["2000-06-01n:", "2000-06-02n:", "2000-06-03n:"]
    assert lines[3].startswith("ingest: 3 nights (3 loaded, 0 replaced, 0 unchanged)")


def test_a_night_without_page_checksums_still_loads(db_url, make_night, capsys):
    night = make_night()
    for path in night.directory.glob("*.parquet"):
        pq.write_table(pq.read_table(path), path, write_page_checksum=False)
    assert main(["--db", db_url, "ingest", "--on-warning", "error", str(night.directory)]) == 0
    assert capsys.readouterr().out.startswith("2000-06-01n: loaded ")


def test_the_simulator_s_nights_pass_on_warning_error_and_carry_checksums(db_url, tmp_path,
                                                                           capsys):
    out = tmp_path / "sim"
    simulate(out, (150.0, 150.6), (20.0, 20.6), seed=5)
    damaged = tmp_path / "damaged"
    first = sorted(p for p in out.iterdir() if p.is_dir())[0]
    shutil.copytree(first, damaged)
    assert main(["--db", db_url, "ingest", "--on-warning", "error", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    assert re.match(r"ingest: 2 nights \(2 loaded", captured.out.splitlines()[-1])

    # Zeroed bytes inside a column's pages: the writer's page CRCs catch them.
    path = damaged / "pts.parquet"
    meta = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(meta.column(i) for i in range(meta.num_columns)
                 if meta.column(i).path_in_schema == "j_m_stdap")
    blob = bytearray(path.read_bytes())
    middle = chunk.data_page_offset + chunk.total_compressed_size // 2
    blob[middle - 32:middle + 32] = bytes(64)
    path.write_bytes(bytes(blob))
    assert main(["--db", db_url, "ingest", "--replace", str(damaged)]) == 2
    assert "pts.parquet: corrupted: a page's checksum does not match its data" in (
        capsys.readouterr().err)


def test_the_s_n_bound_lies_above_the_brightest_simulated_star():
    """W01 flags S/N no 2MASS measurement reaches: above the simulator's brightest star
    (Ks = -1, J a little brighter for the bluest colours) in its deepest scans."""
    deepest_msnr10 = 17.5
    assert photometry.snr_of(sky.BRIGHT_KS - 1.0, deepest_msnr10) < Limits().max_snr
