"""The synthetic sky: stars and galaxies generated cell by cell, on demand.

The sky is cut into HEALPix NESTED cells of order ``CELL_ORDER`` (~13.7'). A cell's
sources depend only on the seed and the cell index (its own generator), so any part
of the sky can be regenerated identically in any order, and memory holds only the
cells one scan needs.

Stars: Ks counts follow a broken power law (slope 0.45 dex/mag brighter than Ks 12,
0.30 fainter) down to ``FAINT_KS``; the surface density rises toward the Galactic
plane and centre, normalised so that the all-sky mean of stars with
Ks < ``CATALOG_KS`` is ``CATALOG_DENSITY`` (11,000 per deg^2, the PSC average).
Colours follow a dwarf and a giant locus, reddened by dust (A_J : A_H : A_K =
2.5 : 1.55 : 1). Galaxies: Euclidean counts normalised to ``GALAXIES_PER_STAR`` of
the catalog stars at Ks < 13.5 on average (the XSC : PSC ratio, ~1 : 300), thinned
in the zone of avoidance, with sizes shrinking with magnitude, axis ratios and PAs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import healpix

CELL_ORDER = 8
CATALOG_KS = 14.8
CATALOG_DENSITY = 11_000.0
FAINT_KS = 17.5
BRIGHT_KS = -1.0
GALAXIES_PER_STAR = 1.0 / 300.0
GALAXY_KS = (7.0, 15.0)
KIND_STAR, KIND_GALAXY, KIND_MINOR_PLANET = 0, 1, 2
_KNEE, _BRIGHT_SLOPE, _FAINT_SLOPE = 12.0, 0.45, 0.30
_CELL_AREA_DEG2 = 41252.96 / (12 * 4**CELL_ORDER)


@dataclass
class Sources:
    """True sources as parallel arrays; ``mag`` has columns J, H, Ks."""

    id: np.ndarray
    kind: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    mag: np.ndarray
    radius_arcsec: np.ndarray  # galaxies: Ks 20 mag/arcsec^2 semi-major axis; stars 0
    ba: np.ndarray
    pa: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def concat(parts: list[Sources]) -> Sources:
        if not parts:
            return Sources(np.zeros(0, np.int64), np.zeros(0, np.int8), *[np.zeros(0)] * 2,
                           np.zeros((0, 3)), *[np.zeros(0)] * 3)
        return Sources(*[np.concatenate([getattr(p, f) for p in parts])
                         for f in Sources.__dataclass_fields__])

    def take(self, index: np.ndarray) -> Sources:
        return Sources(*[getattr(self, f)[index] for f in Sources.__dataclass_fields__])


def _shape(glon: np.ndarray, glat: np.ndarray) -> np.ndarray:
    """Relative stellar surface density (1 at the Galactic poles)."""
    lon = (glon + 180.0) % 360.0 - 180.0
    disk = 30.0 * np.exp(-np.abs(glat) / 9.0) * (0.3 + 0.7 * np.exp(-(lon / 70.0) ** 2))
    bulge = 60.0 * np.exp(-np.hypot(lon, glat) / 8.0)
    return 1.0 + disk + bulge


def extinction_ks(glat: np.ndarray) -> np.ndarray:
    """Typical total Ks extinction toward a direction [mag]."""
    return np.minimum(0.015 / np.maximum(np.sin(np.radians(np.abs(glat))), 0.02), 0.6)


@functools.cache
def _norm() -> float:
    """Density at the poles that makes the all-sky mean of catalog stars 11,000/deg^2."""
    n = 400_000
    i = np.arange(n) + 0.5
    dec = np.degrees(np.arcsin(1.0 - 2.0 * i / n))
    ra = (i * 137.50776405) % 360.0
    glon, glat = galactic(ra, dec)
    return CATALOG_DENSITY / float(np.mean(_shape(glon, glat)))


def galactic(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Galactic (l, b) in degrees of ICRS positions, vectorized through astropy."""
    g = SkyCoord(ra=np.asarray(ra) * u.deg, dec=np.asarray(dec) * u.deg, frame="icrs").galactic
    return g.l.deg, g.b.deg


