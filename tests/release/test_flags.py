"""The user-callable flag functions of sql/flags.sql against independent oracles."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord


def _one(url: str, query: str, params: tuple = ()) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


@pytest.mark.parametrize(
    ("rd", "m", "snr", "cmsig", "psfchi", "ndet", "letter"),
    [
        ("9", None, 20.0, None, 1.0, "66", "X"),
        ("0", 17.0, 3.0, None, None, "00", "U"),
        ("6", 15.0, 30.0, None, 1.0, "00", "U"),
        ("1", 8.0, 200.0, 9.99, None, "66", "F"),
        ("3", 4.0, 200.0, None, None, "66", "F"),
        ("2", 12.0, 50.0, 0.02, 12.0, "66", "E"),
        ("4", 12.0, 50.0, 0.02, None, "66", "E"),
        ("2", 12.0, 50.0, 0.02, 1.0, "16", "E"),   # bright (J < 14.5), 1 of 6 frames
        ("2", 14.4, 50.0, 0.02, 1.0, "25", "E"),   # 2/5 = 0.40 < 0.41
        ("2", 14.4, 50.0, 0.02, 1.0, "36", "A"),   # 3/6 = 0.5
        ("2", 14.4, 50.0, 0.02, 1.0, "12", "E"),   # 2 frames: both needed
        ("2", 14.4, 50.0, 0.02, 1.0, "22", "A"),
        ("2", 14.4, 50.0, 0.02, 1.0, "11", "E"),   # 1 frame: cannot be confirmed
        ("2", 14.6, 50.0, 0.02, 1.0, "06", "A"),   # S/N 50 but faint: not tested
        ("1", 8.0, 200.0, 0.02, None, "16", "E"),
        ("2", 16.0, 20.0, 0.05, 1.0, "66", "A"),
        ("1", 8.0, 200.0, 0.02, None, "66", "A"),
        ("2", 16.0, 20.0, 0.12, 1.0, "66", "B"),   # A needs snr AND cmsig
        ("2", 16.5, 8.0, 0.12, 1.0, "46", "B"),
        ("2", 17.0, 6.0, 0.18, 1.0, "26", "C"),
        ("2", 17.5, 3.0, 0.40, 1.0, "16", "D"),
        ("3", 4.0, 4.0, 0.50, None, "06", "D"),
    ],
)
def test_ph_qual_band_letters(db_url: str, rd: str, m: float | None, snr: float,
                              cmsig: float | None, psfchi: float | None, ndet: str,
                              letter: str) -> None:
    got = _one(db_url, "SELECT tmass_ph_qual_band(%s, %s::real, %s::real, %s::real, %s::real, "
                       "%s, 14.5)", (rd, m, snr, cmsig, psfchi, ndet))
    assert got == letter


def test_ph_qual_band_takes_the_spec_thresholds(db_url: str) -> None:
    call = ("SELECT tmass_ph_qual_band('2', 12, 50, 0.02, %s::real, %s, %s::real, %s::real, "
            "%s::real, %s::int)")
    assert _one(db_url, call, (12.0, "66", 14.5, 10.0, 0.41, 3)) == "E"
    assert _one(db_url, call, (12.0, "66", 14.5, 15.0, 0.41, 3)) == "A"   # psfchi_max
    assert _one(db_url, call, (1.0, "16", 11.0, 10.0, 0.41, 3)) == "A"    # bright limit
    assert _one(db_url, call, (1.0, "36", 14.5, 10.0, 0.6, 3)) == "E"     # min ratio
    assert _one(db_url, call, (1.0, "23", 14.5, 10.0, 0.41, 4)) == "E"    # min frames


#: (rd_flg, J/H/Ks magnitudes, ndet, passes catalog rule 7)
NDET_SOURCES = [
    ("222", (12.0, 11.5, 11.4), "161616", False),   # bright transient
    ("222", (14.0, 13.6, 13.6), "161616", True),    # its Ks is faint: not tested
    ("220", (12.0, 11.5, 16.0), "161600", False),
    ("122", (8.0, 11.5, 11.4), "661616", True),     # saturated band
    ("402", (11.9, 16.0, 13.1), "560025", True),    # rd 4 band passes (a real row)
    ("202", (11.9, 16.0, 13.1), "160025", False),
    ("092", (None, 12.0, 13.1), "006625", False),   # rd 9 does not count
]


def test_ndet_source_rule(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        got = [conn.execute("SELECT tmass_ndet_source_ok(%s, %s::real, %s::real, %s::real, %s)",
                            (rd_flg, *mags, ndet)).fetchone()[0]
               for rd_flg, mags, ndet, _ in NDET_SOURCES]
    assert got == [ok for *_, ok in NDET_SOURCES]


def test_ph_qual_concatenates_bands(db_url: str) -> None:
    got = _one(db_url, "SELECT tmass_ph_qual('290', 15, 20, 0.05, 1, NULL, 9, 0.3, 1, "
                       "17, 2, NULL, NULL, '666600')")
    assert got == "AXU"


def test_msigcom_formula(db_url: str) -> None:
    zp = {"j": 0.0106, "h": 0.0069, "k": 0.0069}
    for band, z in zp.items():
        assert _one(db_url, "SELECT tmass_msigcom(0.03, '2', %s)", (band,)) == pytest.approx(
            math.sqrt(0.03**2 + z**2 + 0.005**2), rel=1e-6)
        assert _one(db_url, "SELECT tmass_msigcom(0.03, '1', %s)", (band,)) == pytest.approx(
            math.sqrt(0.03**2 + z**2 + 0.005**2 + 0.012**2), rel=1e-6)
    assert _one(db_url, "SELECT tmass_msigcom(0.03, '0', 'j')") is None
    assert _one(db_url, "SELECT tmass_msigcom(9.99, '3', 'k')") == pytest.approx(9.99)


def _designation(ra: float, dec: float) -> str:
    """Oracle: IAU truncation of the float's 15-significant-digit decimal value."""
    r = int((Decimal(f"{ra:.15g}") * 24000).to_integral_value(rounding="ROUND_FLOOR")) % 8640000
    d = int((abs(Decimal(f"{dec:.15g}")) * 36000).to_integral_value(rounding="ROUND_FLOOR"))
    sign = "-" if dec < 0 else "+"
    return (f"{r // 360000:02d}{r // 6000 % 60:02d}{r % 6000:04d}"
            f"{sign}{d // 36000:02d}{d // 600 % 60:02d}{d % 600:03d}")


