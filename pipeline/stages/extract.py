"""Point-source extraction from the Atlas Images and frames (spec §1.5 and §1.7).

Detection: the Atlas Image is correlated with a zero-sum 4" FWHM Gaussian (the kernel
minus its mean over its support, so a smooth background adds nothing), and local maxima
of the filtered image above ``DETECT_SIGMA`` times the point-source noise are sources.
The point-source noise is the spread of the filtered image itself (half its 15.87-84.13 %
quantile distance): it holds the confusion of faint sources as well as the pixel noise,
so the threshold rises in crowded fields. The threshold is low on purpose; the catalog's
S/N rules remove the faint false detections.

Aperture photometry on the Atlas Images at 3"-14" (``photometry.aperture_fluxes``), the 4"
standard magnitude with the curve-of-growth correction; ``ndet``: on how many of the
frames that could show a source it is detected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sep
from scipy import ndimage

from twomass.pipeline.stages import atlas, calibrate, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.calibrate import CalibratedScan
from twomass.pipeline.stages.photometry import MAG_PER_LN_FLUX, aperture_fluxes
from twomass.pipeline.stages.register import Registration

FILTER_FWHM_ARCSEC = 4.0
#: The filter's support: a square of +-3 sigma.
FILTER_HALF_WIDTH_SIGMA = 3.0
DETECT_SIGMA = 3.0
#: Gaussian window of the Atlas Image centroids [1" px]: the frames' 0.8 px of 2".
WINDOW_SIGMA_PX = calibrate.WINDOW_SIGMA_PX * inst.PIXEL_ARCSEC / inst.ATLAS_ARCSEC
#: How far [Atlas pixels] a windowed centroid may move from its filtered peak: the
#: zero-sum filter's negative ring around a bright star tilts a neighbour's filtered
#: profile and moves its peak up to ~3" (a star 3.8 mag fainter 11" away moved 2.7").
WINDOW_MAX_SHIFT_PX = 3.0
RADII_ARCSEC = np.arange(3.0, 15.0, 1.0)
STANDARD_ARCSEC = calibrate.APERTURE_ARCSEC
#: A frame detection for ``ndet``: 4" aperture flux above this many sigma.
NDET_SIGMA = 3.0

DETECTION = np.dtype([("x", "f8"), ("y", "f8"), ("ra", "f8"), ("dec", "f8"),
                      ("peak", "f8"), ("snr", "f8")])


def _gaussian_1d(fwhm_arcsec: float) -> np.ndarray:
    """The filter's 1-D Gaussian on 1" pixels, over +-``FILTER_HALF_WIDTH_SIGMA`` sigma."""
    sigma = fwhm_arcsec / (2.0 * np.sqrt(2.0 * np.log(2.0))) / inst.ATLAS_ARCSEC
    half = int(np.ceil(FILTER_HALF_WIDTH_SIGMA * sigma))
    r = np.arange(-half, half + 1.0)
    return np.exp(-r * r / (2.0 * sigma * sigma))


def zero_sum_kernel(fwhm_arcsec: float = FILTER_FWHM_ARCSEC) -> np.ndarray:
    """The detection filter: a Gaussian of ``fwhm_arcsec`` on 1" pixels minus its mean
    over its (square, 2 x 3 sigma wide) support."""
    g1 = _gaussian_1d(fwhm_arcsec)
    g = np.outer(g1, g1)
    return g - g.mean()


def correlate_zero_sum(data: np.ndarray, fwhm_arcsec: float = FILTER_FWHM_ARCSEC
                       ) -> np.ndarray:
    """``data`` correlated with ``zero_sum_kernel`` (zero outside the image), computed
    as two 1-D Gaussian passes minus the kernel's mean times a box sum: the same
    numbers as the 2-D correlation at a tenth of its cost."""
    g1 = _gaussian_1d(fwhm_arcsec)
    size = len(g1)
    smooth = ndimage.correlate1d(data, g1, axis=0, mode="constant", cval=0.0)
    smooth = ndimage.correlate1d(smooth, g1, axis=1, mode="constant", cval=0.0)
    box = ndimage.uniform_filter(data, size=size, mode="constant", cval=0.0) * size * size
    return smooth - float(np.outer(g1, g1).mean()) * box


@dataclass
class Filtered:
    """An Atlas Image through the detection filter."""

    image: np.ndarray  # filtered image [ADU x kernel]
    noise: np.ndarray  # point-source noise per pixel (inf where not measurable)
    point_source_noise: float  # at the image's median coverage
    valid: np.ndarray  # bool: the filter's whole support covered by frames


def filtered_image(image: atlas.AtlasImage) -> Filtered:
    """The filtered image and its point-source noise.

    The noise is measured once per image on the filtered values scaled to the median
    coverage (a pixel seen on n frames has 1/sqrt(n) of one frame's noise), so the
    image's thinly covered edges neither inflate the estimate nor pass noise peaks.
    """
    size = len(_gaussian_1d(FILTER_FWHM_ARCSEC))
    data = image.image.astype(np.float64)
    filtered = correlate_zero_sum(data)
    covered = image.coverage > 0
    valid = ndimage.minimum_filter(covered, size=size, mode="constant", cval=False)
    cov = ndimage.uniform_filter(image.coverage.astype(np.float64), size=size)
    noise = np.full(data.shape, np.inf)
    if not valid.any():
        return Filtered(filtered, noise, float("nan"), valid)
    cov_ref = float(np.median(cov[valid]))
    scale = np.sqrt(cov_ref / np.maximum(cov, 1e-3))
    lo, hi = np.percentile(filtered[valid] / scale[valid], [15.87, 84.13])
    sigma = 0.5 * float(hi - lo)
    noise[valid] = sigma * scale[valid]
    return Filtered(filtered, noise, sigma, valid)


