"""The night report against the night's product files and the release built from it."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.cli import main

from .helpers import Region, union_area_deg2

BANDS = "jhk"
REQUIRED = {"j": 15.8, "h": 15.1, "k": 14.3}


def test_numbers_match_the_product_files(region: Region) -> None:
    doc = region.night_json
    night = region.nights[0]
    scans = pq.read_table(night / "scans.parquet").to_pandas().sort_values("scan")
    pts = pq.read_table(night / "pts.parquet", columns=["scan"]).to_pandas()
    summary = doc["summary"]
    assert doc["kind"] == "night" and doc["name"] == night.name
    assert summary["scans"] == len(scans)
    assert summary["tiles"] == scans.tile.nunique()
    assert summary["extractions"] == len(pts)
    for band in BANDS:
        mag = scans[f"{band}_msnr10"].to_numpy(float)
        assert summary["depth_median_mag"][band] == pytest.approx(np.median(mag))
        assert summary["shallow_scans"][band] == int((mag < REQUIRED[band]).sum())
    table = doc["tables"]["scans"]
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    assert [r["scan"] for r in rows] == scans.scan.tolist()
    per_scan = pts.groupby("scan").size()
    assert [r["point extractions"] for r in rows] == [int(per_scan.get(s, 0))
                                                      for s in scans.scan]
    assert [r["QA score"] for r in rows] == scans.qual.tolist()
    corners = scans[[f"{c}_{k}" for k in range(1, 5) for c in ("ra", "dec")]].to_numpy(float)
    exact = union_area_deg2(corners)
    assert exact * 0.995 <= summary["area_deg2"] <= exact * 1.1
    assert region.night_files.moc.stat().st_size > 0


def test_loaded_night_matches_its_directory_and_the_release(region: Region, tmp_path,
                                                            capsys) -> None:
    night = region.nights[0]
    out = tmp_path / "loaded.html"
    assert main(["--db", region.url, "qa", "night", night.name, str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"qa night {night.name}: ")
    loaded = json.loads(out.with_suffix(".json").read_text())
    products = region.night_json
    for key in ("scans", "tiles", "extractions", "shallow_scans", "area_deg2"):
        assert loaded["summary"][key] == products["summary"][key], key
    # Against every loaded night, a scan is kept out exactly when the release, built from
    # the same working database with the default spec, did not choose it.
    chosen = set(region.frame(
        "SELECT scan FROM rel_qa.scan_info WHERE date = %s AND hemis = %s",
        (night.name[:10], night.name[-1])).scan)
    table = loaded["tables"]["scans"]
    scan_col = table["columns"].index("scan")
    kept_col = table["columns"].index("kept out of a release by")
    for row in table["rows"]:
        assert (row[kept_col] == "") == (row[scan_col] in chosen), row


def test_a_night_directory_needs_no_database(region: Region, tmp_path, monkeypatch,
                                             capsys) -> None:
    # A database at a port nothing listens on: reading it would fail the command.
    monkeypatch.setenv("TWOMASS_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    out = tmp_path / "dir.html"
    png = tmp_path / "png"
    assert main(["qa", "night", str(region.nights[-1]), str(out), "--png-dir", str(png)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        f"qa night {region.nights[-1].name}: ")
    doc = json.loads(out.with_suffix(".json").read_text())
    assert sorted(p.stem for p in png.glob("*.png")) == sorted(doc["figures"])


def test_unknown_night_is_one_line(region: Region, tmp_path, capsys) -> None:
    assert main(["--db", region.url, "qa", "night", "1990-01-01n", str(tmp_path / "x.html")]) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("twomass: error: night 1990-01-01n is not loaded")
