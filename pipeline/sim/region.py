"""The simulated region: an RA/Dec box that may cross RA 0.

RA runs from ``ra_min`` eastward to ``ra_max``; ``ra_min > ra_max`` means the box
crosses RA 0/360 (``--ra 355 5`` is 10 degrees wide), and ``(0, 360)`` is a full
ring. Every membership test works on the RA offset from ``ra_min`` modulo 360, so
the wrapped and the plain box are one case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.core.errors import TwomassError


class SimulationError(TwomassError):
    """The simulation request is invalid (region, output directory)."""


@dataclass(frozen=True)
class Region:
    """An RA/Dec box [deg, ICRS]; see the module docstring for the RA convention."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float

    @classmethod
    def from_ranges(cls, ra_range, dec_range) -> Region:
        """Check the (min, max) ranges; raise :class:`SimulationError` naming the problem."""
        ra_min, ra_max = (float(v) for v in ra_range)
        dec_min, dec_max = (float(v) for v in dec_range)
        if not np.isfinite([ra_min, ra_max, dec_min, dec_max]).all():
            raise SimulationError("region bounds must be finite numbers")
        if not (0.0 <= ra_min <= 360.0 and 0.0 <= ra_max <= 360.0):
            raise SimulationError(f"RA bounds must be within [0, 360] deg, got "
                                  f"{ra_min}..{ra_max}")
        region = cls(ra_min, ra_max, dec_min, dec_max)
        if region.ra_width <= 0.0:
            raise SimulationError(f"RA range is empty: RA_MIN {ra_min} and RA_MAX {ra_max} "
                                  f"are the same meridian (RA_MIN > RA_MAX crosses RA 0)")
        if not (-90.0 <= dec_min <= 90.0 and -90.0 <= dec_max <= 90.0):
            raise SimulationError(f"Dec bounds must be within [-90, 90] deg, got "
                                  f"{dec_min}..{dec_max}")
        if not dec_min < dec_max:
            raise SimulationError(f"Dec range is empty: DEC_MIN {dec_min} must be below "
                                  f"DEC_MAX {dec_max}")
        return region

    @property
    def ra_width(self) -> float:
        """Eastward extent from ``ra_min`` to ``ra_max`` [deg], in [0, 360]; 0 is empty."""
        width = self.ra_max - self.ra_min
        return width if width >= 0.0 else width + 360.0

    @property
    def ra_range(self) -> tuple[float, float]:
        return self.ra_min, self.ra_max

    @property
    def dec_range(self) -> tuple[float, float]:
        return self.dec_min, self.dec_max

    def centre(self) -> tuple[float, float]:
        """(ra, dec) of the box's middle [deg]."""
        return ((self.ra_min + 0.5 * self.ra_width) % 360.0,
                0.5 * (self.dec_min + self.dec_max))

    def area_deg2(self) -> float:
        """Solid angle of the box [deg^2]."""
        s_lo, s_hi = np.sin(np.radians([self.dec_min, self.dec_max]))
        return float(self.ra_width * (s_hi - s_lo) * 180.0 / np.pi)

    def contains(self, ra: np.ndarray, dec: np.ndarray, margin_deg: float = 0.0
                 ) -> np.ndarray:
        """Mask of positions inside the box widened by ``margin_deg`` on the sky."""
        ra, dec = np.asarray(ra), np.asarray(dec)
        cosd = np.maximum(np.cos(np.radians(np.clip(np.abs(dec), 0, 89.9))), 1e-3)
        m_ra = margin_deg / cosd
        offset = (ra - self.ra_min) % 360.0
        in_ra = (offset <= self.ra_width + m_ra) | (offset >= 360.0 - m_ra)
        return (dec >= self.dec_min - margin_deg) & (dec <= self.dec_max + margin_deg) & in_ra

    def grid(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """An n x n grid of positions spanning the box, RA within [0, 360)."""
        ra = (self.ra_min + np.linspace(0.0, self.ra_width, n)) % 360.0
        gr, gd = np.meshgrid(ra, np.linspace(self.dec_min, self.dec_max, n))
        return gr.ravel(), gd.ravel()

    def uniform(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` positions uniform on the sphere inside the box."""
        ra = (self.ra_min + rng.uniform(0.0, self.ra_width, n)) % 360.0
        s_lo, s_hi = np.sin(np.radians([self.dec_min, self.dec_max]))
        return ra, np.degrees(np.arcsin(rng.uniform(s_lo, s_hi, n)))
