"""``catalog_table``: the same Table from Arrow and from psycopg rows, each column with
the unit, UCD and description of ``schema/catalogs.py``, NULLs masked."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from twomass.access.tables import UnknownCatalog, catalog_table
from twomass.schema import catalogs

NAMES = ["ra", "j_m", "pxpa", "date", "designation", "dist_arcsec", "user_flag"]
ROWS = [(1.5, 12.25, 7, dt.date(2000, 9, 22), "00042876-8955069 ", 0.5, None),
        (2.5, None, None, None, None, 1.5, "x")]


def test_rows_and_arrow_give_the_same_described_table():
    arrow = pa.table({
        "ra": pa.array([1.5, 2.5]), "j_m": pa.array([12.25, None], pa.float32()),
        "pxpa": pa.array([7, None], pa.int16()),
        "date": pa.array([dt.date(2000, 9, 22), None], pa.date32()),
        "designation": pa.array(["00042876-8955069 ", None]),
        "dist_arcsec": pa.array([0.5, 1.5]), "user_flag": pa.array([None, "x"])})
    from_rows = catalog_table(NAMES, ROWS, "psc")
    from_arrow = catalog_table(NAMES, arrow, "psc")
    described = {c.name: c for c in (*catalogs.PSC, catalogs.DIST_ARCSEC)}
    for table in (from_rows, from_arrow):
        assert table.colnames == NAMES
        assert table["j_m"].mask.tolist() == [False, True]
        assert table["pxpa"].mask.tolist() == [False, True]
        assert table["date"].tolist()[0] == "2000-09-22" and table["date"].mask[1]
        assert table["designation"][0] == "00042876-8955069 "
        assert table["user_flag"].mask.tolist() == [True, False]
        assert table["user_flag"].unit is None and "ucd" not in table["user_flag"].meta
        for name in NAMES[:-1]:
            info = described[name]
            assert (str(table[name].unit) if table[name].unit else "") == info.unit
            assert table[name].meta["ucd"] == info.ucd
            assert table[name].description == info.description
    assert from_arrow["j_m"].dtype == np.float32 and from_arrow["pxpa"].dtype == np.int16
    assert float(from_rows["j_m"][0]) == float(from_arrow["j_m"][0]) == 12.25


def test_empty_and_unknown():
    empty = catalog_table(["ra", "k_m_ext"], [], "xsc")
    assert len(empty) == 0 and empty.colnames == ["ra", "k_m_ext"]
    assert empty["k_m_ext"].unit == "mag"
    assert catalog_table(["qual"], [(9,)], "scan_info")["qual"].meta["ucd"] == "meta.code.qual"
    with pytest.raises(UnknownCatalog, match="unknown catalog 'stars'"):
        catalog_table(["ra"], [(1.0,)], "stars")
    with pytest.raises(ValueError, match="2 column names for a row of 1 values"):
        catalog_table(["ra", "dec"], [(1.0,)], "psc")
