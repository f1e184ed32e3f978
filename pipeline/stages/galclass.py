"""Star/galaxy separation of Atlas-image detections: ``e_score`` and ``g_score``.

2MASS used decision trees on nine spatial, brightness and symmetry parameters per band;
this is a short rule set on the parameters that separate the simulated sky's objects:

- **size**: second moments measured in a Gaussian window (``WINDOW_ARCSEC``) around the
  centroid, after the other point sources of the scan are subtracted, turned into the
  moments of the object itself (a Gaussian's windowed moments ``M`` give its own
  ``(M^-1 - W^-2)^-1``) and compared with the same measurement of the PSF at the same
  sub-pixel position. The *minor* axis decides: a resolved galaxy is wider than the PSF
  in every direction, a close pair of stars (the classic false extended source) only
  along the line joining them, a single star in none.
- **concentration**: peak pixel over flux in the window, against the PSF's; a source as
  concentrated as the PSF is not extended whatever its noisy moments say.

Per band the score runs from 1 (extended) to 2 (point-like), a logistic in the minor-axis
excess (variance in units of the PSF's) over that of the image's stars (the seeing wanders
along a scan around the scan's PSF: the stellar locus moves with it); ``e_score`` is the
S/N-weighted mean of the bands. ``g_score`` adds the colour: galaxies have J-Ks 0.8-1.6,
most stars at high latitude are bluer. The catalog keeps ``e_score <= 1.4 or g_score <=
1.4`` (spec).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.pipeline.stages import galphot, render

WINDOW_ARCSEC = 3.0
#: Minor-axis variance excess over the PSF's (in PSF variances) at score 1.5, and the
#: logistic's width.
MINOR_EXCESS_MID = 0.30
MINOR_EXCESS_WIDTH = 0.06
#: Peak/flux above this fraction of the PSF's is point-like (score 2).
CONCENTRATION_MAX = 0.92
#: Colour window of galaxies and the score changes it makes.
GALAXY_JK = (0.8, 1.6)
COLOUR_BONUS, COLOUR_PENALTY = 0.05, 0.15
CATALOG_SCORE = 1.4
#: Moments larger than this many PSF variances are capped (the window saturates).
EXCESS_CAP = 20.0


@dataclass
class Shape:
    """Windowed shape of one source in one band."""

    minor_excess: float  # own minor-axis variance minus the PSF's, over the PSF's
    major_excess: float
    concentration: float  # (peak / flux) over the PSF's
    ba: float  # observed (not PSF-corrected) axis ratio in the window
    phi_rad: float  # observed major axis angle from +x [rad]
    moments: np.ndarray  # observed windowed moments (2 x 2) [arcsec^2]


def windowed_moments(cut: np.ndarray, x: float, y: float) -> tuple[np.ndarray, float, float]:
    """Second moments (2 x 2, arcsec^2) of ``cut`` about (x, y) in a Gaussian window, the
    weighted flux and the largest pixel within the window's 2 sigma."""
    yy, xx = np.mgrid[0:cut.shape[0], 0:cut.shape[1]]
    dx, dy = xx - x, yy - y
    w = np.exp(-0.5 * (dx**2 + dy**2) / WINDOW_ARCSEC**2) * cut
    total = w.sum()
    if total <= 0:
        return np.full((2, 2), np.nan), float(total), float("nan")
    m = np.array([[np.sum(w * dx * dx), np.sum(w * dx * dy)],
                  [np.sum(w * dx * dy), np.sum(w * dy * dy)]]) / total
    near = dx**2 + dy**2 <= (2 * WINDOW_ARCSEC) ** 2
    return m, float(total), float(cut[near].max())


def _own(m: np.ndarray) -> np.ndarray:
    """Moments of the object itself from its windowed moments (exact for Gaussians)."""
    inv = np.linalg.inv(m) - np.eye(2) / WINDOW_ARCSEC**2
    vals, vecs = np.linalg.eigh(inv)
    vals = np.maximum(vals, 1.0 / (EXCESS_CAP * 10.0 * WINDOW_ARCSEC**2))
    return vecs @ np.diag(1.0 / vals) @ vecs.T


def measure_shape(cut: np.ndarray, x: float, y: float, psf_sigma: float) -> Shape | None:
    """The shape parameters of a source at (x, y) on a background- and
    neighbour-subtracted cutout (1" pixels); None if the window holds no positive flux."""
    m, flux, peak = windowed_moments(cut, x, y)
    if not np.all(np.isfinite(m)) or flux <= 0 or np.linalg.det(m) <= 0:
        return None
    half = cut.shape[0] // 2
    comps = galphot.psf_components(psf_sigma, 1)
    stamp = render.pixel_stamps(np.array([x - round(x) + half]),
                                np.array([y - round(y) + half]), comps, half)[0]
    pm, pflux, ppeak = windowed_moments(stamp, x - round(x) + half, y - round(y) + half)
    own, own_psf = _own(m), _own(pm)
    psf_var = 0.5 * np.trace(own_psf)
    excess = np.linalg.eigvalsh(own - own_psf) / psf_var
    vals, vecs = np.linalg.eigh(m)
    major = vecs[:, 1]
    return Shape(float(min(excess[0], EXCESS_CAP)), float(min(excess[1], EXCESS_CAP)),
                 float((peak / flux) / (ppeak / pflux)),
                 float(np.sqrt(max(vals[0], 0.0) / vals[1])),
                 float(np.arctan2(major[1], major[0])), m)


def band_score(shape: Shape | None, locus_minor: float = 0.0,
               locus_concentration: float = 1.0) -> float:
    """1 (extended) ... 2 (point-like) from one band's shape; the locus values are the
    minor excess and the concentration the image's stars show there."""
    if shape is None:
        return 2.0
    if shape.concentration > CONCENTRATION_MAX * locus_concentration:
        return 2.0
    z = (shape.minor_excess - locus_minor - MINOR_EXCESS_MID) / MINOR_EXCESS_WIDTH
    return float(1.0 + 1.0 / (1.0 + np.exp(np.clip(z, -50, 50))))


def scores(band_scores: np.ndarray, snr: np.ndarray, j_minus_k: float
           ) -> tuple[float, float]:
    """``e_score`` (S/N-weighted mean of the bands with S/N > 3) and ``g_score`` (the
    same moved by the J-Ks colour), both in [1, 2]."""
    w = np.where(np.isfinite(snr) & (snr > 3.0), snr, 0.0)
    e = float(np.sum(w * band_scores) / w.sum()) if w.sum() > 0 else 2.0
    g = e
    if np.isfinite(j_minus_k):
        g += -COLOUR_BONUS if GALAXY_JK[0] <= j_minus_k <= GALAXY_JK[1] else COLOUR_PENALTY
    return e, float(np.clip(g, 1.0, 2.0))
