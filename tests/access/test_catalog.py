"""``twomass.Catalog`` and the upload cross-match against brute force over the scene,
and the ``export`` / ``xmatch`` commands run as a user runs them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.table import Table

import twomass
from tests.access.conftest import rows_of
from tests.spatial.conftest import offsets
from twomass.access.xmatch import XmatchError
from twomass.cli import main
from twomass.core import sphere
from twomass.schema import catalogs


@pytest.fixture(scope="module")
def psc_rows(scene):
    rows = rows_of(scene, "SELECT pts_key, ra, dec, j_m FROM public.psc")
    return {k: np.array([r[k] for r in rows]) for k in ("pts_key", "ra", "dec")}


def distances_arcsec(ra, dec, cat) -> np.ndarray:
    """Distance [arcsec] of each position to each catalog row (brute force)."""
    a = sphere.unit_vectors(np.asarray(ra), np.asarray(dec))
    b = sphere.unit_vectors(cat["ra"], cat["dec"])
    chords = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return sphere.separation_arcsec(chords)


def test_cone_is_psc_cone_with_metadata_and_masks(scene):
    catalog = twomass.Catalog(scene.db)
    table = catalog.cone(10.2, 20.1, 400)
    oracle = rows_of(scene, "SELECT * FROM psc_cone(10.2, 20.1, 400)")
    assert len(table) == len(oracle) > 20
    assert table["pts_key"].tolist() == [r["pts_key"] for r in oracle]  # nearest first
    assert np.allclose(table["dist_arcsec"], [r["dist_arcsec"] for r in oracle], atol=1e-9)
    assert table.colnames == [c.name for c in catalogs.PSC] + ["dist_arcsec"]
    for name in ("j_m", "pxpa", "date", "ph_qual"):
        assert table[name].mask.tolist() == [r[name] is None for r in oracle]
    assert table["j_m"].unit == "mag" and table["j_m"].meta["ucd"] == "phot.mag;em.IR.J"
    assert table["dist_arcsec"].unit == "arcsec"
    small = catalog.cone(10.2, 20.1, 400, columns=["designation", "k_m"], limit=3)
    assert small.colnames == ["designation", "k_m", "dist_arcsec"]
    assert small["designation"].tolist() == [r["designation"] for r in oracle[:3]]


def test_box_and_polygon(scene, psc_rows):
    catalog = twomass.Catalog(scene.db)
    ra, dec = psc_rows["ra"], psc_rows["dec"]
    box = catalog.box(359.0, 1.0, -30.0, -29.5, columns=["pts_key"])
    want = ((ra >= 359) | (ra <= 1)) & (dec >= -30) & (dec <= -29.5)
    assert sorted(box["pts_key"].tolist()) == sorted(psc_rows["pts_key"][want].tolist())
    triangle = [(9.8, 19.8), (10.3, 19.9), (10.0, 20.3)]
    inside = catalog.polygon(triangle, columns=["pts_key", "ra", "dec"])
    v = sphere.unit_vectors([p[0] for p in triangle], [p[1] for p in triangle])
    p = sphere.unit_vectors(ra, dec)
    want = np.all([p @ np.cross(v[i], v[(i + 1) % 3]) > 0 for i in range(3)], axis=0)
    assert sorted(inside["pts_key"].tolist()) == sorted(psc_rows["pts_key"][want].tolist())


def make_upload(psc_rows, n_near: int = 150, n_far: int = 50, seed: int = 7) -> Table:
    """Positions 0-3" from catalog rows, and random ones, with the user's own columns."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(psc_rows["ra"]), n_near, replace=False)
    ra, dec = offsets(psc_rows["ra"][pick], psc_rows["dec"][pick],
                      rng.uniform(0, 3, n_near) / 3600, rng.uniform(0, 360, n_near))
    far_ra, far_dec = rng.uniform(9.5, 10.5, n_far), rng.uniform(19.5, 20.5, n_far)
    n = n_near + n_far
    return Table({"name": [f"src{i}" for i in range(n)],
                  "RA": np.concatenate([ra, far_ra]), "Dec": np.concatenate([dec, far_dec]),
                  "r_search": rng.uniform(0.5, 4.0, n), "mag": rng.normal(15, 1, n)})


def pairs_of(result: Table) -> set[tuple[str, int]]:
    return set(zip(result["name"].tolist(), result["pts_key"].tolist(), strict=True))


def test_xmatch_all_nearest_and_per_row_radius_against_brute_force(scene, psc_rows):
    upload = make_upload(psc_rows)
    dist = distances_arcsec(upload["RA"], upload["Dec"], psc_rows)
    keys = psc_rows["pts_key"]
    catalog = twomass.Catalog(scene.db)

    result = catalog.xmatch(upload, 2.0)
    want = {(upload["name"][i], int(keys[j])) for i, j in zip(*np.nonzero(dist < 2.0),
                                                               strict=True)}
    assert pairs_of(result) == want and len(want) > 80
    order = list(zip([int(n[3:]) for n in result["name"]], result["dist_arcsec"], strict=True))
    assert order == sorted(order)  # upload order, each row's matches nearest first
    assert result.colnames[:5] == upload.colnames  # the user's columns first, unchanged
    assert "psc_ra" not in result.colnames  # RA/Dec were the user's names, not ra/dec
    got = {(n, k): d for n, k, d in zip(result["name"], result["pts_key"],
                                        result["dist_arcsec"], strict=True)}
    for (name, key), d in got.items():
        i, j = int(name[3:]), int(np.flatnonzero(keys == key)[0])
        assert d == pytest.approx(dist[i, j], abs=1e-6)
        assert result["mag"][result["name"] == name][0] == upload["mag"][i]

    nearest = catalog.xmatch(upload, 2.0, nearest=True)
    rows = np.arange(len(upload))
    best = dist.argmin(axis=1)
    want = {(upload["name"][i], int(keys[best[i]])) for i in rows if dist[i, best[i]] < 2.0}
    assert pairs_of(nearest) == want

    per_row = catalog.xmatch(upload, None, radius_column="r_search", columns=["pts_key"])
    within = dist < np.asarray(upload["r_search"])[:, None]
    want = {(upload["name"][i], int(keys[j])) for i, j in zip(*np.nonzero(within),
                                                               strict=True)}
    assert pairs_of(per_row) == want
    assert per_row.colnames == [*upload.colnames, "pts_key", "dist_arcsec"]


