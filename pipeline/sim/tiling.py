"""Survey tiling: the planned 2MASS tiles, as declination bands of RA strips.

The sky is cut into 6-degree declination bands. Each band is covered by tiles one
camera frame (8.5') wide, centred on lines of constant RA, that overlap their RA
neighbours by a fraction of a frame at the band's equatorward end; because the
centre meridians converge, the overlap grows toward the pole. Each tile reaches one
frame (8.5') beyond its band's equatorward boundary, into the next band.

Positions on a tile use the scan frame of :mod:`twomass.pipeline.sim.scanframe`:
``xi`` is the cross-scan angle from the centre meridian (east positive) and ``phi``
the latitude along that meridian. A tile is ``|xi| <= width/2``,
``phi_lo <= phi <= phi_hi``; its corners are the four (xi, phi) extremes.

UNCONFIRMED choice (a setting: ``SurveyGeometry.ra_overlap``): 2MASS quotes both a
~10% (~50") RA overlap at the equatorward end and 59,650 tiles. With 8.5' frames a
10% overlap gives 56,840 tiles, 4.7% short of 59,650; the default overlap of 14%
(71") gives 59,482 tiles (-0.3%), which we take as the better-constrained number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.pipeline.sim import scanframe

ARCSEC = 1.0 / 3600.0


@dataclass(frozen=True)
class SurveyGeometry:
    """Tiling parameters; the defaults are the 2MASS survey's."""

    band_deg: float = 6.0
    frame_arcsec: float = 510.0  # 256 pixels of 2" = 8.5'
    ra_overlap: float = 0.14  # fraction of a frame, at the equatorward end
    dec_extension_arcsec: float = 510.0  # one frame into the next band

    @property
    def n_bands(self) -> int:
        return int(round(180.0 / self.band_deg))


@dataclass(frozen=True)
class Tiles:
    """A set of planned tiles as parallel arrays (degrees)."""

    tile: np.ndarray  # int32 id, 1-based, south pole band first, RA ascending
    dec_band: np.ndarray  # int16, 0 = south-pole band
    ra0: np.ndarray  # centre meridian
    phi_lo: np.ndarray  # southern end, along the meridian
    phi_hi: np.ndarray  # northern end
    half_width: float  # degrees, half the frame

    def __len__(self) -> int:
        return len(self.tile)

    def take(self, index: np.ndarray) -> Tiles:
        """The tiles at ``index`` (an integer or boolean array)."""
        return Tiles(self.tile[index], self.dec_band[index], self.ra0[index],
                     self.phi_lo[index], self.phi_hi[index], self.half_width)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Tile centres (ra, dec): the centre meridian at mid-length."""
        return self.ra0.copy(), 0.5 * (self.phi_lo + self.phi_hi)

    def corners(self) -> dict[str, np.ndarray]:
        """Corners ``ra_1..dec_4``: 1 east-south, 2 west-south, 3 east-north, 4 west-north.

        Tiles have no direction; their corners are numbered as for a northbound scan.
        """
        out: dict[str, np.ndarray] = {}
        for i, (xi_sign, phi) in enumerate(
            [(1, self.phi_lo), (-1, self.phi_lo), (1, self.phi_hi), (-1, self.phi_hi)], 1
        ):
            ra, dec = scanframe.to_radec(self.ra0, xi_sign * self.half_width, phi)
            out[f"ra_{i}"], out[f"dec_{i}"] = ra, dec
        return out


def band_tiles(geometry: SurveyGeometry, band: int) -> tuple[np.ndarray, float, float]:
    """Centre meridians and the (phi_lo, phi_hi) extent of the tiles of one band."""
    lo = -90.0 + band * geometry.band_deg
    hi = lo + geometry.band_deg
    ext = geometry.dec_extension_arcsec * ARCSEC
    if lo >= 0.0:  # northern band: equatorward end is its southern boundary
        equatorward, phi_lo, phi_hi = lo, lo - ext, hi
    else:
        equatorward, phi_lo, phi_hi = hi, lo, hi + ext
    edge = equatorward - ext if lo >= 0.0 else equatorward + ext
    width = geometry.frame_arcsec * ARCSEC
    step = width * (1.0 - geometry.ra_overlap) / np.cos(np.radians(abs(edge)))
    n = int(np.ceil(360.0 / step))
    ra0 = (np.arange(n) + 0.5) * (360.0 / n)
    return ra0, phi_lo, phi_hi


def full_sky(geometry: SurveyGeometry | None = None) -> Tiles:
    """Every planned tile of the survey (59,482 with the default geometry)."""
    geometry = geometry or SurveyGeometry()
    ra0s, los, his, bands = [], [], [], []
    for band in range(geometry.n_bands):
        ra0, lo, hi = band_tiles(geometry, band)
        ra0s.append(ra0)
        los.append(np.full(len(ra0), lo))
        his.append(np.full(len(ra0), hi))
        bands.append(np.full(len(ra0), band, dtype=np.int16))
    ra0 = np.concatenate(ra0s)
    return Tiles(
        tile=np.arange(1, len(ra0) + 1, dtype=np.int32),
        dec_band=np.concatenate(bands),
        ra0=ra0,
        phi_lo=np.concatenate(los),
        phi_hi=np.concatenate(his),
        half_width=0.5 * geometry.frame_arcsec * ARCSEC,
    )


def ra_overlap_arcsec(tiles: Tiles, index: int, dec_deg: float) -> float:
    """Overlap, at ``dec_deg``, of tile ``index`` with its eastern neighbour [arcsec]."""
    same = np.flatnonzero(tiles.dec_band == tiles.dec_band[index])
    ra = np.sort(tiles.ra0[same])
    step = float(ra[1] - ra[0])
    separation = 2.0 * np.degrees(np.arcsin(np.cos(np.radians(dec_deg))
                                            * np.sin(np.radians(step / 2.0))))
    return (2.0 * tiles.half_width - separation) * 3600.0


def in_box(tiles: Tiles, ra_range: tuple[float, float], dec_range: tuple[float, float],
           margin_deg: float = 0.0) -> np.ndarray:
    """Boolean mask of tiles whose footprint may touch an RA/Dec box.

    Conservative: a tile is kept when its Dec extent meets the box and its RA extent,
    widened for convergence at the box's most poleward Dec, meets the box's RA range.
    ``ra_range`` runs eastward from its first to its second value, so a first value
    above the second is a box crossing RA 0.
    """
    dlo, dhi = dec_range
    meets_dec = (tiles.phi_lo - margin_deg <= dhi) & (tiles.phi_hi + margin_deg >= dlo)
    pole = min(max(abs(dlo), abs(dhi)), 89.999)
    ra_half = (tiles.half_width + margin_deg) / np.cos(np.radians(pole)) + margin_deg
    if max(abs(dlo), abs(dhi)) > 89.0 or ra_half > 90.0:
        return meets_dec
    lo, hi = ra_range
    width = hi - lo if hi >= lo else hi - lo + 360.0
    offset = (tiles.ra0 - lo) % 360.0
    meets_ra = (offset <= width + ra_half) | (offset >= 360.0 - ra_half)
    return meets_dec & meets_ra
