"""Q3C's regression test table, regenerated: ``gen_data SEED N`` as its README describes.

An LCG x <- (1103515245 x + 12345) mod 2^31 (state = seed, advanced once before use)
draws an RA bin (36000 of 0.01 deg), a Dec bin (18000) and an acceptance number per
trial; a point is kept when the acceptance number is below cos(bin centre) * 2^31
(uniform on the sphere) and printed with C's %f, which PostgreSQL then parses.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "q3c"

_M = 2**31


def gen_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` points of ``gen_data seed`` as (ra, dec) in degrees."""
    x = (1103515245 * seed + 12345) % _M  # advanced once before use
    cos_centre = [math.cos(math.radians(-90 + 0.01 * (b + 0.5))) * _M for b in range(18000)]
    ra_text: list[str] = []
    dec_text: list[str] = []
    while len(ra_text) < n:
        x = (1103515245 * x + 12345) % _M
        ra_bin = int(x / _M * 36000)
        x = (1103515245 * x + 12345) % _M
        dec_bin = int(x / _M * 18000)
        x = (1103515245 * x + 12345) % _M
        if x < cos_centre[dec_bin]:
            ra_text.append("%f" % (ra_bin * 0.01))
            dec_text.append("%f" % (-90 + dec_bin * 0.01))
    return np.array(ra_text, dtype=float), np.array(dec_text, dtype=float)


def cones() -> list[tuple[float, float, float, int]]:
    """(ra0, dec0, radius_deg, count expected by Q3C) of Q3C's 745 regression cones."""
    with open(DATA / "cones.csv", newline="") as f:
        return [(float(r["ra0"]), float(r["dec0"]), float(r["radius_deg"]),
                 int(r["expected_count"])) for r in csv.DictReader(f)]
