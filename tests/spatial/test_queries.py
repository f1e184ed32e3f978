"""hpx_radial_query, hpx_ellipse_query and hpx_poly_query against brute force.

One table holds a uniform sky plus dense clusters (so arcsecond cones find rows) at
random places, at both poles and across RA 0/360, with exact duplicate positions.
Every search is compared with astropy separations over the whole table: a row the
search misses or adds fails the test (rows within 1e-9 arcsec of the edge, where
rounding decides, may go either way).
"""

from __future__ import annotations

import healpy as hp
import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import healpix

from .conftest import load_points, offsets, random_sky

EDGE_ARCSEC = 1e-9

CLUSTER_CENTRES = [(0.0, 0.0), (359.9999, 12.0), (0.00005, -33.0), (0.0, 90.0),
                   (123.0, -90.0), (45.0, 89.9995), (210.0, -89.999), (150.0, 2.2),
                   (300.0, 41.8103149), (77.0, -60.0)]


@pytest.fixture(scope="module")
def sky(spatial_url: str) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    ras, decs = [], []
    ra, dec = random_sky(rng, 120_000)
    ras.append(ra)
    decs.append(dec)
    for ra0, dec0 in CLUSTER_CENTRES:
        sep = np.abs(rng.normal(0, 20 / 3600, 3000)) + rng.uniform(0, 1 / 3600, 3000)
        cra, cdec = offsets(ra0, dec0, sep, rng.uniform(0, 360, 3000))
        ras.append(cra)
        decs.append(cdec)
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    dup = rng.choice(ra.size, 2000, replace=False)  # exact duplicates, some tripled
    ra = np.concatenate([ra, ra[dup], ra[dup[:500]]])
    dec = np.concatenate([dec, dec[dup], dec[dup[:500]]])
    ra[:5], dec[:5] = [0.0, 360.0, 0.0, 17.0, 180.0], [90.0, 90.0, -90.0, -90.0, 0.0]
    with psycopg.connect(spatial_url) as conn:
        load_points(conn, "sky", ra, dec)
    return spatial_url, ra, dec


def check(got: set[int], inside: np.ndarray, maybe: np.ndarray) -> None:
    must = set(np.nonzero(inside)[0].tolist())
    may = set(np.nonzero(maybe)[0].tolist())
    assert not must - got, f"missed rows {sorted(must - got)[:10]}"
    assert not got - may, f"extra rows {sorted(got - may)[:10]}"


def ids(conn: psycopg.Connection, where: str, params: tuple) -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT id FROM sky WHERE {where}", params)}


def cones() -> list[tuple[float, float, float]]:
    rng = np.random.default_rng(12)
    out = []
    for ra0, dec0 in CLUSTER_CENTRES:
        for r_arcsec in (1, 3, 10, 45, 200):
            out.append((ra0 + rng.normal(0, 2e-4), float(np.clip(dec0 + rng.normal(0, 2e-4),
                                                                  -90, 90)), r_arcsec / 3600))
    ra, dec = random_sky(rng, 60)
    radii = 10 ** rng.uniform(np.log10(1 / 3600), 1, 60)
    out += list(zip(ra.tolist(), dec.tolist(), radii.tolist(), strict=True))
    out += [(0.0, 90.0, 10.0), (0.0, -90.0, 3.0), (359.5, 0.0, 1.0), (0.2, -45.0, 0.5),
            (-45.0, 10.0, 1.0), (400.0, 20.0, 0.3), (0.0, 0.0, 0.0), (10.0, 20.0, 4.8),
            (10.0, 20.0, 5.0), (10.0, 20.0, 90.0), (300.0, -10.0, 180.0)]
    return out


def test_cones_equal_brute_force(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, ra, dec = sky
    rows = SkyCoord(ra * u.deg, dec * u.deg)
    with psycopg.connect(url) as conn:
        for ra0, dec0, r in cones():
            got = ids(conn, "hpx_radial_query(hpx, ra, dec, %s, %s, %s)", (ra0, dec0, r))
            sep = rows.separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).to_value(u.arcsec)
            check(got, sep < r * 3600 - EDGE_ARCSEC, sep < r * 3600 + EDGE_ARCSEC)


