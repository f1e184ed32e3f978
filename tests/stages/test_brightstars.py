"""Bright-star photometry (rd_flg 1, 3, 4) and upper limits (rd_flg 0) on hand-built scenes,
and the injected bright star of the shared simulated scan.

The frames are rendered from known stars (the simulator's two-component PSF, its
detector reads: Poisson and read noise, non-linearity, saturation) at known frame
centres, calibrated by ``calibrate_scan`` with the exact bias and a flat responsivity;
the oracle is the stars' magnitudes and positions. The Atlas Image scenes are white noise
of known rms with stars of known flux.
"""

from __future__ import annotations

import numpy as np
import pytest
import sep

from tests.stages.conftest import BRIGHT
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import atlas, brightstars, calibrate, register, render, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.detector import Detector

RA0, DEC0 = 150.0, 20.0
MAGZP = 20.2  # mag of 1 ADU per R2-R1 frame
SKY = 1100.0  # ADU per R2-R1 frame and pixel (Ks)
FWHM = 2.5
N_FRAMES = 9
#: The stars under test, near the scan's middle (each seen on 6 frames), by name:
#: (cross-scan offset ["], along-scan offset from the middle ["], Ks).
TARGETS = {"read2_saturated": (-150.0, 0.0, 7.0), "read1_saturated": (20.0, 30.0, 4.5),
           "unsaturated": (170.0, -40.0, 11.0)}


def _scene(seed: int, profile_stars: int = 40, targets: tuple[str, ...] = tuple(TARGETS)):
    """A short north scan: the calibrated frames, their registration (the true frame
    centres) and the stars under test (ra, dec, mag) by name."""
    rng = np.random.default_rng(seed)
    step = inst.STEP_ARCSEC["n"]
    phi = DEC0 + (np.arange(N_FRAMES) - (N_FRAMES - 1) / 2) * step / 3600.0
    ra_c, dec_c = scanframe.to_radec(RA0, np.zeros(N_FRAMES), phi)
    half = 0.5 * inst.NPIX * inst.PIXEL_ARCSEC - 30.0
    xi = list(rng.uniform(-half, half, profile_stars))
    ph = list(rng.uniform(phi[0] * 3600 - half, phi[-1] * 3600 + half, profile_stars))
    mag = list(rng.uniform(10.0, 11.5, profile_stars))
    for x, p, m in (TARGETS[t] for t in targets):
        xi.append(x)
        ph.append(DEC0 * 3600.0 + p)
        mag.append(m)
    s_ra, s_dec = scanframe.to_radec(RA0, np.array(xi) / 3600.0, np.array(ph) / 3600.0)
    mag = np.array(mag)
    flux = 10 ** (-0.4 * (mag - MAGZP))
    n = inst.NPIX
    det = Detector(np.ones((n, n), np.float32), np.zeros((n, n), np.float32),
                   np.full((n, n), inst.BIAS_ADU, np.float32))
    zero = np.zeros((n, n), np.float32)
    r1 = np.empty((N_FRAMES, n, n), np.int16)
    r2 = np.empty_like(r1)
    sigma = FWHM / 2.3548 / inst.PIXEL_ARCSEC
    for k in range(N_FRAMES):
        image = np.full((n, n), SKY)
        x, y = tan.world_to_pix((ra_c[k], dec_c[k]), inst.cd_matrix(), register.CRPIX,
                                s_ra, s_dec)
        render.add_psf_sources(image, x, y, flux, np.full(len(x), sigma), 5.0)
        r1[k], r2[k] = det.reads(rng, image, zero)
    cal = calibrate.BandCalibration(det.reset, zero, np.ones((n, n), np.float32),
                                    np.zeros((n, n), bool))
    scan = calibrate.calibrate_scan(r1, r2, cal)
    reg = register.Registration(np.asarray(ra_c), np.asarray(dec_c), np.zeros((N_FRAMES, 2)),
                                0.0, 0, 0, float("nan"))
    m = len(targets)
    stars = {name: (float(s_ra[-m + i]), float(s_dec[-m + i]), float(mag[-m + i]))
             for i, name in enumerate(targets)}
    return scan, reg, stars


@pytest.fixture(scope="module")
def scene():
    return _scene(3)


def _offset_arcsec(ra, dec, ra_true, dec_true) -> float:
    return float(np.hypot((ra - ra_true) * np.cos(np.radians(dec_true)), dec - dec_true)
                 * 3600.0)


def _measure(scene, names, shift_arcsec: float = 0.0, **kwargs):
    cal, reg, stars = scene
    ra = np.array([stars[n][0] for n in names])
    dec = np.array([stars[n][1] for n in names]) + shift_arcsec / 3600.0
    return brightstars.bright_photometry(cal, reg, ra, dec, MAGZP, 0.9, **kwargs)


