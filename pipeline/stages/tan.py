"""Gnomonic (TAN) projection in numpy, and the matching FITS WCS header.

The simulator and the pipeline project tens of thousands of positions per frame;
astropy's WCS is the oracle the tests compare this against, and the FITS headers this
module writes are read back by astropy.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def world_to_pix(crval: tuple[float, float], cd: np.ndarray, crpix: tuple[float, float],
                 ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based pixel (x, y) of (ra, dec) [deg] on a TAN projection."""
    a0, d0 = np.radians(crval)
    a, d = np.radians(ra), np.radians(dec)
    cosc = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0)
    xi = np.cos(d) * np.sin(a - a0) / cosc
    eta = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(a - a0)) / cosc
    inv = np.linalg.inv(cd)
    p = inv @ np.degrees(np.vstack([xi, eta]))
    return p[0] + crpix[0] - 1.0, p[1] + crpix[1] - 1.0


def pix_to_world(crval: tuple[float, float], cd: np.ndarray, crpix: tuple[float, float],
                 x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) [deg] of 0-based pixel (x, y) on a TAN projection."""
    shape = np.shape(x)
    q = np.radians(cd @ np.vstack([np.ravel(x) - crpix[0] + 1.0, np.ravel(y) - crpix[1] + 1.0]))
    xi, eta = q
    a0, d0 = np.radians(crval)
    rho = np.hypot(xi, eta)
    c = np.arctan(rho)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(rho > 0, eta * np.sin(c) / rho, 0.0)
    dec = np.arcsin(np.cos(c) * np.sin(d0) + ratio * np.cos(d0))
    ra = a0 + np.arctan2(xi * np.sin(c),
                         rho * np.cos(d0) * np.cos(c) - eta * np.sin(d0) * np.sin(c))
    return (np.degrees(ra) % 360.0).reshape(shape), np.degrees(dec).reshape(shape)


def header(crval: tuple[float, float], cd: np.ndarray, crpix: tuple[float, float]
           ) -> fits.Header:
    """A FITS WCS header (RA---TAN/DEC--TAN, ICRS) for the projection."""
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CUNIT1"], h["CUNIT2"] = "deg", "deg"
    h["RADESYS"] = "ICRS"
    h["EQUINOX"] = 2000.0
    h["CRVAL1"], h["CRVAL2"] = float(crval[0]), float(crval[1])
    h["CRPIX1"], h["CRPIX2"] = float(crpix[0]), float(crpix[1])
    h["CD1_1"], h["CD1_2"] = float(cd[0, 0]), float(cd[0, 1])
    h["CD2_1"], h["CD2_2"] = float(cd[1, 0]), float(cd[1, 1])
    return h


def astropy_wcs(crval, cd, crpix) -> WCS:
    """The same projection as an astropy WCS."""
    return WCS(header(crval, cd, crpix))
