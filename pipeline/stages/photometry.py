"""Aperture photometry on the Atlas Images: fluxes at given radii with their errors, the
curve-of-growth (aperture) correction, and apertures placed on the stars as the image
shows them. Used by the night's zero points (``run``) and the extractions (``extract``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sep
from scipy.spatial import cKDTree

from twomass.pipeline.stages import atlas, calibrate, tan
from twomass.pipeline.stages import instrument as inst

#: Flat-field residual left in the frames (1-2 % structure averaged over ~6 frames).
FLAT_RESIDUAL = 0.01
#: Aperture sky noise over sqrt(pixels) x pixel rms on the Atlas Images, measured with the
#: turbo kernel (2" frames onto 1" pixels, ~6 frames): pull rms 1 against the truth.
CORRELATED_NOISE = 1.5
#: Curve of growth: the 4" aperture against a 12" one, from bright stars of each scan and
#: band isolated within 20". The 4" fraction changes by ~1 % for 0.15" of seeing, and the
#: calibration scans' seeing is not the survey scans', so fluxes are corrected to total
#: before the zero point. 12", not 8": the PSF's wing (8 % of the flux, 3x the core's
#: width) leaves 0.4 % of the flux outside 8" at 2.5" seeing and 0.9 % at 3", which biased
#: the zero point by the difference; outside 12" it leaves 0.06 % at 3".
APCOR_ARCSEC = 12.0
APCOR_MIN_SNR = 20.0
APCOR_ISOLATION_ARCSEC = 20.0
APCOR_MIN_STARS = 5
#: Standards are measured where the Atlas Image shows them, within this of the listed position.
RECENTRE_ARCSEC = 4.0


def aperture_corrections(images: list[list[atlas.AtlasImage]]) -> list[float]:
    """Per band, the median 4"/12" aperture flux ratio of bright, round, isolated stars on
    a scan's Atlas Images; a band with fewer than ``APCOR_MIN_STARS`` takes the median of
    the scan's three bands together (the PSF's shape is the same), 1 if none has any."""
    ratios = [curve_of_growth(band_images) for band_images in images]
    pooled = np.concatenate(ratios)
    return [float(np.median(r)) if len(r) >= APCOR_MIN_STARS
            else float(np.median(pooled)) if len(pooled) else 1.0 for r in ratios]


def curve_of_growth(images: list[atlas.AtlasImage]) -> np.ndarray:
    """4"/12" aperture flux ratios of bright, round, isolated detections on Atlas Images.

    Isolated: no other detection down to 3 sigma within 20" (a faint neighbour inside the
    12" aperture lowers the ratio, never raises it)."""
    ratios: list[float] = []
    for image in images:
        data = np.ascontiguousarray(image.image, dtype=np.float64)
        mask = image.coverage < 3
        bkg = sep.Background(data, mask=mask)
        objs = sep.extract(data - bkg.back(), 3.0, err=bkg.globalrms, mask=mask, minarea=5)
        if len(objs) < 2:
            continue
        xy = np.column_stack([objs["x"], objs["y"]])
        dist, _ = cKDTree(xy).query(xy, k=2)
        pick = (dist[:, 1] > APCOR_ISOLATION_ARCSEC / inst.ATLAS_ARCSEC) \
            & (objs["a"] < 1.3 * objs["b"]) & (objs["flux"] > APCOR_MIN_SNR * bkg.globalrms)
        if not pick.any():
            continue
        ra, dec = tan.pix_to_world(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX,
                                   objs["x"][pick], objs["y"][pick])
        unit = dataclasses.replace(image, apcor=1.0)
        f4, _, ok4 = aperture_photometry(unit, ra, dec)
        f12, e12, ok12 = aperture_photometry(unit, ra, dec, APCOR_ARCSEC)
        good = ok4 & ok12 & (f12 > APCOR_MIN_SNR * e12)
        ratios += list(f4[good] / f12[good])
    return np.asarray(ratios, dtype=float)


def recentre(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray,
             radius_arcsec: float = RECENTRE_ARCSEC) -> tuple[np.ndarray, np.ndarray]:
    """Positions moved to the nearest Atlas Image detection within ``radius_arcsec``
    (its windowed centroid); unchanged where there is none.

    A star's aperture is placed on the star as measured, so its flux does not depend on
    the scan's absolute registration (a calibration scan without a reference star keeps
    the telescope's reported pointing, off by 1-2").
    """
    data = np.ascontiguousarray(image.image, dtype=np.float64)
    mask = image.coverage == 0
    bkg = sep.Background(data, mask=mask)
    sub = data - bkg.back()
    objs = sep.extract(sub, 5.0, err=bkg.globalrms, mask=mask, minarea=5)
    if len(objs) == 0:
        return ra, dec
    x, y, flag = sep.winpos(sub, objs["x"], objs["y"], 1.2, mask=mask)
    x, y = np.where(flag == 0, x, objs["x"]), np.where(flag == 0, y, objs["y"])
    tx, ty = tan.world_to_pix(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, ra, dec)
    dist, j = cKDTree(np.column_stack([x, y])).query(
        np.column_stack([tx, ty]), distance_upper_bound=radius_arcsec / inst.ATLAS_ARCSEC)
    found = np.isfinite(dist)
    tx, ty = np.where(found, x[np.minimum(j, len(x) - 1)], tx), \
        np.where(found, y[np.minimum(j, len(x) - 1)], ty)
    return tan.pix_to_world(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, tx, ty)


