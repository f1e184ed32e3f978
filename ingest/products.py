"""Reading one night product directory: files present, readable, with the contract's schema.

A night directory holds ``night.json`` and the four Parquet files of
``twomass.schema.products``. Columns stored in another Arrow type that converts without
loss (a large string, a narrower integer, ...) are cast to the contract's type. Each
file is read once into memory; its SHA-256 is computed from the same bytes the Parquet
reader parses, so the provenance recorded in ``wdb.ingest_log`` describes exactly what
was loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from twomass.core.errors import TwomassError
from twomass.schema.products import (
    NIGHT_JSON_FIELDS,
    PRODUCT_TABLES,
    converts_losslessly,
    product_schema,
)

NIGHT_JSON = "night.json"
#: Every file of a night product directory, in the order ingest reads them.
PRODUCT_FILES = (NIGHT_JSON, *PRODUCT_TABLES)


class ProductError(TwomassError):
    """A night product is missing, unreadable or invalid; nothing was written.

    Attributes
    ----------
    file
        Path of the offending file.
    row
        0-based row of the first offending row in that file, when one row is at fault.
    column
        Offending column, when one column is at fault.
    """

    def __init__(self, file: Path | str, message: str, *, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.row, self.column = Path(file), row, column
        where = str(file)
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f" column {column}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class NightInfo:
    """Contents of ``night.json``."""

    hemis: str
    date: dt.date
    pipeline: str
    pipeline_version: str

    @property
    def label(self) -> str:
        """The night's usual name, ``YYYY-MM-DD`` followed by the hemisphere."""
        return f"{self.date.isoformat()}{self.hemis}"


@dataclass(frozen=True)
class NightProducts:
    """A night product directory read into memory.

    Attributes
    ----------
    directory
        The directory as given.
    night
        ``night.json``.
    tables
        Product file name -> its Arrow table, with exactly ``product_schema(file)``.
    sha256
        File name -> hex SHA-256 of the file's bytes, for every file of the directory.
    """

    directory: Path
    night: NightInfo
    tables: dict[str, pa.Table]
    sha256: dict[str, str]

    def path(self, file: str) -> Path:
        """Path of one product file, for messages."""
        return self.directory / file

    @property
    def rows(self) -> dict[str, int]:
        """Working table -> rows in the night products."""
        return {PRODUCT_TABLES[f].name: t.num_rows for f, t in self.tables.items()}


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ProductError(path, "file is missing (a night product directory holds "
                           + ", ".join(PRODUCT_FILES) + ")")
    return path.read_bytes()


def read_night_json(path: Path, data: bytes) -> NightInfo:
    """Parse and check ``night.json``: every field of ``NIGHT_JSON_FIELDS``, typed."""
    try:
        fields = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProductError(path, f"not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise ProductError(path, "expected a JSON object")
    for name in NIGHT_JSON_FIELDS:
        if name not in fields:
            raise ProductError(path, f"field {name!r} is missing", column=None)
        if not isinstance(fields[name], str):
            raise ProductError(path, f"field {name!r} must be a string, "
                               f"got {fields[name]!r}")
    if fields["hemis"] not in ("n", "s"):
        raise ProductError(path, f"field 'hemis' must be 'n' or 's', got {fields['hemis']!r}")
    try:
        date = dt.date.fromisoformat(fields["date"])
    except ValueError:
        raise ProductError(path, f"field 'date' must be YYYY-MM-DD, "
                           f"got {fields['date']!r}") from None
    return NightInfo(fields["hemis"], date, fields["pipeline"], fields["pipeline_version"])


def check_schema(path: Path, actual: pa.Schema, expected: pa.Schema) -> None:
    """Require exactly the expected column names, each of the expected type or of one
    that converts to it without loss (nullability is checked later).

    Raises
    ------
    ProductError
        Naming the first missing, unexpected or wrongly typed column.
    """
    names = set(actual.names)
    for field in expected:
        if field.name not in names:
            raise ProductError(path, f"column is missing (expected {field.type})",
                               column=field.name)
    for field in actual:
        if expected.get_field_index(field.name) < 0:
            raise ProductError(path, "unexpected column (not in the night product format)",
                               column=field.name)
        want = expected.field(field.name).type
        if not converts_losslessly(field.type, want):
            raise ProductError(path, f"wrong type {field.type}, expected {want}",
                               column=field.name)


def read_parquet(path: Path, data: bytes) -> pa.Table:
    """Read one product Parquet file and return it with the contract's column order."""
    expected = product_schema(path.name)
    try:
        # ParquetFile.read yields one chunk per row group (read_table splits further).
        table = pq.ParquetFile(pa.BufferReader(data)).read()
    except (pa.ArrowException, OSError) as exc:
        reason = " ".join(str(exc).split())
        raise ProductError(path, f"not a readable Parquet file ({reason})") from None
    check_schema(path, table.schema, expected)
    table = table.select(expected.names)
    if table.schema.types != expected.types:
        table = table.cast(pa.schema([f.with_type(expected.field(f.name).type)
                                      for f in table.schema]))
    if any(column.num_chunks > 1 for column in table.columns):
        table = table.combine_chunks()
    return table


def read_night(directory: Path | str) -> NightProducts:
    """Read a night product directory; raise ``ProductError`` for a missing or bad file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ProductError(directory, "not a directory")
    data = {file: _read_bytes(directory / file) for file in PRODUCT_FILES}
    # hashlib releases the GIL: hash on a worker thread while Arrow decodes.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.map(lambda blob: hashlib.sha256(blob).hexdigest(), data.values())
        night = read_night_json(directory / NIGHT_JSON, data[NIGHT_JSON])
        tables = {file: read_parquet(directory / file, data[file])
                  for file in PRODUCT_FILES if file != NIGHT_JSON}
        sha256 = dict(zip(data, digests, strict=True))
    return NightProducts(directory, night, tables, sha256)
