"""The release report's numbers against independent computations on the rows read back:
NumPy, healpy and astropy on the release tables, a Monte Carlo area, the truth table."""

from __future__ import annotations

import json
import math

import astropy.units as u
import healpy as hp
import numpy as np
import pytest
from astropy.coordinates import SkyCoord, match_coordinates_sky
from mocpy import MOC

from twomass import release
from twomass.cli import main
from twomass.core.database import Database
from twomass.qa.bins import DEPTH_BINS
from twomass.qa.release_figures import KS_BINS, MAG_BINS
from twomass.qa.release_report import write_release_report
from twomass.qa.table2 import validate

from .helpers import RELEASE, Region, bucket, robust_sigma, union_area_deg2

BANDS = "jhk"
REQUIRED = {"j": 15.8, "h": 15.1, "k": 14.3}
MOC_CELL_DEG = 58.6 / 2**13  # side of an order-13 HEALPix cell


def test_counts_match_the_release_tables(region: Region) -> None:
    summary = region.release_json["summary"]
    counts = region.frame(
        "SELECT (SELECT count(*) FROM rel_qa.psc) AS psc, (SELECT count(*) FROM rel_qa.xsc) "
        "AS xsc, (SELECT count(*) FROM rel_qa.scan_info) AS scans, "
        "(SELECT count(*) FROM rel_qa.psc_reject_row) AS psc_reject").iloc[0]
    for key in ("psc", "xsc", "scans", "psc_reject"):
        assert summary[key] == counts[key], key
    assert summary["psc"] > 1_000 and summary["scans"] >= 8
    assert summary["psc_per_deg2"] == pytest.approx(summary["psc"] / summary["area_deg2"])


def test_coverage_area_and_moc_file(region: Region) -> None:
    corners = region.frame("SELECT ra_1, dec_1, ra_2, dec_2, ra_3, dec_3, ra_4, dec_4 "
                           "FROM rel_qa.scan_info").to_numpy(float)
    area = region.release_json["summary"]["area_deg2"]
    exact = union_area_deg2(corners)
    # The MOC counts every cell an edge crosses: at most one cell's width along the edges.
    perimeter_deg = sum(2 * (6.5 + 0.15) for _ in corners)
    assert exact * 0.995 <= area <= exact + perimeter_deg * MOC_CELL_DEG
    moc = MOC.load(str(region.release_files.moc), format="fits")
    assert moc.sky_fraction * 4 * math.pi * (180 / math.pi) ** 2 == pytest.approx(area)
    inside = moc.contains_lonlat(corners[:, 0::2].mean(axis=1) * u.deg,
                                 corners[:, 1::2].mean(axis=1) * u.deg)
    assert inside.all()


def test_density_matches_healpy_on_the_rows(region: Region) -> None:
    numbers = region.release_json["figures"]["density"]
    rows = region.frame("SELECT ra, dec FROM rel_qa.psc")
    order = numbers["order"]
    pix = hp.ang2pix(1 << order, rows.ra.to_numpy(), rows.dec.to_numpy(), nest=True,
                     lonlat=True)
    _, counts = np.unique(pix, return_counts=True)
    per_deg2 = counts / hp.nside2pixarea(1 << order, degrees=True)
    assert numbers["sources"] == len(rows)
    assert numbers["pixels"] == len(counts)
    assert numbers["median_per_deg2"] == pytest.approx(np.median(per_deg2))
    assert numbers["max_per_deg2"] == pytest.approx(per_deg2.max())


def test_depth_matches_numpy_on_scan_info(region: Region) -> None:
    numbers = region.release_json["figures"]["depth"]
    scans = region.frame("SELECT hemis, j_msnr10, h_msnr10, k_msnr10 FROM rel_qa.scan_info")
    for band in BANDS:
        mag = scans[f"{band}_msnr10"].to_numpy(float)
        got = numbers["bands"][band]
        assert got["scans"] == len(mag)
        assert got["median_mag"] == pytest.approx(np.median(mag), abs=1e-5)
        assert got["deep_enough"] == int((mag >= np.float32(REQUIRED[band])).sum())
        for hemis in scans.hemis.unique():
            b = bucket(mag[scans.hemis == hemis], DEPTH_BINS.lo, DEPTH_BINS.hi, DEPTH_BINS.count)
            expected = np.bincount(b, minlength=DEPTH_BINS.count + 2)[1:-1]
            assert numbers["histogram"][f"{hemis}_{band}"] == expected.tolist()