def test_cone_ranges_joined_equal_brute_force(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    """The cone as a join with hpx_cone_ranges (the cone functions' form) finds the rows
    hpx_radial_query finds; its ranges are sorted and disjoint, so no row comes twice."""
    url, ra, dec = sky
    rows = SkyCoord(ra * u.deg, dec * u.deg)
    join = ("SELECT t.id FROM hpx_cone_ranges(%(ra)s, %(dec)s, %(r)s) AS c "
            "JOIN sky AS t ON _hpx_in_range(t.hpx, c.lo, c.hi) "
            "WHERE _hpx_sindist(t.ra, t.dec, %(ra)s, %(dec)s) < power(sin(radians(%(r)s) / 2), 2)")
    with psycopg.connect(url) as conn:
        for ra0, dec0, r in cones():
            disc = {"ra": ra0, "dec": dec0, "r": r}
            got = [row[0] for row in conn.execute(join, disc)]
            assert len(got) == len(set(got))
            sep = rows.separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).to_value(u.arcsec)
            check(set(got), sep < r * 3600 - EDGE_ARCSEC, sep < r * 3600 + EDGE_ARCSEC)
            bounds = np.array(conn.execute("SELECT lo, hi FROM hpx_cone_ranges("
                                           "%(ra)s, %(dec)s, %(r)s)", disc).fetchall()).ravel()
            lo, hi = bounds[0::2], bounds[1::2]
            assert lo.size and np.all(lo <= hi) and np.all(lo[1:] > hi[:-1]), (ra0, dec0, r)


def test_whole_ranges_hold_only_rows_inside_the_disc(
        sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    """Rows in a range marked whole pass the exact test without being tested: every one
    must lie inside the disc by astropy's separation, and the whole ranges must hold rows
    (so that this can fail)."""
    url, ra, dec = sky
    rows = SkyCoord(ra * u.deg, dec * u.deg)
    hpx = healpix.ang2hpx(ra, dec)
    in_whole = 0
    with psycopg.connect(url) as conn:
        for ra0, dec0, r in cones():
            ranges = conn.execute("SELECT lo, hi FROM hpx_cone_ranges(%s, %s, %s) WHERE whole",
                                  (ra0, dec0, r)).fetchall()
            if not ranges:
                continue
            sep = rows.separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).to_value(u.arcsec)
            lo, hi = np.array(ranges).T
            i = np.searchsorted(lo, hpx, side="right") - 1
            whole = (i >= 0) & (hpx <= hi[np.clip(i, 0, None)])
            assert np.all(sep[whole] < r * 3600 - EDGE_ARCSEC), (ra0, dec0, r)
            in_whole += int(whole.sum())
    assert in_whole > 10_000


