"""Bad night products: each gives its own clear error and leaves the database unchanged."""

from __future__ import annotations

import datetime as dt
import json
import math

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from twomass.core.errors import TwomassError
from twomass.ingest.load import ingest_night
from twomass.ingest.products import ProductError, read_night
from twomass.ingest.validate import (
    W01,
    W02,
    W03,
    W04,
    W05,
    W06,
    W07,
    IngestWarning,
    InvalidWarning,
    validate,
)


def _drop(column):
    return lambda t: t.drop_columns([column])


def _cast(column, type_):
    def edit(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index(column)
        return t.set_column(i, pa.field(column, type_), t.column(column).cast(type_))
    return edit


# (case, file, edit(table, set_value) or None, expected message fragment (regex))
BAD = [
    ("missing column", "pts.parquet", lambda t, sv: _drop("j_m")(t),
     r"pts\.parquet column j_m: column is missing \(expected float\)"),
    ("wrong type", "pts.parquet", lambda t, sv: _cast("id", pa.int64())(t),
     r"pts\.parquet column id: wrong type int64, expected int32"),
    ("dec 91", "pts.parquet", lambda t, sv: sv(t, "dec", 5, 91.0),
     r"pts\.parquet row 5 column dec: declination 91\.0 outside \[-90, 90\]"),
    ("NaN position", "pts.parquet", lambda t, sv: sv(t, "ra", 7, math.nan),
     r"pts\.parquet row 7 column ra: value nan is not finite"),
    ("ra 360", "ext.parquet", lambda t, sv: sv(t, "ra", 2, 360.0),
     r"ext\.parquet row 2 column ra: right ascension 360\.0 outside \[0, 360\)"),
    ("rd_flg of length 2", "pts.parquet", lambda t, sv: sv(t, "rd_flg", 3, "22"),
     r"pts\.parquet row 3 column rd_flg: flag '22' must have 3 characters"),
    ("cc_flg alphabet", "pts.parquet", lambda t, sv: sv(t, "cc_flg", 4, "0#0"),
     r"pts\.parquet row 4 column cc_flg: flag '0#0' does not match \[A-Za-z0\]\{3\}"),
    ("dist_edge_flg alphabet", "ext.parquet", lambda t, sv: sv(t, "dist_edge_flg", 1, "en"),
     r"ext\.parquet row 1 column dist_edge_flg: flag 'en' does not match \[ns\]\[ew\]"),
    ("negative error", "pts.parquet", lambda t, sv: sv(t, "h_cmsig", 9, -0.1),
     r"pts\.parquet row 9 column h_cmsig: uncertainty -0\.1\d* is negative"),
    ("NULL in required column", "pts.parquet", lambda t, sv: sv(t, "err_maj", 6, None),
     r"pts\.parquet row 6 column err_maj: value is NULL, the column is required"),
    ("duplicated scan number", "scans.parquet", lambda t, sv: sv(t, "scan", 1, 1),
     r"scans\.parquet row 1 column scan: duplicate scan number 1"),
    ("extraction of an unknown scan", "pts.parquet", lambda t, sv: sv(t, "scan", 2, 99),
     r"pts\.parquet row 2 column scan: scan number 99 is not in scans\.parquet"),
    ("duplicated (scan, id)", "pts.parquet", lambda t, sv: sv(t, "id", 11, 1),
     r"pts\.parquet row 11 column id: duplicate \(scan, id\) = \(1, 1\)"),
    ("scan of an unknown tile", "scans.parquet", lambda t, sv: sv(t, "tile", 2, 7),
     r"scans\.parquet row 2 column tile: tile 7 is not in tiles\.parquet"),
    ("QA score out of range", "scans.parquet", lambda t, sv: sv(t, "qual", 0, 11),
     r"scans\.parquet row 0 column qual: QA score 11 outside \[0, 10\]"),
    ("scan number below 1", "scans.parquet", lambda t, sv: sv(t, "scan", 0, -1),
     r"scans\.parquet row 0 column scan: scan number -1 below 1"),
    ("source id below 1", "pts.parquet", lambda t, sv: sv(t, "id", 4, -5),
     r"pts\.parquet row 4 column id: source id -5 below 1"),
    ("error-ellipse angle 400", "pts.parquet", lambda t, sv: sv(t, "err_ang", 2, 400),
     r"pts\.parquet row 2 column err_ang: position angle 400 outside \[0, 180\]"),
    ("mp_flg 7", "ext.parquet", lambda t, sv: sv(t, "mp_flg", 1, 7),
     r"ext\.parquet row 1 column mp_flg: 0/1 flag 7 outside \[0, 1\]"),
    ("dangling pts_id", "ext.parquet", lambda t, sv: sv(t, "pts_id", 0, 999),
     r"ext\.parquet row 0 column pts_id: point extraction \(scan, id\) = \(1, 999\) is "
     r"not in pts\.parquet"),
    ("non-ASCII flag", "pts.parquet", lambda t, sv: sv(t, "cc_flg", 3, "\u00e900"),
     r"pts\.parquet row 3 column cc_flg: flag '\u00e900' does not match"),
]


@pytest.mark.parametrize("case, file, edit, message", BAD, ids=[b[0] for b in BAD])
def test_bad_value_names_file_row_column_and_writes_nothing(db,
        case, file, edit, message, db_url, make_night, snapshot, edit_parquet, set_value):
    ingest_night(db, make_night(date=dt.date(2000, 5, 1)).directory, progress=False)
    before = snapshot(db_url)
    night = make_night(n_pts=40, n_ext=5)
    edit_parquet(night.directory / file, lambda t: edit(t, set_value))
    with pytest.raises(ProductError, match=message) as caught:
        ingest_night(db, night.directory, progress=False)
    assert str(night.directory / file) in str(caught.value)
    assert isinstance(caught.value, TwomassError) and "\n" not in str(caught.value)
    assert snapshot(db_url) == before


def test_missing_file(db, db_url, make_night, snapshot):
    night = make_night()
    (night.directory / "ext.parquet").unlink()
    before = snapshot(db_url)
    with pytest.raises(ProductError, match=r"ext\.parquet: file is missing"):
        ingest_night(db, night.directory, progress=False)
    assert snapshot(db_url) == before


def test_truncated_parquet(db, db_url, make_night, snapshot):
    night = make_night()
    path = night.directory / "pts.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = snapshot(db_url)
    with pytest.raises(ProductError, match=r"pts\.parquet: not a readable Parquet file"):
        ingest_night(db, night.directory, progress=False)
    assert snapshot(db_url) == before


def test_night_json_problems(make_night):
    night = make_night()
    path = night.directory / "night.json"
    fields = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in fields.items() if k != "pipeline_version"}))
    with pytest.raises(ProductError, match=r"night\.json: field 'pipeline_version' is missing"):
        read_night(night.directory)
    path.write_text(json.dumps(fields | {"hemis": "x"}))
    with pytest.raises(ProductError, match=r"field 'hemis' must be 'n' or 's'"):
        read_night(night.directory)
    path.write_text("{not json")
    with pytest.raises(ProductError, match=r"night\.json: not valid JSON"):
        read_night(night.directory)