def _overlap_pairs(region: Region):
    """Every duplicate apparition and the nearest catalog source within 2", by astropy."""
    columns = "ra, dec, j_m, h_m, k_m, rd_flg"
    dup = region.frame(f"SELECT {columns} FROM rel_qa.psc_reject_row "
                       "WHERE reject_reason = 'duplicate'")
    cat = region.frame(f"SELECT {columns} FROM rel_qa.psc")
    dup_c = SkyCoord(dup.ra.to_numpy() * u.deg, dup.dec.to_numpy() * u.deg)
    cat_c = SkyCoord(cat.ra.to_numpy() * u.deg, cat.dec.to_numpy() * u.deg)
    idx, sep, _ = match_coordinates_sky(dup_c, cat_c)
    keep = sep.arcsec < 2.0
    return dup[keep].reset_index(drop=True), cat.iloc[idx[keep]].reset_index(drop=True)


def test_overlap_repeatability_matches_astropy_pairs(region: Region) -> None:
    numbers = region.release_json["figures"]["overlap_repeatability"]
    dup, cat = _overlap_pairs(region)
    assert numbers["sample"]["sampled_percent"] == 100.0
    assert len(dup) > 100
    for k, band in enumerate(BANDS):
        measured = (dup.rd_flg.str[k].between("1", "4") & cat.rd_flg.str[k].between("1", "4"))
        mag = cat[f"{band}_m"][measured].to_numpy(np.float32)
        diff = (dup[f"{band}_m"][measured].to_numpy(np.float32) - mag).astype(float)
        b = bucket(mag, MAG_BINS.lo, MAG_BINS.hi, MAG_BINS.count)
        got = {round(row["mag_lo"], 3): row for row in numbers["per_bin"][band]}
        expected_bins = [i for i in range(1, MAG_BINS.count + 1) if (b == i).any()]
        assert len(got) == len(expected_bins)
        for i in expected_bins:
            row = got[round(MAG_BINS.lo + (i - 1) * MAG_BINS.width, 3)]
            d = diff[b == i]
            assert row["pairs"] == len(d)
            assert row["rms_mag"] == pytest.approx(np.sqrt(np.mean(d**2)), rel=1e-5, abs=1e-7)
            assert row["robust_sigma_mag"] == pytest.approx(robust_sigma(d), rel=1e-5, abs=1e-7)
        bright = diff[mag < 13.0]
        assert numbers["bright"][band]["pairs"] == len(bright)
        assert numbers["bright"][band]["per_measurement_sigma_mag"] == pytest.approx(
            robust_sigma(bright) / math.sqrt(2), rel=1e-5)


def test_overlap_astrometry_matches_astropy_pairs(region: Region) -> None:
    numbers = region.release_json["figures"]["overlap_astrometry"]
    dup, cat = _overlap_pairs(region)
    dra = ((dup.ra - cat.ra + 180) % 360 - 180) * np.cos(np.radians(cat.dec)) * 3600
    ddec = (dup.dec - cat.dec) * 3600
    assert numbers["pairs"] == len(dup)
    ks = cat.k_m.to_numpy(float)
    b = bucket(ks, KS_BINS.lo, KS_BINS.hi, KS_BINS.count)
    for row in numbers["per_bin"]:
        i = int(round((row["ks_lo"] - KS_BINS.lo) / KS_BINS.width)) + 1
        assert row["pairs"] == int((b == i).sum())
        assert row["ra_rms_arcsec"] == pytest.approx(np.sqrt(np.mean(dra[b == i] ** 2)), rel=1e-6)
        assert row["dec_rms_arcsec"] == pytest.approx(np.sqrt(np.mean(ddec[b == i] ** 2)),
                                                      rel=1e-6)
    bright = ks < 14.0
    assert numbers["bright"]["pairs"] == int(bright.sum())
    assert numbers["bright"]["dec_per_apparition_arcsec"] == pytest.approx(
        np.sqrt(np.mean(ddec[bright] ** 2) / 2), rel=1e-6)