def test_profile_learns_the_frames_curve_of_growth(scene) -> None:
    """The 4"/12" ratio from the frames' stars equals the PSF's own (pixel-integrated,
    sub-pixel phases averaged) within 1 %."""
    cal, _, _ = scene
    profile = brightstars.radial_profile(cal)
    assert profile is not None and profile.n_stars >= 20
    rng = np.random.default_rng(0)
    sigma = FWHM / 2.3548 / inst.PIXEL_ARCSEC
    image = np.zeros((64, 64))
    x, y = 20 + rng.random(9) * 24, 20 + rng.random(9) * 24
    ratios = []
    for xi, yi in zip(x, y, strict=True):
        image[:] = 0.0
        render.add_psf_sources(image, np.array([xi]), np.array([yi]), np.ones(1),
                               np.full(1, sigma), 1e-6)
        f4, _, _ = sep.sum_circle(image, [xi], [yi], brightstars.APERTURE_PX)
        f12, _, _ = sep.sum_circle(image, [xi], [yi], brightstars.TOTAL_PX)
        ratios.append(f4[0] / f12[0])
    assert abs(profile.apcor / np.mean(ratios) - 1.0) < 0.01


def test_read2_saturated_star_is_measured_on_read1(scene) -> None:
    """Ks 7: saturated on Read_2, not on Read_1: the mean Read_1 aperture magnitude on the
    corrected 4" scale, rd_flg 1, within 0.05 mag and its error, position within 0.3"."""
    _, _, stars = scene
    out = _measure(scene, ["read2_saturated"])
    ra, dec, mag = stars["read2_saturated"]
    assert out.saturated_read2[0] and not out.saturated_read1[0]
    assert out.rd[0] == brightstars.RD_READ1 and out.ok[0]
    assert out.n_frames[0] >= 5
    assert abs(out.mag[0] - mag) < 0.05
    assert 0.0 < out.msig[0] < 0.05
    assert _offset_arcsec(out.ra[0], out.dec[0], ra, dec) < 0.3


def test_read1_saturated_star_is_fitted_on_its_wings(scene) -> None:
    """Ks 4.5: saturated on every Read_1 frame: the radial-profile fit to the unsaturated
    pixels, rd_flg 3, within 0.2 mag and 0.5" of the truth, starting 1.5" off."""
    cal, reg, stars = scene
    out = _measure(scene, ["read1_saturated"], shift_arcsec=1.5)
    ra, dec, mag = stars["read1_saturated"]
    assert out.saturated_read2[0] and out.saturated_read1[0]
    assert out.rd[0] == brightstars.RD_WINGS and out.ok[0]
    assert abs(out.mag[0] - mag) < 0.2
    assert _offset_arcsec(out.ra[0], out.dec[0], ra, dec) < 0.5
    assert 0.0 < out.msig[0] < 0.2


def test_unsaturated_star_is_not_a_bright_star(scene) -> None:
    out = _measure(scene, ["unsaturated"])
    assert not out.saturated_read2[0] and not out.saturated_read1[0]
    assert out.rd[0] == brightstars.RD_READ2 and not out.ok[0] and np.isnan(out.mag[0])


def test_results_are_index_aligned(scene) -> None:
    names = ["unsaturated", "read1_saturated", "read2_saturated", "unsaturated"]
    out = _measure(scene, names)
    assert list(out.rd) == [2, 3, 1, 2]
    assert len(out.mag) == len(out.ra) == len(out.saturated_read2) == 4


def test_failed_profile_fit_falls_back_to_a_faint_aperture_bound() -> None:
    """Without unsaturated stars to measure the profile from, the Read_1-saturated star
    gets the Read_1 aperture with its saturated pixels at their ceiling: rd_flg 4,
    fainter than the truth (saturation only loses flux) but not by more than a magnitude."""
    scene = _scene(5, profile_stars=0, targets=("read1_saturated", "read2_saturated"))
    assert brightstars.radial_profile(scene[0]) is None
    out = _measure(scene, ["read1_saturated", "read2_saturated"])
    mag = scene[2]["read1_saturated"][2]
    assert out.rd[0] == brightstars.RD_APERTURE and out.ok[0]
    assert mag < out.mag[0] < mag + 1.0
    # The Read_2-saturated star still has its Read_1 magnitude (the Atlas apcor given).
    assert out.rd[1] == brightstars.RD_READ1


