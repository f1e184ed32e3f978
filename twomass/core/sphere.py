"""Positional matching of unit vectors in memory: exact on the whole sphere.

Used to compare a release with the simulator's truth. A 3-D grid hash of unit vectors
needs no special case at RA 0 or at the poles, and chunks keep memory bounded.
"""

from __future__ import annotations

import math

import numpy as np

ARCSEC = math.pi / 180.0 / 3600.0  # radians

#: Rows of the first set matched at a time.
CHUNK_ROWS = 100_000


def unit_vectors(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors of positions in degrees."""
    ra, dec = np.radians(np.asarray(ra_deg, float)), np.radians(np.asarray(dec_deg, float))
    cos_dec = np.cos(dec)
    return np.column_stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)])


def chord_length(radius_arcsec: float) -> float:
    """Chord between unit vectors separated by ``radius_arcsec``."""
    return 2.0 * math.sin(radius_arcsec * ARCSEC / 2.0)


def pairs_within(a: np.ndarray, b: np.ndarray, radius_arcsec: float,
                 chunk_rows: int = CHUNK_ROWS
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i in ``a``, j in ``b``) of unit vectors closer than ``radius_arcsec``.

    A 3-D grid of cells as wide as the chord of the radius hashes ``b``; each row of
    ``a`` looks in its cell and the 26 around it, ``chunk_rows`` rows at a time. Exact
    on the whole sphere (no RA wrap or pole cases). Returns (i, j, separation [arcsec]).
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(a) == 0 or len(b) == 0 or radius_arcsec <= 0:
        return empty
    cell = chord_length(radius_arcsec)
    lo = np.minimum(a.min(axis=0), b.min(axis=0)) - cell
    span = np.floor((np.maximum(a.max(axis=0), b.max(axis=0)) + cell - lo) / cell) + 2
    if float(np.prod(span)) >= 2.0**62:
        raise ValueError(f"match radius {radius_arcsec}\" too small for this sky area")
    span = span.astype(np.int64)

    def key(cells: np.ndarray) -> np.ndarray:
        return (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]

    b_key = key(np.floor((b - lo) / cell).astype(np.int64))
    order = np.argsort(b_key, kind="stable")
    sorted_key = b_key[order]
    offsets = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)])
    limit = cell * cell
    out_i, out_j = [], []
    for start in range(0, len(a), chunk_rows):
        part = a[start:start + chunk_rows]
        cells = np.floor((part - lo) / cell).astype(np.int64)
        for off in offsets:
            target = key(cells + off)
            first = np.searchsorted(sorted_key, target, "left")
            counts = np.searchsorted(sorted_key, target, "right") - first
            total = int(counts.sum())
            if total == 0:
                continue
            i = np.repeat(np.arange(len(part)), counts)
            j = order[np.repeat(first - (np.cumsum(counts) - counts), counts)
                      + np.arange(total)]
            near = np.sum((part[i] - b[j]) ** 2, axis=1) < limit
            out_i.append(i[near] + start)
            out_j.append(j[near])
    if not out_i:
        return empty
    i, j = np.concatenate(out_i), np.concatenate(out_j)
    chord = np.sqrt(np.sum((a[i] - b[j]) ** 2, axis=1))
    return i, j, 2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0)) / ARCSEC


def nearest_within(a: np.ndarray, b: np.ndarray, radius_arcsec: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: index of the nearest row of ``b`` closer than the radius
    (-1 if none) and its separation [arcsec] (inf if none)."""
    i, j, sep = pairs_within(a, b, radius_arcsec)
    best = np.full(len(a), -1, np.int64)
    dist = np.full(len(a), np.inf)
    order = np.lexsort((sep, i))
    first = np.ones(len(order), bool)
    first[1:] = i[order][1:] != i[order][:-1]
    pick = order[first]
    best[i[pick]], dist[i[pick]] = j[pick], sep[pick]
    return best, dist