def aperture_photometry(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray,
                        radius_arcsec: float = calibrate.APERTURE_ARCSEC
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4" aperture flux [ADU per frame] at (ra, dec) on an Atlas Image, sky from 14-20",
    divided by the image's aperture correction (so: total flux).

    ``ok`` is False where the aperture leaves the image or touches uncovered pixels.
    """
    flux, err, ok = aperture_fluxes(image, ra, dec, np.array([radius_arcsec]))
    return flux[:, 0] / image.apcor, err[:, 0] / image.apcor, ok[:, 0]


def aperture_fluxes(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray,
                    radii_arcsec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aperture fluxes [ADU per frame], not corrected to total, and their errors at
    (ra, dec) on an Atlas Image in circles of ``radii_arcsec``: arrays (positions, radii).

    The sky is the median of the 14-20" annulus, measured once per position (the part of
    it on the image near an edge); ``ok`` is False where the aperture leaves the image or
    touches uncovered pixels, or fewer than 50 sky pixels remain.
    """
    radii = np.atleast_1d(np.asarray(radii_arcsec, dtype=float))
    ra, dec = np.atleast_1d(ra), np.atleast_1d(dec)
    x, y = tan.world_to_pix(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, ra, dec)
    ny, nx = image.image.shape
    edge = float(np.min(radii)) / inst.ATLAS_ARCSEC + 1.0
    inside = (x > edge) & (x < nx - 1 - edge) & (y > edge) & (y < ny - 1 - edge)
    shape = (len(ra), len(radii))
    flux, err, ok = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, bool)
    if not inside.any():
        return flux, err, ok
    data = np.ascontiguousarray(image.image, dtype=np.float64)
    mask = image.coverage == 0
    xi, yi = x[inside], y[inside]
    sky, sky_sd, n_sky = _annulus(data, mask, xi, yi)
    cov = image.coverage[np.rint(yi).astype(int), np.rint(xi).astype(int)]
    n_frames = np.maximum(cov, 1)
    for j, radius in enumerate(radii):
        r = radius / inst.ATLAS_ARCSEC
        f, _, flag = sep.sum_circle(data, xi, yi, r, mask=mask)
        area = np.pi * r * r
        f = f - sky * area
        flux[inside, j] = f
        # Pixels of co-added frames are correlated (1" output of 2" inputs): the sky noise
        # of an aperture exceeds sqrt(area) times the pixel rms by CORRELATED_NOISE.
        err[inside, j] = np.sqrt((sky_sd * np.sqrt(area) * CORRELATED_NOISE) ** 2
                                 + np.maximum(f, 0.0) / (inst.GAIN * n_frames)
                                 + (FLAT_RESIDUAL * f) ** 2)
        ok[inside, j] = ((flag & (sep.APER_HASMASKED | sep.APER_TRUNC)) == 0) \
            & (n_sky >= 50) & (cov > 0)
    return flux, err, ok


def _annulus(data, mask, x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, robust sd and pixel count of the 14-20" annulus around each position."""
    sky, sd, count = np.zeros(len(x)), np.zeros(len(x)), np.zeros(len(x), int)
    yy, xx = np.mgrid[-20:21, -20:21]
    ny, nx = data.shape
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        x0, y0 = int(round(xi)), int(round(yi))
        ya, yb, xa, xb = max(y0 - 20, 0), min(y0 + 21, ny), max(x0 - 20, 0), min(x0 + 21, nx)
        cut = data[ya:yb, xa:xb]
        m = mask[ya:yb, xa:xb]
        rr = np.hypot(xx[ya - y0 + 20:yb - y0 + 20, xa - x0 + 20:xb - x0 + 20] + x0 - xi,
                      yy[ya - y0 + 20:yb - y0 + 20, xa - x0 + 20:xb - x0 + 20] + y0 - yi)
        v = cut[(rr >= 14.0) & (rr <= 20.0) & ~m]
        count[i] = len(v)
        if len(v):
            lo, med, hi = np.percentile(v, [15.87, 50.0, 84.13])
            sky[i], sd[i] = med, 0.5 * (hi - lo)
    return sky, sd, count
