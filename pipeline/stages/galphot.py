"""Photometry of extended sources on the Atlas Images (GALWORKS, spec §1.14).

Everything is measured on elliptical (or circular) annuli of a cutout whose stars are
subtracted and whose background is removed: the radial profile, the Ks 20 mag/arcsec^2
fiducial isophote, fixed circular apertures, the Kron radius and an exponential-disc
extrapolation to the total magnitude. Masked pixels (no coverage, other objects) are
filled with their annulus' mean, so a mask does not bias an aperture's flux.

Also the Atlas Images' PSF: a core and the render module's wing, the core's width the
one that gives the image's measured curve of growth (``AtlasImage.apcor``, 4"/12").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from twomass.pipeline.stages import render
from twomass.pipeline.stages.photometry import (
    APCOR_ARCSEC,
    CORRELATED_NOISE,
    MAG_PER_LN_FLUX,
)

__all__ = ["MAG_PER_LN_FLUX"]

#: Sub-pixels per pixel side in the annulus sums (a 6" isophote on 1" pixels needs them).
SUBPIXELS = 3
#: Annulus width [arcsec].
ANNULUS_ARCSEC = 0.5
SMOOTH_ANNULI = 3
#: The XSC's fixed circular apertures (radii) [arcsec].
CIRCULAR_ARCSEC = (5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70)
#: Kron aperture: KRON_FACTOR times the first moment radius, measured within
#: KRON_WINDOW times the 3-sigma radius.
KRON_FACTOR = 2.5
KRON_WINDOW = 2.0
#: Extrapolation to total: an exponential fitted to the profile between
#: EXTRAP_INNER_SIGMA PSF sigmas and the 3-sigma radius, integrated to
#: EXTRAP_SCALES scale lengths (at least the isophotal radius, at most MAX_RADIUS).
EXTRAP_INNER_SIGMA = 2.0
EXTRAP_SCALES = 5.0
MAX_RADIUS_ARCSEC = 75.0
#: The fiducial ellipse is at least this large [arcsec] (a faint source's centre may lie
#: below the isophote).
MIN_FIDUCIAL_ARCSEC = 3.0
#: The 4" aperture of the curve of growth (photometry.APCOR_ARCSEC is the outer one).
APCOR_INNER_ARCSEC = 4.0


def psf_core_sigma(apcor: float) -> float:
    """Core sigma [arcsec] of the Atlas-image PSF (core + ``render`` wing, the wing
    ``render.WING_SCALE`` times wider) whose 4"/12" encircled-energy ratio is ``apcor``."""
    def ratio(sigma: float) -> float:
        return _encircled(APCOR_INNER_ARCSEC, sigma) / _encircled(APCOR_ARCSEC, sigma) - apcor
    if not 0.3 < apcor < 0.999:
        raise ValueError(f"aperture correction {apcor} is not a curve-of-growth ratio")
    return float(brentq(ratio, 0.3, 6.0))


def _encircled(r: float, sigma: float) -> float:
    w = render.WING_FRACTION
    return ((1 - w) * (1 - np.exp(-0.5 * r**2 / sigma**2))
            + w * (1 - np.exp(-0.5 * r**2 / (render.WING_SCALE * sigma)**2)))


def psf_components(sigma_arcsec: float, n: int) -> list[tuple]:
    """``render`` mixture components of the Atlas PSF for ``n`` unit-flux sources, the
    1" pixel integration taken out of the core (``pixel_stamps`` integrates it)."""
    core = np.sqrt(max(sigma_arcsec**2 - 1.0 / 12.0, 0.05))
    w = render.WING_FRACTION
    return [(np.full(n, 1.0 - w), np.full(n, core)),
            (np.full(n, w), np.full(n, render.WING_SCALE * sigma_arcsec))]


@dataclass
class Profile:
    """Annulus sums of one source.

    ``edges`` are the outer semi-major axes of the annuli [arcsec]; ``mean`` the annulus
    mean [ADU per arcsec^2], ``area`` its full area [arcsec^2], ``used`` the area with
    data; ``cumulative`` the flux inside each edge, masked pixels at the annulus mean.
    """

    edges: np.ndarray
    mean: np.ndarray
    area: np.ndarray
    used: np.ndarray
    cumulative: np.ndarray

    def flux_within(self, a: float) -> float:
        """Flux inside semi-major axis ``a`` (linear between annulus edges)."""
        return float(np.interp(a, np.r_[0.0, self.edges], np.r_[0.0, self.cumulative]))

    def area_within(self, a: float) -> float:
        return float(np.interp(a, np.r_[0.0, self.edges], np.r_[0.0, np.cumsum(self.area)]))

    def radius_at(self, level: float) -> float:
        """Semi-major axis where the profile first falls below ``level`` (0 if the centre
        is already below it)."""
        centres = self.edges - 0.5 * ANNULUS_ARCSEC
        # Three annuli averaged: at a 20 mag/arcsec^2 isophote one annulus' noise is a
        # third of the level for a Ks 13 galaxy.
        mean = np.convolve(self.mean, np.ones(SMOOTH_ANNULI) / SMOOTH_ANNULI, mode="same")
        mean[0] = self.mean[0]
        below = np.flatnonzero(mean < level)
        if len(below) == 0:
            return float(self.edges[-1])
        k = int(below[0])
        if k == 0:
            return 0.0
        m0, m1 = mean[k - 1], mean[k]
        return float(centres[k - 1] + (m0 - level) / (m0 - m1) * (centres[k] - centres[k - 1]))


