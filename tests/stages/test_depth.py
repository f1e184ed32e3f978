"""The sky level the raw-frame simulator derives from a scan's depth.

Oracles, independent of ``depth``'s grid of PSF integrals: stars rendered at random
places with the simulator's own integrator (``render.add_psf_sources``), noise drawn
pixel by pixel, and each star's flux fitted by weighted least squares over six frames;
the fitted fluxes must scatter by ``FIT_EFFICIENCY`` / 10 of the true flux (the ideal
fit's S/N; the pipeline's reaches 10). The noise budget itself is
checked against the arrays' reads (``Detector.reads``).
"""

from __future__ import annotations

import numpy as np
import pytest

from twomass.pipeline.stages import depth, render
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.detector import Detector

STARS = 3000
FRAMES = 6
STAMP = 6


def _fitted_fluxes(sky: float, flux: float, fwhm: float, seed: int) -> np.ndarray:
    """Weighted least-squares fluxes of ``STARS`` stars, each on ``FRAMES`` frames at
    random places, with sky, read, dark and the star's own Poisson noise."""
    rng = np.random.default_rng(seed)
    variance = sky / inst.GAIN + 2.0 * inst.READ_NOISE_ADU**2 \
        + depth.DARK_ADU_PER_S * inst.EXPOSURE_SECONDS / inst.GAIN
    side = 2 * STAMP + 1
    num = np.zeros(STARS)
    den = np.zeros(STARS)
    for _ in range(FRAMES):
        x = rng.uniform(0.0, inst.NPIX - 1.0, STARS)
        y = rng.uniform(0.0, inst.NPIX - 1.0, STARS)
        sigma = depth.core_sigma_px(fwhm, x, y)
        # Each star on its own stamp, at its sub-pixel phase and its place's PSF width.
        px, py = STAMP + x % 1.0, STAMP + y % 1.0
        model = np.zeros((STARS, side, side))
        for i in range(STARS):
            render.add_psf_sources(model[i], px[i:i + 1], py[i:i + 1], np.array([flux]),
                                   sigma[i:i + 1], np.sqrt(variance))
        var = variance + model / inst.GAIN
        data = model + rng.standard_normal(model.shape) * np.sqrt(var)
        p = model / flux
        num += np.sum(p * data / var, axis=(1, 2))
        den += np.sum(p * p / var, axis=(1, 2))
    return num / den


@pytest.mark.parametrize(("band", "msnr10", "fwhm", "zp", "hemis"),
                         [(0, 16.4, 2.5, 20.95, "n"), (2, 14.6, 3.1, 19.9, "s")])
def test_a_star_at_the_set_depth_is_measured_at_the_ideal_snr(band, msnr10, fwhm, zp,
                                                               hemis) -> None:
    sky = depth.sky_for_depth(msnr10, fwhm, zp, hemis)
    assert sky > depth.MIN_SKY_ADU
    flux = inst.EXPOSURE_SECONDS * 10 ** (-0.4 * (msnr10 - zp))
    fitted = _fitted_fluxes(sky, flux, fwhm, seed=band)
    expect = 10.0 / depth.FIT_EFFICIENCY * np.sqrt(FRAMES / depth.frames_per_source(hemis))
    measured = flux / np.std(fitted)
    # 3,000 stars: the rms is known to 1.3 %.
    assert measured == pytest.approx(expect, rel=0.04)
    assert np.mean(fitted) == pytest.approx(flux, rel=0.01)


def test_deeper_scans_get_a_darker_sky_and_sharper_seeing_a_brighter_one() -> None:
    base = depth.sky_for_depth(16.4, 2.5, 20.95, "n")
    assert depth.sky_for_depth(16.6, 2.5, 20.95, "n") < base
    assert depth.sky_for_depth(16.4, 2.2, 20.95, "n") > base
    # Sky-limited: 0.2 mag deeper needs about 10^(-0.16) of the variance.
    deeper = depth.sky_for_depth(16.6, 2.5, 20.95, "n")
    assert 0.5 < deeper / base < 0.8
    # A depth no sky could give is the darkest sky the simulator renders.
    assert depth.sky_for_depth(19.0, 2.5, 20.95, "n") == depth.MIN_SKY_ADU


def test_the_noise_budget_is_what_the_arrays_read() -> None:
    det = Detector.draw(3, "n", 1)
    rng = np.random.default_rng(5)
    sky = 900.0
    r1, r2 = det.reads(rng, np.full((inst.NPIX, inst.NPIX), sky), np.zeros((inst.NPIX,
                                                                             inst.NPIX)))
    diff = inst.linearize(r2.astype(np.float32) - det.reset) \
        - inst.linearize(r1.astype(np.float32) - det.reset)
    calibrated = diff / det.response
    normal = (det.response > 0.5) & (det.dark_rate < 1.0)
    expect = sky / inst.GAIN + 2.0 * inst.READ_NOISE_ADU**2 \
        + depth.DARK_ADU_PER_S * inst.EXPOSURE_SECONDS / inst.GAIN
    assert np.var(calibrated[normal]) == pytest.approx(expect, rel=0.05)
