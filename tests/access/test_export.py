"""Exports read back with independent readers (pyarrow, astropy) against the rows as
psycopg reads them: same rows, same values, NULLs preserved, metadata on every column;
the PSV line of a real 2MASS row byte for byte; selections against brute force."""

from __future__ import annotations

import datetime as dt
import gzip
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.table import Table

from tests.access.conftest import REAL_LINE, rows_of
from twomass.access import selections
from twomass.access.export import ExportError, export
from twomass.access.source import SourceError
from twomass.core import sphere
from twomass.core.errors import TwomassError
from twomass.schema import catalogs

CONE = (10.0, 20.0, 1800.0)


def cone_oracle(scene, catalog: str, ra: float, dec: float, radius: float) -> list[dict]:
    """Rows within the cone by brute force in numpy over every row of the table."""
    rows = rows_of(scene, f"SELECT * FROM public.{catalog}")
    chords = np.linalg.norm(sphere.unit_vectors([r["ra"] for r in rows],
                                                [r["dec"] for r in rows])
                            - sphere.unit_vectors(ra, dec), axis=1)
    near = sphere.separation_arcsec(chords) < radius
    return [r for r, keep in zip(rows, near, strict=True) if keep]


def read_back(fmt: str, path) -> dict[str, list]:
    """Column -> values (None for NULL) as an independent reader sees the file."""
    if fmt == "parquet":
        return pq.read_table(path).to_pydict()
    reader = {"fits": "fits", "votable": "votable", "ipac": "ipac", "csv": "ascii.csv"}[fmt]
    table = Table.read(path, format=reader)
    out = {}
    for name in table.colnames:
        column = table[name]
        mask = np.asarray(getattr(column, "mask", np.zeros(len(column), bool)), bool)
        values = [v.decode() if isinstance(v, bytes) else v for v in np.asarray(column)]
        if fmt == "fits" and column.dtype.kind == "f":
            mask = mask | np.isnan(np.asarray(column, float))
        out[name] = [None if m else v for v, m in zip(values, mask, strict=True)]
    return out


def same_value(expected, got, kind: str) -> bool:
    if expected is None:
        return got is None or (isinstance(got, float) and math.isnan(got)) or got == ""
    if got is None:
        return False
    if isinstance(expected, dt.date):
        return str(got) == expected.isoformat()
    if kind == "real":
        return np.float32(float(got)) == np.float32(expected)
    if isinstance(expected, float):
        return float(got) == expected
    if isinstance(expected, int):
        return int(got) == expected
    return str(got).rstrip() == expected.rstrip()


@pytest.mark.parametrize("fmt", ["parquet", "fits", "votable", "ipac", "csv"])
def test_round_trip_same_rows_values_and_nulls(scene, tmp_path, fmt):
    expected = {r["pts_key"]: r for r in cone_oracle(scene, "psc", *CONE)}
    out = tmp_path / f"cone.{fmt}"
    summary = export(scene.db, "psc", fmt, out, selection=selections.cone(*CONE),
                     progress=False)
    assert summary.rows == len(expected) > 500
    got = read_back(fmt, out)
    kinds = dict(scene.columns["psc"])
    assert list(got) == list(kinds)  # every column, in the release's order
    keys = [int(k) for k in got["pts_key"]]
    assert sorted(keys) == sorted(expected)
    nulls = 0
    for name, values in got.items():
        for key, value in zip(keys, values, strict=True):
            want = expected[key][name]
            nulls += want is None
            assert same_value(want, value, kinds[name]), (fmt, name, key, want, value)
    assert nulls > 1000  # the scene's NULLs were all there to be checked