@pytest.mark.parametrize("suffix", [".csv", ".vot", ".fits", ".parquet"])
def test_xmatch_reads_every_upload_format(scene, psc_rows, tmp_path, suffix):
    upload = make_upload(psc_rows, 40, 10, seed=3)
    upload.rename_columns(["RA", "Dec"], ["ra", "dec"])
    path = tmp_path / f"up{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.table({n: np.asarray(upload[n]) for n in upload.colnames}), path)
    else:
        upload.write(path, format={".csv": "ascii.csv", ".vot": "votable",
                                   ".fits": "fits"}[suffix])
    result = twomass.Catalog(scene.db).xmatch(path, 2.5, columns=["pts_key", "ra", "dec"])
    dist = distances_arcsec(upload["ra"], upload["dec"], psc_rows)
    want = {(upload["name"][i], int(psc_rows["pts_key"][j]))
            for i, j in zip(*np.nonzero(dist < 2.5), strict=True)}
    assert pairs_of(result) == want
    assert {"psc_ra", "psc_dec", "ra", "dec"} <= set(result.colnames)


def test_xmatch_bad_uploads(scene, tmp_path):
    catalog = twomass.Catalog(scene.db)
    good = Table({"ra": [10.0, 10.1], "dec": [20.0, 20.1]})
    (tmp_path / "bad.csv").write_text("ra,dec\n10.0,20.0\n10.1,north\n")
    cases = [
        (lambda: catalog.xmatch(Table({"x": [1.0], "dec": [2.0]}), 2), "no RA column 'ra'"),
        (lambda: catalog.xmatch(tmp_path / "bad.csv", 2),
         r"bad.csv: row 2, column 'dec': 'north' is not a number"),
        (lambda: catalog.xmatch(Table({"ra": [1.0, 2.0], "dec": [2.0, 91.0]}), 2),
         r"row 2, column 'dec': Dec 91 is not in \[-90, 90\]"),
        (lambda: catalog.xmatch(good, 0), "radius 0 arcsec is not in"),
        (lambda: catalog.xmatch(good, None), "give a radius"),
        (lambda: catalog.xmatch(good, 2, catalog="wdb"), "cannot cross-match with wdb"),
        (lambda: catalog.xmatch(tmp_path / "none.csv", 2), "none.csv: no such file"),
        (lambda: catalog.xmatch(good, 2, columns=["nope"]), "no column 'nope' in psc"),
    ]
    for call, message in cases:
        with pytest.raises(twomass.core.errors.TwomassError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    assert isinstance(XmatchError("x"), twomass.core.errors.TwomassError)


def test_xmatch_command(scene, psc_rows, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    upload = make_upload(psc_rows, 30, 5, seed=5)
    upload.write(tmp_path / "targets.csv", format="ascii.csv")
    assert main(["--db", scene.url, "xmatch", "targets.csv", "--radius", "2", "--ra-column",
                 "RA", "--dec-column", "Dec", "--nearest", "-o", "out.vot"]) == 0
    result = Table.read(tmp_path / "out.vot", format="votable")
    dist = distances_arcsec(upload["RA"], upload["Dec"], psc_rows)
    assert len(result) == int((dist.min(axis=1) < 2).sum())
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        f"xmatch: 35 rows of targets.csv, {len(result)} nearest psc matches within 2 arcsec")


def test_export_command_in_process(scene, psc_rows, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = main(["--db", scene.url, "export", "psc", "cone.csv", "--format", "csv",
                   "--cone", "10", "20", "120", "--columns", "pts_key,j_m", "--no-progress"])
    assert status == 0
    exported = Table.read(tmp_path / "cone.csv", format="ascii.csv")
    near = distances_arcsec([10.0], [20.0], psc_rows)[0] < 120
    assert sorted(exported["pts_key"].tolist()) == sorted(psc_rows["pts_key"][near].tolist())
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        f"export: {near.sum()} psc rows (cone (10.0, 20.0) r=120\") to cone.csv as csv")

    assert main(["--db", scene.url, "export", "psc", "x.csv", "--format", "csv",
                 "--cone", "10", "99", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "twomass: error: Dec must be in [-90, 90] degrees, got 99")
    Table({"RA": [1.0]}).write(tmp_path / "t.csv", format="ascii.csv")
    assert main(["--db", scene.url, "xmatch", "t.csv", "--radius", "2"]) == 2
    assert capsys.readouterr().err.strip() == (
        "twomass: error: t.csv: no Dec column 'dec'; its columns are RA")
    assert not (tmp_path / "x.csv").exists()


def test_import_twomass_stays_light(tmp_path):
    """``twomass.Catalog`` is there, yet ``import twomass`` loads no table library."""
    import subprocess
    import sys

    code = ("import sys, twomass; heavy = [m for m in ('astropy', 'pyarrow', 'psycopg', "
            "'twomass.access') if m in sys.modules]; print(heavy, twomass.Catalog.__name__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "[] Catalog", done.stderr
