"""Where a scan's arrays actually looked: coverage, U-scan coordinates and corners.

The J, H and Ks arrays sit side by side with small cross-scan offsets
(``BAND_OFFSET_ARCSEC``), so a 2-3" strip along each long edge is seen by fewer than
three bands. The telescope follows the tile's centre meridian, shifted by the scan's
pointing offset, with a slow RA tracking excursion along the scan (typically +-2",
rarely 7-8"). The scan's corners are those of the 3-band area on the intended
(offset) meridian; the excursion is why catalog sources keep 10" from the edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.pipeline.sim import scanframe
from twomass.pipeline.sim.schedule import Scan

FRAME_ARCSEC = 510.0
BAND_OFFSET_ARCSEC = np.array([1.5, 0.0, -1.5])
SCAN_RATE_ARCSEC_S = 57.0
COADD_STEP_ARCSEC = 970.0  # 1024-pixel Atlas Images at 1"/pixel, 54 pixels overlapping


@dataclass
class Footprint:
    """Geometry of one scan, ready to place sources on it."""

    scan: Scan
    half_width_deg: float

    @property
    def phi_range(self) -> tuple[float, float]:
        return min(self.scan.phi_start, self.scan.phi_end), max(self.scan.phi_start,
                                                                 self.scan.phi_end)

    def track(self, phi: np.ndarray) -> np.ndarray:
        """Cross-scan tracking excursion at scan latitude ``phi`` [deg]."""
        s = self.scan
        arg = 2.0 * np.pi * (phi - s.phi_start) / s.track_period_deg + s.track_phase
        return s.track_amp_arcsec * np.sin(arg) / 3600.0

    def place(self, ra: np.ndarray, dec: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """U-scan (x_scan, y_scan) [arcsec] and per-band coverage mask (n, 3)."""
        xi, phi = scanframe.to_scan(self.scan.ra0, ra, dec)
        rel = (xi - self.track(phi)) * 3600.0
        lo, hi = self.phi_range
        along = (phi >= lo) & (phi <= hi)
        half = self.half_width_deg * 3600.0
        covered = (np.abs(rel[:, None] - BAND_OFFSET_ARCSEC[None, :]) <= half) & along[:, None]
        y = np.abs(phi - self.scan.phi_start) * 3600.0
        return -rel, y, covered

    def corners(self) -> dict[str, float]:
        """3-band corners ``ra_1..dec_4`` (1 east at start, 2 west at start, 3, 4 at end)."""
        half = self.half_width_deg - np.max(np.abs(BAND_OFFSET_ARCSEC)) / 3600.0
        out: dict[str, float] = {}
        s = self.scan
        for i, (sign, phi) in enumerate([(1, s.phi_start), (-1, s.phi_start),
                                         (1, s.phi_end), (-1, s.phi_end)], 1):
            ra, dec = scanframe.to_radec(s.ra0, sign * half, phi)
            out[f"ra_{i}"], out[f"dec_{i}"] = float(ra), float(dec)
        return out

    def centre(self) -> tuple[float, float]:
        """Scan centre (ra, dec) from the interior corners."""
        ra, dec = scanframe.to_radec(self.scan.ra0, 0.0,
                                     0.5 * (self.scan.phi_start + self.scan.phi_end))
        return float(ra), float(dec)

    def samples(self, step_deg: float, margin_deg: float) -> tuple[np.ndarray, np.ndarray]:
        """A grid of positions covering the scan plus a margin (to find sky cells)."""
        lo, hi = self.phi_range
        phi = np.arange(lo - margin_deg, hi + margin_deg + step_deg, step_deg)
        phi = np.clip(phi, -90.0, 90.0)
        w = self.half_width_deg + margin_deg
        xi = np.linspace(-w, w, max(3, int(np.ceil(2 * w / step_deg)) + 1))
        pp, xx = np.meshgrid(phi, xi)
        return scanframe.to_radec(self.scan.ra0, xx.ravel(), pp.ravel())

    def random_points(self, rng: np.random.Generator, n: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` positions uniform (to first order) over the scan's area."""
        lo, hi = self.phi_range
        phi = rng.uniform(lo, hi, n)
        xi = rng.uniform(-self.half_width_deg, self.half_width_deg, n) + self.track(phi)
        return scanframe.to_radec(self.scan.ra0, xi, phi)

    def area_deg2(self) -> float:
        lo, hi = self.phi_range
        return 2.0 * self.half_width_deg * (hi - lo)
