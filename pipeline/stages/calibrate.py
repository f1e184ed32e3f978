"""Instrumental calibration of frames, and frame detection (spec §1.1-1.2).

Per band and night: a bias (mean dark Read_1), a dark (mean linearised R2-R1 of the
darks), a responsivity image from the twilight flats, and a bad-pixel mask (dead or
strongly responsive pixels, hot pixels). Per frame: linearised Read_2 - Read_1, dark
subtracted, flat divided; pixels saturated in Read_2 take their Read_1 value scaled to
the R2-R1 exposure, pixels saturated in both reads are masked; then the sky-illumination
image (the trimmed mean of at least ``SKY_WINDOW`` neighbouring frames, sources masked,
each frame scaled by its own sky level) is subtracted, and a smooth background from
``sep``. Frame detection (``sep``, 4 sigma) runs on every R2-R1 frame and Read_1 frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sep
from scipy import ndimage

from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import rawio

SKY_WINDOW = 42
SKY_TRIM = 0.2
DETECT_SIGMA = 4.0
APERTURE_ARCSEC = 4.0
R1_SCALE = inst.EXPOSURE_SECONDS / inst.READ1_SECONDS
#: Gaussian window [px] of the detections' windowed centroids. sep's isophotal barycentre
#: on 2" pixels (a 2.5" star spans ~1.3 px) is cut by the isophote and scatters by
#: ~160 mas per star with long tails; the windowed centroid by ~105 mas, unbiased.
WINDOW_SIGMA_PX = 0.8


@dataclass
class BandCalibration:
    """One band's night calibration images."""

    bias: np.ndarray
    dark: np.ndarray  # ADU per R2-R1 frame
    flat: np.ndarray
    bad: np.ndarray


def night_calibration(night_dir: Path, band: str) -> BandCalibration:
    """Bias, dark, flat and bad-pixel mask from the night's darks and twilight flats."""
    cal = night_dir / "cal"
    d1, _, _ = rawio.read_cube(cal / f"dark_{band}_r1.fits")
    d2, _, _ = rawio.read_cube(cal / f"dark_{band}_r2.fits")
    bias = d1.mean(axis=0)
    dark = (inst.linearize(d2 - bias) - inst.linearize(d1 - bias)).mean(axis=0)
    f1, _, _ = rawio.read_cube(cal / f"flat_{band}_r1.fits")
    f2, _, _ = rawio.read_cube(cal / f"flat_{band}_r2.fits")
    signal = inst.linearize(f2 - bias) - inst.linearize(f1 - bias) - dark
    levels = np.median(signal.reshape(len(signal), -1), axis=1)
    flat = signal.sum(axis=0) / levels.sum()
    flat /= np.median(flat)
    hot = dark > np.median(dark) + 15.0
    bad = (flat < 0.5) | (flat > 1.5) | hot
    flat = np.where(bad, 1.0, flat)
    return BandCalibration(bias, dark, flat, bad)


@dataclass
class CalibratedScan:
    """One band of one scan: sky-subtracted R2-R1 frames [ADU], masks and detections."""

    frames: np.ndarray  # (n, 256, 256) float32
    good: np.ndarray  # (n, 256, 256) bool: usable pixels
    saturated: np.ndarray  # (n, 256, 256) bool: Read_2 saturated (Read_1 used or masked)
    sky: np.ndarray  # (n,) sky level [ADU per frame]
    noise: np.ndarray  # (n,) background rms [ADU]
    detections: list[np.ndarray]  # per frame: sep objects with aperture flux
    r1_detections: list[int]
    #: Sky-subtracted Read_1 frames [ADU in the 51 ms Read_1 exposure], saturated pixels
    #: at their ceiling, their background rms, and where Read_1 saturated: the bright
    #: stars' photometry (``brightstars``) measures them.
    read1: np.ndarray | None = None  # (n, 256, 256) float32
    read1_noise: np.ndarray | None = None  # (n,)
    saturated_read1: np.ndarray | None = None  # (n, 256, 256) bool


def calibrate_scan(r1: np.ndarray, r2: np.ndarray, cal: BandCalibration) -> CalibratedScan:
    """Calibrate a scan's frames of one band (see the module docstring)."""
    ceiling = inst.saturation_recorded() - 30.0
    raw1, raw2 = r1 - cal.bias, r2 - cal.bias
    q1 = inst.linearize(raw1)
    sat2 = raw2 >= ceiling
    sat1 = raw1 >= ceiling
    frames = inst.linearize(raw2) - q1 - cal.dark
    scaled = (q1 - cal.dark / R1_SCALE) * R1_SCALE
    frames = np.where(sat2, scaled, frames) / cal.flat
    good = ~(cal.bad[None] | (sat2 & sat1))
    frames = frames.astype(np.float32)
    sky_level, illum = sky_illumination(frames, good)
    frames -= sky_level[:, None, None] * illum
    noise = np.empty(len(frames))
    r1_noise = np.empty(len(frames))
    detections, r1_counts = [], []
    r1_frames = ((q1 - cal.dark / R1_SCALE) / cal.flat).astype(np.float32)
    for k in range(len(frames)):
        mask = ~good[k]
        bkg = sep.Background(frames[k], mask=mask, bw=64, bh=64)
        frames[k] -= bkg.back()
        rms = bkg.rms()
        noise[k] = bkg.globalrms
        detections.append(detect(frames[k], rms, mask, sat2[k]))
        b1 = sep.Background(r1_frames[k], mask=mask, bw=64, bh=64)
        r1_frames[k] -= b1.back()
        r1_noise[k] = b1.globalrms
        r1_counts.append(len(sep.extract(r1_frames[k], 5.0, err=b1.globalrms,
                                         mask=mask, minarea=3)))
    frames[~good] = 0.0
    return CalibratedScan(frames, good, sat2, sky_level, noise, detections, r1_counts,
                          r1_frames, r1_noise, sat1)


