"""Neighbour searches of unit vectors against brute-force separations (astropy)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import sphere

RADIUS_ARCSEC = 5.0


def _patches(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions [deg] in three small patches: across RA 0, at each pole; some repeated."""
    k = n // 3
    ra = np.concatenate([rng.uniform(-0.02, 0.02, k) % 360, rng.uniform(0, 360, k),
                         rng.uniform(0, 360, n - 2 * k)])
    dec = np.concatenate([rng.uniform(-0.02, 0.02, k), rng.uniform(89.98, 90, k),
                          rng.uniform(-90, -89.98, n - 2 * k)])
    dec[:3] = [90.0, -90.0, 0.0]  # the poles themselves, at any RA
    copies = rng.choice(n, n // 25, replace=False)
    ra[copies[1::2]], dec[copies[1::2]] = ra[copies[::2]], dec[copies[::2]]
    return ra, dec


def _separations(ra1, dec1, ra2, dec2) -> np.ndarray:
    """(n, m) separations [arcsec], computed by astropy."""
    a, b = SkyCoord(ra1 * u.deg, dec1 * u.deg), SkyCoord(ra2 * u.deg, dec2 * u.deg)
    return a[:, None].separation(b[None, :]).arcsec


@pytest.fixture(scope="module")
def sky() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    ra, dec = _patches(rng, 3000)
    return ra[::2], dec[::2], ra[1::2], dec[1::2]


def _pair_set(i: np.ndarray, j: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(i.tolist(), j.tolist(), strict=True))


def test_unit_vectors_are_unit_and_point_where_they_should() -> None:
    xyz = sphere.unit_vectors([0.0, 90.0, 123.0, 10.0], [0.0, 0.0, 90.0, -90.0])
    assert xyz.shape == (4, 3)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0)
    np.testing.assert_allclose(xyz[:2], [[1, 0, 0], [0, 1, 0]], atol=1e-15)
    np.testing.assert_allclose(xyz[2:, 2], [1.0, -1.0])
    assert sphere.unit_vectors(10.0, 20.0).shape == (3,)


def test_pairs_within_agree_with_brute_force(sky) -> None:
    ra1, dec1, ra2, dec2 = sky
    a, b = sphere.unit_vectors(ra1, dec1), sphere.unit_vectors(ra2, dec2)
    i, j, sep = sphere.pairs_within(a, b, RADIUS_ARCSEC)
    full = _separations(ra1, dec1, ra2, dec2)
    want = _pair_set(*np.nonzero(full < RADIUS_ARCSEC))
    assert len(want) > 100
    assert _pair_set(i, j) == want
    np.testing.assert_allclose(sep, full[i, j], atol=1e-6)
    assert np.all(np.lexsort((j, i)) == np.arange(len(i)))  # sorted by i, then j


def test_close_pairs_list_each_unordered_pair_once(sky) -> None:
    ra, dec = np.concatenate(sky[::2]), np.concatenate(sky[1::2])
    xyz = sphere.unit_vectors(ra, dec)
    i, j, sep = sphere.close_pairs(xyz, RADIUS_ARCSEC)
    full = _separations(ra, dec, ra, dec)
    want = {(p, q) for p, q in zip(*np.nonzero(full < RADIUS_ARCSEC), strict=True) if p < q}
    assert _pair_set(i, j) == want
    np.testing.assert_allclose(sep, full[i, j], atol=1e-6)
    # Duplicated positions pair with each other at separation 0.
    assert (sep == 0).sum() >= len(ra) // 50
    counts = sphere.neighbour_counts(xyz, RADIUS_ARCSEC)
    np.testing.assert_array_equal(counts, (full < RADIUS_ARCSEC).sum(axis=1) - 1)