def test_duplicates_and_poles_are_found(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, ra, dec = sky
    with psycopg.connect(url) as conn:
        north = ids(conn, "hpx_radial_query(hpx, ra, dec, 0, 90, 1e-6)", ())
        south = ids(conn, "hpx_radial_query(hpx, ra, dec, 250, -90, 1e-6)", ())
        i = 120_000 + 10 * 3000 + 7  # a duplicated row, by construction of the fixture
        same = np.nonzero((ra == ra[i]) & (dec == dec[i]))[0]
        got = ids(conn, "hpx_radial_query(hpx, ra, dec, %s, %s, 1e-9)",
                  (float(ra[i]), float(dec[i])))
    assert {0, 1} <= north and {2, 3} <= south
    assert set(same.tolist()) <= got


def ellipse_inside(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float, a: float,
                   ratio: float, pa: float) -> tuple[np.ndarray, np.ndarray]:
    """(surely inside, maybe inside) of the tangent-plane ellipse, from astropy offsets."""
    centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
    rows = SkyCoord(ra * u.deg, dec * u.deg)
    sep = centre.separation(rows).rad
    ang = centre.position_angle(rows).rad - np.radians(pa)
    rho = np.tan(np.minimum(sep, np.pi / 2 - 1e-9))  # gnomonic radius
    x, y = rho * np.cos(ang), rho * np.sin(ang)
    q = (x / np.tan(np.radians(a))) ** 2 + (y / np.tan(np.radians(a * ratio))) ** 2
    front = sep < np.pi / 2
    return front & (q < 1 - 1e-9), front & (q < 1 + 1e-9)


def test_ellipses_equal_brute_force(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, ra, dec = sky
    rng = np.random.default_rng(13)
    shapes = [(c[0], c[1], 60 / 3600, 0.3, 30.0) for c in CLUSTER_CENTRES]
    for ra0, dec0, a in zip(*random_sky(rng, 25), 10 ** rng.uniform(-3, 1, 25), strict=True):
        shapes.append((ra0, dec0, a, rng.uniform(0.05, 1), rng.uniform(-180, 360)))
    shapes.append((0.0, 90.0, 5.0, 0.5, 0.0))
    with psycopg.connect(url) as conn:
        for shape in shapes:
            got = ids(conn, "hpx_ellipse_query(hpx, ra, dec, %s, %s, %s, %s, %s)", shape)
            check(got, *ellipse_inside(ra, dec, *shape))


def test_circular_ellipse_is_the_cone(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, _, _ = sky
    with psycopg.connect(url) as conn:
        a = ids(conn, "hpx_ellipse_query(hpx, ra, dec, 150, 2.2, 0.01, 1, 77)", ())
        b = ids(conn, "hpx_radial_query(hpx, ra, dec, 150, 2.2, 0.01)", ())
    assert a == b and len(a) > 100


def polygon_inside(ra: np.ndarray, dec: np.ndarray, poly: list[float]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Even-odd test on the gnomonic projection about the vertices' mean direction."""
    vra, vdec = np.radians(poly[0::2]), np.radians(poly[1::2])
    vx = np.cos(vdec) * np.cos(vra)
    vy = np.cos(vdec) * np.sin(vra)
    vz = np.sin(vdec)
    c = np.array([vx.sum(), vy.sum(), vz.sum()])
    c /= np.linalg.norm(c)
    east = np.cross([0.0, 0.0, 1.0], c)
    east = east / np.linalg.norm(east) if np.linalg.norm(east) > 1e-12 else np.array([0, 1.0, 0])
    north = np.cross(c, east)

    def project(r: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=-1)
        w = p @ c
        return p @ east / w, p @ north / w, w

    px, py, w = project(np.radians(ra), np.radians(dec))
    xs, ys, _ = project(vra, vdec)
    inside = np.zeros(ra.size, dtype=bool)
    near = np.zeros(ra.size, dtype=bool)
    j = len(xs) - 1
    for i in range(len(xs)):
        cross = (ys[i] > py) != (ys[j] > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i]
        inside ^= cross & (px < xint)
        near |= cross & (np.abs(px - xint) < 1e-9)
        j = i
    inside &= w > 0
    return inside & ~near, inside | near


def test_polygons_equal_brute_force(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, ra, dec = sky
    rng = np.random.default_rng(14)
    polys = [[359.9, 11.9, 0.1, 11.9, 0.1, 12.1, 359.9, 12.1],         # across RA 0
             [0, 89.9, 120, 89.9, 240, 89.9],                          # around the north pole
             [10, -89.5, 100, -89.5, 190, -89.5, 280, -89.5],          # around the south pole
             [150 - 0.01, 2.19, 150.01, 2.19, 150.0, 2.21, 150.0, 2.2]]  # concave
    for ra0, dec0 in zip(*random_sky(rng, 20), strict=True):
        n = int(rng.integers(3, 9))
        size = 10 ** rng.uniform(-3, 1)
        angles = np.sort(rng.uniform(0, 360, n))
        vra, vdec = offsets(ra0, dec0, size * rng.uniform(0.3, 1, n), angles)
        polys.append([float(v) for pair in zip(vra, vdec, strict=True) for v in pair])
    with psycopg.connect(url) as conn:
        for poly in polys:
            got = ids(conn, "hpx_poly_query(hpx, ra, dec, %s)", ([float(v) for v in poly],))
            check(got, *polygon_inside(ra, dec, poly))


@pytest.mark.parametrize(("where", "message"), [
    ("hpx_radial_query(hpx, ra, dec, 10, 20, -1)",
     "radius must be a finite number >= 0 degrees, got -1"),
    ("hpx_radial_query(hpx, ra, dec, 10, 20, 'Infinity')",
     "radius must be a finite number >= 0 degrees, got Infinity"),
    ("hpx_radial_query(hpx, ra, dec, 10, 91, 1)", "dec must be in [-90, 90] degrees, got 91"),
    ("hpx_radial_query(hpx, ra, dec, 'NaN', 1, 1)", "ra must be a finite number of degrees"),
    ("hpx_ellipse_query(hpx, ra, dec, 10, 20, 1, 0, 0)", "axis ratio must be in (0, 1], got 0"),
    ("hpx_ellipse_query(hpx, ra, dec, 10, 20, 1, 1.5, 0)", "axis ratio must be in (0, 1]"),
    ("hpx_ellipse_query(hpx, ra, dec, 10, 20, -1, 0.5, 0)", "radius must be a finite number"),
    ("hpx_ellipse_query(hpx, ra, dec, 10, 20, 95, 0.5, 0)", "semi-major axis must be < 90"),
    ("hpx_poly_query(hpx, ra, dec, ARRAY[1, 2, 3, 4])",
     "polygon must have at least 3 vertices, got 2"),
    ("hpx_poly_query(hpx, ra, dec, ARRAY[1, 2, 3, 4, 5])", "polygon must be a flat array"),
    ("hpx_poly_query(hpx, ra, dec, ARRAY[1, 2, 3, 4, 5, 99])", "polygon vertex 3 (5, 99)"),
    ("hpx_poly_query(hpx, ra, dec, ARRAY[0, 0, 120, 0, 240, 0])",
     "polygon must fit in a hemisphere"),
])
def test_impossible_arguments_raise_clear_errors(sky: tuple[str, np.ndarray, np.ndarray],
                                                 where: str, message: str) -> None:
    url, _, _ = sky
    with psycopg.connect(url) as conn, pytest.raises(
            psycopg.errors.InvalidParameterValue) as info:
        conn.execute(f"SELECT count(*) FROM sky WHERE {where}")
    assert message in str(info.value)


def plan(conn: psycopg.Connection, query: str) -> str:
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + query))


def test_cone_plan_uses_the_hpx_index(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, _, _ = sky
    with psycopg.connect(url) as conn:
        for shape in ("hpx_radial_query(hpx, ra, dec, 150, 2.2, 0.001)",
                      "hpx_ellipse_query(hpx, ra, dec, 150, 2.2, 0.001, 0.5, 10)",
                      "hpx_poly_query(hpx, ra, dec, '{150, 2.2, 150.001, 2.2, 150, 2.201}')"):
            text = plan(conn, f"SELECT * FROM sky WHERE {shape}")
            assert "sky_hpx_idx" in text and "Seq Scan" not in text, text


@pytest.mark.parametrize("radius_arcsec", [2.0, 180.0])
def test_join_probes_the_inner_hpx_index(sky: tuple[str, np.ndarray, np.ndarray],
                                         radius_arcsec: float) -> None:
    """Below 0.03 deg the near cover alone; above, the near cover drives the probe and the
    fine cover is a filter on the matches: both joins use the inner index and equal brute
    force."""
    url, ra, dec = sky
    rng = np.random.default_rng(15)
    # Centres 0.5" from existing rows, so every centre has neighbours within the radius:
    # in the clusters at 2", in the uniform sky at 180" (the fine cover is computed once
    # per matching pair, which a cluster would make thousands per centre).
    near = np.arange(120_000, ra.size) if radius_arcsec < 108 else np.arange(120_000)
    pick = rng.choice(near, 400, replace=False)
    cra, cdec = zip(*[offsets(float(ra[i]), float(dec[i]), np.array([0.5 / 3600]),
                              np.array([rng.uniform(0, 360)])) for i in pick], strict=True)
    cra, cdec = np.concatenate(cra), np.concatenate(cdec)
    query = ("SELECT c.id, s.id FROM centres c JOIN sky s "
             f"ON hpx_radial_query(s.hpx, s.ra, s.dec, c.ra, c.dec, {radius_arcsec} / 3600)")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS centres")
        load_points(conn, "centres", cra, cdec)
        # Default planner settings: the inner table's hpx index, never a scan of it.
        conn.execute("ANALYZE centres")
        text = plan(conn, query)
        pairs = set(conn.execute(query).fetchall())
    assert "Nested Loop" in text and "sky_hpx_idx" in text, text
    assert "Seq Scan on sky" not in text, text
    rows = SkyCoord(ra * u.deg, dec * u.deg)
    expected, maybe = set(), set()
    for k in range(cra.size):
        sep = rows.separation(SkyCoord(cra[k] * u.deg, cdec[k] * u.deg)).to_value(u.arcsec)
        expected |= {(k, int(j)) for j in np.nonzero(sep < radius_arcsec - EDGE_ARCSEC)[0]}
        maybe |= {(k, int(j)) for j in np.nonzero(sep < radius_arcsec + EDGE_ARCSEC)[0]}
    assert expected <= pairs <= maybe and len(expected) >= 400


def test_pixel_steps_equal_healpy_neighbours(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    url, _, _ = sky
    steps = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]  # healpy order
    rng = np.random.default_rng(16)
    with psycopg.connect(url) as conn:
        for k in (0, 1, 2, 6, 13):
            nside = 2**k
            pix = np.arange(12 * nside**2) if k <= 2 else rng.choice(12 * nside**2, 300)
            ix, iy, face = hp.pix2xyf(nside, pix, nest=True)
            expected = hp.get_all_neighbours(nside, pix, nest=True)
            for i, (dx, dy) in enumerate(steps):
                got = conn.execute(
                    "SELECT array_agg(_hpx_xyf_step(f, x, y, %s, %s, %s) ORDER BY n) "
                    "FROM unnest(%s::int[], %s::bigint[], %s::bigint[]) "
                    "WITH ORDINALITY AS t(f, x, y, n)",
                    (dx, dy, k, face.tolist(), ix.tolist(), iy.tolist())).fetchone()[0]
                assert got == expected[i].tolist(), (k, dx, dy)


# The four near ranges as hpx_radial_query computes them: slot 0 inline, slots 1..3 by
# _hpx_near_bound behind its gate.
NEAR_RANGES = (
    "SELECT ARRAY[_hpx_near_bound0(%(ra)s, %(dec)s, %(r)s, false), "
    "             _hpx_near_bound0(%(ra)s, %(dec)s, %(r)s, true)] "
    "       || array_agg(_hpx_near_bound(%(ra)s, %(dec)s, %(r)s, s, u) ORDER BY s, u) "
    "FROM generate_series(1, 3) AS s, (VALUES (false), (true)) AS v(u)")


def test_near_gate_opens_every_needed_slot(sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    """The gate of _hpx_near_bound never closes a neighbour slot _hpx_near_pixel fills,
    and the inline slot-0 bounds equal _hpx_near_bound's, on random centres, near the poles and
    around the equatorial/polar zone boundary."""
    url, _, _ = sky
    rng = np.random.default_rng(18)
    ra, dec = random_sky(rng, 3000)
    zone = np.degrees(np.arcsin(2 / 3))
    ra = np.concatenate([ra, rng.uniform(-360, 720, 1500), rng.uniform(0, 360, 1500)])
    dec = np.concatenate([dec, rng.choice([-1, 1], 1500) * (90 - rng.exponential(0.05, 1500)),
                          rng.choice([-1, 1], 1500) * (zone + rng.normal(0, 0.01, 1500))])
    dec = np.clip(dec, -90, 90)
    with psycopg.connect(url) as conn:
        for r_arcsec in (0.3, 2.0, 10.0, 60.0, 108.0):
            bad = conn.execute(
                "SELECT count(*) FILTER (WHERE NOT _hpx_near_gate(a, d, %(r)s, k, s) "
                "                        AND _hpx_near_pixel(a, d, %(r)s, k, s) >= 0), "
                "       count(*) FILTER (WHERE s = 1 AND (_hpx_near_bound0(a, d, %(r)s, u) "
                "                        <> _hpx_near_bound(a, d, %(r)s, 0, u))), "
                "       count(*) FILTER (WHERE _hpx_near_pixel(a, d, %(r)s, k, s) >= 0) "
                "FROM unnest(%(ra)s::float8[], %(dec)s::float8[]) AS c(a, d), "
                "     _hpx_near_order(%(r)s) AS k, "
                "     generate_series(1, 3) AS s, (VALUES (false), (true)) AS v(u)",
                {"r": r_arcsec / 3600, "ra": ra.tolist(), "dec": dec.tolist()}).fetchone()
            assert bad[:2] == (0, 0) and bad[2] > 0, (r_arcsec, bad)


def test_near_cover_holds_every_point_of_discs_at_pixel_corners(
        sky: tuple[str, np.ndarray, np.ndarray]) -> None:
    """Discs centred on and around HEALPix pixel corners (where up to four pixels meet,
    three at face corners), at the poles and across RA 0: every point within the radius
    lies in one of the four near ranges, computed as hpx_radial_query does."""
    url, _, _ = sky
    rng = np.random.default_rng(17)
    with psycopg.connect(url) as conn:
        for r_arcsec in (0.5, 2.0, 30.0, 100.0):
            r = r_arcsec / 3600
            k = conn.execute("SELECT _hpx_near_order(%s)", (r,)).fetchone()[0]
            nside = 2**k
            corners = hp.boundaries(nside, rng.choice(12 * nside**2, 30), step=1, nest=True)
            cra, cdec = hp.vec2ang(np.moveaxis(corners, 1, 2).reshape(-1, 3), lonlat=True)
            face_corners = [(45.0 + 90 * j, np.degrees(np.arcsin(2 / 3)) * sgn)
                            for j in range(4) for sgn in (1, -1)] + [(0.0, 90.0), (0.0, -90.0)]
            centres = list(zip(cra.tolist(), cdec.tolist(), strict=True)) + face_corners
            centres += [(0.0, float(d)) for d in rng.uniform(-89, 89, 5)]
            for ra0, dec0 in centres:
                jitter = rng.normal(0, r, 2)
                ra0, dec0 = ra0 + jitter[0], float(np.clip(dec0 + jitter[1], -90, 90))
                bounds = conn.execute(NEAR_RANGES, {"ra": ra0, "dec": dec0, "r": r}).fetchone()[0]
                pra, pdec = offsets(ra0, dec0, r * np.sqrt(rng.uniform(0, 1, 400)),
                                    rng.uniform(0, 360, 400))
                pra = np.concatenate([pra, offsets(ra0, dec0, np.full(90, r * (1 - 1e-9)),
                                                   np.arange(0, 360, 4.0))[0]])
                pdec = np.concatenate([pdec, offsets(ra0, dec0, np.full(90, r * (1 - 1e-9)),
                                                     np.arange(0, 360, 4.0))[1]])
                hpx = healpix.ang2hpx(pra, pdec)
                inside = np.zeros(hpx.size, dtype=bool)
                for lo, hi in zip(bounds[0::2], bounds[1::2], strict=True):
                    if lo is not None:  # NULL: an empty slot
                        inside |= (hpx >= lo) & (hpx <= hi)
                assert inside.all(), (ra0, dec0, r_arcsec, bounds)
