"""Profile-fit photometry on hand-built frames with known stars, PSF and frame offsets.

The scenes are rendered with the simulator's pixel integrator (``render.add_mixtures``,
a Gaussian core and a wider wing) on frames placed along a north scan with known
offsets; the Registration holds the true frame centres. The oracle is what the scene
was built with: fluxes, positions, the PSF. The last test measures the pixel-pipeline
tests' observed scan against the simulator's truth.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.stages.conftest import BRIGHT
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import calibrate, extract, fidelity, psffit, register, render, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.calibrate import CalibratedScan

RA0, DEC0 = 137.33, 9.0
NOISE_ADU = 6.0
SIGMA_PX = 0.55
WING = (0.08, 3.0)
MAGZP = 20.0


def truth_psf(n_frames: int, growth: float = 0.0) -> psffit.PsfModel:
    return psffit.PsfModel(np.full(n_frames, SIGMA_PX), growth, WING[0], WING[1], 0.0)


def scene(seed: int, ra: np.ndarray, dec: np.ndarray, flux: np.ndarray, n_frames: int = 10,
          growth: float = 0.0, cosmic: tuple[int, float, float, float] | None = None,
          detect: bool = False, tilt: tuple[float, float] = (0.0, 0.0)):
    """Frames of a north scan seeing stars at (ra, dec) with total ``flux`` [ADU]; frame
    centres offset from the nominal track by up to 1"; Gaussian read and sky noise and
    the stars' Poisson noise. ``cosmic``: (frame, ra, dec, ADU) on one pixel. The core is
    ``1 + growth r^2 / FIELD_RADIUS_PX^2 + tilt . (u, v)`` times ``SIGMA_PX`` ((u, v): the
    position in half array widths from the centre)."""
    rng = np.random.default_rng(seed)
    step = inst.STEP_ARCSEC["n"]
    phi = DEC0 + (np.arange(n_frames) - 0.5 * (n_frames - 1)) * step / 3600.0
    off = rng.normal(0.0, 0.5, (n_frames, 2)) / 3600.0
    c_ra, c_dec = scanframe.to_radec(RA0, off[:, 0], phi + off[:, 1])
    c_ra, c_dec = np.asarray(c_ra, float), np.asarray(c_dec, float)
    frames = np.zeros((n_frames, inst.NPIX, inst.NPIX), np.float32)
    reg = register.Registration(c_ra, c_dec, np.zeros((n_frames, 2)), 0.0, 0, 0, 0.0)
    for k in range(n_frames):
        x, y = _pixels(reg, k, ra, dec)
        image = np.zeros((inst.NPIX, inst.NPIX))
        r2 = ((x - 127.5) ** 2 + (y - 127.5) ** 2) / psffit.FIELD_RADIUS_PX**2
        u, v = (x - 127.5) / 128.0, (y - 127.5) / 128.0
        sig = SIGMA_PX * (1.0 + growth * np.clip(r2, 0, 1) + tilt[0] * u + tilt[1] * v)
        render.add_mixtures(image, x, y, [(flux * (1 - WING[0]), sig),
                                          (flux * WING[0], WING[1] * sig)], 14)
        image += rng.normal(0.0, 1.0, image.shape) * np.sqrt(
            NOISE_ADU**2 + np.maximum(image, 0.0) / inst.GAIN)
        if cosmic is not None and cosmic[0] == k:
            cx, cy = _pixels(reg, k, np.array([cosmic[1]]), np.array([cosmic[2]]))
            image[int(np.rint(cy[0])), int(np.rint(cx[0]))] += cosmic[3]
        frames[k] = image
    good = np.ones(frames.shape, bool)
    dets = [calibrate.detect(f, np.full(f.shape, NOISE_ADU, np.float32),
                             np.zeros(f.shape, bool), np.zeros(f.shape, bool))
            for f in frames] if detect else [np.zeros(0)] * n_frames
    cal = CalibratedScan(frames, good, np.zeros(frames.shape, bool), np.zeros(n_frames),
                         np.full(n_frames, NOISE_ADU), dets, [0] * n_frames)
    return cal, reg


def _pixels(reg, k, ra, dec):
    return tan.world_to_pix(*reg.frame_wcs(k), ra, dec)


def sky_offsets(ra, dec, ra_t, dec_t) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) offsets [arcsec] of (ra, dec) from (ra_t, dec_t)."""
    return ((ra - ra_t + 540.0) % 360.0 - 180.0) * np.cos(np.radians(dec_t)) * 3600.0, \
        (dec - dec_t) * 3600.0


