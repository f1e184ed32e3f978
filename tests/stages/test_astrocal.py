"""The night's astrometric calibration (``astrocal``): the segment solver on hand-built
scans with known offsets, and the whole step on pixels with the array distortion on."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.core import sphere
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import astrocal, fidelity, observe, rawio, register, run, tan
from twomass.pipeline.stages import instrument as inst

DEC0 = 10.0
STEP_DEG = 82.6 / 3600.0
#: Scan B's meridian lies 450" east of A's: their 510" wide footprints overlap by 60".
SEPARATION_ARCSEC = 450.0


def _scan(scan: int, ra0: float, n_frames: int) -> astrocal.ScanFrames:
    phi = DEC0 - 0.5 + STEP_DEG * np.arange(n_frames)
    ra, dec = scanframe.to_radec(ra0, np.zeros(n_frames), phi)
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    return astrocal.ScanFrames(scan, ra0, [ra] * 3, [dec] * 3)


def _true_offset(fr: astrocal.ScanFrames, offsets: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """The offset field of segment offsets ``offsets`` at along-scan ``phi`` (linear between
    the segments' centres, as the solver models it)."""
    c = fr.segment_centres()
    return np.column_stack([np.interp(phi, c, offsets[:, i]) for i in (0, 1)])


def test_segment_solver_recovers_known_offsets():
    """Two scans of 46 frames (2 segments each) overlapping by 60"; scan A holds the
    reference stars, scan B none: B's offsets come through the overlap alone."""
    rng = np.random.default_rng(5)
    ra_a = 120.0
    ra_b = ra_a + SEPARATION_ARCSEC / 3600.0 / np.cos(np.radians(DEC0))
    scans = [_scan(11, ra_a, 46), _scan(12, ra_b, 46)]
    assert [s.n_segments() for s in scans] == [2, 2]
    truth = {11: np.array([[0.30, -0.20], [-0.10, 0.25]]),
             12: np.array([[-0.25, 0.15], [0.20, -0.30]])}
    # True stars over both footprints, in A's scan frame.
    n = 1500
    xi = rng.uniform(-255.0, SEPARATION_ARCSEC + 255.0, n) / 3600.0
    phi = rng.uniform(DEC0 - 0.5, DEC0 - 0.5 + 45 * STEP_DEG, n)
    t_ra, t_dec = (np.asarray(v, float) for v in scanframe.to_radec(ra_a, xi, phi))
    columns, seen = [], []
    for fr in scans:
        s_xi, s_phi = scanframe.to_scan(fr.ra0, t_ra, t_dec)
        on = np.abs(s_xi * 3600.0) < 255.0
        off = _true_offset(fr, truth[fr.scan], s_phi[on])
        noise = rng.normal(0.0, 0.05, (int(on.sum()), 2))
        ra, dec = scanframe.to_radec(fr.ra0, s_xi[on] - (off[:, 0] + noise[:, 0]) / 3600.0,
                                     s_phi[on] - (off[:, 1] + noise[:, 1]) / 3600.0)
        m = int(on.sum())
        columns.append({"ra": np.asarray(ra, float), "dec": np.asarray(dec, float),
                        "err_maj": np.full(m, 0.05), "err_min": np.full(m, 0.05)})
        seen.append(np.flatnonzero(on))
    overlap = np.intersect1d(*seen)
    assert len(overlap) > 100
    # Reference stars: A's side only (70 mas errors).
    a_only = np.setdiff1d(seen[0], seen[1])
    pick = rng.choice(a_only, 60, replace=False)
    e = rng.normal(0.0, 0.07, (2, len(pick))) / 3600.0
    reference = {"ra": t_ra[pick] + e[0] / np.cos(np.radians(t_dec[pick])),
                 "dec": t_dec[pick] + e[1], "sigma_arcsec": np.full(len(pick), 0.07)}
    solution = astrocal.adjust_segments(columns, scans, reference)
    assert solution.n_reference == 60
    assert solution.n_overlap == len(overlap)
    for fr in scans:
        got = solution.segment_offset_arcsec[fr.scan]
        assert np.abs(got - truth[fr.scan]).max() < 0.05, (fr.scan, got)
        err = solution.segment_error_arcsec[fr.scan]
        assert np.all((err > 0.003) & (err < 0.05))
    # The recomputed positions: on the truth within the noise, errors grown.
    for fr, cols, idx in zip(scans, columns, seen, strict=True):
        before = _sep_arcsec(cols, t_ra[idx], t_dec[idx])
        moved = dict(cols)
        astrocal.apply_offsets(moved, fr, solution)
        after = _sep_arcsec(moved, t_ra[idx], t_dec[idx])
        assert np.sqrt(np.mean(before**2)) > 0.2
        assert np.sqrt(np.mean(after**2)) < 0.085  # 0.05 per coordinate
        assert np.all(moved["err_maj"] > cols["err_maj"])
    # The frame solutions carry the same offsets.
    frame = solution.frame_offset_arcsec[11]
    assert frame.shape == (46, 2)
    _, phi_f = scanframe.to_scan(ra_a, scans[0].frame_ra[1], scans[0].frame_dec[1])
    np.testing.assert_allclose(frame, _true_offset(scans[0], solution.segment_offset_arcsec[11],
                                                   phi_f))
    ra_f, dec_f = astrocal.adjusted_frames(scans[0], solution)[1]
    xi_f, phi_new = scanframe.to_scan(ra_a, ra_f, dec_f)
    np.testing.assert_allclose(np.column_stack([xi_f, phi_new - phi_f]) * 3600.0, frame,
                               atol=1e-6)


def test_segments_per_scan():
    """2MASS's 12 segments per 273-frame scan; a clipped scan proportionally fewer."""
    assert [_scan(1, 10.0, n).n_segments() for n in (273, 46, 30, 5)] == [12, 2, 1, 1]


def _sep_arcsec(cols: dict, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    a = sphere.unit_vectors(np.asarray(cols["ra"]), np.asarray(cols["dec"]))
    return sphere.separation_arcsec(np.linalg.norm(a - sphere.unit_vectors(ra, dec), axis=1))


def _ks14_errors(pts: dict, sky: dict) -> np.ndarray:
    """(n, 2) catalog minus true (RA cos Dec, Dec) [mas] of isolated Ks < 14 stars."""
    t_ra, t_dec = np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)
    found = sphere.nearest_within(sphere.unit_vectors(np.asarray(pts["ra"]),
                                                      np.asarray(pts["dec"])),
                                  sphere.unit_vectors(t_ra, t_dec), 1.0).index
    i = np.flatnonzero(found >= 0)
    t = found[i]
    keep = (np.asarray(sky["type"])[t] == "star") & fidelity.isolated(sky, "k")[t] \
        & (np.asarray(sky["k_m"], float)[t] < 14.0)
    i, t = i[keep], t[keep]
    return np.column_stack([
        (np.asarray(pts["ra"])[i] - t_ra[t]) * np.cos(np.radians(t_dec[t])) * 3.6e6,
        (np.asarray(pts["dec"])[i] - t_dec[t]) * 3.6e6])


@pytest.mark.filterwarnings("ignore::twomass.pipeline.stages.photcal.CalibrationWarning")
def test_night_adjustment_on_pixels(tmp_path):
    """Three neighbouring tiles' scans of one night, 20 frames each, with the array
    distortion on: the adjusted positions of isolated Ks < 14 stars beat the scans' own
    registrations against the truth, in each coordinate. (Its 10-frame calibration sets
    hold too few J standards for one of them: the calibration's warning is not the test.)"""
    raw = tmp_path / "raw"
    observe.observe(raw, (137.25, 137.40), (9.0, 9.3), seed=1, cal_frames=10)
    (night,) = rawio.night_directories([raw])
    kept: dict = {}
    run.run_pipeline([night], tmp_path / "out", keep=kept, astrometric_calibration=False)
    pts = pq.read_table(tmp_path / "out" / night.name / "pts.parquet").to_pydict()
    by_scan: dict[int, dict] = defaultdict(lambda: defaultdict(list))
    for row in range(len(pts["scan"])):
        for k, v in pts.items():
            by_scan[pts["scan"][row]][k].append(v[row])
    scans = sorted(by_scan)
    assert len(scans) == 3
    _, entries = rawio.read_night(night)
    ra0 = {e.scan: e.ra0 for e in entries}
    frames = [astrocal.ScanFrames.from_registrations(
        s, ra0[s], [kept[(night.name, s, b)].reg for b in inst.BANDS]) for s in scans]
    columns = [{k: np.asarray(v) for k, v in by_scan[s].items()} for s in scans]
    reference = pq.read_table(night / "ref" / "astrometric.parquet").to_pydict()
    adjusted, solution = astrocal.adjust_night(columns, frames, reference)
    assert solution.n_overlap > 10  # the neighbouring scans' common sources
    sky = pq.read_table(raw / observe.SKY_FILE).to_pydict()
    merged = {k: np.concatenate([c[k] for c in adjusted]) for k in ("ra", "dec")}
    before, after = _ks14_errors(pts, sky), _ks14_errors(merged, sky)
    assert len(before) == len(after) > 30
    rms_before = np.sqrt(np.mean(before**2, axis=0))
    rms_after = np.sqrt(np.mean(after**2, axis=0))
    assert np.all(rms_after < 0.75 * rms_before), (rms_before, rms_after)
    assert np.all(rms_after < 80.0), rms_after
    assert np.all(np.abs(after.mean(axis=0)) < np.abs(before.mean(axis=0))), \
        (before.mean(axis=0), after.mean(axis=0))


def test_frames_show_the_band_scale_and_distortion(processed):
    """The simulated frames' bright detections against the truth projected through the
    true frame centres with each band's pixel scale: the residuals follow
    ``DISTORTION_TRUE_FACTOR`` times the calibrated distortion (regression slope), and
    the scale leaves no radial trend."""
    tf = processed.true_frames
    sky = processed.truth
    s_ra, s_dec = np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)
    res, pred, pos = [], [], []
    for b, band in enumerate(inst.BANDS):
        bright = np.asarray(sky[f"{band}_m"], float) < 14.0
        bright &= fidelity.isolated(sky, "k")
        r = processed.results[band]
        pick = [i for i, (s, bb) in enumerate(zip(tf["scan"], tf["band"], strict=True))
                if s == processed.survey_scan and bb == band]
        for k, i in enumerate(pick):
            x, y = tan.world_to_pix((tf["ra"][i], tf["dec"][i]), register.band_cd(b),
                                    register.CRPIX, s_ra[bright], s_dec[bright])
            on = (x > 8) & (x < inst.NPIX - 9) & (y > 8) & (y < inst.NPIX - 9)
            det = r.cal.detections[k]
            det = det[register.usable(det, 30.0)]
            if not len(det) or not on.any():
                continue
            d = np.hypot(det["x"][:, None] - x[on][None, :], det["y"][:, None] - y[on][None, :])
            j = np.argmin(d, axis=1)
            ok = d[np.arange(len(det)), j] < 1.0
            xs, ys = x[on][j[ok]], y[on][j[ok]]
            res.append(np.column_stack([det["x"][ok] - xs, det["y"][ok] - ys]))
            pred.append(np.column_stack(inst.distortion_px(b, xs, ys)))
            pos.append(np.column_stack([xs, ys]) - 0.5 * (inst.NPIX - 1))
    res, pred, pos = np.concatenate(res), np.concatenate(pred), np.concatenate(pos)
    assert len(res) > 300
    slope = (res * pred).sum(axis=0) / (pred**2).sum(axis=0)
    assert np.all(np.abs(slope - observe.DISTORTION_TRUE_FACTOR) < 0.25), slope
    left = res - observe.DISTORTION_TRUE_FACTOR * pred
    assert np.all(np.abs(left.mean(axis=0)) < 0.02)
    assert np.sqrt(np.mean(left**2)) < np.sqrt(np.mean(res**2))
    scale = (left * pos).sum(axis=0) / (pos**2).sum(axis=0)  # px per px from the centre
    assert np.all(np.abs(scale) < 3e-4), scale  # the bands' scales differ by 1e-2