def test_designation_truncates(db_url: str) -> None:
    rng = np.random.default_rng(6)
    ra = rng.uniform(0, 360, 500)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    # Exact unit boundaries (RA k / 24000 deg, Dec k / 36000 deg) and their float
    # neighbours: there the float product and the decimal value truncate differently.
    edges = [(float(r) / 24000, float(d) / 36000)
             for r, d in zip(rng.integers(1, 8640000, 40), rng.integers(-3240000, 3240000, 40),
                             strict=True)]
    edges += [(float(np.nextafter(r, side)), float(np.nextafter(d, side)))
              for r, d in edges for side in (-1e9, 1e9)]
    cases = [(15.0, -0.5), ((1 + 59.999 / 3600) * 15, 0.0), (359.9999999, 89.99999),
             (0.0, -0.00001), (83.633083, 22.014500)] + list(zip(ra, dec, strict=True)) + edges
    with psycopg.connect(db_url) as conn:
        for r, d in cases:
            got = conn.execute("SELECT tmass_designation(%s, %s)", (float(r), float(d))
                               ).fetchone()[0]
            assert got == _designation(float(r), float(d)), (r, d)
            assert len(got) == 16
    assert _designation(15.0, -0.5) == "01000000-0030000"
    assert _designation((1 + 59.999 / 3600) * 15, 0.0) == "01005999+0000000"


def test_galactic_matches_astropy(db_url: str) -> None:
    rng = np.random.default_rng(7)
    ra = rng.uniform(0, 360, 300)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 300)))
    gal = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs").galactic
    with psycopg.connect(db_url) as conn:
        got = np.array([conn.execute("SELECT glon, glat FROM tmass_galactic(%s, %s)",
                                     (float(r), float(d))).fetchone()
                        for r, d in zip(ra, dec, strict=True)])
    dlon = (got[:, 0] - gal.l.deg + 180) % 360 - 180
    assert np.max(np.abs(dlon * np.cos(np.radians(gal.b.deg)))) < 1e-8
    assert np.max(np.abs(got[:, 1] - gal.b.deg)) < 1e-8


