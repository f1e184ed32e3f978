"""Bright transients: sources on one frame of a scan, which catalog rule 7 removes.

Satellite glints and the flashes of meteors and bright cosmic-ray showers last less than
the 1.3 s of one frame. The three arrays see the same sky at once through dichroics, so
a glint lights one frame in J, H and Ks together; it is point-like on that frame, so its
profile fit passes (psfchi < 10) and no artifact flag marks it. Only the frame-detection
statistics betray it: N = 1 of the M frames where it was measurable. Its scan magnitude
(its flux averaged over the frames) is brighter than the test's bright limits (J 14.5,
H 14.0, Ks 13.5), so the test applies and rejects it (spec 2.3, rule 7).
"""

from __future__ import annotations

import numpy as np

from twomass.pipeline.sim.artifacts import Spurious

#: Row kind of a bright transient (after the artifacts.KIND_* codes 10-13).
KIND_TRANSIENT = 14
#: Transients per square degree of scan (a handful per scan).
PER_DEG2 = 2.0
#: Scan J magnitudes, and the colours of reflected sunlight (J-H, H-Ks).
J_RANGE = (10.0, 14.0)
J_H, H_K = 0.3, 0.1
#: Profile-fit chi^2 scale: point-like on its frame, worse than a star across frames.
PSFCHI_RANGE = (1.5, 4.0)


def bright(rng: np.random.Generator, area_deg2: float, length_arcsec: float,
           half_width_arcsec: float) -> Spurious:
    """The bright transients of one scan, in scan coordinates, before measurement."""
    n = rng.poisson(PER_DEG2 * area_deg2)
    j = rng.uniform(*J_RANGE, n)
    colour = rng.normal(0.0, 0.05, (n, 2))
    mag = np.column_stack([j, j - J_H + colour[:, 0], j - J_H - H_K + colour[:, 1]])
    return Spurious(rng.uniform(-half_width_arcsec, half_width_arcsec, n),
                    rng.uniform(0.0, length_arcsec, n), mag, np.ones((n, 3), bool),
                    rng.uniform(*PSFCHI_RANGE, n), np.full(n, "0"),
                    np.full(n, KIND_TRANSIENT, np.int8))


def with_bright(spurious: Spurious, rng: np.random.Generator, area_deg2: float,
                length_arcsec: float, half_width_arcsec: float) -> Spurious:
    """``spurious`` followed by the scan's bright transients."""
    more = bright(rng, area_deg2, length_arcsec, half_width_arcsec)
    return Spurious(*[np.concatenate([getattr(spurious, f), getattr(more, f)])
                      for f in Spurious.__dataclass_fields__])
