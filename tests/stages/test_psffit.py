"""Profile-fit photometry on hand-built frames with known stars, PSF and frame offsets.

The scenes are rendered with the simulator's pixel integrator (``render.add_mixtures``,
a Gaussian core and a wider wing) on frames placed along a north scan with known
offsets; the Registration holds the true frame centres. The oracle is what the scene
was built with: fluxes, positions, the PSF.
"""

from __future__ import annotations

import numpy as np
import pytest

from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import calibrate, psffit, register, render
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.calibrate import CalibratedScan

RA0, DEC0 = 137.33, 9.0
NOISE_ADU = 6.0
SIGMA_PX = 0.55
WING = (0.08, 3.0)
MAGZP = 20.0


def truth_psf(n_frames: int, growth: float = 0.0) -> psffit.PsfModel:
    return psffit.PsfModel(np.full(n_frames, SIGMA_PX), growth, WING[0], WING[1], 0.0)


def scene(seed: int, ra: np.ndarray, dec: np.ndarray, flux: np.ndarray, n_frames: int = 10,
          growth: float = 0.0, cosmic: tuple[int, float, float, float] | None = None,
          detect: bool = False):
    """Frames of a north scan seeing stars at (ra, dec) with total ``flux`` [ADU]; frame
    centres offset from the nominal track by up to 1"; Gaussian read and sky noise and
    the stars' Poisson noise. ``cosmic``: (frame, ra, dec, ADU) on one pixel."""
    rng = np.random.default_rng(seed)
    step = inst.STEP_ARCSEC["n"]
    phi = DEC0 + (np.arange(n_frames) - 0.5 * (n_frames - 1)) * step / 3600.0
    off = rng.normal(0.0, 0.5, (n_frames, 2)) / 3600.0
    c_ra, c_dec = scanframe.to_radec(RA0, off[:, 0], phi + off[:, 1])
    c_ra, c_dec = np.asarray(c_ra, float), np.asarray(c_dec, float)
    frames = np.zeros((n_frames, inst.NPIX, inst.NPIX), np.float32)
    reg = register.Registration(c_ra, c_dec, np.zeros((n_frames, 2)), 0.0, 0, 0, 0.0)
    for k in range(n_frames):
        x, y = _pixels(reg, k, ra, dec)
        image = np.zeros((inst.NPIX, inst.NPIX))
        r2 = ((x - 127.5) ** 2 + (y - 127.5) ** 2) / psffit.FIELD_RADIUS_PX**2
        sig = SIGMA_PX * (1.0 + growth * np.clip(r2, 0, 1))
        render.add_mixtures(image, x, y, [(flux * (1 - WING[0]), sig),
                                          (flux * WING[0], WING[1] * sig)], 14)
        image += rng.normal(0.0, 1.0, image.shape) * np.sqrt(
            NOISE_ADU**2 + np.maximum(image, 0.0) / inst.GAIN)
        if cosmic is not None and cosmic[0] == k:
            cx, cy = _pixels(reg, k, np.array([cosmic[1]]), np.array([cosmic[2]]))
            image[int(np.rint(cy[0])), int(np.rint(cx[0]))] += cosmic[3]
        frames[k] = image
    good = np.ones(frames.shape, bool)
    dets = [calibrate.detect(f, np.full(f.shape, NOISE_ADU, np.float32),
                             np.zeros(f.shape, bool), np.zeros(f.shape, bool))
            for f in frames] if detect else [np.zeros(0)] * n_frames
    cal = CalibratedScan(frames, good, np.zeros(frames.shape, bool), np.zeros(n_frames),
                         np.full(n_frames, NOISE_ADU), dets, [0] * n_frames)
    return cal, reg


def _pixels(reg, k, ra, dec):
    from twomass.pipeline.stages import tan

    return tan.world_to_pix(*reg.frame_wcs(k), ra, dec)


def sky_offsets(ra, dec, ra_t, dec_t) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) offsets [arcsec] of (ra, dec) from (ra_t, dec_t)."""
    return ((ra - ra_t + 540.0) % 360.0 - 180.0) * np.cos(np.radians(dec_t)) * 3600.0, \
        (dec - dec_t) * 3600.0
