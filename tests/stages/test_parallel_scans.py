"""Nights whose scans run as tasks on a Dask cluster give the same night products, byte
for byte, as one scan after another in this process."""

from __future__ import annotations

from pathlib import Path

from twomass.pipeline.stages import rawio, run


def test_products_do_not_depend_on_the_number_of_workers(two_nights, tmp_path: Path) -> None:
    raw, nights = two_nights.raw, two_nights.nights
    survey = [sum(s.kind == "survey" for s in rawio.read_night(raw / n)[1]) for n in nights]
    assert len(survey) == 2 and survey[1] >= 2  # more scans than workers in one night
    parallel = run.run_pipeline([raw], tmp_path / "two", jobs=2)  # both nights' scans at once
    assert (parallel.nights, parallel.skipped) == (2, 0)
    assert parallel.pts_rows > 0 and {"calibrate", "coadd"} <= parallel.stage_seconds.keys()
    one, two = two_nights.files(two_nights.serial), two_nights.files(tmp_path / "two")
    assert sorted(two) == sorted(one)
    assert len(one) > 20  # per night: night.json, manifest, the parquet files, Atlas Images
    assert [f for f in one if one[f] != two[f]] == []


def test_a_number_of_processes_below_one_is_refused(tmp_path: Path, capsys) -> None:
    from twomass.cli import main

    assert main(["pipeline", str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_scheduler_that_does_not_answer_is_reported_on_one_line(two_nights, tmp_path,
                                                                  capsys) -> None:
    from twomass.cli import main

    night = two_nights.raw / two_nights.nights[0]
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens
    assert main(["pipeline", str(night), "--out", str(tmp_path / "out"), "--scheduler",
                 address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--scheduler {address}: no Dask scheduler there" in err[0]
    assert not (tmp_path / "out" / night.name).exists()