def test_metadata_in_every_format(scene, tmp_path):
    described = {c.name: c for c in catalogs.PSC}
    columns = ["designation", "ra", "j_m", "pxpa"]
    paths = {}
    for fmt in ("parquet", "fits", "votable", "ipac"):
        paths[fmt] = tmp_path / f"m.{fmt}"
        export(scene.db, "psc", fmt, paths[fmt], selection=selections.cone(10, 20, 60),
               columns=columns, progress=False)
    schema = pq.read_schema(paths["parquet"])
    assert schema.names == columns
    for field in schema:
        meta = {k.decode(): v.decode() for k, v in field.metadata.items()}
        info = described[field.name]
        assert meta == {"unit": info.unit, "ucd": info.ucd, "description": info.description}
    header = fits.getheader(paths["fits"], 1)
    for i, name in enumerate(columns, start=1):
        assert header[f"TTYPE{i}"] == name
        assert header.get(f"TUNIT{i}", "") == described[name].unit
        assert header[f"TCOMM{i}"] == described[name].description
    votable = Table.read(paths["votable"], format="votable")
    ipac = Table.read(paths["ipac"], format="ipac")
    for name in columns:
        assert votable[name].meta.get("ucd") == described[name].ucd
        assert votable[name].description == described[name].description
        unit = described[name].unit or None
        assert (str(votable[name].unit) if votable[name].unit else None) == unit
        assert (str(ipac[name].unit) if ipac[name].unit else None) == unit


def test_psv_writes_the_real_bulk_line(scene, tmp_path):
    """The real row reads back exactly as in psc_aaa.gz; a copy whose values carry
    digits beyond the bulk formats (ra + 3e-8 deg, j_m + 0.0002 mag, ...) prints the
    same line: values rounded to the format's decimals, trailing zeros dropped."""
    with scene.db.connection() as conn:
        conn.execute(
            "INSERT INTO public.psc SELECT ra + 3e-8, dec, err_maj + 0.001, err_min, err_ang, "
            "designation, j_m + 0.0002, j_cmsig, j_msigcom, j_snr + 0.04, h_m, h_cmsig, "
            "h_msigcom, h_snr, k_m, k_cmsig, k_msigcom, k_snr, ph_qual, rd_flg, bl_flg, "
            "cc_flg, ndet, prox, pxpa, pxcntr, gal_contam, mp_flg, 99999999, hemis, date, "
            "scan, glon - 0.0004, glat, x_scan, jdate + 0.00003, j_psfchi, h_psfchi, "
            "k_psfchi, j_m_stdap, j_msig_stdap, h_m_stdap, h_msig_stdap, k_m_stdap + 0.0001, "
            "k_msig_stdap, dist_edge_ns, dist_edge_ew, dist_edge_flg, dup_src, use_src, a, "
            "dist_opt, phi_opt, b_m_opt, vr_m_opt, nopt_mchs, ext_key, scan_key, coadd_key, "
            "coadd, hpx FROM public.psc WHERE pts_key = 1101364107")
    try:
        out = tmp_path / "pole.psv.gz"
        summary = export(scene.db, "psc", "psv", out,
                         selection=selections.cone(1.119851, -89.91861, 1), progress=False)
        lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    finally:
        with scene.db.connection() as conn:
            conn.execute("DELETE FROM public.psc WHERE pts_key = 99999999")
    assert summary.rows == 2
    twin = REAL_LINE.replace("|1101364107|", "|99999999|")
    assert sorted(lines) == sorted([REAL_LINE, twin])


def test_psv_null_and_order_of_random_rows(scene, tmp_path):
    out = tmp_path / "cone.psv"
    export(scene.db, "psc", "psv", out, selection=selections.cone(10, 20, 600),
           progress=False)
    expected = {r["pts_key"]: r for r in cone_oracle(scene, "psc", 10, 20, 600)}
    names = [c.name for c in catalogs.PSC if c.name != "hpx"]
    lines = out.read_text().splitlines()
    assert len(lines) == len(expected)
    for line in lines:
        fields = dict(zip(names, line.split("|"), strict=True))
        row = expected[int(fields["pts_key"])]
        for name, text in fields.items():
            assert (text == "\\N") == (row[name] is None), name
        if row["j_m"] is not None:
            assert float(fields["j_m"]) == pytest.approx(row["j_m"], abs=5.0001e-4)
            assert len(fields["j_m"].partition(".")[2]) <= 3