def test_position_angle_east_of_north(db_url: str) -> None:
    rng = np.random.default_rng(8)
    with psycopg.connect(db_url) as conn:
        for _ in range(100):
            r1, d1 = rng.uniform(0, 360), rng.uniform(-80, 80)
            r2, d2 = r1 + rng.normal(0, 0.01), d1 + rng.normal(0, 0.01)
            expected = SkyCoord(r1 * u.deg, d1 * u.deg).position_angle(
                SkyCoord(r2 * u.deg, d2 * u.deg)).deg
            got = conn.execute("SELECT tmass_position_angle(%s, %s, %s, %s)",
                               (r1, d1, r2, d2)).fetchone()[0]
            assert abs((got - expected + 180) % 360 - 180) < 1e-6


def test_edge_distance_of_a_rectangle(db_url: str) -> None:
    # Scan 8.5' wide centred on RA 10, 1 deg long: corners east/west at start/end.
    w = 8.5 / 60 / 2
    corners = (10 + w, -0.5, 10 - w, -0.5, 10 + w, 0.5, 10 - w, 0.5)
    with psycopg.connect(db_url) as conn:
        ns, ew = conn.execute("SELECT * FROM tmass_edge_distance(%s, %s, %s, %s, %s, %s, %s, "
                              "%s, %s, %s)", (10 + w - 20 / 3600, 0.4, *corners)).fetchone()
        outside = conn.execute("SELECT dist_ew FROM tmass_edge_distance(%s, %s, %s, %s, %s, "
                               "%s, %s, %s, %s, %s)", (10 + w + 5 / 3600, 0.0, *corners)
                               ).fetchone()[0]
    assert ew == pytest.approx(20.0, abs=0.01)
    assert ns == pytest.approx(360.0, abs=0.01)
    assert outside == pytest.approx(-5.0, abs=0.01)


def test_every_flag_function_is_documented_and_inlinable_where_used_per_row(db_url: str) -> None:
    """Every tmass_* function carries a comment; the per-row ones a release evaluates
    for every catalog row are plain SQL, not STRICT, so that the planner inlines them."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT p.proname, obj_description(p.oid, 'pg_proc'), l.lanname, p.proisstrict "
            "FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang "
            "WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'tmass\\_%'"
        ).fetchall()
    assert {name for name, *_ in rows} >= {"tmass_ph_qual", "tmass_ph_qual_band",
                                           "tmass_ph_qual_grade", "tmass_designation",
                                           "tmass_position_angle", "tmass_glon"}
    assert [name for name, comment, *_ in rows if not comment] == []
    per_row = {"tmass_ph_qual", "tmass_ph_qual_band", "tmass_ph_qual_grade",
               "tmass_ndet_ok", "tmass_ndet_source_ok",
               "tmass_position_angle", "tmass_glon", "tmass_glat"}
    assert {(name, language, strict) for name, _, language, strict in rows
            if name in per_row} == {(name, "sql", False) for name in per_row}


@pytest.mark.parametrize("call", [
    "tmass_ph_qual(t.rd, t.c, t.s, t.c, t.c, t.c, t.s, t.c, t.c, t.c, t.s, t.c, t.c, t.n)",
    "tmass_ndet_source_ok(t.rd, t.c, t.c, t.c, t.n)",
    "tmass_position_angle(t.s::float8, t.c::float8, t.c::float8, t.s::float8)",
])
def test_per_row_flag_functions_are_inlined(db_url: str, call: str) -> None:
    with psycopg.connect(db_url) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN VERBOSE SELECT {call} FROM (SELECT '222'::char(3) AS rd, "
            "10::real AS s, 0.1::real AS c, '666666'::char(6) AS n "
            "FROM generate_series(1, 10)) AS t").fetchall())
    assert "tmass_" not in plan
