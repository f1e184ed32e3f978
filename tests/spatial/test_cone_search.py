"""psc_cone / xsc_cone / wdb_cone / psc_nearest, the Python API and ``twomass cone``."""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from twomass import release
from twomass.cli import main
from twomass.core import healpix
from twomass.core.database import Database
from twomass.query.cone import ConeSearchError, cone

from .conftest import offsets, random_sky

FILLERS = {"integer": 0, "smallint": 0, "real": 0.5, "double precision": 2451000.5,
           "character": "0", "bigint": 0}


@pytest.fixture(scope="module")
def catalog(spatial_url: str) -> tuple[str, np.ndarray, np.ndarray]:
    """A published release whose psc, and wdb.pts, hold a uniform sky plus a dense patch
    around (10, 20); row i has psc.pts_key = wdb.pts.id = i."""
    rng = np.random.default_rng(21)
    ra, dec = random_sky(rng, 20_000)
    pra, pdec = offsets(10.0, 20.0, rng.uniform(0, 120, 3000) / 3600, rng.uniform(0, 360, 3000))
    ra, dec = np.concatenate([ra, pra, pra[:50]]), np.concatenate([dec, pdec, pdec[:50]])
    hpx = healpix.ang2hpx(ra, dec)
    with Database(spatial_url) as db:
        release.build(db, "cones", progress=False)  # empty, published: the psc layout
    with psycopg.connect(spatial_url) as conn:
        cols = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'wdb' AND table_name = 'pts' AND is_nullable = 'NO' "
            "AND column_default IS NULL ORDER BY ordinal_position").fetchall()
        names = [c for c, _ in cols]
        with conn.cursor() as cur, cur.copy(
                f"COPY wdb.pts ({', '.join(names)}) FROM STDIN") as copy:
            for i in range(ra.size):
                values = {"scan_key": 1, "id": i, "ra": float(ra[i]), "dec": float(dec[i]),
                          "hpx": int(hpx[i])}
                copy.write_row([values.get(c, FILLERS[t]) for c, t in cols])
        with conn.cursor() as cur, cur.copy(
                "COPY rel_cones.psc (pts_key, ra, dec, hpx, designation) FROM STDIN") as copy:
            for i in range(ra.size):
                copy.write_row([i, float(ra[i]), float(dec[i]), int(hpx[i]), f"row{i}"])
        conn.execute("ANALYZE wdb.pts")
        conn.execute("ANALYZE rel_cones.psc")
    return spatial_url, ra, dec


def brute(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float) -> np.ndarray:
    return SkyCoord(ra * u.deg, dec * u.deg).separation(
        SkyCoord(ra0 * u.deg, dec0 * u.deg)).to_value(u.arcsec)


@pytest.mark.parametrize(("function", "key"), [("psc_cone", "pts_key"), ("wdb_cone", "id")])
def test_cone_functions_return_rows_nearest_first(catalog: tuple, function: str,
                                                   key: str) -> None:
    url, ra, dec = catalog
    with psycopg.connect(url) as conn:
        for ra0, dec0, radius in [(10.0, 20.0, 30.0), (10.01, 20.0, 100.0), (200, -89.9, 3600),
                                  (359.9, 0.0, 1800.0)]:
            rows = conn.execute(f"SELECT {key}, dist_arcsec FROM {function}(%s, %s, %s)",
                                (ra0, dec0, radius)).fetchall()
            sep = brute(ra, dec, ra0, dec0)
            assert {r[0] for r in rows} == set(np.nonzero(sep < radius)[0].tolist())
            dist = np.array([r[1] for r in rows])
            assert np.all(np.diff(dist) >= 0)
            assert np.allclose(dist, sep[[r[0] for r in rows]], atol=1e-8)


def test_cone_query_is_inlined_and_uses_the_hpx_index(catalog: tuple) -> None:
    url, _, _ = catalog
    with psycopg.connect(url) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT * FROM psc_cone(10, 20, 5)"))
    assert "psc_hpx_idx" in plan and "Seq Scan" not in plan, plan


def test_psc_nearest_returns_the_k_nearest_at_any_distance(catalog: tuple) -> None:
    url, ra, dec = catalog
    with psycopg.connect(url) as conn:
        for ra0, dec0, k in [(10.0, 20.0, 7), (100.0, -30.0, 3), (0.0, 90.0, 12), (10, 20, 0)]:
            rows = conn.execute("SELECT pts_key, dist_arcsec FROM psc_nearest(%s, %s, %s)",
                                (ra0, dec0, k)).fetchall()
            sep = brute(ra, dec, ra0, dec0)
            assert [r[0] for r in rows] == np.argsort(sep, kind="stable")[:k].tolist() or \
                np.allclose([r[1] for r in rows], np.sort(sep)[:k])
            assert len(rows) == k


