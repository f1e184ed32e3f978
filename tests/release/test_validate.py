"""Validation against truth: hand-built skies with known answers, and a simulated region."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twomass import release
from twomass.cli import main
from twomass.core.database import Database
from twomass.ingest.load import ingest_nights
from twomass.pipeline.sim.simulate import simulate
from twomass.qa.table2 import RAYLEIGH_MEDIAN, ValidationError, ValidationParams, validate
from twomass.schema.truth import SCHEMA

ARCSEC = 1 / 3600.0
WIDTH = 8.5 / 60
DATE = dt.date(1999, 1, 1)  # the night WdbBuilder gives every scan
JDATE = 2451000.5  # the jdate WdbBuilder gives every extraction


def _truth_row(ident: int, ra: float, dec: float, scans: list[int], mag: float = 12.0,
               kind: str = "star", **extra: Any) -> dict[str, Any]:
    row = {"id": ident, "type": kind, "ra": ra % 360, "dec": dec, "j_m": mag + 0.5,
           "h_m": mag + 0.1, "k_m": mag, "r_k20fe": None, "ba": None, "pa": None,
           "epoch_jd": None, "ra_rate": None, "dec_rate": None,
           "scans": [{"hemis": "n", "date": DATE, "scan": s} for s in scans]}
    row.update(extra)
    return row


def _write_truth(path: Path, rows: list[dict[str, Any]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path


class Sky:
    """Two overlapping scans (tiles 1 and 2) and what lies in them.

    ``star`` adds a true star and, unless ``seen`` is False, its catalog extraction
    ``offset_arcsec`` north of it with J measured ``j_error`` from the truth.
    """

    def __init__(self, wdb: Any) -> None:
        self.wdb = wdb
        self.scan1 = wdb.scan(1, 10.0, 0.0)
        self.scan2 = wdb.scan(2, 10.0 + WIDTH - 60 * ARCSEC, 0.0)
        self.truth: list[dict[str, Any]] = []

    def star(self, scan: Any, ra: float, dec: float, *, mag: float = 12.0, seen: bool = True,
             offset_arcsec: float = 0.1, j_error: float = 0.0, kind: str = "star") -> None:
        self.truth.append(_truth_row(len(self.truth) + 1, ra, dec, [scan.scan_key], mag, kind))
        if seen:
            self.wdb.pts(scan, ra, dec + offset_arcsec * ARCSEC, j_m=mag + 0.5 + j_error,
                         h_m=mag + 0.1, k_m=mag)

    def build(self, tmp_path: Path) -> Path:
        self.wdb.commit()
        release.build(self.wdb.db, "t", progress=False)
        return _write_truth(tmp_path / "truth.parquet", self.truth)


def _known_sky(wdb: Any, n: int = 20) -> Sky:
    """``n`` bright stars seen in each scan's interior, J errors +-0.02 mag, 0.1" offsets."""
    sky = Sky(wdb)
    for k in range(n):
        dec = -0.4 + 0.8 * k / n
        sky.star(sky.scan1, 10.0 - 0.03, dec, j_error=0.02 * (-1) ** k)
        sky.star(sky.scan2, sky.scan2.ra + 0.03, dec, j_error=0.02 * (-1) ** k)
    return sky


def test_a_complete_and_reliable_sky(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb)
    report = validate(wdb.db, "t", sky.build(tmp_path))
    assert (report.expected, report.found) == (40, 40)
    assert (report.catalog_snr, report.reliable) == (40, 40)
    assert report.completeness == report.reliability == 1.0
    assert report.scans == 2 and report.catalog_rows == 40 and report.pairs == []
    # J: measured - true alternates +-0.02, so the MAD is 0.02 exactly.
    sigma, used = report.photometry_sigma_mag["j"]
    assert used == 40 and sigma == pytest.approx(1.4826 * 0.02, abs=2e-4)
    assert report.photometry_sigma_mag["k"][0] == pytest.approx(0.0, abs=1e-5)
    # Every source lies 0.1" from its star.
    assert report.astrometry_stars == 40
    assert report.astrometry_sigma_arcsec == pytest.approx(0.1 / RAYLEIGH_MEDIAN, rel=1e-3)
    assert all(report.targets().values())
    assert report.summary().endswith("all targets met")


def test_a_missed_star_lowers_completeness_by_one_over_n(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb)
    sky.star(sky.scan1, 10.0 + 0.02, 0.45, seen=False)  # bright, in the catalog area, missed
    sky.star(sky.scan1, 10.0 + 0.02, 0.46, mag=17.5, seen=False)  # S/N < 10: not expected
    report = validate(wdb.db, "t", sky.build(tmp_path))
    assert (report.expected, report.found) == (41, 40)
    assert report.completeness == pytest.approx(1 - 1 / 41, abs=1e-12)
    assert not report.targets()["completeness"]
    assert "MISSED: completeness" in report.summary()


def test_stars_near_bright_stars_and_in_gaps_are_left_out(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb)
    # Ks = 6: avoidance radius 30 * 10**(0.2 * 2) = 75"; a missed star 40" away is left out.
    sky.star(sky.scan1, 10.0, -0.45, mag=6.0, kind="artifact_parent", seen=False)
    sky.star(sky.scan1, 10.0, -0.45 + 40 * ARCSEC, seen=False)
    # 5" inside the west edge of scan 1, which no other scan covers: a coverage gap.
    west = 10.0 - WIDTH / 2 + 5 * ARCSEC
    sky.star(sky.scan1, west, 0.1, seen=False)
    # Stars no scan covers: one above the survey's S/N = 10 requirement, one below.
    sky.truth += [_truth_row(900, 10.6, 0.0, []), _truth_row(901, 10.6, 0.1, [], mag=16.0)]
    report = validate(wdb.db, "t", sky.build(tmp_path))
    assert (report.expected, report.found) == (40, 40)
    assert (report.in_avoidance, report.in_gaps) == (2, 2)
    # A smaller avoidance radius no longer covers the star 40" away.
    small = validate(wdb.db, "t", tmp_path / "truth.parquet",
                     ValidationParams(avoid_radius_arcsec=10.0))
    assert (small.expected, small.found, small.in_avoidance) == (41, 40, 1)