def test_nearest_within_agrees_with_brute_force(sky) -> None:
    ra1, dec1, ra2, dec2 = sky
    a, b = sphere.unit_vectors(ra1, dec1), sphere.unit_vectors(ra2, dec2)
    index, dist = sphere.nearest_within(a, b, RADIUS_ARCSEC)
    full = _separations(ra1, dec1, ra2, dec2)
    has = full.min(axis=1) < RADIUS_ARCSEC
    assert has.sum() > 100 and (~has).sum() > 100
    np.testing.assert_array_equal(index >= 0, has)
    np.testing.assert_allclose(full[np.flatnonzero(has), index[has]], full.min(axis=1)[has],
                               atol=1e-6)
    np.testing.assert_allclose(dist[has], full.min(axis=1)[has], atol=1e-6)
    assert np.all(np.isinf(dist[~has]))


def test_ties_go_to_the_lowest_row() -> None:
    a = sphere.unit_vectors([10.0], [20.0])
    b = sphere.unit_vectors([10.0, 10.0, 10.0], [20.0 + 2 / 3600, 20.0, 20.0])
    index, dist = sphere.nearest_within(a, b, 3.0)
    assert index.tolist() == [1] and dist.tolist() == [0.0]


def test_the_radius_is_strict() -> None:
    """A pair exactly at the radius (as a chord) is left out; just inside, kept."""
    a = np.array([[1.0, 0.0, 0.0]])
    chord = sphere.chord_length(RADIUS_ARCSEC)
    # Points at chord (1 - 1e-12) and exactly at the chord's length from a.
    angle = [2 * np.arcsin(c / 2) for c in (chord * (1 - 1e-12), chord)]
    b = np.column_stack([np.cos(angle), np.sin(angle), np.zeros(2)])
    assert np.sum((a - b[1]) ** 2) >= chord**2
    i, j, _ = sphere.pairs_within(a, b, RADIUS_ARCSEC)
    assert j.tolist() == [0]


@pytest.mark.parametrize("n_a, n_b", [(0, 0), (0, 5), (5, 0)])
def test_empty_inputs(n_a: int, n_b: int) -> None:
    a = sphere.unit_vectors(np.zeros(n_a), np.zeros(n_a))
    b = sphere.unit_vectors(np.ones(n_b), np.ones(n_b))
    i, j, sep = sphere.pairs_within(a, b, RADIUS_ARCSEC)
    assert len(i) == len(j) == len(sep) == 0 and i.dtype == j.dtype == np.int64
    index, dist = sphere.nearest_within(a, b, RADIUS_ARCSEC)
    assert index.tolist() == [-1] * n_a and np.all(np.isinf(dist))


def test_one_position_and_repeated_positions() -> None:
    one = sphere.unit_vectors([1.0], [2.0])
    assert len(sphere.close_pairs(one, RADIUS_ARCSEC).i) == 0
    assert sphere.neighbour_counts(one, RADIUS_ARCSEC).tolist() == [0]
    assert len(sphere.pairs_within(one, one, 0.0).i) == 0
    same = sphere.unit_vectors(np.full(4, 359.9999), np.full(4, 89.9999))
    i, j, sep = sphere.close_pairs(same, RADIUS_ARCSEC)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [
        (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert sep.tolist() == [0.0] * 6
    assert sphere.neighbour_counts(same, RADIUS_ARCSEC).tolist() == [3] * 4


def test_edge_normals_measure_the_distance_inside_a_scan() -> None:
    """A 0.2 x 2 deg quadrilateral on the equator: distances to its four edges."""
    ra = np.array([10.1, 9.9, 10.1, 9.9])  # 1 east/start, 2 west/start, 3 east/end, 4 west
    dec = np.array([-1.0, -1.0, 1.0, 1.0])
    normals = sphere.edge_normals(ra, dec)
    assert normals.shape == (4, 3)
    point = sphere.unit_vectors(10.05, 0.0)
    inside_deg = np.degrees(np.arcsin(normals @ point))
    np.testing.assert_allclose(inside_deg, [1.0, 1.0, 0.05, 0.15], atol=1e-4)
    outside = sphere.unit_vectors(10.2, 0.0)
    assert (normals @ outside)[2] < 0
    many = sphere.edge_normals(np.stack([ra, ra + 180]), np.stack([dec, dec]))
    assert many.shape == (2, 4, 3)
    np.testing.assert_array_equal(many[0], normals)