def test_unexpected_column(make_night, edit_parquet):
    night = make_night()
    edit_parquet(night.directory / "ext.parquet",
                 lambda t: t.append_column("extra", pa.array([1] * t.num_rows)))
    with pytest.raises(ProductError, match=r"ext\.parquet column extra: unexpected column"):
        read_night(night.directory)


def test_warning_classes(make_night, edit_parquet, set_value):
    night = make_night(n_pts=40, n_scans=4)
    edit_parquet(night.directory / "pts.parquet", lambda t: set_value(set_value(set_value(
        set_value(set_value(t, "j_snr", 3, 2e9), "k_m", 8, 31.0), "jdate", 12, 1e300),
        "err_maj", 14, 3e38), "dec", 20, -80.0))
    # Scan 4 loses its extractions.
    for file in ("pts.parquet", "ext.parquet"):
        edit_parquet(night.directory / file, lambda t: t.filter(pc.not_equal(t["scan"], 4)))
    edit_parquet(night.directory / "scans.parquet", lambda t: set_value(t, "qual", 2, 3))
    products = read_night(night.directory)
    found = validate(products, "ignore")
    assert [(w.category, w.file, w.row, w.column) for w in found] == [
        (W06, "pts.parquet", 14, "err_maj"),
        (W01, "pts.parquet", 3, "j_snr"),
        (W02, "pts.parquet", 8, "k_m"),
        (W04, "pts.parquet", 12, "jdate"),
        (W03, "scans.parquet", 2, "qual"),
        (W05, "scans.parquet", 3, "scan"),
        (W07, "pts.parquet", 20, "ra"),
    ]
    messages = [str(w) for w in found]
    assert messages[0] == ("W06: pts.parquet row 14 column err_maj: position error 3e+38 "
                           "arcsec above 10")
    assert messages[1] == "W01: pts.parquet row 3 column j_snr: S/N 2e+09 above 1e+09"
    # Huge values are written compactly, not as 300 digits.
    assert messages[3].startswith("W04: pts.parquet row 12 column jdate: Julian Date 1e+300 "
                                  "outside the night 2000-06-01n")
    # 88.5 deg: from dec -80 to the scan's southern edge at dec 8.5.
    assert messages[6] == ("W07: pts.parquet row 20 column ra: extraction 318600 arcsec "
                           "outside scan 3 (more than 60)")
    assert max(map(len, messages)) < 200
    with pytest.warns(IngestWarning) as record:
        validate(products, "warn")
    assert [w.category for w in record] == [W06, W01, W02, W04, W03, W05, W07]
    assert "W02: pts.parquet row 8 column k_m: magnitude 31 outside [-5, 25]" in str(
        record[2].message)
    with pytest.raises(InvalidWarning, match=r"W06: pts\.parquet row 14 .*--on-warning error"):
        validate(products, "error")


def test_a_night_under_another_date_is_refused(make_night):
    night = make_night(date=dt.date(2000, 6, 1))
    path = night.directory / "night.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"date": "2001-06-01"}))
    with pytest.raises(ProductError, match=r"night\.json: field 'date' is 2001-06-01 but its "
                       r"scans were observed -364\.\d days from it"):
        validate(read_night(night.directory), "ignore")