def grid(spacing_arcsec: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Positions on a grid across the middle frames of the scan."""
    xi, ph = np.meshgrid(np.arange(-200.0, 201.0, spacing_arcsec),
                         np.arange(-300.0, 301.0, spacing_arcsec))
    ra, dec = scanframe.to_radec(RA0, xi.ravel() / 3600.0, DEC0 + ph.ravel() / 3600.0)
    return np.asarray(ra, float), np.asarray(dec, float)


def test_isolated_star_flux_and_position_within_errors() -> None:
    ra, dec = np.array([RA0 + 0.0003]), np.array([DEC0 + 0.0002])
    flux = np.array([5000.0])
    cal, reg = scene(1, ra, dec, flux)
    # Start 0.36" off, as a detection on the Atlas Image may be.
    fit = psffit.profile_fit(cal, reg, ra + 0.3 / 3600.0, dec - 0.2 / 3600.0, 2.5, MAGZP,
                             psf=truth_psf(10))
    assert fit.ok[0] and fit.ncomp[0] == 1 and fit.nframes[0] in (6, 7)
    assert abs(fit.flux[0] - flux[0]) < 3.0 * fit.flux_err[0]
    assert fit.flux_err[0] < 0.005 * flux[0]
    assert abs(fit.mag[0] - (MAGZP - 2.5 * np.log10(flux[0]))) < 3.0 * fit.msig[0]
    east, north = sky_offsets(fit.ra, fit.dec, ra, dec)
    assert abs(east[0]) < 3.0 * fit.sigma_ra[0] and abs(north[0]) < 3.0 * fit.sigma_dec[0]
    assert fit.sigma_ra[0] < 0.02  # arcsec, at S/N ~ 400
    assert 0.7 < fit.psfchi[0] < 1.4


def test_pair_at_three_arcsec_is_one_blend_of_two() -> None:
    ra = np.array([RA0, RA0 + 3.0 / 3600.0 / np.cos(np.radians(DEC0))])
    dec = np.array([DEC0, DEC0])
    flux = np.array([3000.0, 1500.0])
    cal, reg = scene(4, ra, dec, flux)
    fit = psffit.profile_fit(cal, reg, ra + 0.4 / 3600.0, dec - 0.3 / 3600.0, 2.5, MAGZP,
                             psf=truth_psf(10))
    assert list(fit.ncomp) == [2, 2]
    assert np.all(np.abs(fit.flux - flux) < 4.0 * fit.flux_err)
    assert np.all(fit.flux_err < 0.02 * flux)
    east, north = sky_offsets(fit.ra, fit.dec, ra, dec)
    assert np.all(np.hypot(east, north) < 0.1)
    # Apart from its neighbour the same star is measured as well, and alone.
    alone = psffit.profile_fit(cal, reg, ra[:1], dec[:1], 2.5, MAGZP, psf=truth_psf(10))
    assert alone.ncomp[0] == 1
    assert alone.flux[0] > flux[0] + 10 * fit.flux_err[0]  # the neighbour's light


def test_measured_psf_and_errors_over_many_stars() -> None:
    """294 isolated stars at S/N 10-100 (and some fainter and brighter): the PSF
    measured from the frames' detections is the one rendered; magnitudes scatter about
    the truth by their corrected errors, positions by theirs."""
    rng = np.random.default_rng(3)
    ra, dec = grid()
    flux = np.exp(rng.uniform(np.log(50.0), np.log(700.0), len(ra)))
    cal, reg = scene(2, ra, dec, flux, detect=True)
    psf = psffit.measure_psf(cal, 2.7)  # a SEEING 0.1" high, as run.seeing_fwhm's is
    assert abs(psf.fwhm_arcsec() / (2.3548 * SIGMA_PX * inst.PIXEL_ARCSEC) - 1.0) < 0.03
    assert abs(psf.wing_fraction - WING[0]) <= 0.03
    assert abs(psf.growth) < 0.05 and psf.psf_error < 0.02
    start_ra = ra + rng.normal(0.0, 0.3, len(ra)) / 3600.0
    start_dec = dec + rng.normal(0.0, 0.3, len(ra)) / 3600.0
    fit = psffit.profile_fit(cal, reg, start_ra, start_dec, 2.7, MAGZP, psf=psf)
    snr = 1.0857 / fit.cmsig
    pick = (snr > 10) & (snr < 100) & (fit.nframes >= 5)
    assert pick.sum() > 200
    dm = fit.mag - (MAGZP - 2.5 * np.log10(flux))
    assert 0.8 < np.sqrt(np.mean((dm / fit.cmsig)[pick] ** 2)) < 1.3
    assert abs(np.median(dm[pick])) < 0.01
    east, north = sky_offsets(fit.ra, fit.dec, ra, dec)
    assert 0.8 < np.sqrt(np.mean((east / fit.sigma_ra)[pick] ** 2)) < 1.3
    assert 0.8 < np.sqrt(np.mean((north / fit.sigma_dec)[pick] ** 2)) < 1.3
    assert 0.9 < np.median(fit.psfchi[pick]) < 1.15
    assert np.all(fit.correction.factor > 0.8) and np.all(fit.correction.factor < 1.25)


def test_field_dependent_psf_is_measured_and_fitted() -> None:
    """Stars 10 % wider at the array's corners: the measured growth follows, and corner
    stars' fluxes stay unbiased."""
    rng = np.random.default_rng(8)
    ra, dec = grid(25.0)
    flux = np.exp(rng.uniform(np.log(400.0), np.log(3000.0), len(ra)))
    cal, reg = scene(9, ra, dec, flux, growth=0.10, detect=True)
    psf = psffit.measure_psf(cal, 2.5)
    assert 0.06 < psf.growth < 0.14
    fit = psffit.profile_fit(cal, reg, ra, dec, 2.5, MAGZP, psf=psf)
    pull = (fit.flux - flux) / fit.flux_err
    x, y = _pixels(reg, 5, ra, dec)
    r2 = ((x - 127.5) ** 2 + (y - 127.5) ** 2) / psffit.FIELD_RADIUS_PX**2
    ok = fit.nframes >= 5
    centre, corner = ok & (r2 < 0.2), ok & (r2 > 0.4)
    assert abs(np.mean(pull[corner]) - np.mean(pull[centre])) < 0.5
    assert np.std(pull[ok]) < 1.3
    assert abs(np.median(fit.flux[ok] / flux[ok]) - 1.0) < 0.005


def test_tilted_focal_plane_is_measured_and_fitted() -> None:
    """Stars 8 % wider at the array's +x edge, 8 % narrower at its -x edge: the measured
    tilt follows, and the fluxes on either side stay unbiased (unfitted, a width error of
    8 % costs a sky-limited star about as much of its flux)."""
    rng = np.random.default_rng(11)
    ra, dec = grid(25.0)
    flux = np.exp(rng.uniform(np.log(400.0), np.log(3000.0), len(ra)))
    cal, reg = scene(12, ra, dec, flux, tilt=(0.08, 0.0), detect=True)
    psf = psffit.measure_psf(cal, 2.5)
    assert 0.05 < psf.tilt[0] < 0.11 and abs(psf.tilt[1]) < 0.03 and abs(psf.growth) < 0.05
    x, _ = _pixels(reg, 5, ra, dec)
    for model in (psf, dataclasses.replace(psf, tilt=(0.0, 0.0))):
        fit = psffit.profile_fit(cal, reg, ra, dec, 2.5, MAGZP, psf=model)
        ratio = fit.flux / flux
        ok = fit.nframes >= 5
        plus, minus = ok & (x > 180), ok & (x < 75)
        gap = np.median(ratio[plus]) - np.median(ratio[minus])
        if model is psf:
            assert abs(gap) < 0.01
        else:
            assert gap < -0.05


def test_error_correction_merges_sparse_bins() -> None:
    """Single-frame fluxes scattering 1.2 times their errors at S/N 30 (40 sources) and
    2 times at S/N 70 (12, too few for a bin): merged, the S/N 70 sources get the two's
    mean square, 1.43, not the S/N 30 bin's 1.2; the clipped mean ignores one source
    100 times off."""
    rng = np.random.default_rng(5)
    snr = np.concatenate([np.full(40, 30.0), np.full(12, 70.0), np.full(30, 5.0)])
    inflation = np.select([snr == 30.0, snr == 70.0], [1.2, 2.0], 1.0) ** 2
    frame_chi2 = rng.chisquare(5, len(snr)) * inflation
    frame_chi2[0] = 100.0 * 5 * 1.44
    res = {"flux": snr, "var_flux": np.ones(len(snr)), "frame_df": np.full(len(snr), 5),
           "frame_chi2": frame_chi2, "ok": np.ones(len(snr), bool),
           "ncomp": np.ones(len(snr), int), "saturated": np.zeros(len(snr), bool)}
    corr = psffit.error_correction(res)
    assert list(corr.sources) == [30, 52]
    expected = np.sqrt((40 * 1.2**2 + 12 * 2.0**2) / 52)
    assert abs(corr.factor[0] - 1.0) < 0.15 and abs(corr.factor[1] - expected) < 0.15
    assert corr(np.array([70.0]))[0] > 1.3


def test_cosmic_ray_and_masked_pixels() -> None:
    ra, dec, flux = np.array([RA0]), np.array([DEC0]), np.array([800.0])
    clean_cal, reg = scene(5, ra, dec, flux)
    clean = psffit.profile_fit(clean_cal, reg, ra, dec, 2.5, MAGZP, psf=truth_psf(10))
    # 2000 ADU on one pixel 1" from the star on one frame (the star's peak is ~200).
    cal, reg = scene(5, ra, dec, flux, cosmic=(3, RA0 + 1.0 / 3600.0, DEC0, 2000.0))
    hit = psffit.profile_fit(cal, reg, ra, dec, 2.5, MAGZP, psf=truth_psf(10))
    assert abs(hit.flux[0] - clean.flux[0]) < 0.5 * clean.flux_err[0]
    assert hit.flux_err[0] < 1.2 * clean.flux_err[0]
    assert hit.psfchi[0] < 1.5
    # Pixels of a frame marked bad carry garbage: they must not count.
    x, y = _pixels(reg, 4, ra, dec)
    ix, iy = int(np.rint(x[0])), int(np.rint(y[0]))
    clean_cal.frames[4, iy - 1:iy + 2, ix - 1:ix + 2] = 1e5
    clean_cal.good[4, iy - 1:iy + 2, ix - 1:ix + 2] = False
    masked = psffit.profile_fit(clean_cal, reg, ra, dec, 2.5, MAGZP, psf=truth_psf(10))
    assert abs(masked.flux[0] - flux[0]) < 3.0 * masked.flux_err[0]
    weight = np.ones(cal.frames.shape, np.float32)
    x, y = _pixels(reg, 3, np.array([RA0 + 1.0 / 3600.0]), dec)
    weight[3, int(np.rint(y[0])), int(np.rint(x[0]))] = 0.0  # the transient mask
    hit_masked = psffit.profile_fit(cal, reg, ra, dec, 2.5, MAGZP, psf=truth_psf(10),
                                    weight=weight)
    assert abs(hit_masked.flux[0] - flux[0]) < 3.0 * hit_masked.flux_err[0]


def test_crowded_group_is_split_to_at_most_seven() -> None:
    rng = np.random.default_rng(12)
    xi, ph = rng.uniform(-6.0, 6.0, (2, 11))
    ra, dec = scanframe.to_radec(RA0, xi / 3600.0, DEC0 + ph / 3600.0)
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    cal, reg = scene(13, ra, dec, np.full(11, 2000.0))
    fit = psffit.profile_fit(cal, reg, ra, dec, 2.5, MAGZP, psf=truth_psf(10))
    assert fit.ncomp.max() <= psffit.MAX_COMPONENTS and (fit.ncomp > 1).sum() >= 9
    assert np.all(fit.ok)


def test_mismatched_positions_are_refused() -> None:
    cal, reg = scene(1, np.array([RA0]), np.array([DEC0]), np.array([100.0]), n_frames=3)
    with pytest.raises(ValueError, match="ra has 2 positions, dec 1"):
        psffit.profile_fit(cal, reg, np.array([RA0, RA0]), np.array([DEC0]), 2.5, MAGZP)


def test_position_off_every_frame_is_not_measured() -> None:
    cal, reg = scene(1, np.array([RA0]), np.array([DEC0]), np.array([1000.0]), n_frames=4)
    fit = psffit.profile_fit(cal, reg, np.array([RA0 + 1.0, RA0]), np.array([DEC0, DEC0]),
                             2.5, MAGZP, psf=truth_psf(4))
    assert list(fit.ok) == [False, True] and list(fit.nframes) == [0, 4]
    assert np.isnan(fit.flux[0]) and np.isnan(fit.mag[0]) and np.isfinite(fit.mag[1])


@pytest.mark.parametrize("band", inst.BANDS)
def test_observed_scan_against_the_truth(processed, band) -> None:
    """The pixel-pipeline tests' survey scan: every Atlas Image detection fitted on the
    frames; isolated unsaturated true stars are measured to their corrected errors, on
    the truth's scale, and the PSF follows the true seeing frame by frame."""
    r = processed.results[band]
    det = np.concatenate([extract.detect(image) for image in r.images])
    fit = psffit.profile_fit(r.cal, r.reg, det["ra"], det["dec"], r.seeing, r.magzp,
                             r.images, weight=r.weight)
    ph = fidelity.profile_photometry(fit, processed.truth, band)
    assert ph.n >= 60
    assert 0.8 < ph.rms_over_cmsig < 1.3
    assert abs(ph.median_dmag) < 0.02
    assert ph.n_bright >= 10 and ph.bright_rms < 0.03 and abs(ph.bright_median) < 0.02
    assert 0.9 < ph.psfchi_median < 1.2
    assert abs(fit.aperture_scale - 1.0) < 0.03
    sel = [i for i, (s, b) in enumerate(zip(processed.true_frames["scan"],
                                            processed.true_frames["band"], strict=True))
           if s == processed.survey_scan and b == band]
    true_fwhm = np.asarray(processed.true_frames["fwhm"])[sel]
    fwhm = 2.3548 * fit.psf.sigma_px * inst.PIXEL_ARCSEC
    assert np.sqrt(np.mean((fwhm - true_fwhm) ** 2)) < 0.1
    # The injected Ks 6 star is saturated in Read_2: flagged for Read_1 photometry.
    near = np.hypot((fit.ra - BRIGHT.ra) * np.cos(np.radians(BRIGHT.dec)),
                    fit.dec - BRIGHT.dec) * 3600.0 < 2.0
    assert near.any() and fit.saturated[near].all()


def test_the_same_source_given_twice_is_fitted_once() -> None:
    """Overlapping Atlas Images detect a star twice, 0.2" apart: one fit, not a blend
    sharing its flux."""
    ra, dec, flux = np.array([RA0]), np.array([DEC0]), np.array([2000.0])
    cal, reg = scene(6, ra, dec, flux)
    twice_ra = np.array([RA0, RA0 + 0.2 / 3600.0, RA0 + 0.01])
    fit = psffit.profile_fit(cal, reg, twice_ra, np.full(3, DEC0), 2.5, MAGZP,
                             psf=truth_psf(10))
    assert list(fit.same_as) == [0, 0, 2] and list(fit.ncomp[:2]) == [1, 1]
    assert fit.flux[0] == fit.flux[1] and abs(fit.flux[0] - flux[0]) < 3 * fit.flux_err[0]