def catalog_density(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Expected stars per deg^2 with Ks < CATALOG_KS at (ra, dec)."""
    glon, glat = galactic(ra, dec)
    return _norm() * _shape(glon, glat)


def _counts_integral(k_max: float) -> float:
    """Integral of the unnormalised Ks count law from BRIGHT_KS to k_max."""
    a = min(k_max, _KNEE)
    bright = (10 ** (_BRIGHT_SLOPE * (a - _KNEE)) - 10 ** (_BRIGHT_SLOPE * (BRIGHT_KS - _KNEE))
              ) / (_BRIGHT_SLOPE * np.log(10))
    faint = 0.0
    if k_max > _KNEE:
        faint = (10 ** (_FAINT_SLOPE * (k_max - _KNEE)) - 1.0) / (_FAINT_SLOPE * np.log(10))
    return bright + faint


def _draw_ks(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ks magnitudes from the broken power law (inverse CDF per segment)."""
    w_bright = _counts_integral(_KNEE)
    total = _counts_integral(FAINT_KS)
    uu = rng.random(n) * total
    ks = np.empty(n)
    b = uu < w_bright
    lo = 10 ** (_BRIGHT_SLOPE * (BRIGHT_KS - _KNEE))
    ks[b] = _KNEE + np.log10(lo + uu[b] * _BRIGHT_SLOPE * np.log(10)) / _BRIGHT_SLOPE
    f = ~b
    ks[f] = _KNEE + np.log10(1.0 + (uu[f] - w_bright) * _FAINT_SLOPE * np.log(10)) / _FAINT_SLOPE
    return ks


def _positions(rng: np.random.Generator, cell: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions inside a cell: random order-29 sub-pixels, jittered."""
    shift = 2 * (healpix.HPX_ORDER - CELL_ORDER)
    sub = (np.int64(cell) << shift) + rng.integers(0, 1 << shift, n, dtype=np.int64)
    ra, dec = healpix.hpx2ang(sub)
    jitter = rng.uniform(-0.18, 0.18, (2, n)) / 3600.0
    dec = np.clip(dec + jitter[1], -90.0, 90.0)
    ra = (ra + jitter[0] / np.maximum(np.cos(np.radians(dec)), 1e-6)) % 360.0
    return ra, dec


def cell_sources(cell: int, seed: int, glon: float, glat: float) -> Sources:
    """Every star and galaxy of one cell (deterministic in ``seed`` and ``cell``)."""
    rng = np.random.default_rng([seed, 3, cell])
    mean_stars = (_norm() * float(_shape(np.array(glon), np.array(glat)))
                  * _CELL_AREA_DEG2 * _counts_integral(FAINT_KS) / _counts_integral(CATALOG_KS))
    n_star = int(rng.poisson(mean_stars))
    avoidance = 0.15 + 0.85 * (1.0 - np.exp(-(glat / 10.0) ** 2))
    gal_13_5 = CATALOG_DENSITY * GALAXIES_PER_STAR * avoidance * _CELL_AREA_DEG2
    n_gal = int(rng.poisson(gal_13_5 * 10 ** (0.6 * (GALAXY_KS[1] - 13.5))))
    a_k = extinction_ks(np.array(glat)) * np.sqrt(rng.random(n_star))
    ks = _draw_ks(rng, n_star)
    giant = rng.random(n_star) < np.where(ks < 9.0, 0.6, 0.25)
    jh = np.where(giant, rng.normal(0.75, 0.08, n_star), rng.uniform(0.25, 0.65, n_star))
    hk = np.where(giant, 0.12 + rng.normal(0.0, 0.04, n_star),
                  0.05 + 0.25 * (jh - 0.25) + rng.normal(0.0, 0.03, n_star))
    h = ks + hk + 0.55 * a_k
    star_mag = np.column_stack([h + jh + 0.95 * a_k, h, ks])
    # Galaxies: Euclidean counts up to GALAXY_KS[1], inverse CDF of 10^(0.6 K).
    lo, hi = 10 ** (0.6 * GALAXY_KS[0]), 10 ** (0.6 * GALAXY_KS[1])
    gks = np.log10(lo + rng.random(n_gal) * (hi - lo)) / 0.6
    gal_mag = np.column_stack([gks + rng.normal(0.95, 0.1, n_gal),
                               gks + rng.normal(0.30, 0.08, n_gal), gks])
    radius = 9.0 * 10 ** (-0.2 * (gks - 13.5)) * np.exp(rng.normal(0.0, 0.25, n_gal))
    n = n_star + n_gal
    ra, dec = _positions(rng, cell, n)
    return Sources(
        id=(np.int64(cell) << 24) + np.arange(n, dtype=np.int64),
        kind=np.concatenate([np.full(n_star, KIND_STAR, np.int8),
                             np.full(n_gal, KIND_GALAXY, np.int8)]),
        ra=ra, dec=dec, mag=np.vstack([star_mag, gal_mag]),
        radius_arcsec=np.concatenate([np.zeros(n_star), radius]),
        ba=np.concatenate([np.ones(n_star), rng.uniform(0.25, 1.0, n_gal)]),
        pa=np.concatenate([np.zeros(n_star), rng.uniform(0.0, 180.0, n_gal)]),
    )


def cells_near(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Sorted unique cells containing the sample positions (ra, dec)."""
    return np.unique(healpix.to_order(healpix.ang2hpx(ra, dec), CELL_ORDER))


def cell_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees of cell centres."""
    return healpix.hpx2ang(cells, order=CELL_ORDER)
