"""Close pairs among positions in a flat frame, by grid hashing (no per-row loops).

Used within one scan, where U-scan (x, y) in arcsec is flat to well under 0.1" over
a few arcsec, to find blends (``bl_flg``), bandmerge confusion and crowding.
"""

from __future__ import annotations

import numpy as np

_NEIGHBOUR_CELLS = ((0, 0), (1, -1), (1, 0), (1, 1), (0, 1))


def close_pairs(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j, each unordered pair once, closer than ``radius``."""
    n = len(x)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cx = np.floor((x - x.min()) / radius).astype(np.int64)
    cy = np.floor((y - y.min()) / radius).astype(np.int64)
    span = int(cy.max()) + 3
    key = cx * span + cy
    order = np.argsort(key, kind="stable")
    skey = key[order]
    out_i, out_j = [], []
    for dx, dy in _NEIGHBOUR_CELLS:
        target = (cx + dx) * span + (cy + dy)
        lo = np.searchsorted(skey, target, "left")
        hi = np.searchsorted(skey, target, "right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        i = np.repeat(np.arange(n), counts)
        starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        j = order[starts + np.arange(total)]
        keep = (i < j) if (dx, dy) == (0, 0) else np.ones(total, bool)
        keep &= (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 < radius**2
        out_i.append(i[keep])
        out_j.append(j[keep])
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


def neighbour_counts(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    """Number of other positions within ``radius`` of each position."""
    i, j = close_pairs(x, y, radius)
    return np.bincount(i, minlength=len(x)) + np.bincount(j, minlength=len(x))
