"""hpx_xmatch and hpx_xmatch_nearest against brute force: every pair within the radius,
including exact duplicates, pairs across RA 0/360 and around the poles, on both the hash
(sky cells) and the index-probe path."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from .conftest import load_points, offsets, random_sky

RADII_ARCSEC = (1.0, 2.0, 10.0, 60.0, 900.0)


def brute_force(conn: psycopg.Connection, a: str, b: str, radius_deg: float) -> set:
    """Pairs by the exact test alone, on every pair of rows (tiny tables only)."""
    return set(conn.execute(
        f"SELECT a.id, b.id FROM {a} a, {b} b "  # noqa: S608 (fixed test table names)
        "WHERE _hpx_sindist(a.ra, a.dec, b.ra, b.dec) < power(sin(radians(%s) / 2), 2)",
        (radius_deg,)).fetchall())


@pytest.fixture(scope="module")
def sky(spatial_url: str) -> str:
    """Clusters at RA 0/360, both poles and random places, with exact duplicates."""
    rng = np.random.default_rng(19)
    ra, dec = [], []
    for ra0, dec0 in [(0.0, 0.0), (359.9999, 30.0), (0.0001, -45.0), (10.0, 89.999),
                      (200.0, -89.9995), (0.0, 90.0), (123.0, 45.0)]:
        r, d = offsets(ra0, dec0, rng.uniform(0, 0.3, 400), rng.uniform(0, 360, 400))
        ra.append(r)
        dec.append(d)
    r, d = random_sky(rng, 2000)
    ra.append(r)
    dec.append(d)
    ra_all, dec_all = np.concatenate(ra), np.concatenate(dec)
    ra_all = np.concatenate([ra_all, ra_all[:50]])  # exact duplicates
    dec_all = np.concatenate([dec_all, dec_all[:50]])
    half = ra_all.size // 2
    with psycopg.connect(spatial_url) as conn:
        load_points(conn, "xa", ra_all[:half], dec_all[:half])
        load_points(conn, "xb", ra_all, dec_all)
        load_points(conn, "xs", ra_all[:40], dec_all[:40])  # small: the index path
    return spatial_url


@pytest.mark.parametrize("radius_arcsec", RADII_ARCSEC)
@pytest.mark.parametrize("tables", [("xa", "xb"), ("xb", "xa"), ("xb", "xb"), ("xs", "xb"),
                                    ("xb", "xs")])
def test_pairs_equal_brute_force(sky: str, radius_arcsec: float, tables: tuple[str, str]) -> None:
    a, b = tables
    with psycopg.connect(sky) as conn:
        got = conn.execute("SELECT id_a, id_b FROM hpx_xmatch(%s, %s, %s)",
                           (a, b, radius_arcsec / 3600)).fetchall()
        expected = brute_force(conn, a, b, radius_arcsec / 3600)
    assert len(got) == len(set(got)) and set(got) == expected


@pytest.mark.parametrize("tables", [("xa", "xb"), ("xb", "xa")])
def test_pairs_in_parallel_workers_equal_brute_force(sky: str, tables: tuple[str, str]) -> None:
    """With parallel plans made free, the statement runs in parallel workers even on these
    small tables (the scans and the expansion under a Gather): the same pairs."""
    a, b = tables
    with psycopg.connect(sky) as conn:
        for setting in ("parallel_setup_cost", "parallel_tuple_cost",
                        "min_parallel_table_scan_size"):
            conn.execute(f"SET {setting} = 0")
        got = conn.execute("SELECT id_a, id_b FROM hpx_xmatch(%s, %s, %s)",
                           (a, b, 10 / 3600)).fetchall()
        expected = brute_force(conn, a, b, 10 / 3600)
    assert len(got) == len(set(got)) and set(got) == expected


def test_nearest_equals_brute_force(sky: str) -> None:
    with psycopg.connect(sky) as conn:
        got = conn.execute("SELECT id_a, id_b FROM hpx_xmatch_nearest('xa', 'xb', %s, 3)",
                           (60 / 3600,)).fetchall()
        expected = conn.execute(
            "SELECT a.id, n.id FROM xa a CROSS JOIN LATERAL ("
            "  SELECT b.id FROM xb b WHERE _hpx_sindist(a.ra, a.dec, b.ra, b.dec)"
            "  < power(sin(radians(%s) / 2), 2)"
            "  ORDER BY hpx_dist(a.ra, a.dec, b.ra, b.dec), b.id LIMIT 3) n",
            (60 / 3600,)).fetchall()
    assert sorted(got) == sorted(expected)


def test_distances_and_errors(sky: str) -> None:
    with psycopg.connect(sky) as conn:
        worst = conn.execute(
            "SELECT max(abs(x.dist_arcsec - hpx_dist(a.ra, a.dec, b.ra, b.dec) * 3600)) "
            "FROM hpx_xmatch('xa', 'xb', 10 / 3600.) x "
            "JOIN xa a ON a.id = x.id_a JOIN xb b ON b.id = x.id_b").fetchone()[0]
        # 2 asin(sqrt(sin^2(d / 2))) from the exact test's term against hpx_dist's Vincenty
        # form: the same distance to rounding (1e-9 arcsec is 5e-15 rad).
        assert worst < 1e-9
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="radius_deg"):
            conn.execute("SELECT * FROM hpx_xmatch('xa', 'xb', -1)")
