"""The 2MASS camera and telescope as the seeds describe them (spec 2mapps-pipeline.md §0).

Numbers here are shared by the raw-frame simulator (``observe``) and the pipeline stages,
as the real pipeline shared its knowledge of the hardware: array size, pixel scale and
rotation, reads, gain, read noise, saturation, the non-linearity law, frame cadence.
What the pipeline must *not* know (the true pointing, flat, dark, PSF, sky) lives only in
the simulator's draws and reaches the pipeline through the raw files.
"""

from __future__ import annotations

import numpy as np

from twomass.pipeline.sim.footprint import BAND_OFFSET_ARCSEC

BANDS = ("j", "h", "k")
NPIX = 256
PIXEL_ARCSEC = 1.991
#: Each array's own pixel scale [arcsec/px] (J, H, Ks): mean 1.991 as the spec's §0 (range
#: 1.980-2.006), the largest kept below 2.0 because the Atlas Images' drizzle kernel
#: misplaces flux when an input pixel spans more than two output pixels (``atlas.KERNEL``).
#: The cameras' calibration measured them; the pipeline maps each band's pixels with its
#: own (``cd_matrix(BAND_PIXEL_ARCSEC[b])``).
BAND_PIXEL_ARCSEC = (1.980, 1.994, 1.999)
#: The optics' field distortion per band, from the same calibration: a star's image lies
#: ``distortion_px`` from where a TAN projection at the band's scale puts it. Radial
#: (third order, ``[0]`` px at u^2 + v^2 = 1) and decentring (``[1]``, ``[2]`` px) terms in
#: (u, v), the position from the array centre in half array widths: 0.3-0.5" at the
#: corners, 0.1-0.2" at the edges' middles.
DISTORTION_PX = ((0.070, 0.015, -0.010), (0.060, 0.010, 0.012), (0.080, -0.012, 0.008))
#: Array rotation about the optical axis [deg]: a star drifts across one column per scan.
ROTATION_DEG = 0.3
#: Band arrays' cross-scan offsets [arcsec] (east positive), as the catalog simulator's.
BAND_XI_ARCSEC = BAND_OFFSET_ARCSEC
#: Freeze-frame step along the scan [arcsec] per site, and the frame cadence [s].
STEP_ARCSEC = {"n": 82.6, "s": 82.3}
FRAME_SECONDS = 1.455
READ1_SECONDS = 0.051
READ2_SECONDS = 1.351
EXPOSURE_SECONDS = READ2_SECONDS - READ1_SECONDS  # the R2-R1 frame: 1.3 s
GAIN = 8.0  # e-/ADU
READ_NOISE_ADU = 4.5 / np.sqrt(2.0)  # per read, so that R2-R1 has 4.5 ADU
BIAS_ADU = 400.0
#: Charge above bias at which a pixel saturates [ADU]; Read_2 saturates near Ks 8.5.
FULL_WELL_ADU = 12_000.0
#: Non-linearity: recorded = true * (1 - NONLINEAR * true / FULL_WELL_ADU).
NONLINEAR = 0.04
ADU_MAX = 32_767
#: Atlas Images: 1" pixels, 512 x 1024, 54 pixels of overlap along the scan.
ATLAS_ARCSEC = 1.0
ATLAS_SHAPE = (1024, 512)  # (rows along the scan, columns across)
ATLAS_OVERLAP = 54
#: Unconfirmed single-frame detections brighter than this are masked (spec §1.4).
TRANSIENT_MAG = {"j": 15.0, "h": 14.5, "k": 14.0}
TRANSIENT_MASK_ARCSEC = 5.0


def linearize(adu: np.ndarray) -> np.ndarray:
    """Invert the non-linearity law for charge above bias [ADU]."""
    a = np.float32(NONLINEAR / FULL_WELL_ADU)
    adu = np.asarray(adu, dtype=np.float32)
    disc = np.maximum(np.float32(1.0) - np.float32(4.0) * a * adu, np.float32(0.0))
    return (np.float32(1.0) - np.sqrt(disc)) / (np.float32(2.0) * a)


def nonlinear(adu: np.ndarray) -> np.ndarray:
    """The detector's recorded charge for a true charge above bias [ADU]."""
    return adu * (1.0 - NONLINEAR * adu / FULL_WELL_ADU)


def saturation_recorded() -> float:
    """The recorded level above bias at which a pixel is saturated [ADU]."""
    return float(nonlinear(np.array(FULL_WELL_ADU)))


def cd_matrix(scale_arcsec: float = PIXEL_ARCSEC, rotation_deg: float = ROTATION_DEG
              ) -> np.ndarray:
    """WCS CD matrix [deg/pixel] of an array: east left, north (scan +phi) up, rotated."""
    t = np.radians(rotation_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return scale_arcsec / 3600.0 * rot @ np.array([[-1.0, 0.0], [0.0, 1.0]])


def distortion_px(band: int, x: np.ndarray, y: np.ndarray,
                  coefficients: tuple[float, float, float] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Field distortion (dx, dy) [px] at 0-based pixel (x, y) of band ``band``'s array
    (``DISTORTION_PX``, or the ``coefficients`` given): radial k u r^2 and decentring
    p1 (3u^2 + v^2) + 2 p2 u v across, k v r^2 and 2 p1 u v + p2 (u^2 + 3v^2) along."""
    k, p1, p2 = DISTORTION_PX[band] if coefficients is None else coefficients
    half = 0.5 * NPIX
    u, v = (np.asarray(x) - (half - 0.5)) / half, (np.asarray(y) - (half - 0.5)) / half
    r2 = u * u + v * v
    return (k * u * r2 + p1 * (3 * u * u + v * v) + 2 * p2 * u * v,
            k * v * r2 + 2 * p1 * u * v + p2 * (u * u + 3 * v * v))
