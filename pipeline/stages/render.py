"""Point and extended sources rendered onto a pixel grid.

The PSF is a sum of circular Gaussians: a seeing core and a 3x wider wing, the core
split into two halves offset along an axis where the optics elongate it (astigmatism:
second moments s^2 + d^2 along the axis, s^2 across, for halves of width s at +-d).
Every component is integrated exactly over the pixels with error functions, so
undersampled 2" pixels get the right flux, and stamps are accumulated with ``bincount``.
Galaxies are a seeing-convolved exponential disc approximated by a mixture of Gaussians.
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


def psf_components(sigma_px: np.ndarray, elongation: np.ndarray | float = 0.0,
                   angle: np.ndarray | float = 0.0,
                   wing_fraction: np.ndarray | float = WING_FRACTION) -> list[tuple]:
    """(weight, sigma[, dx, dy]) components of the PSF per source: core sigma [px], the
    core halves' offset ``elongation`` (d / sigma) along ``angle`` [rad from +x], the
    wing's fraction of the flux. A round core is one component."""
    wing = np.broadcast_to(np.asarray(wing_fraction, float), np.shape(sigma_px))
    wing_part = (wing, WING_SCALE * sigma_px)
    if np.all(np.asarray(elongation) == 0.0):
        return [(1.0 - wing, sigma_px), wing_part]
    d = np.broadcast_to(np.asarray(elongation, float), np.shape(sigma_px)) * sigma_px
    dx, dy = d * np.cos(angle), d * np.sin(angle)
    half = 0.5 * (1.0 - wing)
    return [(half, sigma_px, dx, dy), (half, sigma_px, -dx, -dy), wing_part]


def add_gaussians(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                  sigma: np.ndarray, radius: int) -> None:
    """Add circular Gaussians of total ``flux`` at 0-based (x, y), integrated over pixels.

    Stamps are (2 radius + 1)^2 pixels; flux outside the stamp or the image is lost,
    as it is off the array.
    """
    add_mixtures(image, x, y, [(flux, sigma)], radius)


def add_mixtures(image: np.ndarray, x: np.ndarray, y: np.ndarray,
                 components: list[tuple[np.ndarray, np.ndarray]], radius: int) -> None:
    """Add sums of circular Gaussians ((flux, sigma) per component and source, or
    (flux, sigma, dx, dy) for one offset from (x, y)) on one stamp per source: one pass
    of pixel integrals and one ``bincount``."""
    if len(x) == 0:
        return
    ny, nx = image.shape
    ix0 = np.rint(x).astype(np.int64)
    iy0 = np.rint(y).astype(np.int64)
    stamp = pixel_stamps(x, y, components, radius)
    offs = np.arange(-radius, radius + 1)
    ix = ix0[:, None] + offs[None, :]
    iy = iy0[:, None] + offs[None, :]
    okx = (ix >= 0) & (ix < nx)
    oky = (iy >= 0) & (iy < ny)
    ok = oky[:, :, None] & okx[:, None, :]
    index = iy[:, :, None] * nx + ix[:, None, :]
    image += np.bincount(index[ok], weights=stamp[ok], minlength=nx * ny).reshape(ny, nx)


def pixel_stamps(x: np.ndarray, y: np.ndarray, components: list[tuple], radius: int
                 ) -> np.ndarray:
    """(n, 2 radius + 1, 2 radius + 1) pixel integrals of the components (as
    ``add_mixtures`` takes them) of sources at 0-based (x, y), on the pixels around the
    nearest one (rows y, columns x)."""
    edges = np.arange(-radius - 0.5, radius + 1.0)
    ex = (np.rint(x) - x)[:, None] + edges[None, :]
    ey = (np.rint(y) - y)[:, None] + edges[None, :]
    stamp = 0.0
    for flux, sigma, *offset in components:
        s = np.sqrt(2.0) * sigma[:, None]
        dx, dy = (offset[0][:, None], offset[1][:, None]) if offset else (0.0, 0.0)
        gx = np.diff(erf((ex - dx) / s), axis=1)
        gy = np.diff(erf((ey - dy) / s), axis=1)
        stamp = stamp + (0.25 * flux)[:, None, None] * gy[:, :, None] * gx[:, None, :]
    return stamp