def test_rejects_scans_and_nights_match_the_tables(region: Region) -> None:
    figures = region.release_json["figures"]
    reasons = region.frame("SELECT reject_reason, count(*) AS n FROM rel_qa.psc_reject_row "
                           "GROUP BY 1")
    assert figures["rejects"]["psc"] == dict(zip(reasons.reject_reason, reasons.n, strict=True))
    scans = region.frame("SELECT s.scan_key, s.qual, c.scan_key IS NOT NULL AS chosen "
                         "FROM wdb.scan AS s LEFT JOIN rel_qa.scan_info AS c USING (scan_key)")
    outcome = figures["scan_choice"]["by_outcome"]
    assert outcome["chosen"] == int(scans.chosen.sum())
    assert sum(outcome.values()) == len(scans)
    assert figures["scan_choice"]["by_qual"]["chosen"] == np.bincount(
        scans.qual[scans.chosen], minlength=11).tolist()
    info = region.frame("SELECT hemis, date, qual, k_zp_ap FROM rel_qa.scan_info")
    nights = figures["nights"]["nights"]
    grouped = info.groupby(["date", "hemis"])
    assert len(nights) == grouped.ngroups
    for night, ((date, hemis), group) in zip(nights, grouped, strict=True):
        assert (night["date"], night["hemis"]) == (date.isoformat(), hemis)
        assert night["scans"] == len(group)
        assert night["k_zp_ap"] == pytest.approx(group.k_zp_ap.astype(float).mean(), rel=1e-6)


def test_table_2_and_its_curves(region: Region) -> None:
    doc = region.release_json
    with Database(region.url) as db:
        table2 = validate(db, RELEASE, region.truth)
    truth = doc["summary"]["truth"]
    assert truth["completeness"] == pytest.approx(table2.completeness)
    assert truth["reliability"] == pytest.approx(table2.reliability)
    assert doc["targets"]["truth_completeness"] == (table2.completeness >= 0.99)
    curves = doc["figures"]["truth_completeness_reliability"]
    for band in BANDS:
        # Binned fractions add back up to the totals (every expected star has J H Ks).
        bins = curves["completeness"][band]
        assert sum(b["count"] for b in bins) <= table2.expected
        found = sum(b["count"] * b["fraction"] for b in bins)
        assert found / sum(b["count"] for b in bins) == pytest.approx(table2.completeness,
                                                                    abs=0.01)
    assert doc["figures"]["truth_astrometry"]["stars"] > 500


def test_summary_json_and_command_line(region: Region, tmp_path, capsys) -> None:
    out = tmp_path / "again.html"
    assert main(["--db", region.url, "qa", "release", RELEASE, str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith(f"qa release {RELEASE}: ")
    doc = json.loads(out.with_suffix(".json").read_text())
    assert out.with_suffix(".moc.fits").stat().st_size > 0
    assert doc["format"] == 1 and doc["kind"] == "release" and doc["name"] == RELEASE
    assert set(doc["targets"]) >= {"depth_j", "repeatability_k", "overlap_position"}
    assert doc["summary"]["psc"] == region.release_json["summary"]["psc"]
    assert main(["--db", region.url, "qa", "release", "nosuch", str(out)]) == 2
    assert "no release 'nosuch'" in capsys.readouterr().err


def test_release_build_writes_the_report(region: Region, tmp_path, capsys) -> None:
    out = tmp_path / "built.html"
    assert main(["--db", region.url, "release", "build", "qa_report", "--no-publish",
                 "--report", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("qa release qa_report: ")
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["summary"]["psc"] == region.release_json["summary"]["psc"]


def test_an_empty_release_reports_its_emptiness(db: Database, tmp_path) -> None:
    release.build(db, "empty", progress=False)
    written = write_release_report(db, "empty", tmp_path / "empty.html", progress=False)
    doc = json.loads(written.json.read_text())
    assert doc["summary"]["psc"] == 0 and doc["summary"]["area_deg2"] == 0
    assert len(doc["figures"]) == 8
    assert written.html.read_text().count("<img ") == 8
