"""hpx_ang2ipix, hpx_ipix2ang and hpx_dist against healpy and astropy."""

from __future__ import annotations

import healpy as hp
import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import healpix

from .conftest import random_sky


def sql_ang2ipix(conn: psycopg.Connection, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    rows = conn.execute(
        "SELECT hpx_ang2ipix(r, d) FROM unnest(%s::float8[], %s::float8[]) "
        "WITH ORDINALITY AS u(r, d, i) ORDER BY i",
        (ra.tolist(), dec.tolist())).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def boundary_points() -> tuple[np.ndarray, np.ndarray]:
    """Poles, RA 0 and 360, face edges, and corners of pixels at several orders."""
    ra = [0, 360, 0, 360, 90, 180, 270, 45, 135, 359.99999999999994, 720, -90, 0, 12.5]
    dec = [90, 90, -90, -90, 0, 0, 0, 41.810314895778596, -41.810314895778596, 0, 10, -10,
           0, 90 - 1e-12]
    rng = np.random.default_rng(7)
    for order in (0, 1, 3, 8, 15, 22, 29):
        nside = 1 << order
        pix = rng.integers(0, 12 * nside * nside, 200)
        vecs = hp.boundaries(nside, pix, step=1, nest=True)  # (n, 3, 4) corners
        r, d = hp.vec2ang(np.moveaxis(vecs, 1, 2).reshape(-1, 3), lonlat=True)
        ra.extend(r)
        dec.extend(d)
    # The polar / equatorial transition z = 2/3 and the poles' neighbourhood.
    z_edge = np.degrees(np.arcsin(2 / 3))
    for dd in (z_edge, -z_edge, np.nextafter(z_edge, 0), np.nextafter(z_edge, 90)):
        ra.extend(rng.uniform(0, 360, 50))
        dec.extend([dd] * 50)
    ra.extend(rng.uniform(0, 360, 200))
    dec.extend(90 - 10 ** rng.uniform(-12, -1, 200))
    ra.extend(rng.uniform(0, 360, 200))
    dec.extend(-90 + 10 ** rng.uniform(-12, -1, 200))
    return np.array(ra, dtype=float), np.clip(np.array(dec, dtype=float), -90, 90)


def test_ang2ipix_equals_healpy_on_a_million_points(spatial_url: str) -> None:
    rng = np.random.default_rng(2026)
    ra, dec = random_sky(rng, 1_000_000)
    with psycopg.connect(spatial_url) as conn:
        got = sql_ang2ipix(conn, ra, dec)
    assert np.array_equal(got, healpix.ang2hpx(ra, dec))


def test_ang2ipix_equals_healpy_on_poles_edges_and_corners(spatial_url: str) -> None:
    ra, dec = boundary_points()
    with psycopg.connect(spatial_url) as conn:
        got = sql_ang2ipix(conn, ra, dec)
    expected = healpix.ang2hpx(ra, dec)
    bad = np.nonzero(got != expected)[0]
    assert bad.size == 0, list(zip(ra[bad], dec[bad], got[bad], expected[bad], strict=True))


def test_ang2ipix_null_and_nan_give_null(spatial_url: str) -> None:
    with psycopg.connect(spatial_url) as conn:
        row = conn.execute(
            "SELECT hpx_ang2ipix(NULL, 1), hpx_ang2ipix(1, NULL), "
            "hpx_ang2ipix('NaN', 1), hpx_ang2ipix(1, 'NaN'), hpx_ipix2ang(NULL)").fetchone()
    assert row == (None, None, None, None, None)


@pytest.mark.parametrize(("call", "message"), [
    ("hpx_ang2ipix(10, 90.5)", "dec must be in [-90, 90] degrees, got 90.5"),
    ("hpx_ipix2ang(-1)", "ipix must be in [0, 12 * 4^29 - 1], got -1"),
])
def test_pixel_functions_reject_impossible_arguments(spatial_url: str, call: str,
                                                     message: str) -> None:
    with psycopg.connect(spatial_url) as conn, pytest.raises(
            psycopg.errors.InvalidParameterValue) as info:
        conn.execute(f"SELECT {call}")
    assert message in str(info.value)


def test_ipix2ang_returns_healpy_pixel_centres(spatial_url: str) -> None:
    rng = np.random.default_rng(3)
    ra, dec = boundary_points()
    pix = np.concatenate([healpix.ang2hpx(ra, dec), rng.integers(0, 12 << 58, 5000),
                          [0, (12 << 58) - 1]])
    with psycopg.connect(spatial_url) as conn:
        rows = conn.execute("SELECT hpx_ipix2ang(p) FROM unnest(%s::bigint[]) "
                            "WITH ORDINALITY AS u(p, i) ORDER BY i",
                            (pix.tolist(),)).fetchall()
    got = np.array([r[0] for r in rows])
    exp_ra, exp_dec = healpix.hpx2ang(pix)
    sep = SkyCoord(got[:, 0] * u.deg, got[:, 1] * u.deg).separation(
        SkyCoord(exp_ra * u.deg, exp_dec * u.deg))
    assert sep.to_value(u.arcsec).max() < 1e-6


def test_dist_is_accurate_from_milliarcseconds_to_180_degrees(spatial_url: str) -> None:
    rng = np.random.default_rng(5)
    ra1, dec1 = random_sky(rng, 3000)
    sep = np.concatenate([10 ** rng.uniform(-7, 2.2, 2900), 180 - 10 ** rng.uniform(-7, 0, 100)])
    sep = np.minimum(sep, 180)
    pa = rng.uniform(0, 360, sep.size)
    c1 = SkyCoord(ra1 * u.deg, dec1 * u.deg)
    c2 = c1.directional_offset_by(pa * u.deg, sep * u.deg)
    with psycopg.connect(spatial_url) as conn:
        rows = conn.execute(
            "SELECT hpx_dist(a, b, c, d) FROM unnest(%s::float8[], %s::float8[], "
            "%s::float8[], %s::float8[]) WITH ORDINALITY AS u(a, b, c, d, i) ORDER BY i",
            (ra1.tolist(), dec1.tolist(), c2.ra.deg.tolist(), c2.dec.deg.tolist())).fetchall()
    got = np.array([r[0] for r in rows])
    expected = c1.separation(c2).deg
    assert np.abs(got - expected).max() * 3.6e6 < 1e-5  # well under a microarcsecond