def stamp_radius(flux: np.ndarray, sigma: np.ndarray, noise: float,
                 wing_fraction: np.ndarray | float = WING_FRACTION) -> np.ndarray:
    """Stamp half-size [px] where the wing falls below a tenth of the pixel noise."""
    wing = WING_SCALE * sigma
    peak = flux * wing_fraction / (2 * np.pi * wing**2)
    ratio = np.maximum(peak / max(0.1 * noise, 1e-3), 1.0)
    return np.clip(np.ceil(wing * np.sqrt(2.0 * np.log(ratio)) + 2), 4, 40).astype(int)


def add_psf_sources(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                    sigma: np.ndarray, noise: float, elongation: np.ndarray | float = 0.0,
                    angle: np.ndarray | float = 0.0,
                    wing_fraction: float = WING_FRACTION) -> None:
    """Add point sources with the PSF of ``psf_components`` (per-source ``sigma``,
    ``elongation`` and ``angle``), grouped by stamp size."""
    inside = (x > -40) & (x < image.shape[1] + 40) & (y > -40) & (y < image.shape[0] + 40)
    elongation = np.broadcast_to(np.asarray(elongation, float), np.shape(x))[inside]
    angle = np.broadcast_to(np.asarray(angle, float), np.shape(x))[inside]
    x, y, flux, sigma = x[inside], y[inside], flux[inside], sigma[inside]
    radius = stamp_radius(flux, sigma, noise, wing_fraction)
    bins = np.array([4, 6, 9, 14, 22, 40])
    group = np.searchsorted(bins, radius)
    for g in np.unique(group):
        m = group == g
        r = int(bins[min(g, len(bins) - 1)])
        parts = psf_components(sigma[m], elongation[m], angle[m], wing_fraction)
        add_mixtures(image, x[m], y[m], [(flux[m] * w, *rest) for w, *rest in parts], r)


def add_galaxies(image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                 scale_px: np.ndarray, sigma: np.ndarray) -> None:
    """Add exponential discs (scale length ``scale_px``) convolved with the PSF core."""
    inside = (x > -60) & (x < image.shape[1] + 60) & (y > -60) & (y < image.shape[0] + 60)
    x, y, flux, scale_px, sigma = (a[inside] for a in (x, y, flux, scale_px, sigma))
    widths = [np.sqrt(sigma**2 + v * scale_px**2) for v in _EXP_V]
    r = int(np.clip(np.ceil(4 * widths[-1].max(initial=1.0)), 4, 60))
    add_mixtures(image, x, y, [(flux * w, s) for w, s in zip(_EXP_W, widths, strict=True)], r)


def galaxy_isophote(flux: float, scale_px: float, sigma: float, level: float
                    ) -> tuple[float, float]:
    """Radius [px] where a round ``add_galaxies`` profile (total ``flux``, seen through a
    Gaussian of ``sigma`` px) falls to ``level`` per pixel^2, and the flux inside it: the
    noiseless truth isophotal photometry is measured against. (0, 0) if the centre is
    fainter than ``level``."""
    var = sigma**2 + _EXP_V * scale_px**2

    def surface(r: float) -> float:
        return float(flux * np.sum(_EXP_W / (2 * np.pi * var) * np.exp(-0.5 * r**2 / var)))

    if surface(0.0) <= level:
        return 0.0, 0.0
    lo, hi = 0.0, 1.0
    while surface(hi) > level:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if surface(mid) > level else (lo, mid)
    r = 0.5 * (lo + hi)
    return r, float(flux * np.sum(_EXP_W * (1.0 - np.exp(-0.5 * r**2 / var))))