def profile(data: np.ndarray, good: np.ndarray, x: float, y: float, ba: float,
            phi_rad: float, max_radius: float = MAX_RADIUS_ARCSEC) -> Profile:
    """Elliptical annulus sums out to ``max_radius`` [arcsec] around 0-based pixel (x, y)
    of ``data`` (``good`` marks the pixels with data): axis ratio ``ba``, major axis at
    ``phi_rad`` from +x."""
    n = int(np.ceil(max_radius)) + 1
    ny, nx = data.shape
    ix, iy = int(round(x)), int(round(y))
    x0, x1, y0, y1 = max(ix - n, 0), min(ix + n + 1, nx), max(iy - n, 0), min(iy + n + 1, ny)
    sub = (np.arange(SUBPIXELS) + 0.5) / SUBPIXELS - 0.5
    gx = (np.arange(x0, x1)[:, None] + sub[None, :]).ravel() - x
    gy = (np.arange(y0, y1)[:, None] + sub[None, :]).ravel() - y
    c, s = np.cos(phi_rad), np.sin(phi_rad)
    u = gx[None, :] * c + gy[:, None] * s
    v = -gx[None, :] * s + gy[:, None] * c
    a = np.sqrt(u**2 + (v / max(ba, 0.05))**2)
    values = np.repeat(np.repeat(data[y0:y1, x0:x1], SUBPIXELS, 0), SUBPIXELS, 1)
    ok = np.repeat(np.repeat(good[y0:y1, x0:x1], SUBPIXELS, 0), SUBPIXELS, 1)
    n_bins = int(round(max_radius / ANNULUS_ARCSEC))
    k = np.minimum((a / ANNULUS_ARCSEC).astype(np.int64), n_bins)
    sub_area = 1.0 / SUBPIXELS**2
    flux = np.bincount(k[ok], values[ok], minlength=n_bins + 1)[:n_bins] * sub_area
    used = np.bincount(k[ok], minlength=n_bins + 1)[:n_bins] * sub_area
    edges = ANNULUS_ARCSEC * np.arange(1, n_bins + 1)
    area = np.pi * max(ba, 0.05) * np.diff(np.r_[0.0, edges] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(used > 0.2 * area, flux / used, np.nan)
    mean = _fill(mean)
    return Profile(edges, mean, area, used, np.cumsum(mean * area))


def _fill(mean: np.ndarray) -> np.ndarray:
    """Annuli without enough data take their neighbours' interpolated mean (0 beyond)."""
    bad = ~np.isfinite(mean)
    if bad.all():
        return np.zeros_like(mean)
    if bad.any():
        idx = np.arange(len(mean))
        mean = mean.copy()
        mean[bad] = np.interp(idx[bad], idx[~bad], mean[~bad], right=0.0)
    return mean


def flux_error(flux: float, area_arcsec2: float, pixel_sigma: float, frames: float,
               gain: float) -> float:
    """Error of a flux summed over ``area_arcsec2`` 1" pixels: the correlated sky noise
    (``photometry.CORRELATED_NOISE``) and the source's photons over ``frames`` frames."""
    sky = (CORRELATED_NOISE * pixel_sigma) ** 2 * max(area_arcsec2, 1.0)
    return float(np.sqrt(sky + max(flux, 0.0) / (gain * max(frames, 1.0))))


def kron_radius(prof: Profile, r_window: float) -> float:
    """``KRON_FACTOR`` times the first moment of the profile inside ``r_window``."""
    centres = prof.edges - 0.5 * ANNULUS_ARCSEC
    inside = prof.edges <= max(r_window, 2 * ANNULUS_ARCSEC)
    w = np.maximum(prof.mean[inside], 0.0) * prof.area[inside]
    if w.sum() <= 0:
        return float("nan")
    return float(min(KRON_FACTOR * np.sum(w * centres[inside]) / w.sum(), prof.edges[-1]))


@dataclass
class Extrapolation:
    scale_arcsec: float  # fitted exponential scale length along the major axis
    r_ext: float  # radius the total is integrated to [arcsec]
    flux: float  # total flux [ADU]


def extrapolate(prof: Profile, ba: float, r_iso: float, r_outer: float,
                psf_sigma: float) -> Extrapolation:
    """Total flux: the measured flux inside ``r_iso`` plus an exponential disc fitted to
    the profile between ``EXTRAP_INNER_SIGMA`` PSF sigmas and ``r_outer``, integrated
    from ``r_iso`` to ``r_ext``. Without a fit (too few positive annuli) the total is
    the isophotal flux."""
    centres = prof.edges - 0.5 * ANNULUS_ARCSEC
    lo = EXTRAP_INNER_SIGMA * psf_sigma
    fit = (centres >= lo) & (centres <= max(r_outer, lo + 3.0)) & (prof.mean > 0)
    inside = prof.flux_within(r_iso)
    if fit.sum() < 4:
        return Extrapolation(float("nan"), r_iso, inside)
    w = prof.mean[fit] * np.sqrt(prof.area[fit])  # ~ 1/sigma of ln(mean) at equal noise
    slope, intercept = np.polyfit(centres[fit], np.log(prof.mean[fit]), 1, w=w)
    if slope >= -1e-3:
        return Extrapolation(float("nan"), r_iso, inside)
    h = -1.0 / slope
    r_ext = float(np.clip(EXTRAP_SCALES * h, r_iso, MAX_RADIUS_ARCSEC))  # beyond the data
    norm = 2 * np.pi * ba * np.exp(intercept) * h**2
    outside = norm * (_disc_enclosed(r_ext / h) - _disc_enclosed(r_iso / h))
    return Extrapolation(float(h), r_ext, float(inside + max(outside, 0.0)))


def _disc_enclosed(t: float) -> float:
    """Fraction of an exponential disc's flux inside ``t`` scale lengths."""
    return 1.0 - (1.0 + t) * np.exp(-t)
