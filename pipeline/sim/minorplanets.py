"""Minor planets: moving sources, drawn per night, seen where they are at scan time.

A night's minor planets are drawn over the simulated region at the time of its first
scan, with a surface density falling away from the ecliptic, and move mostly
westward at 0.1-0.5 deg/day (~15-75"/h). Overlapping scans of one night, minutes
apart, therefore see them a few arcsec apart, and scans of other nights not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from twomass.pipeline.sim.region import Region
from twomass.pipeline.sim.sky import KIND_MINOR_PLANET, Sources

#: Minor planets per deg^2 on the ecliptic down to the survey depth.
ECLIPTIC_DENSITY = 1.5
ECLIPTIC_SCALE_DEG = 10.0
OBLIQUITY_DEG = 23.4393
ID_BASE = 1 << 60


@dataclass
class MovingSources:
    """Minor planets at epoch ``jd0`` (one for all, or one each) with rates [deg/day]."""

    id: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    ra_rate: np.ndarray  # d(ra)/dt [deg/day], RA coordinate rate
    dec_rate: np.ndarray
    mag: np.ndarray
    jd0: float | np.ndarray

    def at(self, jd: float) -> Sources:
        """Their positions at ``jd`` as ordinary sources."""
        dt_days = jd - self.jd0
        n = len(self.id)
        return Sources(self.id, np.full(n, KIND_MINOR_PLANET, np.int8),
                       (self.ra + self.ra_rate * dt_days) % 360.0,
                       np.clip(self.dec + self.dec_rate * dt_days, -90.0, 90.0),
                       self.mag, np.zeros(n), np.ones(n), np.zeros(n))


def ecliptic_latitude(ra: float, dec: float) -> float:
    """Ecliptic latitude [deg] of an equatorial position."""
    a, d, e = np.radians(ra), np.radians(dec), np.radians(OBLIQUITY_DEG)
    return float(np.degrees(np.arcsin(np.sin(d) * np.cos(e)
                                      - np.cos(d) * np.sin(e) * np.sin(a))))


def for_night(seed: int, hemis: str, date: dt.date, jd0: float, region: Region,
              density: float = ECLIPTIC_DENSITY) -> MovingSources:
    """The minor planets of one night over the region (deterministic per night);
    ``density`` [per deg^2 on the ecliptic] raised only to measure the association on
    many of them."""
    rng = np.random.default_rng([seed, 4, date.toordinal(), int(hemis == "s")])
    beta = ecliptic_latitude(*region.centre())
    n = int(rng.poisson(density * np.exp(-abs(beta) / ECLIPTIC_SCALE_DEG)
                        * region.area_deg2()))
    ra, dec = region.uniform(rng, n)
    speed = rng.uniform(0.1, 0.5, n)
    theta = np.radians(180.0 + rng.normal(0.0, 20.0, n))
    ks = rng.uniform(12.0, 16.5, n)
    mag = np.column_stack([ks + 0.45, ks + 0.1, ks])
    key = (date.toordinal() << 21) | (int(hemis == "s") << 20)
    return MovingSources(
        id=ID_BASE + key + np.arange(n, dtype=np.int64), ra=ra, dec=dec,
        ra_rate=speed * np.cos(theta) / np.maximum(np.cos(np.radians(dec)), 1e-3),
        dec_rate=speed * np.sin(theta), mag=mag, jd0=jd0)
