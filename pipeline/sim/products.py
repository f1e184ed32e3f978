"""Night-product writer: ``night.json`` and the Parquet files, cast to the contract.

Every table is built against :func:`twomass.schema.products.product_schema`, so a
column that is missing, extra, of another type, or NULL where the schema forbids it
fails here rather than at ingest. Inside the simulator a NULL is NaN in a float
column and -1 in a nullable integer column. Files carry no timestamps or
writer-specific metadata, so the same content gives the same bytes, and a CRC per page,
which ingest verifies, so a file corrupted after it was written is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twomass.schema.products import product_schema

PIPELINE = "twomass-simulate"
WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True, "write_page_checksum": True}


def to_table(columns: dict[str, np.ndarray], file_name: str) -> pa.Table:
    """Arrow table of ``columns`` with exactly the product schema of ``file_name``."""
    schema = product_schema(file_name)
    arrays = []
    for field in schema:
        if field.name not in columns:
            raise KeyError(f"{file_name}: column {field.name!r} was not produced")
        values = np.asarray(columns[field.name])
        mask = None
        if pa.types.is_floating(field.type):
            mask = np.isnan(values.astype(np.float64))
        elif pa.types.is_integer(field.type) and field.nullable:
            mask = values < 0
        if mask is not None and not mask.any():
            mask = None
        if mask is not None and not field.nullable:
            raise ValueError(f"{file_name}: NULL in NOT NULL column {field.name!r}")
        if pa.types.is_string(field.type):
            values = values.astype(str)
        elif pa.types.is_date32(field.type):
            values = values.astype("datetime64[D]")
        else:
            values = values.astype(field.type.to_pandas_dtype())
        arrays.append(pa.array(values, type=field.type, mask=mask))
    extra = set(columns) - set(schema.names)
    if extra:
        raise KeyError(f"{file_name}: columns not in the product schema: {sorted(extra)}")
    return pa.Table.from_arrays(arrays, schema=schema)


def empty_table(file_name: str) -> pa.Table:
    """A zero-row table of the product schema (a night may have no ext rows)."""
    return product_schema(file_name).empty_table()


def write_table(table: pa.Table, path: Path) -> None:
    """Write one Parquet file deterministically."""
    pq.write_table(table, path, **WRITE_OPTIONS)


class RowGroupWriter:
    """Streams one product file a row group at a time (one scan per group)."""

    def __init__(self, path: Path, file_name: str) -> None:
        self.file_name = file_name
        self.rows = 0
        self._writer = pq.ParquetWriter(path, product_schema(file_name), **WRITE_OPTIONS)

    def write(self, columns: dict[str, np.ndarray]) -> None:
        table = to_table(columns, self.file_name)
        self.rows += table.num_rows
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def write_night_json(directory: Path, date: str, hemis: str, version: str,
                     pipeline: str = PIPELINE, extra: dict | None = None) -> None:
    """``night.json``: the night's identity and the pipeline that wrote it (``extra``:
    further fields the writer records, which ingest ignores)."""
    doc = {"date": date, "hemis": hemis, "pipeline": pipeline, "pipeline_version": version,
           **(extra or {})}
    (directory / "night.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
