"""A pipeline run killed part way and run again keeps the nights it had finished, redoes
the half-written one, and ends with the bytes of an uninterrupted run; a night directory
made from other inputs is refused, or redone when forced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from twomass.cli import main
from twomass.pipeline.stages import restart
from twomass.pipeline.stages.rawio import RawInputError
from twomass.pipeline.stages.run import run_pipeline

TIMEOUT_SECONDS = 600


def _kill_when(proc: subprocess.Popen, ready) -> bool:
    """SIGKILL the process group of ``proc`` as soon as ``ready()``; False if the run
    ended first."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    return False


def _group_gone(pgid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_killed_dask_run_restarted_gives_the_uninterrupted_bytes(two_nights, tmp_path,
                                                                   capsys) -> None:
    first, second = two_nights.nights
    out = tmp_path / "products"
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twomass", "pipeline", str(two_nights.raw), "--out",
             str(out), "--jobs", "2"], start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=stderr, cwd=tmp_path)  # not the checkout, whose twomass/ is not the package
        killed = _kill_when(proc, lambda: (out / first / restart.MANIFEST).exists()
                            and (out / f"{second}{restart.PARTIAL}").exists())
    assert killed, log.read_text()
    assert _group_gone(proc.pid), "Dask worker processes outlived the killed run"
    if (out / second).exists():  # the second night was renamed before the signal landed
        pytest.fail("the second night finished before the kill: the test needs a bigger night")
    kept_stamp = (out / first / restart.MANIFEST).stat().st_mtime_ns

    assert main(["pipeline", str(two_nights.raw), "--out", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr()
    assert "pipeline: 1 nights (1 already done, kept), 3 scans" in printed.out
    assert "distributed" not in printed.err and "WARNING" not in printed.err
    assert (out / first / restart.MANIFEST).stat().st_mtime_ns == kept_stamp  # not rewritten
    assert not (out / f"{second}{restart.PARTIAL}").exists()
    done, serial = two_nights.files(out), two_nights.files(two_nights.serial)
    assert sorted(done) == sorted(serial)
    assert [f for f in serial if done[f] != serial[f]] == []


def test_a_night_made_from_other_inputs_is_refused_unless_forced(two_nights, tmp_path) -> None:
    first, second = two_nights.nights
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / first).symlink_to(two_nights.raw / first)
    out = tmp_path / "products"
    (out / first).mkdir(parents=True)
    (out / first / restart.MANIFEST).write_text(json.dumps({"night": first, "inputs": []}))
    (out / f"{second}{restart.PARTIAL}").mkdir()  # left by a killed run: not in the way
    with pytest.raises(RawInputError) as info:
        run_pipeline([raw / first], out)
    assert f"{out / first}: holds products of other inputs" in str(info.value)
    assert "--force" in str(info.value)
    assert (out / first / restart.MANIFEST).exists()  # nothing touched

    manifest = restart.input_manifest(two_nights.raw / first, "twomass-2mapps")
    assert manifest == restart.read_manifest(two_nights.serial / first)
    todo, kept = restart.plan_nights([(first, manifest)], two_nights.serial, force=False)
    assert (todo, kept) == ([], [first])
    todo, kept = restart.plan_nights([(first, manifest)], out, force=True)
    assert [p.final for p in todo] == [out / first] and kept == []
    restart.start(todo[0])  # the old night is removed, an empty partial one started
    assert not (out / first).exists() and (out / f"{first}{restart.PARTIAL}" / "atlas").is_dir()


def test_an_input_cube_touched_after_the_run_makes_the_night_differ(two_nights) -> None:
    first = two_nights.nights[0]
    night = two_nights.raw / first
    before = restart.input_manifest(night, "twomass-2mapps")
    cube = sorted((night / "raw").glob("*.fits"))[0]
    stat = cube.stat()
    os.utime(cube, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:
        after = restart.input_manifest(night, "twomass-2mapps")
    finally:
        os.utime(cube, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = [a["file"] for a, b in zip(before["inputs"], after["inputs"], strict=True)
               if a != b]
    assert changed == [cube.relative_to(night).as_posix()]
    assert all("sim/" not in e["file"] for e in before["inputs"])
    assert {"night.json", "ref/standards.parquet"} <= {e["file"] for e in before["inputs"]}
