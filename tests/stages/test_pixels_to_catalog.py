"""Pixels to the Point Source Catalog: ``observe``, ``pipeline``, ``ingest`` and
``release build`` on a small region at b = +35 deg, the released rows against every
source the frames showed (``sky.parquet``)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.cli import main
from twomass.core import sphere
from twomass.core.database import Database
from twomass.pipeline.stages import fidelity
from twomass.pipeline.stages.observe import SKY_FILE, TRUTH_FILE
from twomass.query import cone

#: Three neighbouring tiles' scans, clipped to 0.3 deg (~20 frames each), one night.
RA, DEC, SEED = ("137.25", "137.40"), ("9.0", "9.3"), "1"
NIGHT = "1999-09-02s"
#: Saturated in Read_2 brighter than this (not what the 4" Read_2 magnitude is tested on).
UNSATURATED = {"j": 9.5, "h": 9.0, "k": 9.0}
#: The night's zero points, from the standards of three sets of two short calibration
#: scans, are known to a few hundredths of a magnitude.
ZERO_POINT_TOLERANCE = 0.05


@pytest.fixture
def released(tmp_path, db_url, capsys):
    raw, out = tmp_path / "raw", tmp_path / "products"
    assert main(["observe", str(raw), "--ra", *RA, "--dec", *DEC, "--seed", SEED,
                 "--cal-frames", "24"]) == 0
    assert main(["pipeline", str(raw), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("pipeline: 1 nights, 3 scans,") and "point sources" in line
    assert main(["--db", db_url, "ingest", str(out)]) == 0
    assert main(["--db", db_url, "release", "build", "pixels"]) == 0
    capsys.readouterr()
    scans = pq.read_table(out / NIGHT / "scans.parquet").to_pylist()
    with Database(db_url) as db:
        centre = (np.mean([s["ra"] for s in scans]), np.mean([s["dec"] for s in scans]))
        table = cone.cone(db, *centre, 1800.0)
        with db.connection() as conn:
            night = conn.execute("SELECT pipeline_version FROM wdb.night").fetchall()
    return raw, out, scans, fidelity.catalog_arrays(table), table, night


def test_released_catalog_matches_the_sky(released) -> None:
    raw, out, scans, cat, table, night = released
    doc = json.loads((out / NIGHT / "night.json").read_text())
    assert doc["pipeline"] == "twomass-2mapps" and len(night) == 1
    sky = pq.read_table(raw / SKY_FILE).to_pydict()
    f = fidelity.catalog_vs_sky(
        cat, sky, scans, minor_planets=fidelity.true_minor_planets(raw / TRUTH_FILE))
    # S/N >= 10 stars well inside the scans: found, and every S/N >= 10 source real.
    assert f.n_true >= 100
    assert f.completeness >= 0.97
    assert f.reliability >= 0.99
    assert max(f.offset_rms_arcsec) < 0.2
    # Positions and magnitudes of the matched S/N >= 10 stars.
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"]), np.asarray(sky["dec"]))
    c_vec = sphere.unit_vectors(cat["ra"], cat["dec"])
    snr = np.column_stack([cat[f"{b}_snr"] for b in "jhk"])
    bright = (np.nan_to_num(snr) >= 10).any(axis=1)
    near = sphere.nearest_within(c_vec[bright], t_vec, 2.0)
    assert np.mean(near.sep_arcsec < 0.5) >= 0.95
    index = np.flatnonzero(bright)[near.index >= 0]
    true = near.index[near.index >= 0]
    for b in "jhk":
        m = cat[f"{b}_m"][index]
        t = np.asarray(sky[f"{b}_m"])[true]
        sig = cat[f"{b}_msigcom"][index]
        band_snr = np.nan_to_num(snr[index, "jhk".index(b)])
        ok = np.isfinite(sig) & (t > UNSATURATED[b]) & (band_snr >= 20)
        assert ok.sum() >= 20
        d = m[ok] - t[ok]
        offset = np.median(d)  # the zero point's error, common to the night
        assert abs(offset) < ZERO_POINT_TOLERANCE
        # Profile-fit magnitudes scatter as msigcom says: the median |pull| of a normal
        # distribution is 0.674; blends matched to one of their stars are the tail.
        pull = np.abs(d - offset) / sig[ok]
        assert np.median(pull) < 0.9
        assert np.mean(pull < 4) >= 0.9
    # The measured depth against the one the simulator set for the scan. A ~20-frame clip
    # measures it from ~100 stars, its PSF from as few as 7 (whole scans: within 0.1 mag,
    # benchmarks/bench_pixel_catalog.py).
    depths = fidelity.set_depths(tuple(map(float, RA)), tuple(map(float, DEC)), int(SEED))
    offsets = np.array([[s[f"{b}_msnr10"] - depths[(NIGHT[-1], NIGHT[:-1], s["scan"])][i]
                         for i, b in enumerate("jhk")] for s in scans])
    assert np.abs(offsets).max() < 0.8 and abs(np.median(offsets)) < 0.25
    # One row per source per scan: no S/N >= 10 row has another row of its scan within
    # 1" (the Atlas Images overlap by 54").
    pts = pq.read_table(out / NIGHT / "pts.parquet").to_pydict()
    pts_snr = np.column_stack([np.asarray(pts[f"{b}_snr"], float) for b in "jhk"])
    for scan in {s["scan"] for s in scans}:
        mine = np.flatnonzero(np.asarray(pts["scan"]) == scan)
        vec = sphere.unit_vectors(np.asarray(pts["ra"])[mine], np.asarray(pts["dec"])[mine])
        strong = (np.nan_to_num(pts_snr[mine]) >= 10).any(axis=1)
        assert strong.sum() >= 30
        assert (sphere.neighbour_counts(vec, 1.0)[strong] == 0).all()
    # Profile fits (2) for most bands; Read_1 photometry, wing fits and aperture
    # fallbacks (1, 3, 4) for saturated stars and failed fits; upper limits (0, 6); no
    # usable flux (9).
    rd = np.asarray(table["rd_flg"]).astype(str)
    assert all(set(r) <= set("0123469") for r in rd)
    assert np.mean([r.count("2") for r in rd]) > 1.5
    # Detections within 5" of each other are fitted together: bl_flg counts them (the
    # three clipped scans hold a dozen such groups in all).
    blended = 0
    for scan in {s["scan"] for s in scans}:
        mine = np.flatnonzero(np.asarray(pts["scan"]) == scan)
        vec = sphere.unit_vectors(np.asarray(pts["ra"])[mine], np.asarray(pts["dec"])[mine])
        bl = np.array([max(int(c) for c in f) for f in np.asarray(pts["bl_flg"])[mine]])
        assert (sphere.neighbour_counts(vec, 5.0)[bl > 1] > 0).all()
        blended += int((bl > 1).sum())
    assert blended >= 4
