"""psc_cone / xsc_cone / wdb_cone / psc_nearest, the Python API and ``twomass cone``."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse_single_table
from astropy.table import Table

from twomass import release
from twomass.cli import cone as cone_cli
from twomass.cli import main
from twomass.core import healpix
from twomass.core.database import Database
from twomass.query.cone import ConeSearchError, cone
from twomass.schema import catalogs

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


CONE_STATEMENT = """
    SELECT t.pts_key FROM hpx_cone_ranges($1, $2, $3 / 3600) AS c
    JOIN psc AS t ON _hpx_in_range(t.hpx, c.lo, c.hi)
    WHERE _hpx_sindist(t.ra, t.dec, $1, $2) < power(sin(radians($3 / 3600) / 2), 2)"""


def test_cone_statement_probes_the_hpx_index_with_a_generic_plan(catalog: tuple) -> None:
    """The cone functions' statement, planned once for every disc (as PL/pgSQL reuses its
    plan), probes the psc's hpx index (each partition's, when partitioned by sky) per
    cover range instead of scanning the table."""
    url, ra, dec = catalog
    with psycopg.connect(url) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE cone(float8, float8, float8) AS {CONE_STATEMENT}")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN EXECUTE cone(10, 20, 5)"))
        assert re.search(r"psc(_p\d+)?_hpx_idx", plan) and "Seq Scan" not in plan, plan
        for ra0, dec0, radius in [(10.0, 20.0, 30.0), (0.001, -89.99, 200.0), (359.99, 1, 5)]:
            keys = {r[0] for r in conn.execute(f"EXECUTE cone({ra0!r}, {dec0!r}, {radius!r})")}
            assert keys == set(np.nonzero(brute(ra, dec, ra0, dec0) < radius)[0].tolist())


def test_cone_functions_are_strict_about_the_disc(catalog: tuple) -> None:
    url, _, _ = catalog
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM psc_cone(NULL, 20, 5)").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="radius"):
            conn.execute("SELECT count(*) FROM psc_cone(10, 20, -5)")


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


def _read_table(text: str) -> list[dict[str, object]]:
    """Rows of the ``table`` format: columns are the runs of the dashes line."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "})
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[rule])]
    names = [lines[0][a:b].strip() for a, b in spans]
    return [{n: (None if (cell := line[a:b].strip()) == "--" else cell)
             for n, (a, b) in zip(names, spans, strict=True)} for line in lines[rule + 1:]]


def _read_csv(text: str) -> list[dict[str, object]]:
    return [{k: v or None for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _read_votable(text: str) -> list[dict[str, object]]:
    table = parse_single_table(io.BytesIO(text.encode())).to_table()
    columns = {n: [None if v == "" else v for v in table[n].tolist()] for n in table.colnames}
    return [{n: values[i] for n, values in columns.items()} for i in range(len(table))]


#: How each output format of ``twomass cone`` is read back: rows, NULL as None.
READERS: dict[str, Callable[[str], list[dict[str, object]]]] = {
    "table": _read_table, "csv": _read_csv, "json": json.loads, "votable": _read_votable}

#: A non-NULL value of every column type of the catalogs, never 0.
VALUES = {"integer": 7, "smallint": 7, "bigint": 7, "real": 1.5, "double precision": 2.5,
          "character": "A", "text": "A", "date": "2000-01-02"}


def test_nulls_round_trip_in_every_output_format(db: Database,
                                                 capsys: pytest.CaptureFixture) -> None:
    """A row with every nullable column NULL comes back NULL (or empty) in every format,
    never 0; a row without NULLs comes back without any."""
    assert set(READERS) == set(cone_cli.FORMATS)
    release.build(db, "nulls", progress=False)
    nullable = {}
    with psycopg.connect(db.url) as conn:
        for catalog in ("psc", "xsc"):
            cols = conn.execute(
                "SELECT column_name, data_type, is_nullable = 'YES' "
                "FROM information_schema.columns WHERE table_schema = 'rel_nulls' "
                "AND table_name = %s ORDER BY ordinal_position", (catalog,)).fetchall()
            nullable[catalog] = {c for c, _, can in cols if can} - {"ra", "dec", "hpx"}
            assert len(nullable[catalog]) > 20
            for key, dec in ((1, 20.0), (2, 20.001)):  # the full row, then the NULL row
                row = {c: None if key == 2 and c in nullable[catalog] else VALUES[t]
                       for c, t, _ in cols}
                row.update({c: key for c, t, _ in cols if t == "integer" and row[c]})
                row.update(ra=10.0, dec=dec, hpx=int(healpix.ang2hpx(10.0, dec)))
                conn.execute(f"INSERT INTO rel_nulls.{catalog} ({', '.join(row)}) "
                             f"VALUES ({', '.join(['%s'] * len(row))})", list(row.values()))
    for catalog in ("psc", "xsc"):
        for fmt, read in READERS.items():
            assert main(["--db", db.url, "cone", "10", "20", "10", "--catalog", catalog,
                         "--format", fmt]) == 0
            full, empty = read(capsys.readouterr().out)
            assert [k for k, v in full.items() if v is None] == [], (catalog, fmt)
            assert {k for k, v in empty.items() if v is None} == nullable[catalog], (catalog, fmt)


@pytest.mark.parametrize(("name", "columns"), [
    ("psc", catalogs.PSC), ("xsc", catalogs.XSC), ("wdb", catalogs.WDB_PTS)])
def test_votable_gives_every_column_its_unit_ucd_and_description(
        catalog: tuple, capsys: pytest.CaptureFixture, name: str,
        columns: tuple[catalogs.CatalogColumn, ...]) -> None:
    """Each FIELD has the unit (none when dimensionless), UCD and description of
    ``twomass.schema.catalogs``; the text table shows the units under the names."""
    url, _, _ = catalog
    assert main(["--db", url, "cone", "10", "20", "30", "--catalog", name,
                 "--format", "votable"]) == 0
    fields = parse_single_table(io.BytesIO(capsys.readouterr().out.encode())).fields
    expected = (*columns, catalogs.DIST_ARCSEC)
    assert [f.name for f in fields] == [c.name for c in expected]
    for field, column in zip(fields, expected, strict=True):
        # (the writer wraps long descriptions over lines)
        assert field.ucd == column.ucd, field
        assert " ".join(field.description.split()) == column.description, field
        if column.unit:
            assert field.unit == u.Unit(column.unit), field
        else:
            assert field.unit is None, field
    assert main(["--db", url, "cone", "10", "20", "30", "--catalog", name]) == 0
    units = capsys.readouterr().out.splitlines()[1].split()
    assert "deg" in units and "arcsec" in units