def detect(image: atlas.AtlasImage, threshold: float = DETECT_SIGMA) -> np.ndarray:
    """Sources on an Atlas Image: local maxima (3 x 3) of the filtered image above
    ``threshold`` times the point-source noise, placed by windowed centroids.

    Returns a structured array (``DETECTION``): pixel x, y (0-based), ra, dec [deg]
    through the image's TAN WCS, the filtered peak and the peak's S/N.
    """
    f = filtered_image(image)
    snr = np.where(f.valid, f.image / f.noise, 0.0)
    peak = (f.image == ndimage.maximum_filter(f.image, size=3)) & (snr > threshold)
    iy, ix = np.nonzero(peak)
    data = np.ascontiguousarray(image.image, dtype=np.float64)
    x, y = calibrate.windowed_centroids(data, ix.astype(float), iy.astype(float),
                                        image.coverage == 0, WINDOW_SIGMA_PX,
                                        max_shift_px=WINDOW_MAX_SHIFT_PX)
    out = np.zeros(len(ix), DETECTION)
    out["x"], out["y"] = x, y
    out["ra"], out["dec"] = tan.pix_to_world(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX,
                                             x, y)
    out["peak"], out["snr"] = f.image[iy, ix], snr[iy, ix]
    return out


@dataclass
class Apertures:
    """Aperture photometry of positions on one Atlas Image."""

    radii_arcsec: np.ndarray  # (r,)
    flux: np.ndarray  # (n, r) [ADU per frame], not corrected to total
    flux_err: np.ndarray  # (n, r)
    ok: np.ndarray  # (n, r): aperture and annulus on covered pixels
    mag: np.ndarray  # (n,) standard 4" magnitude, curve-of-growth corrected (NaN: none)
    mag_err: np.ndarray  # (n,)


def aperture_photometry_radii(image: atlas.AtlasImage, ra: np.ndarray, dec: np.ndarray,
                              magzp: float) -> Apertures:
    """Fluxes at 3"-14" in 1" steps (sky from 14-20") and the standard 4" magnitude,
    ``mag = magzp - 2.5 log10(flux_4 / apcor)``; NaN where the 4" flux is not positive
    or not measurable."""
    flux, err, ok = aperture_fluxes(image, ra, dec, RADII_ARCSEC)
    std = int(np.flatnonzero(RADII_ARCSEC == STANDARD_ARCSEC)[0])
    f4, e4 = flux[:, std], err[:, std]
    good = ok[:, std] & (f4 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mag = np.where(good, magzp - 2.5 * np.log10(f4 / image.apcor), np.nan)
        mag_err = np.where(good, MAG_PER_LN_FLUX * e4 / f4, np.nan)
    return Apertures(RADII_ARCSEC.copy(), flux, err, ok, mag, mag_err)


@dataclass
class FrameCounts:
    """Per position: frames where it is detected and frames where it could be."""

    detected: np.ndarray  # int
    possible: np.ndarray  # int

    def digits(self) -> np.ndarray:
        """2MASS ``ndet`` digits of one band ("mn": m detected of n possible, each 0-9)."""
        m, n = np.minimum(self.detected, 9), np.minimum(self.possible, 9)
        return np.char.add(m.astype(str), n.astype(str))


def ndet(cal: CalibratedScan, reg: Registration, ra: np.ndarray, dec: np.ndarray,
         threshold: float = NDET_SIGMA) -> FrameCounts:
    """On how many frames each position is detected (4" aperture flux above
    ``threshold`` sigma) of the frames where it could be: the 4" aperture wholly on the
    array and the position's pixel good.

    The aperture is placed at the position through each frame's WCS, not at a frame
    detection, so a faint source counts where it is and nothing else does. Frames are
    sky-subtracted; the error is the frame's background rms over the aperture plus the
    source's Poisson noise.
    """
    ra, dec = np.atleast_1d(ra), np.atleast_1d(dec)
    detected = np.zeros(len(ra), int)
    possible = np.zeros(len(ra), int)
    r = STANDARD_ARCSEC / inst.PIXEL_ARCSEC
    lo, hi = r - 0.5, inst.NPIX - 0.5 - r
    for k in range(len(cal.frames)):
        x, y = reg.to_pixels(k, ra, dec)
        on = np.flatnonzero((x >= lo) & (x <= hi) & (y >= lo) & (y <= hi))
        if len(on) == 0:
            continue
        good = cal.good[k, np.rint(y[on]).astype(int), np.rint(x[on]).astype(int)]
        on = on[good]
        frame = np.ascontiguousarray(cal.frames[k], dtype=np.float64)
        flux, err, _ = sep.sum_circle(frame, x[on], y[on], r, err=float(cal.noise[k]),
                                      mask=~cal.good[k], gain=inst.GAIN)
        possible[on] += 1
        detected[on] += flux > threshold * err
    return FrameCounts(detected, possible)

