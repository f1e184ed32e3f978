"""Atlas Images: calibrated frames co-added by drizzle onto a 1" grid (spec §1.4).

Before co-adding, per frame: bad and doubly saturated pixels carry no weight; sharp
single-pixel events (cosmic rays) and unconfirmed detections brighter than J 15 /
H 14.5 / Ks 14 (seen on no other frame that covers them) are masked over 5"; elongated
single-frame detections (meteor and satellite streaks) are blanked over their whole
extent. Frames are sky-subtracted, so backgrounds match on the overlaps. Each scan gets
512 x 1024 images at 1"/pixel, north up, stepping 970" along the scan (54 pixels of
overlap), with a coverage map (frames contributing to each pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sep
from drizzle.resample import Drizzle
from scipy.spatial import cKDTree

from twomass.core import healpix
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import tan
from twomass.pipeline.stages.calibrate import CalibratedScan
from twomass.pipeline.stages.register import Registration, scan_positions, undistort

ATLAS_CD = np.array([[-inst.ATLAS_ARCSEC / 3600.0, 0.0], [0.0, inst.ATLAS_ARCSEC / 3600.0]])
ATLAS_CRPIX = (0.5 * (inst.ATLAS_SHAPE[1] + 1), 0.5 * (inst.ATLAS_SHAPE[0] + 1))
STEP_ARCSEC = (inst.ATLAS_SHAPE[0] - inst.ATLAS_OVERLAP) * inst.ATLAS_ARCSEC
SHARP = 0.55  # peak / isophotal flux above this is not a star (PSF peak fraction < 0.4)
CONFIRM_ARCSEC = 2.5
ELONGATED = 3.0
#: drizzle kernel: "turbo" is the square kernel with axis-aligned input pixels, exact to
#: the arrays' 0.3 deg rotation, and flux-conserving like it at a third of its cost. Its
#: drop is pixfrac / pixel_scale_ratio output pixels wide: the ratio must be the input
#: pixel's size (``coadd``), else (drizzle's default 1) each 2" pixel lands as a 1" drop,
#: the images sample the sky at the frames' pixel phases, and the Ks profile fits (their
#: flux scale from these images' apertures) read 0.023 mag faint, scattering 1.30 x their
#: errors. It misplaces flux once an input pixel spans more than two output pixels (2.006"
#: pixels took the in-scan centroids from 80 to 140 mas rms): the arrays' scales stay
#: below 2" (``instrument``).
KERNEL = "turbo"


@dataclass
class AtlasImage:
    """One co-added image of one band."""

    number: int
    crval: tuple[float, float]
    image: np.ndarray  # float32 [ADU per R2-R1 frame per arcsec^2 pixel]
    coverage: np.ndarray  # uint8: frames contributing
    #: 4" aperture flux over total flux of a star on this scan's images (the curve of
    #: growth, ``photometry.aperture_corrections``); 1 until measured.
    apcor: float = 1.0


def tile_centres(ra0: float, phi: np.ndarray, sd: str) -> list[tuple[float, float]]:
    """Centres of the Atlas Images covering frames centred at scan latitudes ``phi``."""
    half = 0.5 * inst.NPIX * inst.PIXEL_ARCSEC / 3600.0
    lo, hi = float(np.min(phi)) - half, float(np.max(phi)) + half
    length = (hi - lo) * 3600.0
    n = max(1, int(np.ceil((length - inst.ATLAS_OVERLAP) / STEP_ARCSEC)))
    sign, start = (1.0, lo) if sd == "n" else (-1.0, hi)
    out = []
    for k in range(n):
        c = start + sign * (0.5 * inst.ATLAS_SHAPE[0] + k * STEP_ARCSEC) / 3600.0
        ra, dec = scanframe.to_radec(ra0, 0.0, c)
        out.append((float(ra), float(dec)))
    return out


def transient_masks(cal: CalibratedScan, reg: Registration, magzp: float, band: str,
                    ra0: float) -> np.ndarray:
    """Per-frame weights (0/1): good pixels minus masked transients and streaks."""
    n = len(cal.frames)
    weight = cal.good.astype(np.float32).copy()
    pos = [scan_positions(cal.detections[k], reg.ra[k], reg.dec[k], ra0, reg.band)
           for k in range(n)]
    frame_of = np.concatenate([np.full(len(p), k) for k, p in enumerate(pos)])
    everything = np.concatenate(pos) if n else np.zeros((0, 2))
    tree = cKDTree(everything) if len(everything) else None
    xi_c, phi_c = scanframe.to_scan(ra0, reg.ra, reg.dec)
    centres = np.column_stack([xi_c, phi_c]) * 3600.0
    half = (0.5 * inst.NPIX - 4.0) * inst.PIXEL_ARCSEC
    limit = 10 ** (-0.4 * (inst.TRANSIENT_MAG[band] - magzp))
    radius = inst.TRANSIENT_MASK_ARCSEC / inst.PIXEL_ARCSEC
    for k in range(n):
        d = cal.detections[k]
        if len(d) == 0:
            continue
        mask = np.zeros(cal.frames[k].shape, bool)
        sharp = (d["peak"] / np.maximum(d["iso"], 1e-9) > SHARP) & ~d["saturated"]
        streak = (d["a"] > ELONGATED * np.maximum(d["b"], 0.3)) & (d["a"] > 2.5)
        unconfirmed = np.zeros(len(d), bool)
        candidates = np.flatnonzero((d["flux"] > limit) & ~sharp & ~streak)
        if len(candidates):
            p = pos[k][candidates]
            others = np.delete(centres, k, axis=0)
            covered = (np.abs(p[:, None, :] - others[None, :, :]) < half).all(axis=2).any(axis=1)
            seen = np.array([np.any(frame_of[m] != k)
                             for m in tree.query_ball_point(p, CONFIRM_ARCSEC)], bool)
            unconfirmed[candidates] = covered & ~seen
        if sharp.any():
            sep.mask_ellipse(mask, d["x"][sharp], d["y"][sharp], 1.5, 1.5, 0.0, r=1.0)
        if unconfirmed.any():
            sep.mask_ellipse(mask, d["x"][unconfirmed], d["y"][unconfirmed], radius, radius,
                             0.0, r=1.0)
        if streak.any():
            sep.mask_ellipse(mask, d["x"][streak], d["y"][streak], d["a"][streak],
                             d["b"][streak] + 1.0, d["theta"][streak], r=3.5)
        weight[k][mask] = 0.0
    return weight


def coadd(cal: CalibratedScan, reg: Registration, weight: np.ndarray, ra0: float,
          phi: np.ndarray, sd: str) -> list[AtlasImage]:
    """Drizzle every frame onto the scan's Atlas Images (square kernel, pixfrac 1).

    The frame-to-image pixel map is affine in the frame's TAN pixels (the array's
    distortion taken out first, ``register.undistort``): between two TAN projections
    whose centres are < 0.5 deg apart, over a 0.14 deg frame, the neglected terms are
    ~2 mas.
    """
    scale = inst.PIXEL_ARCSEC if reg.band is None else inst.BAND_PIXEL_ARCSEC[reg.band]
    # Drizzle keeps surface brightness: per output pixel, the band's own pixel area (the
    # mean scale's left J 1.1 % faint and Ks 0.8 % bright against the frames' ADU).
    area = scale**2 / inst.ATLAS_ARCSEC**2
    ratio = inst.ATLAS_ARCSEC / scale  # the turbo drop: the whole input pixel
    yy, xx = np.mgrid[0:inst.NPIX, 0:inst.NPIX].astype(np.float64)
    xx, yy = undistort(reg.band, xx, yy)
    grid = np.linspace(0.0, inst.NPIX - 1.0, 5)
    gx, gy = (g.ravel() for g in np.meshgrid(grid, grid))
    design = np.column_stack([gx, gy, np.ones_like(gx)])
    corners = [tan.pix_to_world(*reg.frame_wcs(k), gx, gy) for k in range(len(cal.frames))]
    images = []
    ny, nx = inst.ATLAS_SHAPE
    for number, crval in enumerate(tile_centres(ra0, phi, sd), 1):
        overlapping = []
        for k in range(len(cal.frames)):
            tx, ty = tan.world_to_pix(crval, ATLAS_CD, ATLAS_CRPIX, *corners[k])
            if ty.max() < -2 or ty.min() > ny + 1 or tx.max() < -2 or tx.min() > nx + 1:
                continue
            coef, *_ = np.linalg.lstsq(design, np.column_stack([tx, ty]), rcond=None)
            px = coef[0, 0] * xx + coef[1, 0] * yy + coef[2, 0]
            py = coef[0, 1] * xx + coef[1, 1] * yy + coef[2, 1]
            on = (px > -0.5) & (px < nx - 0.5) & (py > -0.5) & (py < ny - 0.5)
            rows = np.flatnonzero(on.any(axis=1))
            if len(rows) >= 2 and on.sum() >= 16:  # a corner's few pixels are left out
                overlapping.append((k, px, py, rows))
        if not overlapping:
            continue
        # Context ids count the image's own frames (~19), not the scan's: one bit plane.
        driz = Drizzle(kernel=KERNEL, out_shape=inst.ATLAS_SHAPE, fillval="0",
                       max_ctx_id=len(overlapping))
        for k, px, py, rows in overlapping:
            driz.add_image((cal.frames[k] / area).astype(np.float32), exptime=1.0,
                           pixmap=np.dstack([px, py]), weight_map=weight[k], pixfrac=1.0,
                           pixel_scale_ratio=ratio,
                           ymin=max(int(rows[0]) - 2, 0),
                           ymax=min(int(rows[-1]) + 2, inst.NPIX - 1))
        coverage = _popcount(driz.out_ctx)
        image = np.where(driz.out_wht > 0, driz.out_img, 0.0).astype(np.float32)
        images.append(AtlasImage(number, crval, image, coverage))
    return images


def footprint(crval: tuple[float, float]) -> dict[str, float]:
    """Centre, four corners and HEALPix index of an Atlas Image."""
    ny, nx = inst.ATLAS_SHAPE
    xs = np.array([-0.5, nx - 0.5, -0.5, nx - 0.5])
    ys = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    ra, dec = tan.pix_to_world(crval, ATLAS_CD, ATLAS_CRPIX, xs, ys)
    out = {"ra": crval[0], "dec": crval[1],
           "hpx": int(healpix.ang2hpx(np.array([crval[0]]), np.array([crval[1]]))[0])}
    for i in range(4):
        out[f"ra_{i + 1}"], out[f"dec_{i + 1}"] = float(ra[i]), float(dec[i])
    return out


_BITS = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _popcount(ctx: np.ndarray) -> np.ndarray:
    """Frames contributing to each pixel: the set bits of drizzle's context planes."""
    planes = np.ascontiguousarray(ctx[None] if ctx.ndim == 2 else ctx, dtype=np.int32)
    count = np.zeros(planes.shape[1:], np.uint8)
    for plane in planes:
        count += _BITS[plane.view(np.uint8)].reshape(*plane.shape, 4).sum(axis=2,
                                                                         dtype=np.uint8)
    return count
