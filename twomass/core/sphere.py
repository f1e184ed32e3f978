"""Geometry of positions in memory: unit vectors, neighbour searches, great-circle edges.

Positions are unit vectors, so every search is exact on the whole sphere, with no case
at RA 0 or at the poles. Searches are two phases: scipy's k-d tree finds the candidates
within the chord of the radius, then the exact test keeps pairs whose squared chord is
strictly below the radius's (``sin^2(d/2) < sin^2(r/2)``, as the SQL cone search does).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

ARCSEC = math.pi / 180.0 / 3600.0  # radians
#: The tree's search radius exceeds the chord by this fraction, so that its own rounding
#: never drops a pair the exact test keeps.
_SEARCH_SLACK = 1e-9


class Pairs(NamedTuple):
    """Pairs of positions closer than a radius, sorted by ``i`` then ``j``.

    Attributes
    ----------
    i, j
        Row of each pair's first and second position (int64).
    sep_arcsec
        Angular separation of the pair [arcsec].
    """

    i: np.ndarray
    j: np.ndarray
    sep_arcsec: np.ndarray


class Nearest(NamedTuple):
    """For each query position, its nearest neighbour closer than a radius.

    Attributes
    ----------
    index
        Row of the nearest position (the lowest row among equally near ones), -1 if none.
    sep_arcsec
        Its separation [arcsec], inf if none.
    """

    index: np.ndarray
    sep_arcsec: np.ndarray


def unit_vectors(ra_deg: np.ndarray | float, dec_deg: np.ndarray | float) -> np.ndarray:
    """Unit vectors of positions.

    Parameters
    ----------
    ra_deg, dec_deg
        Right ascension and declination [deg], of any (equal) shape.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 3)``: x towards (0, 0), y towards (90, 0), z towards the north pole.
    """
    ra, dec = np.radians(np.asarray(ra_deg, float)), np.radians(np.asarray(dec_deg, float))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def chord_length(radius_arcsec: float) -> float:
    """Chord between unit vectors separated by ``radius_arcsec``."""
    return 2.0 * math.sin(radius_arcsec * ARCSEC / 2.0)


def separation_arcsec(chord: np.ndarray) -> np.ndarray:
    """Angular separation [arcsec] of unit vectors a ``chord`` apart."""
    return 2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0)) / ARCSEC


def _points(xyz: np.ndarray) -> np.ndarray:
    return np.asarray(xyz, float).reshape(-1, 3)


def _exact(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray,
           radius_arcsec: float) -> Pairs:
    """The candidate pairs strictly closer than the radius, sorted."""
    squared = np.sum((a[i] - b[j]) ** 2, axis=1)
    near = squared < chord_length(radius_arcsec) ** 2
    i, j, squared = i[near].astype(np.int64), j[near].astype(np.int64), squared[near]
    order = np.lexsort((j, i))
    return Pairs(i[order], j[order], separation_arcsec(np.sqrt(squared[order])))


def _empty() -> Pairs:
    return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))


def pairs_within(a: np.ndarray, b: np.ndarray, radius_arcsec: float) -> Pairs:
    """Every pair (row ``i`` of ``a``, row ``j`` of ``b``) closer than ``radius_arcsec``.

    Parameters
    ----------
    a, b
        Unit vectors, shape (n, 3) and (m, 3) (see :func:`unit_vectors`).
    radius_arcsec
        Match radius [arcsec]; pairs exactly at the radius are left out.

    Returns
    -------
    Pairs
        Sorted by ``i`` then ``j``.
    """
    a, b = _points(a), _points(b)
    if len(a) == 0 or len(b) == 0 or radius_arcsec <= 0:
        return _empty()
    search = chord_length(radius_arcsec) * (1.0 + _SEARCH_SLACK)
    found = cKDTree(a).sparse_distance_matrix(cKDTree(b), search, output_type="ndarray")
    return _exact(a, b, found["i"], found["j"], radius_arcsec)


def close_pairs(xyz: np.ndarray, radius_arcsec: float) -> Pairs:
    """Every unordered pair of rows of ``xyz`` closer than ``radius_arcsec``, once (i < j).

    Parameters
    ----------
    xyz
        Unit vectors, shape (n, 3). Duplicate positions pair with each other.
    radius_arcsec
        Radius [arcsec]; pairs exactly at the radius are left out.

    Returns
    -------
    Pairs
        With ``i < j``, sorted by ``i`` then ``j``.
    """
    xyz = _points(xyz)
    if len(xyz) < 2 or radius_arcsec <= 0:
        return _empty()
    search = chord_length(radius_arcsec) * (1.0 + _SEARCH_SLACK)
    found = cKDTree(xyz).query_pairs(search, output_type="ndarray").reshape(-1, 2)
    return _exact(xyz, xyz, found[:, 0], found[:, 1], radius_arcsec)


def neighbour_counts(xyz: np.ndarray, radius_arcsec: float) -> np.ndarray:
    """Number of other rows of ``xyz`` closer than ``radius_arcsec`` to each row.

    Parameters
    ----------
    xyz
        Unit vectors, shape (n, 3).
    radius_arcsec
        Radius [arcsec]; rows exactly at the radius are not counted.

    Returns
    -------
    numpy.ndarray
        ``n`` counts (int64); a repeated position counts its copies.
    """
    xyz = _points(xyz)
    i, j, _ = close_pairs(xyz, radius_arcsec)
    return np.bincount(i, minlength=len(xyz)) + np.bincount(j, minlength=len(xyz))


def nearest_within(a: np.ndarray, b: np.ndarray, radius_arcsec: float) -> Nearest:
    """For each row of ``a``, the nearest row of ``b`` closer than ``radius_arcsec``.

    Parameters
    ----------
    a, b
        Unit vectors, shape (n, 3) and (m, 3).
    radius_arcsec
        Match radius [arcsec].

    Returns
    -------
    Nearest
        ``n`` rows; ties go to the lowest row of ``b``.
    """
    a = _points(a)
    i, j, sep = pairs_within(a, b, radius_arcsec)
    index = np.full(len(a), -1, np.int64)
    dist = np.full(len(a), np.inf)
    order = np.lexsort((j, sep, i))
    first = np.ones(len(order), bool)
    first[1:] = i[order][1:] != i[order][:-1]
    pick = order[first]
    index[i[pick]], dist[i[pick]] = j[pick], sep[pick]
    return Nearest(index, dist)


#: Edges of a scan's quadrilateral as pairs of its corners: start, end, east, west.
_EDGES = ((0, 1), (2, 3), (0, 2), (1, 3))


def edge_normals(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Inward unit normals of the great-circle edges of scan quadrilaterals.

    Parameters
    ----------
    ra_deg, dec_deg
        Corners [deg], shape ``(..., 4)``, in the 2MASS order: 1 east at the start,
        2 west at the start, 3 east at the end, 4 west at the end.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 4, 3)``: the normals of the start (1-2), end (3-4), east (1-3) and
        west (2-4) edges, pointing into the quadrilateral, so that ``arcsin(normal .
        position)`` is a position's angular distance inside that edge (negative outside).
    """
    corners = unit_vectors(ra_deg, dec_deg)
    centre = corners.sum(axis=-2)
    normals = []
    for a, b in _EDGES:
        n = np.cross(corners[..., a, :], corners[..., b, :])
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        n *= np.sign(np.sum(n * centre, axis=-1))[..., None]
        normals.append(n)
    return np.stack(normals, axis=-2)
