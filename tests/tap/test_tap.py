"""TAP through DaCHS on a published release: pyvo (sync, async, a table upload) against
brute force with astropy on the release rows, the metadata against
``schema/catalogs.py``, and STILTS taplint with no error.

Needs DaCHS (``python3-gavo``), PostgreSQL 15 with q3c and pg_sphere, and ``stilts``:
the fixture starts a private cluster, a DaCHS site and ``gavo serve`` (conftest.py).
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from twomass.schema.catalogs import PSC, XSC
from twomass.tap.site import TapError, require_extensions

from .conftest import Published, release_rows


def test_counts_match_the_release(published: Published) -> None:
    tap = published.service()
    for table, rows in published.result.rows.items():
        assert rows == len(release_rows(published.url, table, "1"))
        count = tap.run_sync(f"SELECT COUNT(*) AS n FROM twomass.{table}").to_table()
        assert int(count["n"][0]) == rows > 0


@pytest.mark.parametrize(("table", "columns"), [("psc", PSC), ("xsc", XSC)])
def test_column_metadata_is_the_catalogs(published: Published, table: str, columns) -> None:
    """Every column with the unit, UCD and description of schema/catalogs.py, in order."""
    got = published.service().run_sync(
        "SELECT column_name, unit, ucd, description, column_index FROM tap_schema.columns "
        f"WHERE table_name = 'twomass.{table}' ORDER BY column_index").to_table()
    names = [str(n).strip('"') for n in got["column_name"]]
    assert names == [c.name for c in columns]
    for row, column in zip(got, columns, strict=True):
        assert (str(row["unit"] or ""), row["ucd"], row["description"]) == (
            column.unit, column.ucd, column.description)


def test_sync_cone_search_is_brute_force(published: Published) -> None:
    rows = release_rows(published.url, "psc", "pts_key, ra, dec")
    keys = np.array([r[0] for r in rows])
    sky = SkyCoord([r[1] for r in rows] * u.deg, [r[2] for r in rows] * u.deg)
    centre = SkyCoord(150.25 * u.deg, 20.25 * u.deg)
    radius = 6 * u.arcmin
    inside = sky.separation(centre) < radius
    assert 20 < inside.sum() < len(rows)

    got = published.service().run_sync(
        "SELECT pts_key, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 150.25, 20.25)) "
        "* 3600 AS dist FROM twomass.psc WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
        f"CIRCLE('ICRS', 150.25, 20.25, {float(radius.to_value(u.deg))!r}))").to_table()
    assert sorted(got["pts_key"]) == sorted(keys[inside])
    expected = dict(zip(keys[inside], sky[inside].separation(centre).arcsec, strict=True))
    assert np.allclose([expected[k] for k in got["pts_key"]], got["dist"], atol=1e-3)


def test_async_query_returns_the_release_rows(published: Published) -> None:
    """All XSC rows through UWS: same values, NULLs preserved, char(n) without padding."""
    columns = "ext_key, designation, ra, dec, r_k20fe, k_m_k20fe, j_m_k20fe, cc_flg"
    expected = {r[0]: r for r in release_rows(published.url, "xsc", columns)}
    got = published.service().run_async(f"SELECT {columns} FROM twomass.xsc").to_table()
    assert sorted(got["ext_key"]) == sorted(expected)
    for row in got:
        want = expected[int(row["ext_key"])]
        assert row["designation"] == want[1].rstrip()
        assert (float(row["ra"]), float(row["dec"])) == (want[2], want[3])
        for value, wanted in zip(list(row)[4:7], want[4:7], strict=True):
            if wanted is None:
                assert np.ma.is_masked(value) or np.isnan(value)
            else:
                assert float(value) == pytest.approx(wanted, rel=1e-7)
        assert row["cc_flg"] == want[7]


def test_upload_cross_match_is_brute_force_and_runs_on_q3c(published: Published) -> None:
    rows = release_rows(published.url, "psc", "pts_key, ra, dec")
    rng = np.random.default_rng(3)
    picked = rng.choice(len(rows), 40, replace=False)
    ra = np.array([rows[i][1] for i in picked])
    dec = np.array([rows[i][2] for i in picked])
    # Offsets up to 3": some inside 2", some outside; and 10 positions of their own.
    shifted = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(
        rng.uniform(0, 360, 40) * u.deg, rng.uniform(0, 3, 40) * u.arcsec)
    extra = SkyCoord(rng.uniform(150.12, 150.38, 10) * u.deg,
                     rng.uniform(20.12, 20.38, 10) * u.deg)
    mine = Table({"my_id": np.arange(50),
                  "ra": np.concatenate([shifted.ra.deg, extra.ra.deg]),
                  "dec": np.concatenate([shifted.dec.deg, extra.dec.deg])})

    got = published.service().run_sync(
        "SELECT t.my_id, p.pts_key FROM TAP_UPLOAD.mine AS t JOIN twomass.psc AS p "
        "ON 1 = CONTAINS(POINT('ICRS', p.ra, p.dec), CIRCLE('ICRS', t.ra, t.dec, 2.0/3600))",
        uploads={"mine": mine}).to_table()

    catalog = SkyCoord([r[1] for r in rows] * u.deg, [r[2] for r in rows] * u.deg)
    users = SkyCoord(mine["ra"] * u.deg, mine["dec"] * u.deg)
    i, j, _, _ = catalog.search_around_sky(users, 2 * u.arcsec)
    expected = {(int(a), rows[b][0]) for a, b in zip(i, j, strict=True)}
    assert 10 < len(expected) < 50
    assert {(int(a), int(b)) for a, b in zip(got["my_id"], got["pts_key"], strict=True)
            } == expected
    # DaCHS ran the join as q3c_join on the indexed release columns.
    assert re.search(r"SELECT t\.my_id, p\.pts_key FROM \S+ AS t JOIN twomass\.psc AS p "
                     r"ON q3c_join\(t\.ra, t\.dec, p\.ra, p\.dec, ", published.cluster.log())


def test_taplint_reports_no_error(published: Published) -> None:
    """taplint over the service, its table checks on the twomass tables: the metadata
    (/tables, TAP_SCHEMA, capabilities, availability), sync queries, query results
    against the declared columns, the examples. Left out: ObsCore and ObsLocTAP (no such
    tables are published), and the stages of DaCHS's generic async and upload machinery
    (QAS, UWS, UPL: a minute and a half of DaCHS job start-ups), which the pyvo tests
    above exercise on these tables."""
    done = subprocess.run(
        ["stilts", "taplint", f"tapurl={published.tap_url}",
         "stages=-OBS -LOC -QAS -UWS -UPL",
         "tables=twomass.psc,twomass.xsc", "report=EWF"],
        capture_output=True, text=True, timeout=300, check=False)
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+).*Failures: (\d+)",
                       done.stdout)
    assert totals, done.stdout[-2000:] + done.stderr[-2000:]
    problems = [line for line in done.stdout.splitlines() if line.startswith(("E-", "F-"))]
    assert (totals[1], totals[3], problems) == ("0", "0", [])


def test_a_database_without_q3c_is_refused(db_url: str) -> None:
    with pytest.raises(TapError, match="embedded server cannot load extensions"):
        require_extensions(db_url)
