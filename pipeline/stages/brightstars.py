"""Bright stars and upper limits: the ``rd_flg`` digits other than 2 (spec
2mapps-pipeline.md §1.2, 1.7, 1.8, 1.10; 2mass-catalog-rules.md §4.2).

Read_2 saturates near Ks 8.5, the 51 ms Read_1 near Ks 5.5. A star with a saturated
pixel in its core on any Read_2 frame is measured on the Read_1 frames where it is not
saturated: the mean of its 4" aperture magnitudes (sky 14-20"), scaled by the exposures
(1.3 s / 51 ms) and put on the curve-of-growth corrected scale of the Read_2 photometry
with the frames' own 4"/12" flux ratio (``rd_flg`` 1). A star saturated on every Read_1
frame too is fitted, all its Read_1 frames together, with the scan's empirical radial
profile (from its unsaturated stars on the R2-R1 frames) on its unsaturated pixels, the
position, flux and width free (``rd_flg`` 3). When that fit fails: the Read_1 4"
aperture with the saturated pixels at their ceiling, a faint bound (``rd_flg`` 4); when
no frame can measure the star: nothing (``rd_flg`` 9). Stars saturated on every Read_1
frame leave a hole in the Atlas Images; ``saturated_stars`` finds them on the frames.

A band without a detection gets the 95 % upper limit of a 4" aperture on the Atlas Image
at the position: the flux (not below 0) plus 2 sigma (``rd_flg`` 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sep
from scipy import ndimage
from scipy.optimize import least_squares
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from twomass.pipeline.stages import atlas, calibrate, photometry, register
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.calibrate import CalibratedScan
from twomass.pipeline.stages.psffit import unit_vectors
from twomass.pipeline.stages.register import Registration

RD_UPPER_LIMIT = 0
RD_READ1 = 1
RD_READ2 = 2  # the profile-fit photometry of unsaturated stars (not made here)
RD_WINGS = 3
RD_APERTURE = 4
RD_NONE = 9
#: A saturated pixel within this of the position saturates the star on that frame.
CORE_ARCSEC = 3.0
#: Saturated patches of different frames this close are one star.
LINK_ARCSEC = 3.0
APERTURE_PX = calibrate.APERTURE_ARCSEC / inst.PIXEL_ARCSEC
TOTAL_PX = photometry.APCOR_ARCSEC / inst.PIXEL_ARCSEC
SKY_ANNULUS_PX = (14.0 / inst.PIXEL_ARCSEC, 20.0 / inst.PIXEL_ARCSEC)
UPPER_LIMIT_SIGMA = 2.0
#: sep's windowed centroid stops short of a star 1-2" away: started again from its result.
CENTROID_PASSES = 3
#: The radial profile: unsaturated, isolated frame detections from this S/N on, pixels
#: out to PROFILE_RADIUS_PX binned by PROFILE_BIN_PX (twice that from
#: PROFILE_WIDE_BINS_PX, where the core's steep fall is over), at most PROFILE_MAX_STARS.
PROFILE_MIN_SNR = 50.0
PROFILE_RADIUS_PX = 8.0
PROFILE_BIN_PX = 0.25
PROFILE_WIDE_BINS_PX = 3.0
PROFILE_MIN_STARS = 5
PROFILE_MAX_STARS = 400
#: The profile is used out to its first bin measured to less than this S/N (further out
#: faint neighbours and sky errors of the template stars outweigh their wings).
PROFILE_BIN_SNR = 5.0
#: Pixels this many sigma from a bin's median are left out of its mean (neighbours).
PROFILE_CLIP = 3.0
#: Profile values below this (noise, past the wing) count as this.
PROFILE_FLOOR = 1e-7
#: The wings fit: pixels within FIT_RADIUS_PX (and the profile's reach), not saturated
#: nor next to a saturated one; the profile's error per pixel as a fraction of the
#: model, its measured error or PROFILE_ERROR (sub-pixel phase, seeing changes) if more;
#: a fit moving further than FIT_MAX_SHIFT_ARCSEC has failed.
FIT_RADIUS_PX = 6.0
FIT_MIN_PIXELS = 12
PROFILE_ERROR = 0.05
FIT_MAX_SHIFT_ARCSEC = 4.0
#: The star's profile is the template's stretched by a fitted factor, within
#: exp(+-FIT_MAX_LOG_SCALE): the wings' level at a given radius changes by ~20 % for a
#: 3 % change of the seeing (frame to frame, and 8 % wider at the array's corners).
FIT_MAX_LOG_SCALE = 0.25


@dataclass
class RadialProfile:
    """A star's pixel values against distance from its centre, over its 12" flux, and
    the 4"/12" flux ratio, from the unsaturated stars of a scan's frames."""

    radius_px: np.ndarray
    value: np.ndarray
    error: np.ndarray  # of ``value``
    apcor: float
    n_stars: int
    reach_px: float  # out to where the profile is measured to PROFILE_BIN_SNR

    def __call__(self, r: np.ndarray) -> np.ndarray:
        # Between bins in the logarithm: the core falls by ~5x per 0.25 px at 2 px,
        # where a linear interpolation would overestimate it by ~10 %.
        log = np.log(np.maximum(self.value, PROFILE_FLOOR))
        return np.exp(np.interp(r, self.radius_px, log, right=np.log(PROFILE_FLOOR)))

    def relative_error(self, r: np.ndarray) -> np.ndarray:
        """The profile's own error over its value (PROFILE_ERROR at least)."""
        rel = self.error / np.maximum(self.value, PROFILE_FLOOR)
        return np.maximum(np.interp(r, self.radius_px, rel), PROFILE_ERROR)


