"""Night products written by other tools: lossless Arrow types are cast, lossy ones refused."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twomass.ingest.load import ingest_night
from twomass.ingest.products import ProductError, read_night
from twomass.schema.products import PRODUCT_TABLES, converts_losslessly, product_schema

LOSSLESS = [
    (pa.large_string(), pa.string()),
    (pa.string(), pa.large_string()),
    (pa.large_binary(), pa.binary()),
    (pa.int8(), pa.int16()),
    (pa.int16(), pa.int64()),
    (pa.uint8(), pa.int16()),
    (pa.uint32(), pa.int64()),
    (pa.uint16(), pa.uint32()),
    (pa.float16(), pa.float32()),
    (pa.float32(), pa.float64()),
    (pa.dictionary(pa.int32(), pa.large_string()), pa.string()),
    (pa.dictionary(pa.int8(), pa.int16()), pa.int32()),
    (pa.timestamp("us"), pa.timestamp("us", tz="UTC")),
    (pa.date32(), pa.date32()),
]
LOSSY = [
    (pa.float64(), pa.float32()),
    (pa.int64(), pa.int32()),
    (pa.int32(), pa.uint32()),
    (pa.uint16(), pa.int16()),
    (pa.int32(), pa.float64()),
    (pa.string(), pa.float64()),
    (pa.string(), pa.int16()),
    (pa.binary(), pa.string()),
    (pa.timestamp("ns"), pa.timestamp("us")),
    (pa.date64(), pa.date32()),
    (pa.dictionary(pa.int32(), pa.float64()), pa.float32()),
]


@pytest.mark.parametrize("source, target", LOSSLESS, ids=str)
def test_lossless_conversions(source: pa.DataType, target: pa.DataType) -> None:
    assert converts_losslessly(source, target)


@pytest.mark.parametrize("source, target", LOSSY, ids=str)
def test_lossy_conversions(source: pa.DataType, target: pa.DataType) -> None:
    assert not converts_losslessly(source, target)


def _rewrite_with_pandas(directory: Path, edit: Callable[[str, pd.DataFrame], None]) -> None:
    """Every product file read into pandas, edited in place, written back by pandas."""
    for file in PRODUCT_TABLES:
        if not (directory / file).exists():  # (an optional file the night leaves out)
            continue
        frame = pq.read_table(directory / file).to_pandas()
        edit(file, frame)
        frame.to_parquet(directory / file)


def _narrower(file: str, frame: pd.DataFrame) -> None:
    """Narrower integers, unsigned into signed, dictionary-encoded strings."""
    if file in ("pts.parquet", "ext.parquet"):
        frame["id"] = frame["id"].astype("int16")  # int32 in the contract
        frame["scan"] = frame["scan"].astype("uint8")  # int16
        frame["cc_flg"] = frame["cc_flg"].astype("category")
    if file == "tiles.parquet":
        frame["dec_band"] = frame["dec_band"].astype("int8")  # int16


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every product column of every loaded row, extractions by (scan, id)."""
    order = {"tile": "tile", "scan": "scan", "pts": "s.scan, t.id", "ext": "s.scan, t.id",
             "bright_star": "id"}
    rows = {}
    with psycopg.connect(url) as conn:
        for file, table in PRODUCT_TABLES.items():
            names = [n for n in product_schema(file).names if n != "scan" or table.name == "scan"]
            join = ("" if table.name in ("tile", "scan", "bright_star")
                    else " JOIN wdb.scan s USING (scan_key)")
            scan = "" if join == "" else "s.scan, "
            rows[table.name] = conn.execute(
                f"SELECT {scan}{', '.join('t.' + n for n in names)} "
                f"FROM wdb.{table.name} t{join} ORDER BY {order[table.name]}").fetchall()
    return rows


def test_a_night_written_by_pandas_loads_the_same_rows(db, db_url, make_night,
                                                       tmp_path: Path) -> None:
    night = make_night(n_pts=300, n_ext=12, n_scans=3)
    ingest_night(db, night.directory, progress=False)
    original = _rows(db_url)

    rewritten = tmp_path / "by-pandas"
    shutil.copytree(night.directory, rewritten)
    _rewrite_with_pandas(rewritten, _narrower)
    stored = pq.read_schema(rewritten / "pts.parquet")
    assert stored.field("rd_flg").type == pa.large_string()
    assert stored.field("id").type == pa.int16() and stored.field("scan").type == pa.uint8()
    assert pa.types.is_dictionary(stored.field("cc_flg").type)

    products = read_night(rewritten)
    for file, table in products.tables.items():
        assert table.schema.types == product_schema(file).types, file
    result = ingest_night(db, rewritten, replace=True, progress=False)
    assert result.status == "replaced"
    assert result.rows["pts"] == 300 and result.rows["ext"] == 12
    assert _rows(db_url) == original


@pytest.mark.parametrize("file, column, dtype, message", [
    ("pts.parquet", "j_m", "float64", "wrong type double, expected float"),
    ("pts.parquet", "id", "int64", "wrong type int64, expected int32"),
    ("ext.parquet", "scan", "uint16", "wrong type uint16, expected int16"),
    ("scans.parquet", "qual", "str", "wrong type large_string, expected int16"),
])
def test_a_lossy_type_is_refused(make_night, file: str, column: str, dtype: str,
                                 message: str) -> None:
    night = make_night()

    def edit(name: str, frame: pd.DataFrame) -> None:
        if name == file:
            frame[column] = frame[column].astype(dtype)

    _rewrite_with_pandas(night.directory, edit)
    with pytest.raises(ProductError, match=rf"{file} column {column}: {message}$") as error:
        read_night(night.directory)
    assert (error.value.file.name, error.value.column) == (file, column)
