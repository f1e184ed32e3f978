"""The night's photometric calibration (``photcal``): the solver on hand-built set
measurements with a known truth, and the pipeline's zero points on the observed night
against the simulator's."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.pipeline.sim.photometry import ZPERR
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import photcal, photometry
from twomass.pipeline.stages.observe import EXTINCTION

JD0 = 2451500.6
HOUR = 1.0 / 24.0
NOMINAL = np.array([21.0, 20.7, 20.3])
ZP_TOLERANCE = 0.01
ZP_CROWDED = 0.03
STANDARDS_RMS = 0.025


def _set(hours: float, zp, err=(0.002, 0.002, 0.002), n=(40, 40, 40), scan: int = 1
         ) -> photcal.SetMeasurement:
    return photcal.SetMeasurement((scan, scan + 1), JD0 + hours * HOUR,
                                  tuple(map(float, zp)), tuple(map(float, err)), tuple(n))


def _truth(hours: np.ndarray) -> np.ndarray:
    """(sets, 3): J wandering hour to hour, H and Ks linear in time."""
    j = 21.1 + 0.01 * np.sin(hours * 1.3)
    h = 20.8 + 0.03 * hours / 24.0
    k = 20.35 - 0.02 * hours / 24.0
    return np.column_stack([j, h, k])


def test_h_and_ks_are_linear_in_time_and_j_interpolates_hour_to_hour() -> None:
    hours = np.arange(6.0)
    truth = _truth(hours)
    sol = photcal.solve_night([_set(h, z, scan=14 * i + 1)
                               for i, (h, z) in enumerate(zip(hours, truth, strict=True))],
                              NOMINAL)
    assert [b.model for b in sol.bands] == ["interpolated", "linear", "linear"]
    assert sol.problems() == [] and sol.gaps == ()
    for t in (0.0, 0.7, 2.5, 5.0):
        jd = JD0 + t * HOUR
        for b in (1, 2):  # exactly linear truth: recovered at any time
            assert sol.bands[b].c1(jd)[0] == pytest.approx(_truth(np.array([t]))[0, b],
                                                           abs=1e-9)
        # J: linear between the neighbouring sets (the truth between them is not).
        k = int(t)
        w = t - k
        j = (1 - w) * truth[k, 0] + w * truth[min(k + 1, 5), 0]
        assert sol.bands[0].c1(jd)[0] == pytest.approx(j, abs=1e-9)
    # Constant beyond the first and the last set.
    assert sol.bands[0].c1(JD0 - 2 * HOUR)[0] == pytest.approx(truth[0, 0])
    assert sol.bands[0].c1(JD0 + 9 * HOUR)[0] == pytest.approx(truth[-1, 0])
    # The errors: a set's own at its time, both neighbours' halves midway; the linear
    # fit's is smallest at the sets' weighted mean time.
    assert sol.bands[0].c1(JD0 + 2 * HOUR)[1] == pytest.approx(0.002)
    assert sol.bands[0].c1(JD0 + 2.5 * HOUR)[1] == pytest.approx(np.hypot(0.001, 0.001))
    mid, end = sol.bands[1].c1(JD0 + 2.5 * HOUR)[1], sol.bands[1].c1(JD0 + 5 * HOUR)[1]
    assert mid == pytest.approx(0.002 / np.sqrt(6)) and end > mid
    # The scan's zero point: c1 less the extinction above airmass 1.
    zp, err = sol.zero_point(2, JD0 + HOUR, 1.4)
    assert zp == pytest.approx(truth[1, 2] - EXTINCTION[2] * 0.4)
    assert err == sol.bands[2].c1(JD0 + HOUR)[1]
    # What night.json records.
    doc = json.loads(json.dumps(sol.summary()))
    assert doc["h"]["model"] == "linear" and len(doc["h"]["sets_used"]) == 6
    assert doc["h"]["slope_mag_per_day"] == pytest.approx(0.03, abs=1e-5)
    assert [k["c1"] for k in doc["j"]["knots"]] == pytest.approx(truth[:, 0], abs=1e-5)
    assert doc["j"]["rms_mag"] > 0.001  # the wander about a straight line
    # Picklable: survey scans get it in other processes.
    again = pickle.loads(pickle.dumps(sol))
    assert again == sol and again.zero_point(0, JD0 + 0.3 * HOUR, 1.2) == \
        sol.zero_point(0, JD0 + 0.3 * HOUR, 1.2)


def test_linear_fit_weighs_the_sets_and_scales_its_error_by_their_scatter() -> None:
    hours = np.arange(5.0)
    noise = np.array([0.004, -0.004, 0.004, -0.004, 0.004])  # 2x the quoted 0.002
    zp = _truth(hours) + noise[:, None]
    sol = photcal.solve_night([_set(h, z) for h, z in zip(hours, zp, strict=True)], NOMINAL)
    h = sol.bands[1]
    # Residuals about the line are 2x the quoted errors: the error grows with them.
    assert h.rms == pytest.approx(np.std(noise - np.polyfit(hours, noise, 1)[1]
                                         - np.polyfit(hours, noise, 1)[0] * hours), rel=0.01)
    assert h.c1(h.jd_ref)[1] > 1.5 * 0.002 / np.sqrt(5)
    # A set with a 10x smaller error holds the line.
    sets = [_set(h_, z, err=(0.002, 0.0002 if h_ == 2 else 0.002, 0.002))
            for h_, z in zip(hours, zp, strict=True)]
    held = photcal.solve_night(sets, NOMINAL).bands[1]
    assert held.c1(JD0 + 2 * HOUR)[0] == pytest.approx(zp[2, 1], abs=0.0005)


def test_a_missing_calibration_set_is_interpolated_across_and_reported() -> None:
    hours = np.array([0.0, 1.0, 3.0, 4.0])  # the set at 2 h was not observed
    truth = _truth(hours)
    sol = photcal.solve_night([_set(h, z, scan=14 * int(h) + 1)
                               for h, z in zip(hours, truth, strict=True)], NOMINAL)
    assert sol.gaps == ((JD0 + HOUR, JD0 + 3 * HOUR),)
    assert sol.bands[0].c1(JD0 + 2 * HOUR)[0] == pytest.approx(truth[1:3, 0].mean())
    problems = sol.problems()
    assert len(problems) == 1 and "no calibration set for 2.0 h" in problems[0]
    assert "interpolates" in problems[0]
    assert json.loads(json.dumps(sol.summary()))["gaps_hours"] == [2.0]


def test_a_set_with_too_few_standards_is_dropped_and_reported() -> None:
    """Built from standards: the 2 h set's J has four; that band of it is dropped, J
    interpolates between 1 h and 3 h, H and Ks use every set."""
    rng = np.random.default_rng(3)
    hours = np.arange(5.0)
    truth = _truth(hours)
    photometry = []
    for i, (t, zp) in enumerate(zip(hours, truth, strict=True)):
        for k in range(2):  # two scans of a set, 3 minutes apart
            for b in range(3):
                n = 2 if (i == 2 and b == 0) else 30
                m_std = rng.uniform(10.0, 13.0, n)
                airmass = 1.2
                m_inst = m_std - zp[b] + EXTINCTION[b] * (airmass - 1.0) \
                    + rng.normal(0.0, 0.01, n)
                photometry.append(photcal.StandardPhotometry(
                    14 * i + 1 + k, b, JD0 + (t + k * 0.05) * HOUR, airmass, np.arange(n),
                    m_inst, np.full(n, 0.01), m_std))
    sets = photcal.measure_sets(photometry)
    assert [s.scans for s in sets] == [(14 * i + 1, 14 * i + 2) for i in range(5)]
    assert sets[2].n[0] == 4 < photcal.MIN_STANDARDS and np.isnan(sets[2].zp[0])
    sol = photcal.solve_night(sets, NOMINAL)
    assert sol.bands[0].dropped == (2,) and sol.bands[0].used == (0, 1, 3, 4)
    assert sol.bands[1].dropped == () and sol.bands[2].used == (0, 1, 2, 3, 4)
    assert sol.gaps == ((sets[1].jd, sets[3].jd),)
    problems = sol.problems()
    assert any(p.startswith("j: calibration set of scans 29+30 dropped") for p in problems)
    assert any("interpolates across the gap" in p for p in problems)
    doc = sol.summary()
    assert doc["j"]["sets_dropped"] == ["29+30"] and doc["h"]["sets_dropped"] == []
    # Each set's zero point within its error of the truth; the J one across the gap
    # interpolated.
    for s, zp in zip(sets, truth, strict=True):
        for b in range(3):
            if np.isfinite(s.zp[b]):
                assert abs(s.zp[b] - zp[b]) < 4 * s.err[b] and 0.0007 < s.err[b] < 0.002
    assert sol.bands[0].c1(sets[2].jd)[0] == pytest.approx(
        np.interp(sets[2].jd, [sets[1].jd, sets[3].jd], [sets[1].zp[0], sets[3].zp[0]]))


def test_set_zero_point_clips_outliers() -> None:
    """30 standards at 0.01 mag about 20.5 and two blends 0.3 mag bright: the blends are
    clipped; the error is the scatter over sqrt(n)."""
    rng = np.random.default_rng(5)
    m_std = rng.uniform(10.0, 13.0, 32)
    m_inst = m_std - 20.5 + rng.normal(0.0, 0.01, 32)
    m_inst[:2] -= 0.3
    p = photcal.StandardPhotometry(1, 1, JD0, 1.0, np.arange(32), m_inst,
                                   np.full(32, 0.01), m_std)
    zp, err, n = photcal.set_zero_point([p])
    assert n == 30 and zp == pytest.approx(20.5, abs=3 * 0.01 / np.sqrt(30))
    assert err == pytest.approx(0.01 / np.sqrt(30), rel=0.4)


def test_the_cross_scan_curve_of_growth_recovers_a_known_slope_and_curvature() -> None:
    """Hand-built 4"/12" ratios of 300 stars across the array (xi -255..255"): 0.85 at the
    centre line, -6e-5 per arcsec (0.03 across the array) and a curvature of 2e-7 per
    arcsec^2, with 0.01 scatter and 20 blends 0.05-0.2 low. The fit through the medians of
    bins of stars recovers the curve to a few thousandths; without a trend, or with too
    few stars, it is the median."""
    rng = np.random.default_rng(11)
    xi = rng.uniform(-255.0, 255.0, 300)
    true = photometry.CrossScanApcor((2e-7, -6e-5, 0.85))
    ratio = true(xi) + rng.normal(0.0, 0.01, 300)
    ratio[:20] -= rng.uniform(0.05, 0.2, 20)
    fit = photometry.cross_scan_apcor(ratio, xi)
    grid = np.linspace(-255.0, 255.0, 11)
    assert np.max(np.abs(fit(grid) - true(grid))) < 0.004
    assert len(fit.coeffs) == 3 and fit.coeffs[1] == pytest.approx(-6e-5, abs=1e-5)
    # A linear fit sees about the same slope; a constant one (one aperture correction per
    # scan set) misses 0.015 at the array's edges.
    linear = photometry.cross_scan_apcor(ratio, xi, degree=1)
    assert linear.coeffs[0] == pytest.approx(-6e-5, abs=1e-5)
    flat = photometry.cross_scan_apcor(ratio, xi, degree=0)
    assert np.max(np.abs(flat(grid) - true(grid))) > 0.015
    # Ratios without a trend: the bins call for no curve, and the median is kept.
    level = 0.85 + rng.normal(0.0, 0.01, 300)
    assert photometry.cross_scan_apcor(level, xi).coeffs == \
        (pytest.approx(float(np.median(level))),)
    few = photometry.cross_scan_apcor(ratio[20:30], xi[20:30])
    assert few.coeffs == (pytest.approx(float(np.median(ratio[20:30]))),)
    assert photometry.cross_scan_apcor(np.zeros(0), np.zeros(0)).coeffs == (1.0,)


def test_the_curve_of_growth_keeps_point_sources_only() -> None:
    """Hand-built 4"/12" ratios: 300 stars at 0.94 with a 0.03 trend across the array and
    0.015 scatter, 35 galaxies (0.55-0.75, as the simulator's are on the high-latitude
    calibration tile) and 10 blends 0.1-0.2 low. ``point_like`` drops every galaxy and
    blend and keeps the stars; their median is the stars' level, which the galaxies had
    pulled down by 0.3 per cent."""
    rng = np.random.default_rng(13)
    xi = rng.uniform(-255.0, 255.0, 345)
    ratio = 0.94 - 6e-5 * xi + rng.normal(0.0, 0.015, 345)
    ratio[300:335] = rng.uniform(0.55, 0.75, 35)
    ratio[335:] -= rng.uniform(0.1, 0.2, 10)
    keep = photometry.point_like(ratio)
    assert not keep[300:].any() and keep[:300].mean() > 0.98
    stars = float(np.median(ratio[:300]))
    assert float(np.median(ratio[keep])) == pytest.approx(stars, abs=0.001)
    assert stars - float(np.median(ratio)) > 0.002
    assert photometry.point_like(ratio[:3]).all()


def test_the_pooled_curve_of_growth_gives_a_band_with_few_stars_the_shape() -> None:
    """Three bands' hand-built 4"/12" ratios share one cross-scan shape (-6e-5 per arcsec,
    curvature 2e-7 per arcsec^2) at their own levels (0.85, 0.88, 0.90), with 0.01
    scatter: J and H 150 stars each, Ks 40 (two bins: alone, its median). Pooled, each
    band follows the shape at its own level to a few thousandths; a band without a star
    takes the pooled level."""
    rng = np.random.default_rng(12)
    levels, counts = (0.85, 0.88, 0.90), (150, 150, 40)
    curves, truths = [], []
    for level, n in zip(levels, counts, strict=True):
        xi = rng.uniform(-255.0, 255.0, n)
        true = photometry.CrossScanApcor((level * 2e-7 / 0.85, level * -6e-5 / 0.85, level))
        curves.append((true(xi) + rng.normal(0.0, 0.01, n), xi))
        truths.append(true)
    grid = np.linspace(-255.0, 255.0, 11)
    alone = photometry.cross_scan_apcor(*curves[2])
    assert len(alone.coeffs) == 1 and np.max(np.abs(alone(grid) - truths[2](grid))) > 0.015
    pooled = photometry.pooled_cross_scan_apcor(curves)
    for fit, true in zip(pooled, truths, strict=True):
        assert len(fit.coeffs) >= 2
        assert np.max(np.abs(fit(grid) - true(grid))) < 0.006
    missing = photometry.pooled_cross_scan_apcor([curves[0], curves[1],
                                                  (np.zeros(0), np.zeros(0))])
    level = float(np.median(np.concatenate([curves[0][0], curves[1][0]])))
    assert missing[2](grid) == pytest.approx(level * missing[0](grid)
                                             / float(np.median(curves[0][0])))
    assert [a.coeffs for a in photometry.pooled_cross_scan_apcor(
        [(np.zeros(0), np.zeros(0))] * 3)] == [(1.0,)] * 3


def test_one_set_is_a_constant_and_no_set_the_nominal_zero_point() -> None:
    sol = photcal.solve_night([_set(0.0, (21.1, 20.8, np.nan), n=(30, 30, 2))], NOMINAL)
    assert [b.model for b in sol.bands] == ["constant", "constant", "nominal"]
    assert sol.bands[0].c1(JD0 + 3 * HOUR) == pytest.approx((21.1, 0.002))
    assert sol.bands[2].c1(JD0) == pytest.approx((NOMINAL[2], photcal.NOMINAL_ZP_ERR))
    assert any("k: no calibration set" in p for p in sol.problems())


def test_the_night_zero_points_against_the_simulators(processed) -> None:
    """The observed night: three calibration sets about an hour apart around the survey
    scan. Each scan's zero point (scans.parquet) and the solution at each calibration
    scan's time, against the simulator's: the night's offset, and the change from scan
    to scan (J wandering hour to hour) within ``ZP_TOLERANCE``. The field (b = +6 deg) is
    crowded: the curve of growth's 12" aperture gathers faint neighbours' light the
    annulus median misses, which puts the standards 0.7-0.9 % bright here (up to 2.3 %
    in Ks with other noise in the calibration scans; ``ZP_CROWDED``; at b = +35 deg all are
    within 0.01 mag, benchmarks/bench_photcal.py); that bias is in the survey scans'
    aperture corrections too. The standards calibrated with the
    solution, each averaged over the night, against their true magnitudes; their scatter
    is the 4" aperture's dependence on the position on the array (~0.03 mag from edge to
    edge): here, crowded and with 10-frame calibration scans, one band's curve-of-growth
    bins scatter too much to show it; the three bands' pooled
    (``photometry.cross_scan_shape``) call for a line."""
    solution, photometry = processed.kept_photcal
    t = processed.true_frames
    truth = {(int(s), b): float(z) + 2.5 * np.log10(inst.EXPOSURE_SECONDS)
             for s, b, z in zip(t["scan"], t["band"], t["zp"], strict=True)}
    assert len(solution.sets) == 3 and solution.problems() == []
    hours = np.diff([s.jd for s in solution.sets]) * 24.0
    assert np.all((hours > 0.9) & (hours < 1.2))
    scans = pq.read_table(processed.products / "scans.parquet").to_pydict()
    pts = pq.read_table(processed.products / "pts.parquet").to_pydict()
    doc = json.loads((processed.products / "night.json").read_text())["zero_points"]
    assert [doc[b]["model"] for b in inst.BANDS] == ["interpolated", "linear", "linear"]
    std = processed.truth
    true_mag = dict(zip(std["ra"], zip(std["j_m"], std["h_m"], std["k_m"], strict=True),
                        strict=True))
    listed = pq.read_table(processed.night / "ref" / "standards.parquet").to_pydict()
    residuals = photcal.calibrated_residuals(solution, photometry, per_standard=True)
    for b, band in enumerate(inst.BANDS):
        d = [scans[f"{band}_zp_ap"][i] - truth[(scan, band)]
             for i, scan in enumerate(scans["scan"])]
        d += [solution.zero_point(b, p.jd, p.airmass)[0] - truth[(p.scan, band)]
              for p in photometry if p.band == b]
        offset = np.median(d)
        assert abs(offset) < (ZP_TOLERANCE if band == "j" else ZP_CROWDED), band
        assert np.max(np.abs(np.asarray(d) - offset)) < ZP_TOLERANCE, band
        # The zero point's error in the scan's row and in msigcom.
        err = scans[f"{band}_zperr_ap"][0]
        assert 0.0005 < err < 0.005
        fitted = np.array([f[b] == "2" for f in pts["rd_flg"]])
        cmsig = np.asarray(pts[f"{band}_cmsig"], np.float32)[fitted]
        extra = np.asarray(pts[f"{band}_msigcom"], float)[fitted] ** 2 \
            - cmsig.astype(float) ** 2
        # float32 columns (a difference of squares resolves 2 cmsig ulp(cmsig): 2.5e-7
        # at S/N 1); the catalog's zero-point and flat-field terms beside it, and the
        # scan's profile-fit flux scale error (the same for all its fitted sources of
        # the band, 1-2 % at most on a short scan's few normalising stars)
        tolerance = 2e-7 + 2.0 * cmsig * np.spacing(cmsig)
        scale2 = extra - (err**2 + ZPERR[b] ** 2 + 0.005**2)
        scan_of = np.asarray(pts["scan"])[fitted]
        for scan in np.unique(scan_of):
            own = scale2[scan_of == scan]
            assert np.all(np.abs(own - np.median(own)) < tolerance[scan_of == scan])
            assert -2e-7 < np.median(own) < 0.02**2
        rows, r = residuals[b]
        assert len(rows) >= 30
        true = np.array([true_mag[listed["ra"][i]][b] for i in rows])
        d_true = r + np.asarray(listed[f"{band}_m"])[rows] - true
        assert np.sqrt(np.mean((d_true - np.median(d_true)) ** 2)) < STANDARDS_RMS, band


def test_a_scans_aperture_corrections_come_from_its_three_bands_at_the_nights_ratios() -> None:
    """200 hand-built survey scans: each scan's true 4"/12" levels are the night's band
    levels (0.85, 0.88, 0.90) times a factor of its own (the seeing, 1 +- 0.01); J and
    H have 300 and 250 curve-of-growth stars, Ks 30 and noisier ones (0.03 against 0.015
    scatter). Set from the three bands at the night's ratios (``scan_levels`` with
    ``band_levels``), Ks's correction is within a third of its own median's rms error of
    the truth, J's and H's no worse than their own; without stars a band takes the
    night's level; without ``band_levels`` each band keeps its own median. The night's
    levels need ``APCOR_MIN_STARS`` calibration-scan stars in every band."""
    rng = np.random.default_rng(17)
    night = (0.85, 0.88, 0.90)
    counts, scatter = (300, 250, 30), (0.015, 0.015, 0.03)
    own_err, pooled_err = [], []
    for _ in range(200):
        factor = 1.0 + rng.normal(0.0, 0.01)
        ratios = [level * factor + rng.normal(0.0, s, n)
                  for level, n, s in zip(night, counts, scatter, strict=True)]
        truth = np.array(night) * factor
        own_err.append(np.array(photometry.scan_levels(ratios)) - truth)
        pooled_err.append(np.array(photometry.scan_levels(ratios, night)) - truth)
        assert photometry.scan_levels(ratios) == pytest.approx(
            [float(np.median(r)) for r in ratios])
    own = np.sqrt(np.mean(np.square(own_err), axis=0))
    pooled = np.sqrt(np.mean(np.square(pooled_err), axis=0))
    assert pooled[2] < own[2] / 3.0
    assert np.all(pooled[:2] < own[:2] * 1.05)
    assert photometry.scan_levels([np.zeros(0)] * 3, night) == pytest.approx(list(night))
    curves = [(level + rng.normal(0.0, 0.01, n), rng.uniform(-255.0, 255.0, n))
              for level, n in zip(night, (40, 40, photometry.APCOR_MIN_STARS), strict=True)]
    assert photometry.night_band_levels(curves) == pytest.approx(
        tuple(float(np.median(r)) for r, _ in curves))
    assert photometry.night_band_levels(curves[:2] + [(np.zeros(3), np.zeros(3))]) is None
