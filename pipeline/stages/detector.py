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
        return cls(response.astype(np.float32), dark.astype(np.float32),
                   reset.astype(np.float32))

    def reads(self, rng: np.random.Generator, rate: np.ndarray, latent: np.ndarray,
              extra_r2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Integer Read_1 and Read_2 of a frame.

        ``rate`` is the illumination in ADU per R2-R1 exposure (1.3 s) before the
        responsivity; ``latent`` is persistent charge [ADU] released during the frame;
        ``extra_r2`` charge that arrives between the reads (cosmic rays). Single
        precision, in place where possible: this is most of the simulator's time.
        """
        f32 = np.float32
        noise = rng.standard_normal((4,) + np.shape(rate), dtype=f32)
        per_s = (rate * self.response).astype(f32)
        per_s *= f32(1.0 / inst.EXPOSURE_SECONDS)
        per_s += self.dark_rate
        q1 = per_s * f32(inst.READ1_SECONDS)
        q1 += noise[0] * np.sqrt(np.maximum(q1, f32(0.0)) * f32(1.0 / inst.GAIN))
        dq = per_s
        dq *= f32(inst.EXPOSURE_SECONDS)
        dq += latent
        if extra_r2 is not None:
            dq += extra_r2
        q2 = noise[1] * np.sqrt(np.maximum(dq, f32(0.0)) * f32(1.0 / inst.GAIN))
        q2 += dq
        q2 += q1
        out = []
        for q, n in ((q1, noise[2]), (q2, noise[3])):
            # inst.nonlinear of the charge up to full well: at most the saturation level.
            np.minimum(q, f32(inst.FULL_WELL_ADU), out=q)
            n *= f32(inst.READ_NOISE_ADU)
            n += q * (f32(1.0) - f32(inst.NONLINEAR / inst.FULL_WELL_ADU) * q)
            n += self.reset
            np.rint(n, out=n)
            np.clip(n, -32768, inst.ADU_MAX, out=n)
            out.append(n.astype(np.int16))
        return out[0], out[1]
