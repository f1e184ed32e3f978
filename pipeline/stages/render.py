"""Point and extended sources rendered onto a pixel grid.

The PSF is a sum of circular Gaussians (a seeing core and a 3x wider wing); every
component is integrated exactly over the pixels with error functions, so undersampled
2" pixels get the right flux, and stamps are accumulated with ``bincount``. Galaxies are
a seeing-convolved exponential disc approximated by a mixture of Gaussians.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

#: PSF wing: fraction of the flux and width relative to the core.
WING_FRACTION = 0.08
WING_SCALE = 3.0
#: Exponential profile as a Gaussian mixture (Hogg & Lang 2013, 4 components):
#: weights and variances in units of the scale length squared.
_EXP_W = np.array([0.0925, 0.3709, 0.4316, 0.1050])
_EXP_V = np.array([0.0103, 0.0893, 0.3958, 1.4574]) * 1.678**2 / 2.0


def psf_components(sigma_px: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, sigma) pairs of the PSF for per-source core sigmas [px]."""
    return [(np.full_like(sigma_px, 1.0 - WING_FRACTION), sigma_px),
            (np.full_like(sigma_px, WING_FRACTION), WING_SCALE * sigma_px)]


def add_gaussians(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                  sigma: np.ndarray, radius: int) -> None:
    """Add circular Gaussians of total ``flux`` at 0-based (x, y), integrated over pixels.

    Stamps are (2 radius + 1)^2 pixels; flux outside the stamp or the image is lost,
    as it is off the array.
    """
    if len(x) == 0:
        return
    ny, nx = image.shape
    offs = np.arange(-radius, radius + 1)
    ix = np.rint(x).astype(np.int64)[:, None] + offs[None, :]
    iy = np.rint(y).astype(np.int64)[:, None] + offs[None, :]
    s = np.sqrt(2.0) * sigma[:, None]
    gx = 0.5 * (erf((ix + 0.5 - x[:, None]) / s) - erf((ix - 0.5 - x[:, None]) / s))
    gy = 0.5 * (erf((iy + 0.5 - y[:, None]) / s) - erf((iy - 0.5 - y[:, None]) / s))
    stamp = flux[:, None, None] * gy[:, :, None] * gx[:, None, :]
    px = np.broadcast_to(ix[:, None, :], stamp.shape)
    py = np.broadcast_to(iy[:, :, None], stamp.shape)
    ok = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
    image += np.bincount((py[ok] * nx + px[ok]), weights=stamp[ok],
                         minlength=nx * ny).reshape(ny, nx)


def stamp_radius(flux: np.ndarray, sigma: np.ndarray, noise: float) -> np.ndarray:
    """Stamp half-size [px] where the wing falls below a tenth of the pixel noise."""
    wing = WING_SCALE * sigma
    peak = flux * WING_FRACTION / (2 * np.pi * wing**2)
    ratio = np.maximum(peak / max(0.1 * noise, 1e-3), 1.0)
    return np.clip(np.ceil(wing * np.sqrt(2.0 * np.log(ratio)) + 2), 4, 40).astype(int)


def add_psf_sources(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                    sigma: np.ndarray, noise: float) -> None:
    """Add point sources with the two-component PSF, grouped by stamp size."""
    inside = (x > -40) & (x < image.shape[1] + 40) & (y > -40) & (y < image.shape[0] + 40)
    x, y, flux, sigma = x[inside], y[inside], flux[inside], sigma[inside]
    radius = stamp_radius(flux, sigma, noise)
    bins = np.array([4, 6, 9, 14, 22, 40])
    group = np.searchsorted(bins, radius)
    for g in np.unique(group):
        m = group == g
        r = int(bins[min(g, len(bins) - 1)])
        for w, s in psf_components(sigma[m]):
            add_gaussians(image, x[m], y[m], flux[m] * w, s, r)


def add_galaxies(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                 scale_px: np.ndarray, sigma: np.ndarray) -> None:
    """Add exponential discs (scale length ``scale_px``) convolved with the PSF core."""
    inside = (x > -60) & (x < image.shape[1] + 60) & (y > -60) & (y < image.shape[0] + 60)
    x, y, flux, scale_px, sigma = (a[inside] for a in (x, y, flux, scale_px, sigma))
    for w, v in zip(_EXP_W, _EXP_V, strict=True):
        s = np.sqrt(sigma**2 + v * scale_px**2)
        r = int(np.clip(np.ceil(4 * s.max(initial=1.0)), 4, 60))
        add_gaussians(image, x, y, flux * w, s, r)
