"""Q3C's own cone regression counts, on its regenerated 1,000,000-row test table.

Also Q3C's five joins (its second table test1 against test), by hpx_xmatch.

The 401 cones of radius <= 0.8 deg and the four 0.2 / 3.2 deg cones with a point
exactly on the circle (where only the floating-point test decides) run here; the full
745-cone list, with the 6.4 to 90 deg cones that scan most of the table, runs in
``benchmarks/bench_cone.py --q3c-regression``.
"""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from .conftest import load_points
from .q3c_data import cones, gen_data

TIES = {(115.55, 31.47, 0.2), (238.78, 23.05, 3.2), (305.05, -40.98, 3.2), (202.79, -56.83, 3.2)}


@pytest.fixture(scope="module")
def q3c_table(spatial_url: str) -> str:
    ra, dec = gen_data(1, 1_000_000)
    assert ((dec > 0).sum(), (dec < 0).sum()) == (500_081, 499_827)  # the README's check
    with psycopg.connect(spatial_url) as conn:
        load_points(conn, "test", ra, dec)
    return spatial_url


#: The cone functions' statement (sql/cone.sql): the cover's rows joined with the hpx
#: index, the exact test's sines computed once per row, rows of whole ranges untested.
CONE_JOIN = """
    SELECT count(*) FROM (
        SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                    + u.sin_ddec * u.sin_ddec AS hav
        FROM (SELECT t.*, c.whole AS in_whole,
                     sin((t.ra - %(ra)s) / 2 * 0.017453292519943295::float8) AS sin_dra,
                     cos((t.dec + %(dec)s) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                     sin((t.dec - %(dec)s) / 2 * 0.017453292519943295::float8) AS sin_ddec
              FROM hpx_cone_ranges(%(ra)s, %(dec)s, %(r)s) AS c
              JOIN test AS t ON _hpx_in_range(t.hpx, c.lo, c.hi) OFFSET 0) AS u OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < power(sin(radians(%(r)s) / 2), 2)"""


def test_cone_counts_equal_q3c(q3c_table: str) -> None:
    """Both forms of the cone: the hpx_radial_query predicate and the cone functions' join."""
    chosen = [c for c in cones() if c[2] <= 0.8 or c[:3] in TIES]
    assert len(chosen) >= 400
    predicate = ("SELECT count(*) FROM test "
                 "WHERE hpx_radial_query(hpx, ra, dec, %(ra)s, %(dec)s, %(r)s)")
    wrong = []
    with psycopg.connect(q3c_table) as conn:
        for ra0, dec0, radius, expected in chosen:
            disc = {"ra": ra0, "dec": dec0, "r": radius}
            got = [conn.execute(q, disc).fetchone()[0] for q in (predicate, CONE_JOIN)]
            if got != [expected, expected]:
                wrong.append((ra0, dec0, radius, got, expected))
    assert not wrong and np.isfinite(len(chosen))


# Q3C's join regression (sql/join.sql, expected/join.expected at the same tag): table
# test1 = gen_data 2 1000000 against test, at these radii [deg], and the counts.
JOINS = ((0.002, 1343), (0.004, 1462), (0.0100115, 9233), (0.0200015, 29516), (0.042, 137000))


def test_join_counts_equal_q3c(q3c_table: str) -> None:
    ra, dec = gen_data(2, 1_000_000)
    with psycopg.connect(q3c_table) as conn:
        load_points(conn, "test1", ra, dec)
        got = [conn.execute("SELECT count(*) FROM hpx_xmatch('test1', 'test', %s)",
                            (radius,)).fetchone()[0] for radius, _ in JOINS]
    assert got == [count for _, count in JOINS]
