"""Positional comparisons of catalog and truth: avoidance areas, minor planets, pairs.

Every search is a neighbour search of unit vectors (``twomass.core.sphere``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twomass.core.sphere import chord_length, close_pairs, pairs_within, unit_vectors
from twomass.qa.catalog import ScanRef


@dataclass(frozen=True)
class CrossScanPair:
    """Two catalog sources from different scans closer than ``pair_arcsec``."""

    pts_keys: tuple[int, int]
    sep_arcsec: float
    scans: tuple[ScanRef, ScanRef]
    off_tile: bool  # one of the scans lies off its planned tile


def in_avoidance(xyz: np.ndarray, parents_xyz: np.ndarray, radius_arcsec: np.ndarray,
                 tier_arcsec: float) -> np.ndarray:
    """Rows of ``xyz`` inside some bright star's avoidance disc.

    Parameters
    ----------
    xyz, parents_xyz
        Unit vectors of the positions tested and of the bright stars.
    radius_arcsec
        Each bright star's avoidance radius [arcsec].
    tier_arcsec
        Stars are matched in tiers of radius doubling from this one, so that a few very
        bright stars do not widen every other search.
    """
    hit = np.zeros(len(xyz), bool)
    if len(parents_xyz) == 0:
        return hit
    tier = np.floor(np.log2(np.maximum(radius_arcsec / tier_arcsec, 1.0)))
    for t in np.unique(tier):
        group = np.flatnonzero(tier == t)
        i, j, sep = pairs_within(xyz, parents_xyz[group], float(radius_arcsec[group].max()))
        hit[i[sep < radius_arcsec[group][j]]] = True
    return hit


def minor_planet_matches(jdate: np.ndarray, rows: np.ndarray, xyz: np.ndarray,
                         scan_of_row: np.ndarray, mp: np.ndarray,
                         match_arcsec: float) -> np.ndarray:
    """Which catalog ``rows`` lie within ``match_arcsec`` of a minor planet's path.

    Parameters
    ----------
    jdate, xyz, scan_of_row
        Every catalog row's time [JD], unit vector and chosen-scan index.
    rows
        The catalog rows tested.
    mp
        Minor planets, one per covering scan: (ra, dec [deg], epoch_jd, ra_rate,
        dec_rate [deg/day], scan index). The path runs from the scan's start (its first
        catalog row's time) to its end.
    """
    hit = np.zeros(len(rows), bool)
    by_scan = {int(s): np.flatnonzero(scan_of_row[rows] == s) for s in np.unique(scan_of_row[rows])}
    for ra, dec, epoch, ra_rate, dec_rate, s in mp:
        mine = by_scan.get(int(s))
        if mine is None:
            continue
        in_scan = scan_of_row == int(s)
        t0, t1 = float(np.nanmin(jdate[in_scan])), float(np.nanmax(jdate[in_scan]))
        ends = unit_vectors(ra + ra_rate * (np.array([t0, t1]) - epoch),
                            dec + dec_rate * (np.array([t0, t1]) - epoch))
        q = xyz[rows[mine]]
        step = ends[1] - ends[0]
        u = np.clip((q - ends[0]) @ step / max(float(step @ step), 1e-300), 0.0, 1.0)
        chord = np.linalg.norm(q - (ends[0] + u[:, None] * step), axis=1)
        hit[mine[chord < chord_length(match_arcsec)]] = True
    return hit


def cross_scan_pairs(xyz: np.ndarray, pts_key: np.ndarray, scan_of_row: np.ndarray,
                     refs: list[ScanRef], pair_arcsec: float,
                     off_tile_arcsec: float) -> list[CrossScanPair]:
    """Catalog sources from different scans closer than ``pair_arcsec``, by ``pts_key``.

    A pair is explained when one of its scans lies more than ``off_tile_arcsec`` from
    its planned tile.
    """
    i, j, sep = close_pairs(xyz, pair_arcsec)
    cross = scan_of_row[i] != scan_of_row[j]
    i, j, sep = i[cross], j[cross], sep[cross]
    first, second = np.where(pts_key[i] < pts_key[j], i, j), np.where(pts_key[i] < pts_key[j], j, i)
    pairs = []
    for a, b, s in sorted(zip(first, second, sep, strict=True),
                          key=lambda p: (pts_key[p[0]], pts_key[p[1]])):
        ref_a, ref_b = refs[scan_of_row[a]], refs[scan_of_row[b]]
        off = any(r.off_tile_arcsec > off_tile_arcsec for r in (ref_a, ref_b))
        pairs.append(CrossScanPair((int(pts_key[a]), int(pts_key[b])), float(s),
                                   (ref_a, ref_b), off))
    return pairs
