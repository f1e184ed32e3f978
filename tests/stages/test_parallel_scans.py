"""Survey scans in several processes give the same night products, byte for byte."""

from __future__ import annotations

from pathlib import Path

from twomass.pipeline.stages import rawio, run
from twomass.pipeline.stages.observe import observe

#: Three survey scans of 12 frames on the second night of the region (b = +6 deg).
REGION = ((104.99, 105.30), (9.0, 9.3))
NIGHT = "1999-12-05s"


def test_products_do_not_depend_on_the_number_of_processes(tmp_path: Path) -> None:
    observe(tmp_path / "raw", *REGION, seed=1, max_frames=12, cal_frames=10,
            cal_margin_sets=0)  # one calibration set: the survey scans are the test
    night = tmp_path / "raw" / NIGHT
    _, scans = rawio.read_night(night)
    assert sum(s.kind == "survey" for s in scans) >= 2
    serial = run.run_pipeline([night], tmp_path / "one", jobs=1)
    parallel = run.run_pipeline([night], tmp_path / "two", jobs=2)
    assert (serial.scans, serial.pts_rows) == (parallel.scans, parallel.pts_rows)
    assert serial.pts_rows > 0 and serial.stage_seconds.keys() == parallel.stage_seconds.keys()
    one, two = tmp_path / "one" / NIGHT, tmp_path / "two" / NIGHT
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert {p.relative_to(two) for p in two.rglob("*") if p.is_file()} == set(files)
    assert len(files) > 10  # night.json, the parquet files, the Atlas Images
    different = [f for f in files if (one / f).read_bytes() != (two / f).read_bytes()]
    assert different == []


def test_a_number_of_processes_below_one_is_refused(tmp_path: Path, capsys) -> None:
    from twomass.cli import main

    assert main(["pipeline", str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
