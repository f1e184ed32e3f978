"""Night products follow the format contract exactly; runs are byte-for-byte repeatable."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from twomass.cli import main
from twomass.pipeline.sim.simulate import SimulationError, simulate
from twomass.schema.products import NIGHT_JSON_FIELDS, product_schema

# (the simulator writes the optional bright-star list too)
FILES = ("tiles.parquet", "scans.parquet", "pts.parquet", "ext.parquet", "bright_stars.parquet")


def test_every_file_has_exactly_the_product_schema(simulated) -> None:
    assert simulated.nights
    for night in simulated.nights:
        assert sorted(p.name for p in night.iterdir()) == sorted([*FILES, "night.json"])
        for name in FILES:
            schema = pq.read_schema(night / name).remove_metadata()
            assert schema.equals(product_schema(name)), (night, name)


def test_night_json_names_the_directory(simulated) -> None:
    for night in simulated.nights:
        doc = json.loads((night / "night.json").read_text())
        assert tuple(doc) == NIGHT_JSON_FIELDS
        assert night.name == f"{doc['date']}{doc['hemis']}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d[ns]", night.name)
        assert doc["pipeline"] == "twomass-simulate"


def test_keys_are_consistent(simulated) -> None:
    scans, pts = simulated.scans, simulated.pts
    assert not scans.duplicated(["hemis", "date", "scan"]).any()
    assert not pts.duplicated(["hemis", "date", "scan", "id"]).any()
    known = set(zip(scans.hemis, scans.date, scans.scan, strict=True))
    assert set(zip(pts.hemis, pts.date, pts.scan, strict=True)) <= known
    for night in simulated.nights:
        tiles = pq.read_table(night / "tiles.parquet").column("tile").to_pylist()
        scan_tiles = pq.read_table(night / "scans.parquet").column("tile").to_pylist()
        assert sorted(tiles) == sorted(set(scan_tiles))
    s = simulated.summary
    assert (s.pts_rows, s.ext_rows, s.truth_rows) == (len(pts), len(simulated.ext),
                                                      len(simulated.truth))


def _digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_same_arguments_and_seed_give_identical_bytes(tmp_path: Path) -> None:
    region = ((10.0, 10.8), (-5.0, -4.2))
    simulate(tmp_path / "a", *region, seed=3)
    simulate(tmp_path / "b", *region, seed=3)
    simulate(tmp_path / "c", *region, seed=4)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b and len(a) > 5
    assert a["truth.parquet"] != c["truth.parquet"]


@pytest.mark.parametrize(("ra", "dec", "message"), [
    ((10.0, 11.0), (-91.0, 0.0), "Dec bounds must be within [-90, 90]"),
    ((10.0, 11.0), (0.0, 90.5), "Dec bounds must be within [-90, 90]"),
    ((11.0, 11.0), (0.0, 1.0), "RA range is empty"),
    ((360.0, 0.0), (0.0, 1.0), "RA range is empty"),
    ((10.0, 11.0), (1.0, 1.0), "Dec range is empty"),
    ((-1.0, 11.0), (0.0, 1.0), "RA bounds must be within [0, 360]"),
])
def test_bad_region_is_a_clear_error_and_writes_nothing(tmp_path, ra, dec, message) -> None:
    with pytest.raises(SimulationError, match=re.escape(message)):
        simulate(tmp_path / "out", ra, dec)
    assert not (tmp_path / "out").exists()


def test_non_empty_output_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(SimulationError, match="not empty"):
        simulate(tmp_path, (10.0, 10.2), (0.0, 0.2))
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


def test_cli_simulates_and_prints_a_summary(tmp_path: Path, capsys) -> None:
    out = tmp_path / "night-products"
    assert main(["simulate", str(out), "--ra", "30", "30.4", "--dec", "-10", "-9.6",
                 "--seed", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simulate: ")
    assert (out / "truth.parquet").exists()


def test_cli_bad_region_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    status = main(["simulate", str(tmp_path / "o"), "--ra", "5", "5", "--dec", "0", "1"])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.strip().startswith("twomass: error: RA range is empty")
    assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_default_run_writes_only_scans_the_wdb_would_load(tmp_path: Path) -> None:
    simulate(tmp_path / "o", (150.0, 150.6), (20.0, 20.6), seed=14)
    for night in (tmp_path / "o").iterdir():
        if night.is_dir():
            assert min(pq.read_table(night / "scans.parquet").column("qual").to_pylist()) >= 4


def test_products_pass_the_ingest_validation(simulated) -> None:
    from twomass.ingest.products import read_night
    from twomass.ingest.validate import W01, validate

    for night in simulated.nights:
        found = validate(read_night(night), on_warning="ignore")
        # Only scan S/N of stars brighter than ~J 4 (W01) and Q <= 3 scans (W03) warn.
        assert {w.category.code for w in found} <= {W01.code, "W03"}