def detect(image: np.ndarray, rms: np.ndarray, mask: np.ndarray,
           saturated: np.ndarray) -> np.ndarray:
    """Frame detections: sep objects with 4" aperture flux, error and a saturation flag."""
    objs = sep.extract(image, DETECT_SIGMA, err=rms, mask=mask, minarea=3,
                       deblend_cont=0.005)
    x, y = windowed_centroids(image, objs["x"], objs["y"], mask)
    radius = APERTURE_ARCSEC / inst.PIXEL_ARCSEC
    flux, err, _ = sep.sum_circle(image, x, y, radius, err=rms, mask=mask)
    ix = np.clip(np.rint(objs["x"]).astype(int), 0, inst.NPIX - 1)
    iy = np.clip(np.rint(objs["y"]).astype(int), 0, inst.NPIX - 1)
    sat = ndimage.maximum_filter(saturated, size=5)[iy, ix]
    out = np.zeros(len(objs), dtype=[("x", "f8"), ("y", "f8"), ("flux", "f8"),
                                      ("flux_err", "f8"), ("peak", "f8"), ("iso", "f8"),
                                      ("a", "f8"), ("b", "f8"), ("theta", "f8"),
                                      ("saturated", "?")])
    for name in ("peak", "a", "b", "theta"):
        out[name] = objs[name]
    out["x"], out["y"] = x, y
    out["iso"] = objs["flux"]
    out["flux"], out["flux_err"], out["saturated"] = flux, err, sat
    return out


def windowed_centroids(image: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray,
                       sigma_px: float = WINDOW_SIGMA_PX, max_shift_px: float = 1.0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """sep's windowed centroids (Gaussian window of ``sigma_px``); the starting position
    where the window fails or wanders more than ``max_shift_px``."""
    if len(x) == 0:
        return x, y
    wx, wy, flag = sep.winpos(image, x, y, sigma_px, mask=mask)
    good = (flag == 0) & (np.hypot(wx - x, wy - y) < max_shift_px)
    return np.where(good, wx, x), np.where(good, wy, y)


def sky_illumination(frames: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame sky levels and the illumination image (window trimmed mean, one per frame).

    Each frame is divided by its median; sources (3 sigma above, grown by 2 px) and bad
    pixels are excluded; the image for frame k is the trimmed mean over the
    ``SKY_WINDOW`` frames nearest k (all frames when the scan has fewer), computed once
    per half window.
    """
    n = len(frames)
    level = np.empty(n)
    norm = np.empty(frames.shape, np.float32)
    for k in range(n):
        values = frames[k][good[k]]
        lo, med, hi = np.percentile(values, [15.87, 50.0, 84.13])
        level[k] = med
        src = ndimage.binary_dilation(frames[k] > med + 3.0 * 0.5 * (hi - lo), iterations=2)
        norm[k] = np.where(good[k] & ~src, frames[k] / med, np.nan)
    illum = np.empty_like(norm)
    window = min(SKY_WINDOW, n)
    half = max(window // 2, 1)
    for start in range(0, n, half):
        centre = min(start + half // 2, n - 1)
        a = int(np.clip(centre - window // 2, 0, n - window))
        illum[start:start + half] = trimmed_mean(norm[a:a + window])
    return level, illum


def trimmed_mean(stack: np.ndarray) -> np.ndarray:
    """Per-pixel mean of the values between the SKY_TRIM quantiles, NaNs ignored (1 if none)."""
    s = np.sort(stack, axis=0)  # NaNs sort last
    count = np.sum(~np.isnan(s), axis=0)
    lo = np.floor(SKY_TRIM * count).astype(int)
    hi = count - lo
    s = np.nan_to_num(s, nan=0.0, copy=False)
    csum = np.concatenate([np.zeros((1,) + s.shape[1:], s.dtype), np.cumsum(s, axis=0)])
    total = (np.take_along_axis(csum, hi[None], 0) - np.take_along_axis(csum, lo[None], 0))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / (hi - lo)
    return np.where(hi > lo, mean, 1.0).astype(np.float32)
