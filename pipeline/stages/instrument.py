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