def _atlas_apcor() -> float:
    """The true 4"/total fraction of the scene's PSF on 1" pixels (its curve of growth)."""
    one = np.zeros((41, 41))
    render.add_psf_sources(one, np.array([20.3]), np.array([20.6]), np.ones(1),
                           np.full(1, FWHM / 2.3548 / inst.ATLAS_ARCSEC), 1e-6)
    return float(sep.sum_circle(one, [20.3], [20.6], 4.0)[0][0])


def _aperture_noise(pixel_sd: float) -> float:
    """The true noise of a 4" aperture on white noise, on the total-flux scale."""
    return pixel_sd * np.sqrt(np.pi * 16.0) / _atlas_apcor()


def _atlas_scene(seed: int, fluxes: np.ndarray, pixel_sd: float):
    """A 512 x 1024 Atlas Image of white noise with stars of total ``fluxes`` on a grid;
    returns the image and the positions."""
    rng = np.random.default_rng(seed)
    ny, nx = inst.ATLAS_SHAPE
    data = rng.normal(0.0, pixel_sd, (ny, nx))
    gx, gy = np.meshgrid(np.arange(40, nx - 40, 45.0), np.arange(40, ny - 40, 45.0))
    x, y = gx.ravel()[:len(fluxes)] + rng.random(len(fluxes)), \
        gy.ravel()[:len(fluxes)] + rng.random(len(fluxes))
    sigma = FWHM / 2.3548 / inst.ATLAS_ARCSEC
    render.add_psf_sources(data, x, y, fluxes, np.full(len(x), sigma), pixel_sd)
    crval = (RA0, DEC0)
    image = atlas.AtlasImage(1, crval, data.astype(np.float32),
                             np.full((ny, nx), 6, np.uint8), _atlas_apcor())
    ra, dec = tan.pix_to_world(crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, x, y)
    return image, ra, dec


def test_upper_limits_hold_the_flux_and_follow_the_noise() -> None:
    """At positions holding a star of 1.5 sigma (total flux), the 95 % upper limit lies
    above its true flux at >= 95 % of them; at empty positions the limit is at least
    2 sigma of the true noise and not looser than 5 sigma in the median (the reported
    error includes the co-add's pixel correlation, 1.5, absent from white noise); a star
    at S/N 20 is brighter than every limit."""
    sigma = _aperture_noise(10.0)
    faint, empty = np.full(120, 1.5 * sigma), np.zeros(80)
    image, ra, dec = _atlas_scene(4, np.concatenate([faint, empty]), 10.0)
    limit = brightstars.upper_limits(image, MAGZP, ra, dec)
    assert np.isfinite(limit).all()
    flux = 10 ** (-0.4 * (limit - MAGZP))
    assert np.mean(flux[:120] >= faint) >= 0.95
    assert flux[120:].min() >= 2.0 * sigma
    assert np.median(flux[120:]) <= 5.0 * sigma
    star = MAGZP - 2.5 * np.log10(20.0 * sigma)
    assert star < limit.min()
    # Off the image: no limit.
    off = brightstars.upper_limits(image, MAGZP, np.array([RA0 + 1.0]), np.array([DEC0]))
    assert np.isnan(off[0])


def test_saturated_stars_are_found_on_the_frames(scene) -> None:
    """The stars saturated on Read_2 are found from their saturated patches (the Atlas
    Images have a hole where a star saturates every Read_1 frame), within 1" of the
    truth; the unsaturated star is not."""
    cal, reg, stars = scene
    ra, dec, n = brightstars.saturated_stars(cal, reg)
    assert len(ra) == 2 and np.all(n >= 5)
    for name in ("read2_saturated", "read1_saturated"):
        t_ra, t_dec, _ = stars[name]
        dist = [_offset_arcsec(a, d, t_ra, t_dec) for a, d in zip(ra, dec, strict=True)]
        assert min(dist) < 1.0


def test_injected_star_on_a_simulated_scan(processed) -> None:
    """The Ks 6 star injected into the simulated survey scan (saturated on Read_2, not on
    Read_1), found on the frames and measured on Read_1 in each band: rd_flg 1, within
    0.05 mag and 0.3" of the truth."""
    for band in inst.BANDS:
        r = processed.results[band]
        ra, dec, _ = brightstars.saturated_stars(r.cal, r.reg)
        near = np.argmin([_offset_arcsec(a, d, BRIGHT.ra, BRIGHT.dec)
                          for a, d in zip(ra, dec, strict=True)])
        out = brightstars.bright_photometry(r.cal, r.reg, ra[near:near + 1],
                                            dec[near:near + 1], r.magzp, r.images[0].apcor)
        assert out.rd[0] == brightstars.RD_READ1, band
        assert abs(out.mag[0] - BRIGHT.value) < 0.05, band
        assert _offset_arcsec(out.ra[0], out.dec[0], BRIGHT.ra, BRIGHT.dec) < 0.3, band