def test_box_across_ra_zero_and_polygon_against_brute_force(scene, tmp_path):
    rows = rows_of(scene, "SELECT pts_key, ra, dec FROM public.psc")
    ra = np.array([r["ra"] for r in rows])
    dec = np.array([r["dec"] for r in rows])
    keys = np.array([r["pts_key"] for r in rows])
    inside_box = ((ra >= 359.5) | (ra <= 0.7)) & (dec >= -30.5) & (dec <= -29.2)
    out = tmp_path / "box.parquet"
    export(scene.db, "psc", "parquet", out, selection=selections.box(359.5, 0.7, -30.5, -29.2),
           columns=["pts_key"], progress=False)
    got = pq.read_table(out).column("pts_key").to_pylist()
    assert sorted(got) == sorted(keys[inside_box].tolist()) and inside_box.sum() > 50
    # A convex quadrilateral: inside when on the left of every great-circle edge.
    vertices = [(9.5, 19.5), (10.6, 19.6), (10.4, 20.5), (9.6, 20.4)]
    v = sphere.unit_vectors([p[0] for p in vertices], [p[1] for p in vertices])
    p = sphere.unit_vectors(ra, dec)
    inside = np.all([p @ np.cross(v[i], v[(i + 1) % 4]) > 0 for i in range(4)], axis=0)
    flat = [x for vertex in vertices for x in vertex]
    export(scene.db, "psc", "parquet", out, selection=selections.polygon(flat),
           columns=["pts_key"], progress=False)
    got = pq.read_table(out).column("pts_key").to_pylist()
    assert sorted(got) == sorted(keys[inside].tolist()) and inside.sum() > 100


def test_xsc_and_empty_wdb(scene, tmp_path):
    expected = cone_oracle(scene, "xsc", *CONE)
    export(scene.db, "xsc", "fits", tmp_path / "x.fits", selection=selections.cone(*CONE),
           progress=False)
    table = Table.read(tmp_path / "x.fits")
    assert sorted(table["ext_key"].tolist()) == sorted(r["ext_key"] for r in expected)
    summary = export(scene.db, "wdb", "votable", tmp_path / "w.vot", progress=False)
    assert summary.rows == 0
    assert len(Table.read(tmp_path / "w.vot", format="votable")) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"catalog": "psc", "fmt": "xls"}, "unknown format 'xls'"),
    ({"catalog": "stars", "fmt": "csv"}, "unknown catalog 'stars'"),
    ({"catalog": "psc", "fmt": "csv", "columns": ["ra", "jmag"]}, "no column 'jmag' in psc"),
    ({"catalog": "psc_reject", "fmt": "csv"}, "no release is published"),
    ({"catalog": "psc", "fmt": "csv", "release": "nosuch"}, "no release 'nosuch'"),
    ({"catalog": "psc", "fmt": "parquet", "out": "x.parquet.gz"}, "cannot be gzipped"),
])
def test_bad_requests_one_line_errors_and_no_file(scene, tmp_path, kwargs, message):
    out = tmp_path / kwargs.pop("out", "out.file")
    with pytest.raises(TwomassError, match=message) as info:
        export(scene.db, kwargs.pop("catalog"), kwargs.pop("fmt"), out, progress=False,
               **kwargs)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert isinstance(info.value, ExportError | SourceError | TwomassError)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: selections.cone(10, 95, 1), r"Dec must be in \[-90, 90\]"),
    (lambda: selections.cone(10, 0, -1), "radius must be in"),
    (lambda: selections.box(10, 20, 5, 1), "Dec min 5 is above Dec max 1"),
    (lambda: selections.box(-10, 20, 1, 5), r"RA min must be in \[0, 360\]"),
    (lambda: selections.polygon([1, 2, 3, 4]), "at least 3 vertices"),
    (lambda: selections.cone(float("nan"), 0, 1), "finite"),
])
def test_impossible_selections(call, message):
    with pytest.raises(selections.SelectionError, match=message):
        call()