@dataclass
class BrightPhotometry:
    """Per input position (index-aligned): saturation, the bright-star magnitude and its
    origin. ``rd`` is ``RD_READ2`` where the star is not saturated on Read_2 (its
    magnitude is the ordinary photometry's; ``mag`` here NaN)."""

    saturated_read2: np.ndarray  # bool: a saturated core on any Read_2 frame
    saturated_read1: np.ndarray  # bool: a saturated core on every Read_1 frame
    mag: np.ndarray  # total magnitude (the corrected 4" scale); NaN: none
    msig: np.ndarray
    rd: np.ndarray  # int8 rd_flg digit
    ok: np.ndarray  # bool: a magnitude from rd 1, 3 or 4
    ra: np.ndarray  # position measured on the frames (rd 1, 3), else the input's
    dec: np.ndarray
    n_frames: np.ndarray  # frames measured


def frame_apertures(image: np.ndarray, x: np.ndarray, y: np.ndarray, radius_px: float,
                    mask: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """Circular aperture fluxes on a frame less the 14-20" annulus' sky (its median,
    ``photometry.annulus_sky``); ``clean`` is False where the aperture has masked pixels
    or leaves the array, or the annulus has no pixel."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    sky, _, n_sky = frame_sky(image, x, y, mask)
    flux, err, flag = sep.sum_circle(image, x, y, radius_px, err=float(noise), mask=mask,
                                     gain=inst.GAIN)
    clean = ((flag & (sep.APER_HASMASKED | sep.APER_TRUNC)) == 0) & (n_sky > 0)
    return flux - sky * np.pi * radius_px**2, err, clean


def frame_sky(image: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, robust sd and pixel count of the 14-20" annulus on a frame."""
    return photometry.annulus_sky(image[None], ~mask[None], np.zeros(len(x), int), x, y,
                                  *SKY_ANNULUS_PX)


def radial_profile(cal: CalibratedScan) -> RadialProfile | None:
    """The scan's radial profile from bright, round, isolated, unsaturated detections on
    the R2-R1 frames (None when fewer than ``PROFILE_MIN_STARS``): per distance bin the
    weighted mean of pixel / 12" flux, pixels more than ``PROFILE_CLIP`` sigma from the
    median left out (undetected neighbours add light), so a fitted amplitude is a 12"
    (total) flux, the scale of the Atlas Images' corrected 4" magnitudes."""
    half = int(np.ceil(PROFILE_RADIUS_PX)) + 1
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    stars = []
    for k, d in enumerate(cal.detections):
        if len(d) == 0:
            continue
        pick = register.usable(d, PROFILE_MIN_SNR) & (d["peak"] < atlas.SHARP * d["iso"])
        pick &= (d["x"] > half) & (d["x"] < inst.NPIX - 1 - half) \
            & (d["y"] > half) & (d["y"] < inst.NPIX - 1 - half)
        if len(d) > 1:
            dist, _ = cKDTree(np.column_stack([d["x"], d["y"]])).query(
                np.column_stack([d["x"], d["y"]]), k=2)
            pick &= dist[:, 1] > SKY_ANNULUS_PX[1]
        if cal.saturated[k].any():
            near = ndimage.maximum_filter(cal.saturated[k], size=2 * int(SKY_ANNULUS_PX[1]) + 1)
            pick &= ~near[np.rint(d["y"]).astype(int), np.rint(d["x"]).astype(int)]
        stars += [(float(s["flux"]), k, float(s["x"]), float(s["y"])) for s in d[pick]]
    stars.sort(reverse=True)
    radii, values, weights, ratios = [], [], [], []
    for _, k, x, y in stars[:PROFILE_MAX_STARS]:
        mask = ~cal.good[k]
        f4, _, c4 = frame_apertures(cal.frames[k], [x], [y], APERTURE_PX, mask, cal.noise[k])
        f12, e12, c12 = frame_apertures(cal.frames[k], [x], [y], TOTAL_PX, mask, cal.noise[k])
        if not (c4[0] and c12[0] and f12[0] > photometry.APCOR_MIN_SNR * e12[0]):
            continue
        ix, iy = int(round(x)), int(round(y))
        cut = cal.frames[k, iy - half:iy + half + 1, ix - half:ix + half + 1]
        r = np.hypot(xx + ix - x, yy + iy - y)
        use = cal.good[k, iy - half:iy + half + 1, ix - half:ix + half + 1] \
            & (r <= PROFILE_RADIUS_PX)
        # The local sky, as the apertures': faint neighbours' light left by the frame's
        # background would bias the faint stars' wings.
        level, _, _ = frame_sky(cal.frames[k], np.array([x]), np.array([y]), mask)
        radii.append(r[use])
        values.append((cut[use] - level[0]) / f12[0])
        weights.append(np.full(int(use.sum()), (f12[0] / cal.noise[k]) ** 2))
        ratios.append(f4[0] / f12[0])
    if len(ratios) < PROFILE_MIN_STARS:
        return None
    r, v, w = np.concatenate(radii), np.concatenate(values), np.concatenate(weights)
    edges = np.concatenate([np.arange(0.0, PROFILE_WIDE_BINS_PX, PROFILE_BIN_PX),
                            np.arange(PROFILE_WIDE_BINS_PX, PROFILE_RADIUS_PX + 0.01,
                                      2 * PROFILE_BIN_PX)])
    which = np.digitize(r, edges) - 1
    centre, mean, error = [], [], []
    for b in range(len(edges) - 1):
        sel = which == b
        if sel.sum() < 3:
            continue
        level = float(np.median(v[sel]))
        for _ in range(2):  # clipped about the median, then about the clipped mean
            keep = np.abs(v[sel] - level) * np.sqrt(w[sel]) < PROFILE_CLIP
            if not keep.any():  # no pixel agrees with the level: no value for the bin
                break
            level = float(np.average(v[sel][keep], weights=w[sel][keep]))
        if not keep.any():
            continue
        centre.append(float(np.mean(r[sel])))
        mean.append(level)
        error.append(float(1.0 / np.sqrt(w[sel][keep].sum())))
    centre, mean, error = np.array(centre), np.array(mean), np.array(error)
    faint = np.flatnonzero(mean < PROFILE_BIN_SNR * error)
    reach = float(centre[faint[0]]) if len(faint) else float(centre[-1])
    return RadialProfile(centre, mean, error, float(np.median(ratios)), len(ratios), reach)


def bright_photometry(cal: CalibratedScan, reg: Registration, ra: np.ndarray,
                      dec: np.ndarray, magzp: float, apcor: float,
                      profile: RadialProfile | None = None) -> BrightPhotometry:
    """Saturation and bright-star photometry of one band of one scan at the detections'
    positions (see the module docstring).

    ``apcor`` (the Atlas Images' 4"/total ratio) is used only when the frames hold too
    few stars for their own ratio; ``profile`` defaults to ``radial_profile(cal)`` (when
    some position is saturated).
    """
    if cal.read1 is None or cal.saturated_read1 is None or cal.read1_noise is None:
        raise ValueError("the calibrated scan has no Read_1 frames (calibrate_scan keeps them)")
    ra, dec = np.atleast_1d(np.asarray(ra, float)), np.atleast_1d(np.asarray(dec, float))
    n = len(ra)
    seen = _frames_seeing(cal, reg, ra, dec)
    if profile is None and any(v.sat2 for views in seen for v in views):
        profile = radial_profile(cal)  # measured only for a scan with saturated stars
    frame_apcor = profile.apcor if profile is not None else apcor
    out = BrightPhotometry(np.zeros(n, bool), np.zeros(n, bool), np.full(n, np.nan),
                           np.full(n, np.nan), np.full(n, RD_READ2, np.int8), np.zeros(n, bool),
                           ra.copy(), dec.copy(), np.zeros(n, int))
    for i, views in enumerate(seen):
        if not any(v.sat2 for v in views):
            continue
        out.saturated_read2[i] = True
        clear = [v for v in views if not v.sat1]
        out.saturated_read1[i] = not clear
        if clear:
            result = _read1_apertures(cal, reg, clear, magzp, frame_apcor)
            rd = RD_READ1
        else:
            result = _fit_wings(cal, reg, views, magzp, profile)
            rd = RD_WINGS
            if result is None:
                result = _read1_apertures(cal, reg, views, magzp, frame_apcor, ceiling=True)
                rd = RD_APERTURE
        if result is None:
            out.rd[i] = RD_NONE
            continue
        out.mag[i], out.msig[i], out.ra[i], out.dec[i], out.n_frames[i] = result
        out.rd[i], out.ok[i] = rd, True
    return out


def saturated_stars(cal: CalibratedScan, reg: Registration
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (ra, dec) of the stars saturated on Read_2, and on how many frames.

    A star saturated on Read_1 leaves a hole in the Atlas Images (no frame has its core),
    which their detection cannot see; the frames show it as a patch of saturated pixels.
    Per frame each patch's centre goes to the sky; patches of different frames within
    ``LINK_ARCSEC`` of each other are one star, at their mean (a patch on one frame only
    is more likely an event than a star). A star also detected on the Atlas Images is
    found here too: callers keep one of the two.
    """
    ras, decs = [], []
    for k in np.flatnonzero(cal.saturated.any(axis=(1, 2))):
        label, n = ndimage.label(cal.saturated[k])
        centres = np.array(ndimage.center_of_mass(cal.saturated[k], label, range(1, n + 1)))
        r, d = reg.to_sky(int(k), centres[:, 1], centres[:, 0])
        ras.append(r)
        decs.append(d)
    if not ras:
        return np.zeros(0), np.zeros(0), np.zeros(0, int)
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    pairs = cKDTree(unit_vectors(ra, dec)).query_pairs(np.radians(LINK_ARCSEC / 3600.0),
                                                        output_type="ndarray").reshape(-1, 2)
    _, star = connected_components(coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                                              shape=(len(ra), len(ra))), directed=False)
    out = [_mean_position(ra[star == i], dec[star == i]) for i in range(star.max() + 1)]
    count = np.bincount(star)
    return np.array([o[0] for o in out]), np.array([o[1] for o in out]), count


def upper_limits(image: atlas.AtlasImage, magzp: float, ra: np.ndarray, dec: np.ndarray
                 ) -> np.ndarray:
    """95 % upper limits [mag] at positions on an Atlas Image (``rd_flg`` 0): the 4"
    aperture flux (sky 14-20", corrected to total), not below 0, plus 2 sigma; NaN
    where the aperture is not measurable."""
    flux, err, ok = photometry.aperture_photometry(image, np.atleast_1d(ra),
                                                   np.atleast_1d(dec))
    limit = np.maximum(np.nan_to_num(flux), 0.0) + UPPER_LIMIT_SIGMA * np.nan_to_num(err)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok & (limit > 0), magzp - 2.5 * np.log10(limit), np.nan)


@dataclass
class _View:
    """A position on one frame: pixel (x, y) and whether its core is saturated."""

    k: int
    x: float
    y: float
    sat2: bool
    sat1: bool


def _frames_seeing(cal: CalibratedScan, reg: Registration, ra: np.ndarray,
                   dec: np.ndarray) -> list[list[_View]]:
    """Per position, the frames with its 4" aperture wholly on the array."""
    views: list[list[_View]] = [[] for _ in ra]
    core = CORE_ARCSEC / inst.PIXEL_ARCSEC
    c = int(np.floor(core))
    yy, xx = np.mgrid[-c:c + 1, -c:c + 1]
    disc = np.hypot(xx, yy) <= core
    lo, hi = APERTURE_PX - 0.5, inst.NPIX - 0.5 - APERTURE_PX
    for k in range(len(cal.frames)):
        x, y = reg.to_pixels(k, ra, dec)
        on = np.flatnonzero((x >= lo) & (x <= hi) & (y >= lo) & (y <= hi))
        if len(on) == 0:
            continue
        ix, iy = np.rint(x[on]).astype(int), np.rint(y[on]).astype(int)
        if cal.saturated[k].any():
            s2 = ndimage.binary_dilation(cal.saturated[k], disc)[iy, ix]
            s1 = ndimage.binary_dilation(cal.saturated_read1[k] & cal.saturated[k],
                                         disc)[iy, ix]
        else:
            s2 = s1 = np.zeros(len(on), bool)
        for j, i in enumerate(on):
            views[i].append(_View(k, float(x[i]), float(y[i]), bool(s2[j]), bool(s1[j])))
    return views


def _bad_pixels(cal: CalibratedScan, k: int) -> np.ndarray:
    """Pixels masked for reasons other than saturation (the night's bad-pixel mask)."""
    return ~cal.good[k] & ~(cal.saturated[k] & cal.saturated_read1[k])


def _read1_apertures(cal: CalibratedScan, reg: Registration, views: list[_View],
                     magzp: float, apcor: float, ceiling: bool = False):
    """Mean 4" Read_1 aperture magnitude over the frames, on the R2-R1 total scale, its
    error, the mean centroid position and the frames used (None: no positive flux).
    With ``ceiling`` the saturated pixels count at their ceiling (a faint bound).

    Each aperture sits on the star's windowed centroid on its frame; where that fails
    (the window reaches the array's edge), on the other frames' mean position."""
    centres = []
    for v in views:
        mask = _bad_pixels(cal, v.k) if ceiling else ~cal.good[v.k]
        x, y = np.array([v.x]), np.array([v.y])
        for _ in range(CENTROID_PASSES):
            x, y = calibrate.windowed_centroids(cal.read1[v.k], x, y, mask)
        moved = x[0] != v.x or y[0] != v.y
        centres.append(reg.to_sky(v.k, x, y) if moved else None)
    found = [c for c in centres if c is not None]
    if found:
        ra, dec = _mean_position(np.concatenate([c[0] for c in found]),
                                 np.concatenate([c[1] for c in found]))
    else:
        ra, dec = reg.to_sky(views[0].k, np.array([views[0].x]), np.array([views[0].y]))
        ra, dec = float(ra[0]), float(dec[0])
    mags, errs = [], []
    for v, c in zip(views, centres, strict=True):
        x, y = reg.to_pixels(v.k, *(c if c is not None
                                    else (np.array([ra]), np.array([dec]))))
        flux, err, clean = frame_apertures(cal.read1[v.k], x, y, APERTURE_PX,
                                           _bad_pixels(cal, v.k), cal.read1_noise[v.k])
        if not (flux[0] > 0 and clean[0]):
            continue
        total = flux[0] * calibrate.R1_SCALE / apcor
        mags.append(magzp - 2.5 * np.log10(total))
        errs.append(photometry.MAG_PER_LN_FLUX * err[0] / flux[0])
    if not mags:
        return None
    mags, errs = np.array(mags), np.array(errs)
    msig = float(np.sqrt(1.0 / np.sum(errs**-2)))
    if len(mags) >= 2:
        msig = max(msig, float(np.std(mags, ddof=1) / np.sqrt(len(mags))))
    return float(np.mean(mags)), msig, ra, dec, len(mags)


def _mean_position(ra: np.ndarray, dec: np.ndarray) -> tuple[float, float]:
    """Mean of nearby positions (RA wrapped around the first)."""
    dra = (ra - ra[0] + 180.0) % 360.0 - 180.0
    return float((ra[0] + dra.mean()) % 360.0), float(dec.mean())


def _fit_wings(cal: CalibratedScan, reg: Registration, views: list[_View], magzp: float,
               profile: RadialProfile | None):
    """1-D radial-profile fit to the unsaturated Read_1 pixels of all frames: a common
    centre offset (the frames share their orientation) and flux; None when it fails."""
    if profile is None:
        return None
    half = int(np.ceil(FIT_RADIUS_PX)) + 1
    px, py, data, read_var, frame, sat_x, sat_y = [], [], [], [], [], [], []
    for f, v in enumerate(views):
        ix, iy = int(round(v.x)), int(round(v.y))
        win = (slice(max(iy - half, 0), min(iy + half + 1, inst.NPIX)),
               slice(max(ix - half, 0), min(ix + half + 1, inst.NPIX)))
        gy, gx = np.mgrid[win[0], win[1]]
        sat = cal.saturated_read1[v.k][win] & cal.saturated[v.k][win]
        use = ~_bad_pixels(cal, v.k)[win] & ~ndimage.binary_dilation(sat)
        use &= np.hypot(gx - v.x, gy - v.y) <= min(FIT_RADIUS_PX, profile.reach_px)
        px.append(gx[use] - v.x)
        py.append(gy[use] - v.y)
        data.append(cal.read1[v.k][win][use] * calibrate.R1_SCALE)
        read_var.append(np.full(int(use.sum()), (cal.read1_noise[v.k] * calibrate.R1_SCALE) ** 2))
        frame.append(np.full(int(use.sum()), f))
        if sat.any():
            sat_x.append(gx[sat].mean() - v.x)
            sat_y.append(gy[sat].mean() - v.y)
    px, py, data = np.concatenate(px), np.concatenate(py), np.concatenate(data)
    read_var, frame = np.concatenate(read_var), np.concatenate(frame)
    if len(data) < FIT_MIN_PIXELS:
        return None
    start = np.array([np.mean(sat_x) if sat_x else 0.0, np.mean(sat_y) if sat_y else 0.0])
    shape0 = profile(np.hypot(px - start[0], py - start[1]))
    lit = shape0 > 1e-4 * profile.value.max()
    if lit.sum() < FIT_MIN_PIXELS:
        return None
    f0 = float(np.median(data[lit] / shape0[lit]))
    if not f0 > 0:
        return None

    def model(p: np.ndarray) -> np.ndarray:
        scale = np.exp(p[3])
        return np.exp(p[2]) / scale**2 * profile(np.hypot(px - p[0], py - p[1]) / scale)

    def residual(p: np.ndarray) -> np.ndarray:
        m = model(p)
        rel = profile.relative_error(np.hypot(px - p[0], py - p[1]) / np.exp(p[3]))
        var = read_var + np.maximum(m, 0.0) * calibrate.R1_SCALE / inst.GAIN + (rel * m) ** 2
        return (data - m) / np.sqrt(var)

    fit = least_squares(residual, np.array([start[0], start[1], np.log(f0), 0.0]),
                        bounds=([-np.inf, -np.inf, -np.inf, -FIT_MAX_LOG_SCALE],
                                [np.inf, np.inf, np.inf, FIT_MAX_LOG_SCALE]),
                        loss="soft_l1", f_scale=3.0, x_scale=np.array([0.3, 0.3, 0.1, 0.03]))
    shift_arcsec = np.hypot(*fit.x[:2]) * inst.PIXEL_ARCSEC
    if not fit.success or shift_arcsec > FIT_MAX_SHIFT_ARCSEC:
        return None
    flux = float(np.exp(fit.x[2]))
    chi2 = float(np.sum(fit.fun**2) / max(len(data) - 4, 1))
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * max(chi2, 1.0)
        sigma_ln = float(np.sqrt(cov[2, 2]))
    except np.linalg.LinAlgError:
        return None
    # Frame-to-frame scatter of the flux at the common centre (linear per frame).
    scale = np.exp(fit.x[3])
    shape = profile(np.hypot(px - fit.x[0], py - fit.x[1]) / scale) / scale**2
    per_frame = [float(np.sum(data[frame == f] * shape[frame == f])
                       / np.sum(shape[frame == f] ** 2))
                 for f in range(len(views)) if np.sum(shape[frame == f] ** 2) > 0]
    if len(per_frame) >= 2 and min(per_frame) > 0:
        sigma_ln = max(sigma_ln, float(np.std(np.log(per_frame), ddof=1)
                                       / np.sqrt(len(per_frame))))
    v = views[0]
    ra, dec = reg.to_sky(v.k, np.array([v.x + fit.x[0]]), np.array([v.y + fit.x[1]]))
    return (magzp - 2.5 * np.log10(flux), photometry.MAG_PER_LN_FLUX * sigma_ln,
            float(ra[0]), float(dec[0]), len(views))