def test_xsc_cone_searches_the_extended_catalog(catalog: tuple) -> None:
    url, _, _ = catalog
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM xsc_cone(10, 20, 60)")
        names = [d.name for d in cur.description]
    assert cur.fetchall() == [] and names[-1] == "dist_arcsec" and "r_k20fe" in names


def test_cone_functions_return_the_columns_of_the_published_views(catalog: tuple) -> None:
    url, _, _ = catalog
    with psycopg.connect(url) as conn:
        for view, function in [("psc", "psc_cone(10, 20, 30)"), ("xsc", "xsc_cone(10, 20, 30)"),
                               ("psc", "psc_nearest(10, 20, 2)")]:
            expected = [d.name for d in conn.execute(f"SELECT * FROM {view} LIMIT 0").description]
            found = [d.name for d in conn.execute(f"SELECT * FROM {function}").description]
            assert found == expected + ["dist_arcsec"], function


def test_before_any_release_is_published_psc_is_refused(db: Database) -> None:
    with pytest.raises(ConeSearchError, match="no release is published.*--catalog wdb"):
        cone(db, 10.0, 20.0, 30.0)
    assert len(cone(db, 10.0, 20.0, 30.0, catalog="wdb")) == 0


def test_python_api_returns_a_table_with_units(catalog: tuple) -> None:
    url, ra, dec = catalog
    with Database(url) as db:
        table = cone(db, 10.0, 20.0, 30.0)
        wdb_rows = cone(db, 10.0, 20.0, 30.0, catalog="wdb", limit=3)
        empty = cone(db, 10.0, 20.0, 0.0)
    assert isinstance(table, Table)
    assert len(table) == int((brute(ra, dec, 10, 20) < 30).sum()) > 10
    assert table["dist_arcsec"].unit == u.arcsec and table["ra"].unit == u.deg
    assert list(wdb_rows["id"]) == list(table["pts_key"][:3])
    assert len(empty) == 0


@pytest.mark.parametrize(("args", "message"), [
    ((10.0, 95.0, 1.0), "Dec must be in [-90, 90] degrees, got 95.0"),
    ((10.0, 20.0, -1.0), "radius must be in [0, 648000] arcsec"),
    ((float("nan"), 20.0, 1.0), "RA must be a finite number of degrees"),
])
def test_python_api_rejects_impossible_arguments(args: tuple, message: str) -> None:
    nowhere = Database("postgresql://nobody@127.0.0.1:1/none")  # never connected to
    with pytest.raises(ConeSearchError, match=message.replace("[", r"\[").replace("(", r"\(")):
        cone(nowhere, *args)
    with pytest.raises(ConeSearchError, match="unknown catalog 'foo'"):
        cone(nowhere, 1.0, 2.0, 3.0, catalog="foo")


def test_cli_cone_writes_every_format(catalog: tuple, capsys: pytest.CaptureFixture) -> None:
    url, ra, dec = catalog
    expected = int((brute(ra, dec, 10, 20) < 30).sum())
    assert main(["--db", url, "cone", "10", "20", "30", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == expected + 1 and out.startswith("ra,dec,err_maj")
    assert f"cone: {expected} psc rows within 30 arcsec of (10, 20)" in err
    assert main(["--db", url, "cone", "10", "20", "30", "--format", "json", "--limit", "2",
                 "--catalog", "wdb"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2 and records[0]["dist_arcsec"] <= records[1]["dist_arcsec"]
    assert main(["--db", url, "cone", "10", "20", "30", "--format", "votable"]) == 0
    assert "<VOTABLE" in capsys.readouterr().out
    assert main(["--db", url, "cone", "10", "20", "30"]) == 0
    assert "dist_arcsec" in capsys.readouterr().out.splitlines()[0]


def test_cli_cone_rejects_bad_input_without_traceback(catalog: tuple,
                                                      capsys: pytest.CaptureFixture) -> None:
    url, _, _ = catalog
    assert main(["--db", url, "cone", "10", "-95", "30"]) == 2
    err = capsys.readouterr().err
    assert "Dec must be in [-90, 90] degrees, got -95.0" in err and "Traceback" not in err
