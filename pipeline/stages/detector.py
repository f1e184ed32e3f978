"""The arrays' fixed properties and what they add to every read (simulator side).

Per site and band (one hardware period): the responsivity (a 2 % large-scale pattern and
1 % pixel-to-pixel), dead pixels, the dark current with hot pixels, and the reset
pattern every read carries. ``reads`` turns a frame's true charge into the two integer
reads: Poisson and read noise, non-linearity, saturation, the 16-bit ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.pipeline.stages import instrument as inst

DEAD_FRACTION = 0.003
HOT_FRACTION = 0.002


@dataclass
class Detector:
    """One band's array: true responsivity, dark current [ADU/s] and reset pattern."""

    response: np.ndarray
    dark_rate: np.ndarray
    reset: np.ndarray

    @classmethod
    def draw(cls, seed: int, hemis: str, band: int) -> Detector:
        rng = np.random.default_rng([seed, 7, int(hemis == "s"), band])
        n = inst.NPIX
        yy, xx = np.mgrid[0:n, 0:n] / (n - 1) - 0.5
        a = rng.normal(0.0, 0.02, 4)
        large = 1.0 + a[0] * xx + a[1] * yy + a[2] * (xx**2 + yy**2) + a[3] * xx * yy
        response = large * (1.0 + rng.normal(0.0, 0.01, (n, n)))
        dead = rng.random((n, n)) < DEAD_FRACTION
        response[dead] = rng.uniform(0.0, 0.1, int(dead.sum()))
        dark = np.abs(rng.normal(0.3, 0.1, (n, n)))
        hot = rng.random((n, n)) < HOT_FRACTION
        dark[hot] = rng.uniform(30.0, 600.0, int(hot.sum()))
        reset = inst.BIAS_ADU + 3.0 * xx + rng.normal(0.0, 2.0, (n, n))
        return cls(response, dark, reset)

    def reads(self, rng: np.random.Generator, rate: np.ndarray, latent: np.ndarray,
              extra_r2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Integer Read_1 and Read_2 of a frame.

        ``rate`` is the illumination in ADU per R2-R1 exposure (1.3 s) before the
        responsivity; ``latent`` is persistent charge [ADU] released during the frame;
        ``extra_r2`` charge that arrives between the reads (cosmic rays).
        """
        per_s = rate * self.response / inst.EXPOSURE_SECONDS + self.dark_rate
        q1 = per_s * inst.READ1_SECONDS
        q1 = q1 + rng.standard_normal(q1.shape) * np.sqrt(np.maximum(q1, 0) / inst.GAIN)
        dq = per_s * inst.EXPOSURE_SECONDS + latent
        if extra_r2 is not None:
            dq = dq + extra_r2
        q2 = q1 + dq + rng.standard_normal(dq.shape) * np.sqrt(np.maximum(dq, 0) / inst.GAIN)
        ceiling = inst.saturation_recorded()
        out = []
        for q in (q1, q2):
            rec = np.minimum(inst.nonlinear(np.minimum(q, inst.FULL_WELL_ADU)), ceiling)
            adu = self.reset + rec + rng.standard_normal(q.shape) * inst.READ_NOISE_ADU
            out.append(np.clip(np.rint(adu), -32768, inst.ADU_MAX).astype(np.int16))
        return out[0], out[1]