def test_a_spurious_source_lowers_reliability(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb)
    wdb.pts(sky.scan2, sky.scan2.ra, 0.45)  # S/N 60, nothing true within 2"
    wdb.pts(sky.scan2, sky.scan2.ra, 0.47, j_snr=8.0, h_snr=6.0, k_snr=5.0)  # S/N < 10
    # A minor planet, moving 0.3 deg/day, seen where it was at the extraction's time.
    mp = _truth_row(1 << 60, 10.0 - 0.01, 0.2, [1], kind="minor_planet", epoch_jd=JDATE - 0.01,
                    ra_rate=0.3, dec_rate=0.0)
    wdb.pts(sky.scan1, 10.0 - 0.01 + 0.003, 0.2)
    sky.truth.append(mp)
    report = validate(wdb.db, "t", sky.build(tmp_path))
    assert (report.catalog_snr, report.reliable, report.reliable_minor_planets) == (42, 41, 1)
    assert report.reliability == pytest.approx(41 / 42, abs=1e-12)
    assert not report.targets()["reliability"]


def test_a_cross_scan_pair_is_counted_and_attributed(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb)
    truth = sky.build(tmp_path)
    url = wdb.url
    with psycopg.connect(url) as conn:
        # A leftover duplicate: a copy of a scan-1 source, 1" away, credited to scan 2.
        first = conn.execute("SELECT min(pts_key) FROM rel_t.psc WHERE scan_key = 1").fetchone()[0]
        conn.execute("CREATE TEMP TABLE extra AS SELECT * FROM rel_t.psc WHERE pts_key = %s",
                     (first,))
        conn.execute("UPDATE extra SET pts_key = 1000, scan_key = 2, scan = 2, "
                     "dec = dec + 1 / 3600.0")
        conn.execute("INSERT INTO rel_t.psc SELECT * FROM extra")
    report = validate(wdb.db, "t", truth)
    assert len(report.pairs) == 1
    pair = report.pairs[0]
    assert pair.pts_keys == (first, 1000) and pair.sep_arcsec == pytest.approx(1.0, abs=1e-3)
    assert [s.scan_key for s in pair.scans] == [1, 2]
    assert not pair.off_tile and not report.targets()["pairs"]
    assert "NOT explained" in "\n".join(report.lines())

    # Tile 2 planned 300" east of where its scan went: the pair is explained.
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE wdb.tile SET ra = ra + 300 / 3600.0 WHERE tile = 2")
    report = validate(wdb.db, "t", truth)
    pair = report.pairs[0]
    assert pair.off_tile and report.targets()["pairs"]
    assert [s.off_tile_arcsec for s in pair.scans if s.scan_key == 2] == [
        pytest.approx(300.0, abs=0.1)]
    assert [s.scan_key for s in report.off_tile_scans] == [2]


def test_a_truth_of_another_sky_is_refused(wdb: Any, tmp_path: Path) -> None:
    sky = _known_sky(wdb, n=2)
    sky.build(tmp_path)
    other = _write_truth(tmp_path / "other.parquet", [_truth_row(1, 50.0, 10.0, [77])])
    with pytest.raises(ValidationError, match="no true source lies in a scan"):
        validate(wdb.db, "t", other)
    with pytest.raises(ValidationError, match="cannot read the truth table"):
        validate(wdb.db, "t", tmp_path / "missing.parquet")
    narrow = pa.Table.from_pylist(sky.truth, schema=SCHEMA)
    narrow = narrow.set_column(2, "ra", narrow.column("ra").cast(pa.float32()))
    pq.write_table(narrow, tmp_path / "narrow.parquet")
    with pytest.raises(ValidationError, match="column ra is float, expected double"):
        validate(wdb.db, "t", tmp_path / "narrow.parquet")


def test_a_simulated_region_meets_table_2(db: Database, tmp_path: Path, capsys) -> None:
    db_url = db.url
    out = tmp_path / "sim"
    simulate(out, (100.0, 100.6), (20.0, 20.6), seed=5)  # l 194, b +7: ~7,000 per deg2
    ingest_nights(db, sorted(p for p in out.iterdir() if p.is_dir()), on_warning="ignore",
                  progress=False)
    release.build(db, "sim", progress=False)
    assert main(["--db", db_url, "release", "validate", "sim", "--truth",
                 str(out / "truth.parquet")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("release validate sim: completeness ")
    report = validate(db, "sim", out / "truth.parquet")
    assert report.expected > 1000 and report.catalog_snr > 1000
    assert report.completeness > 0.98
    assert report.reliability > 0.999
    for band in "jhk":
        sigma, used = report.photometry_sigma_mag[band]
        assert used > 20 and 0.01 < sigma < 0.04
    assert 0.04 < report.astrometry_sigma_arcsec < 0.15
    assert all(p.off_tile for p in report.pairs)
    assert math.isclose(report.completeness, report.found / report.expected)
