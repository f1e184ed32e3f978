"""Aperture photometry on the Atlas Images: fluxes at given radii with their errors, the
curve-of-growth (aperture) correction, and apertures placed on the stars as the image
shows them. Used by the night's zero points (``photcal``) and the extractions (``extract``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import sep
from scipy.spatial import cKDTree

from twomass.core.stats import robust_sigma
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import atlas, calibrate, tan
from twomass.pipeline.stages import instrument as inst

#: Magnitude error per relative flux error (and S/N per magnitude error): 2.5 / ln 10.
MAG_PER_LN_FLUX = 2.5 / np.log(10.0)
#: Flat-field residual left in the frames (1-2 % structure averaged over ~6 frames).
FLAT_RESIDUAL = 0.01
#: Aperture sky noise over sqrt(pixels) x pixel rms on the Atlas Images: 2" frame pixels
#: drizzled whole (pixfrac 1) onto 1" pixels, ~6 frames; measured 2.0-2.1 on 4" apertures
#: placed off the sources of the test region's images (1.5 when drizzle's turbo kernel
#: dropped each pixel as a 1" square).
CORRELATED_NOISE = 2.05
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
#: Curve-of-growth ratios further than this many robust sigma from their median are not
#: a point source's (``point_like``).
APCOR_CLIP_SIGMA = 3.0
#: The cross-scan curve of growth: the 4" share of the flux follows the PSF's variation
#: over the focal plane (astigmatism about an axis off the array centre, a tilted focal
#: plane, a core growing towards the corners), which the co-add averages along the scan
#: but not across it: 0.03-0.045 mag from one edge of the array to the other. A polynomial
#: in the cross-scan offset through the median ratios of bins of ``CROSS_SCAN_BIN_STARS``
#: stars (in xi order) of a night's calibration scans (a hundred or more per band):
#: medians, because blends in the 12" aperture (many on a crowded field) skew the ratios
#: low. Its degree, up to ``CROSS_SCAN_DEGREE``, is raised while that lowers the bins'
#: chi^2 by more than ``CROSS_SCAN_CHI2_GAIN``: on a crowded field with short calibration
#: scans the bins' scatter can hide the variation, and a curve fitted to noise is worse
#: than one correction.
CROSS_SCAN_DEGREE = 2
CROSS_SCAN_BIN_STARS = 20
CROSS_SCAN_CHI2_GAIN = 4.0
#: Standards are measured where the Atlas Image shows them, within this of the listed position.
RECENTRE_ARCSEC = 4.0


def aperture_corrections(images: list[list[atlas.AtlasImage]],
                         band_levels: tuple[float, float, float] | None = None
                         ) -> list[float]:
    """Per band, the 4"/12" aperture flux ratio of a scan's bright, round, isolated stars
    on its Atlas Images (``curve_of_growth``), as ``scan_levels`` sets it."""
    return scan_levels([curve_of_growth(band_images)[0] for band_images in images],
                       band_levels)


def scan_levels(ratios: list[np.ndarray],
                band_levels: tuple[float, float, float] | None = None) -> list[float]:
    """Per band, a scan's aperture correction from its stars' 4"/12" ratios.

    Without ``band_levels``, each band's median; a band with fewer than
    ``APCOR_MIN_STARS`` takes the median of the three bands together (the PSF's shape is
    the same), 1 if none has any. With ``band_levels`` (the night's per-band levels, from
    its calibration scans: ``night_band_levels``), one level for the scan from the three
    bands' stars together, each ratio over its band's night level, times each band's
    night level: a survey scan has 25-40 such stars in Ks (its own median 0.02-0.025 mag
    off the true 4" share) against hundreds in J and H, and the seeing that moves the
    scan's curve of growth moves the three bands' alike."""
    ratios = [np.asarray(r, dtype=float) for r in ratios]
    pooled = np.concatenate(ratios)
    if band_levels is not None:
        if not len(pooled):
            return [float(level) for level in band_levels]
        level = float(np.median(np.concatenate([r / band_levels[b]
                                                for b, r in enumerate(ratios)])))
        return [level * float(band_levels[b]) for b in range(len(ratios))]
    return [float(np.median(r)) if len(r) >= APCOR_MIN_STARS
            else float(np.median(pooled)) if len(pooled) else 1.0 for r in ratios]


def night_band_levels(curves: list[tuple[np.ndarray, np.ndarray]]
                      ) -> tuple[float, float, float] | None:
    """The three bands' median 4"/12" ratios on a night's calibration scans
    (``curve_of_growth`` per band over all of them), or None when a band has fewer than
    ``APCOR_MIN_STARS`` (each survey scan then keeps its own bands' medians)."""
    if any(len(r) < APCOR_MIN_STARS for r, _ in curves):
        return None
    return tuple(float(np.median(r)) for r, _ in curves)


@dataclass(frozen=True)
class CrossScanApcor:
    """The 4" aperture flux over total flux as a polynomial (``np.polyval`` order) in the
    cross-scan offset xi [arcsec] from the scan's centre line (``cross_scan_offset``)."""

    coeffs: tuple[float, ...]

    def __call__(self, xi: np.ndarray) -> np.ndarray:
        return np.polyval(self.coeffs, np.asarray(xi, dtype=float))


def cross_scan_offset(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray
                      ) -> np.ndarray:
    """Cross-scan offset xi [arcsec, east positive] of positions on a scan's Atlas Image:
    the images are centred on the scan's centre meridian (``atlas.tile_centres``), so
    xi fixes the array column a star crossed the array at."""
    return scanframe.to_scan(image.crval[0], ra, dec)[0] * 3600.0


def cross_scan_apcor(ratios: np.ndarray, xi: np.ndarray,
                     degree: int = CROSS_SCAN_DEGREE) -> CrossScanApcor:
    """The curve of growth's 4"/12" ratios (``curve_of_growth``) as a polynomial in xi
    through the medians of bins of ``CROSS_SCAN_BIN_STARS`` stars, of the lowest degree up
    to ``degree`` the bins call for (``CROSS_SCAN_CHI2_GAIN``), leaving a bin more than
    the coefficients; a constant median with one bin or fewer, 1 with no star."""
    ratios, xi = np.asarray(ratios, dtype=float), np.asarray(xi, dtype=float)
    n_bins = len(ratios) // CROSS_SCAN_BIN_STARS
    median = CrossScanApcor((float(np.median(ratios)) if len(ratios) else 1.0,))
    if n_bins < 3:
        return median
    bins = np.array_split(np.argsort(xi, kind="stable"), n_bins)
    centres = np.array([np.median(xi[k]) for k in bins])
    medians = np.array([np.median(ratios[k]) for k in bins])
    # The error of a median: sqrt(pi / 2) sigma / sqrt(n).
    errors = np.array([1.2533 * max(robust_sigma(ratios[k]), 1e-4) / np.sqrt(len(k))
                       for k in bins])
    best = median
    chi2 = float(np.sum(((medians - np.median(ratios)) / errors) ** 2))
    for d in range(1, min(degree, n_bins - 2) + 1):
        coeffs = np.polyfit(centres, medians, d, w=1.0 / errors)
        chi2_d = float(np.sum(((medians - np.polyval(coeffs, centres)) / errors) ** 2))
        if chi2 - chi2_d <= CROSS_SCAN_CHI2_GAIN:
            break
        best, chi2 = CrossScanApcor(tuple(float(c) for c in coeffs)), chi2_d
    return best


def cross_scan_shape(curves: list[tuple[np.ndarray, np.ndarray]]) -> CrossScanApcor:
    """One cross-scan shape of the 4" share for the three bands, 1 at its median over
    the stars (a band's median level times it): the curve of growth
    (``cross_scan_apcor``) of each band's ratios over their median, pooled.

    The focal plane's astigmatism and tilt shape the three bands' PSFs alike, and Ks
    alone has too few curve-of-growth stars for its bins to show the shape (84 on the
    benchmark night, a 0.03 mag trend across the array left in its standards)."""
    kept = [(np.asarray(r, dtype=float), np.asarray(x, dtype=float))
            for r, x in curves if len(r)]
    if not kept:
        return CrossScanApcor((1.0,))
    xi = np.concatenate([x for _, x in kept])
    shape = cross_scan_apcor(np.concatenate([r / np.median(r) for r, _ in kept]), xi)
    return CrossScanApcor(tuple(c / float(np.median(shape(xi))) for c in shape.coeffs))


def pooled_cross_scan_apcor(curves: list[tuple[np.ndarray, np.ndarray]]
                            ) -> list[CrossScanApcor]:
    """Per band, its curve of growth's median level times the three bands' cross-scan
    shape (``cross_scan_shape``); a band without a star takes the pooled ratios' median
    level (as ``aperture_corrections``)."""
    shape = cross_scan_shape(curves)
    pooled = np.concatenate([np.asarray(r, dtype=float) for r, _ in curves])
    fallback = float(np.median(pooled)) if len(pooled) else 1.0
    return [CrossScanApcor(tuple((float(np.median(r)) if len(r) else fallback) * c
                                 for c in shape.coeffs)) for r, _ in curves]


def curve_of_growth(images: list[atlas.AtlasImage]) -> tuple[np.ndarray, np.ndarray]:
    """4"/12" aperture flux ratios of bright, round, isolated, point-like detections on
    Atlas Images, and their cross-scan offsets xi [arcsec] (``cross_scan_offset``):
    ``growth_ratios`` through ``point_sources``."""
    return point_sources(*growth_ratios(images))


def point_sources(ratios: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve of growth's (ratios, offsets) of point sources only (``point_like``):
    applied to the ratios of all the images measured together (a night's calibration
    scans, one task each, are clipped together)."""
    ratios, offsets = np.asarray(ratios, dtype=float), np.asarray(offsets, dtype=float)
    keep = point_like(ratios)
    return ratios[keep], offsets[keep]


def growth_ratios(images: list[atlas.AtlasImage]) -> tuple[np.ndarray, np.ndarray]:
    """4"/12" aperture flux ratios of bright, round, isolated detections on Atlas Images
    and their cross-scan offsets xi [arcsec], galaxies and blends not yet dropped.

    Isolated: no other detection down to 3 sigma within 20" (a faint neighbour inside the
    12" aperture lowers the ratio, never raises it)."""
    ratios: list[float] = []
    offsets: list[float] = []
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
        offsets += list(cross_scan_offset(image, ra[good], dec[good]))
    return np.asarray(ratios, dtype=float), np.asarray(offsets, dtype=float)


def point_like(ratios: np.ndarray) -> np.ndarray:
    """The 4"/12" ratios that a point source gives: within ``APCOR_CLIP_SIGMA`` robust
    sigma of the median, repeated until none is dropped. A galaxy (ratio ~0.65 at high
    latitude, a tenth of the bright round detections there) or a blend lies far below
    the stars' ~0.93-0.95 and pulled their median 0.2-1.1 % low on the demo sky."""
    keep = np.ones(len(ratios), bool)
    for _ in range(10):
        if keep.sum() < APCOR_MIN_STARS:
            break
        r = ratios[keep]
        new = np.abs(ratios - np.median(r)) <= APCOR_CLIP_SIGMA * max(robust_sigma(r), 1e-4)
        if (new == keep).all():
            break
        keep = new
    return keep


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


def neighbour_distance(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray,
                       self_arcsec: float = 2.0) -> np.ndarray:
    """Distance [arcsec] from each position to the nearest other detection down to 3
    sigma on the Atlas Image (the nearest within ``self_arcsec`` is the star itself):
    how isolated a star is, for the photometric standards."""
    data = np.ascontiguousarray(image.image, dtype=np.float64)
    mask = image.coverage == 0
    bkg = sep.Background(data, mask=mask)
    objs = sep.extract(data - bkg.back(), 3.0, err=bkg.globalrms, mask=mask, minarea=5)
    x, y = tan.world_to_pix(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, ra, dec)
    if len(objs) < 2:
        return np.full(len(np.atleast_1d(ra)), np.inf)
    dist, _ = cKDTree(np.column_stack([objs["x"], objs["y"]])).query(
        np.column_stack([x, y]), k=2)
    near = dist[:, 0] * inst.ATLAS_ARCSEC
    return np.where(near < self_arcsec, dist[:, 1] * inst.ATLAS_ARCSEC, near)


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
    sky, sky_sd, n_sky = annulus_sky(data[None], ~mask[None], np.zeros(len(xi), int),
                                     xi, yi, 14.0, 20.0)
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


def annulus_sky(planes: np.ndarray, usable: np.ndarray, plane: np.ndarray, x: np.ndarray,
                y: np.ndarray, r_in: float, r_out: float, chunk: int = 4096
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, robust sd (half the 15.87-84.13 % quantile distance) and count of the
    usable pixels between radii ``r_in`` and ``r_out`` [px] around each position (x, y)
    on image ``plane`` of the stack ``planes`` (n, ny, nx): the sky of an aperture, on the
    Atlas Images (14-20" on 1" pixels) and on the frames (the profile fit's, on 2").

    Vectorised over positions, ``chunk`` at a time; quantiles interpolate linearly, as
    ``np.percentile`` does.
    """
    n_planes, ny, nx = planes.shape
    h = int(np.ceil(r_out))
    oy, ox = np.mgrid[-h:h + 1, -h:h + 1]
    # The pixels that can be in the annulus of a position within half a pixel.
    ring = np.abs(np.hypot(ox, oy) - 0.5 * (r_in + r_out)) <= 0.5 * (r_out - r_in) + 0.75
    ox, oy = ox[ring], oy[ring]
    flat_data, flat_use = planes.reshape(-1), usable.reshape(-1)
    med, sd, count = np.zeros(len(x)), np.zeros(len(x)), np.zeros(len(x), int)
    for first in range(0, len(x), chunk):
        sl = slice(first, first + chunk)
        xs, ys, ks = x[sl], y[sl], plane[sl]
        px = ox[None] + np.rint(xs).astype(int)[:, None]
        py = oy[None] + np.rint(ys).astype(int)[:, None]
        rr = np.hypot(px - xs[:, None], py - ys[:, None])
        inside = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
        index = np.where(inside, (ks[:, None] * ny + py) * nx + px, 0)
        use = inside & (rr >= r_in) & (rr <= r_out) & flat_use[index]
        values = np.where(use, flat_data[index], np.inf)
        values.sort(axis=1)
        n = use.sum(axis=1)
        values[n == 0] = 0.0  # no usable pixel: sky 0, count 0

        def quantile(q: float, values=values, n=n) -> np.ndarray:
            pos = q * np.maximum(n - 1, 0)
            lo = np.floor(pos).astype(int)
            hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
            vlo = np.take_along_axis(values, lo[:, None], 1)[:, 0]
            vhi = np.take_along_axis(values, hi[:, None], 1)[:, 0]
            return np.where(n > 0, vlo + (pos - lo) * (vhi - vlo), 0.0)

        med[sl] = quantile(0.5)
        sd[sl] = 0.5 * (quantile(0.8413) - quantile(0.1587))
        count[sl] = n
    return med, sd, count
