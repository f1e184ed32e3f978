"""The HEALPix wrapper against healpy and brute-force geometry."""

from __future__ import annotations

import healpy as hp
import numpy as np
import pytest

from twomass.core import healpix


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    ra = rng.uniform(0.0, 360.0, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return ra, dec


def test_order_29_nested_matches_healpy() -> None:
    ra, dec = random_sky(np.random.default_rng(1), 100_000)
    ra = np.concatenate([ra, [0.0, 359.9999999999, 0.0, 180.0]])
    dec = np.concatenate([dec, [0.0, 0.0, 90.0, -90.0]])
    expected = hp.ang2pix(2**29, ra, dec, nest=True, lonlat=True)
    assert np.array_equal(healpix.ang2hpx(ra, dec), expected)
    assert healpix.ang2hpx(ra, dec).dtype == np.int64


@pytest.mark.parametrize("order", [0, 5, 12, 20, 28])
def test_coarser_order_is_a_bit_shift(order: int) -> None:
    ra, dec = random_sky(np.random.default_rng(order), 20_000)
    coarse = hp.ang2pix(2**order, ra, dec, nest=True, lonlat=True)
    assert np.array_equal(healpix.to_order(healpix.ang2hpx(ra, dec), order), coarse)


def test_pixel_range_holds_all_descendants() -> None:
    lo, hi = healpix.pixel_range(7, 3)
    assert (lo, hi) == (7 << 52, (8 << 52) - 1)
    assert healpix.to_order(np.array([lo, hi]), 3).tolist() == [7, 7]


def test_merge_ranges() -> None:
    assert healpix.merge_ranges([(5, 9), (0, 3), (4, 4), (20, 30), (25, 26)]) == [
        (0, 9), (20, 30)
    ]


def _angular_distance_deg(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    s = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(s, 0, 1))))


@pytest.mark.parametrize(
    ("ra0", "dec0", "radius_deg"),
    [
        (10.0, 20.0, 1 / 3600),
        (0.0, 0.0, 60 / 3600),
        (359.99, -30.0, 0.2),
        (123.4, 89.9, 0.5),
        (45.0, -89.95, 1.0),
        (200.0, 41.8, 10.0),
    ],
)
def test_disc_ranges_cover_every_point_in_the_disc(ra0, dec0, radius_deg) -> None:
    rng = np.random.default_rng(7)
    # Points uniformly inside a slightly larger disc, by rejection from a cap sample.
    cap = np.radians(min(2 * radius_deg, 180))
    z = rng.uniform(np.cos(cap), 1.0, 200_000)
    phi = rng.uniform(0, 2 * np.pi, z.size)
    local = np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z])
    # Rotate the cap from the pole to (ra0, dec0).
    theta, lon = np.radians(90 - dec0), np.radians(ra0)
    ct, st = np.cos(theta), np.sin(theta)
    ry = np.array([[ct, 0, st], [0, 1, 0], [-st, 0, ct]])
    rz = np.array([[np.cos(lon), -np.sin(lon), 0], [np.sin(lon), np.cos(lon), 0], [0, 0, 1]])
    x, y, zz = rz @ ry @ local
    ra = np.degrees(np.arctan2(y, x)) % 360.0
    dec = np.degrees(np.arcsin(np.clip(zz, -1, 1)))
    inside = _angular_distance_deg(ra, dec, ra0, dec0) <= radius_deg
    assert inside.sum() > 1000

    ranges = healpix.disc_ranges(ra0, dec0, radius_deg)
    assert 1 <= len(ranges) <= healpix.MAX_DISC_RANGES
    hpx = healpix.ang2hpx(ra[inside], dec[inside])
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    slot = np.searchsorted(lo, hpx, side="right") - 1
    assert np.all(slot >= 0) and np.all(hpx <= hi[slot])


def test_disc_ranges_are_tight_for_small_discs() -> None:
    ranges = healpix.disc_ranges(150.0, 2.2, 2 / 3600)
    covered_pixels = sum(hi - lo + 1 for lo, hi in ranges)
    # Order-29 pixels are ~0.16 arcsec^2; a 2" disc is ~12.6 arcsec^2: the cover is
    # within a small factor of the disc, so an index scan reads little outside it.
    pixel_area = 4 * np.pi * (180 / np.pi * 3600) ** 2 / (12 * 4**29)
    assert covered_pixels * pixel_area < 4 * np.pi * 2**2


@pytest.mark.parametrize("bad", [(0.0, 91.0, 1.0), (0.0, 0.0, -1.0), (0.0, 0.0, float("nan"))])
def test_disc_ranges_reject_impossible_arguments(bad) -> None:
    with pytest.raises(ValueError):
        healpix.disc_ranges(*bad)


def test_pixels_within_discs_against_the_pixel_centres() -> None:
    """Every pixel whose centre lies in a disc is found, and none farther than the disc's
    radius plus a pixel's (the oracle: distances from the pixel centres)."""
    from twomass.core.healpix import hpx2ang, pixel_radius_deg, pixels_within

    order = 4
    rng = np.random.default_rng(3)
    discs = [(float(rng.uniform(0, 360)), float(rng.uniform(-89, 89)),
              float(rng.uniform(0.1, 8))) for _ in range(20)] + [(0.0, 90.0, 3.0)]
    found = pixels_within(discs, order)
    ra, dec = hpx2ang(np.arange(12 * 4 ** order), order)
    near = np.zeros(ra.size, bool)
    reach = np.zeros(ra.size, bool)
    for r0, d0, radius in discs:
        a, d, a0, d0r = map(np.radians, (ra, dec, r0, d0))
        sep = np.degrees(np.arccos(np.clip(np.sin(d) * np.sin(d0r)
                                           + np.cos(d) * np.cos(d0r) * np.cos(a - a0), -1, 1)))
        near |= sep < radius
        reach |= sep <= radius + pixel_radius_deg(order)
    assert set(np.flatnonzero(near)) <= found <= set(np.flatnonzero(reach))
    assert len(found) > len(np.flatnonzero(near))
