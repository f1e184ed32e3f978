"""Night-product file format: the Parquet schemas pipeline stages write and ingest reads.

A night product directory (``YYYY-MM-DDh/``) holds ``night.json``, ``tiles.parquet``
(the planned tiles its scans observed), ``scans.parquet``, ``pts.parquet`` and
``ext.parquet``, and optionally ``bright_stars.parquet`` (the very bright stars near its
scans; see ``docs/night-products.md``). Each Parquet file
has the columns of its ``wdb`` table, with the types of the working database, except
the columns the database derives (keys it assigns, ``hpx``, and the night's hemisphere
and date, which ``night.json`` gives once). Extractions name their scan by its nightly
scan number, ``scan``.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import sqlalchemy as sa

from twomass.schema import wdb

#: Product file -> working table it loads into.
PRODUCT_TABLES = {
    "tiles.parquet": wdb.tile,
    "scans.parquet": wdb.scan,
    "pts.parquet": wdb.pts,
    "ext.parquet": wdb.ext,
    "bright_stars.parquet": wdb.bright_star,
}

#: Product files a night directory may leave out (read as empty tables).
OPTIONAL_FILES = ("bright_stars.parquet",)

#: Columns of each working table that the database, not the product, provides.
DERIVED_COLUMNS = {
    "tile": {"hpx"},
    "scan": {"scan_key", "night_key", "hpx", "hemis", "date"},
    "pts": {"scan_key", "hpx"},
    "ext": {"scan_key", "hpx"},
    "bright_star": {"night_key", "hpx"},
}

#: Extractions refer to their scan by its nightly number.
SCAN_NUMBER = sa.Column("scan", sa.SmallInteger, nullable=False,
                        comment="nightly scan number of the scan that made the extraction")

NIGHT_JSON_FIELDS = ("date", "hemis", "pipeline", "pipeline_version")

#: Julian Date of 0001-01-01T00:00 UT minus one day (``date.toordinal()`` counts from 1).
JD_ORDINAL_OFFSET = 1721424.5

#: Arrow types that hold the same values with other offsets or storage.
_SAME_VALUES = (frozenset({pa.string(), pa.large_string()}),
                frozenset({pa.binary(), pa.large_binary()}))


def night_start_jd(date: dt.date) -> float:
    """Julian Date at 00:00 UT of ``date``, a night's reference date (``night.json``)."""
    return date.toordinal() + JD_ORDINAL_OFFSET


def arrow_type(sql_type: sa.types.TypeEngine) -> pa.DataType:
    """The Arrow type that carries a working-database column type without loss."""
    if isinstance(sql_type, sa.BigInteger):
        return pa.int64()
    if isinstance(sql_type, sa.SmallInteger):
        return pa.int16()
    if isinstance(sql_type, sa.Integer):
        return pa.int32()
    if isinstance(sql_type, sa.Double):
        return pa.float64()
    if isinstance(sql_type, sa.REAL):
        return pa.float32()
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.String):
        return pa.string()
    raise TypeError(f"no Arrow type for {sql_type!r}")


def converts_losslessly(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether every value of Arrow type ``source`` has an equal value of type ``target``.

    Other writers (pandas, for one) store the contract's values in other Arrow types:
    large strings, narrower integers, single-precision floats, dictionary encoding. A
    reader accepts those and casts them; a type that could lose values is refused.
    """
    if source == target:
        return True
    types = pa.types
    if types.is_dictionary(source):
        return converts_losslessly(source.value_type, target)
    if types.is_integer(source) and types.is_integer(target):
        if types.is_signed_integer(source) == types.is_signed_integer(target):
            return source.bit_width <= target.bit_width
        return types.is_unsigned_integer(source) and source.bit_width < target.bit_width
    if types.is_floating(source) and types.is_floating(target):
        return source.bit_width <= target.bit_width
    if types.is_timestamp(source) and types.is_timestamp(target):
        return source.unit == target.unit
    return any(source in same and target in same for same in _SAME_VALUES)


def product_columns(table: sa.Table) -> list[sa.Column]:
    """Columns of ``table`` that a night product carries, in file order."""
    derived = DERIVED_COLUMNS[table.name]
    columns = [c for c in table.columns if c.name not in derived]
    if table.name in ("pts", "ext"):
        columns.insert(0, SCAN_NUMBER)
    return columns


def product_schema(file_name: str) -> pa.Schema:
    """Arrow schema of one night-product Parquet file (``scans.parquet``, ...)."""
    table = PRODUCT_TABLES[file_name]
    return pa.schema([
        pa.field(c.name, arrow_type(c.type), nullable=bool(c.nullable))
        for c in product_columns(table)
    ])
