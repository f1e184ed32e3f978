"""Reading one night product directory: files present, readable, with the contract's schema.

A night directory holds ``night.json`` and the four Parquet files of
``twomass.schema.products``. Columns stored in another Arrow type that converts without
loss (a large string, a narrower integer, ...) are cast to the contract's type. Each
file is read once into memory; its SHA-256 is computed from the same bytes the Parquet
reader parses, so the provenance recorded in ``wdb.ingest_log`` describes exactly what
was loaded, and page checksums are verified where the writer stored them, so a file
corrupted since it was written is refused rather than loaded with wrong values.

Whatever is in a product's place (a FIFO, a directory, a symbolic-link loop, a file
without read permission, a ``night.json`` of hostile strings) ends as one
``ProductError`` naming the file and what is wrong with it, never as a traceback or a
hang.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import reprlib
import stat
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from twomass.core.errors import TwomassError
from twomass.schema.products import (
    NIGHT_JSON_FIELDS,
    OPTIONAL_FILES,
    PRODUCT_TABLES,
    converts_losslessly,
    product_schema,
)

NIGHT_JSON = "night.json"
#: Every file of a night product directory, in the order ingest reads them.
PRODUCT_FILES = (NIGHT_JSON, *PRODUCT_TABLES)
#: The files a night product directory must hold.
REQUIRED_FILES = tuple(f for f in PRODUCT_FILES if f not in OPTIONAL_FILES)
#: ``night.json`` holds four short fields; anything bigger is not one.
MAX_NIGHT_JSON_BYTES = 65_536
#: Longest ``pipeline`` / ``pipeline_version`` accepted [characters].
MAX_FIELD_CHARS = 200
PARQUET_MAGIC = b"PAR1"
#: Suffix of a night directory still being written (``twomass simulate``).
PARTIAL_SUFFIX = ".partial"


def printable(path: Path | str) -> str:
    """A path as text any terminal and PostgreSQL take: bytes of a file name that are not
    UTF-8 (which Python keeps as lone surrogates) are written as ``\\xNN``."""
    text = str(path)
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


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
        where = printable(file)
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
        """Working table -> rows in the night products (an empty optional file left out)."""
        return {PRODUCT_TABLES[f].name: t.num_rows for f, t in self.tables.items()
                if t.num_rows or f not in OPTIONAL_FILES}


def _kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"))
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def _unreadable(path: Path, exc: OSError) -> ProductError:
    if exc.errno == errno.ELOOP:
        return ProductError(path, "cannot be read: a symbolic link loop (too many levels "
                            "of symbolic links)")
    reason = (exc.strerror or type(exc).__name__).lower()
    return ProductError(path, f"cannot be read: {reason}")


def _read_bytes(path: Path) -> pa.Buffer:
    """The bytes of a regular file; anything else is a ``ProductError`` saying what it is.

    The file is opened non-blocking and checked on the open descriptor, so a FIFO put in
    a product's place is reported instead of blocking the ingest forever. The bytes go
    into Arrow-owned memory: an Arrow reader over Python ``bytes`` may be released by a
    worker thread during interpreter exit, which must then take the GIL and aborts the
    process (exit 134) after an error that was already reported.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        what = ("is a symbolic link to a missing file" if _exists(path) else
                "file is missing")
        raise ProductError(path, f"{what} (a night product directory holds "
                           + ", ".join(REQUIRED_FILES) + ")") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ProductError(path, f"is {_kind(mode)}, not a regular file")
        buffer = pa.allocate_buffer(os.fstat(fd).st_size)
        with os.fdopen(fd, "rb", closefd=False) as file:
            size = file.readinto(memoryview(buffer))
        return buffer if size == buffer.size else buffer.slice(0, size)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    finally:
        os.close(fd)


def _check_text(path: Path, name: str, value: str) -> None:
    """A ``night.json`` string the database and a terminal can take as it is."""
    if len(value) > MAX_FIELD_CHARS:
        raise ProductError(path, f"field {name!r} has {len(value):,d} characters, more "
                           f"than {MAX_FIELD_CHARS}")
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            what = "a control character" if category == "Cc" else "an unpaired surrogate"
            raise ProductError(path, f"field {name!r} contains {what} "
                               f"(U+{ord(char):04X} at character {position})")


def read_night_json(path: Path, data: bytes | pa.Buffer) -> NightInfo:
    """Parse and check ``night.json``: every field of ``NIGHT_JSON_FIELDS``, typed.

    Strings are checked for what PostgreSQL ``text`` cannot hold (NUL), what a terminal
    should not receive (control characters) and for their length.
    """
    if len(data) > MAX_NIGHT_JSON_BYTES:
        raise ProductError(path, f"{len(data):,d} bytes, more than {MAX_NIGHT_JSON_BYTES:,d}: "
                           "not a night.json (four short fields)")
    try:
        fields = json.loads(data if isinstance(data, bytes) else data.to_pybytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProductError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ProductError(path, "not valid JSON: nested too deeply") from None
    if not isinstance(fields, dict):
        raise ProductError(path, "expected a JSON object")
    for name in NIGHT_JSON_FIELDS:
        if name not in fields:
            raise ProductError(path, f"field {name!r} is missing", column=None)
        if not isinstance(fields[name], str):
            raise ProductError(path, f"field {name!r} must be a string, "
                               f"got {reprlib.repr(fields[name])}")
        _check_text(path, name, fields[name])
    if fields["hemis"] not in ("n", "s"):
        raise ProductError(path, f"field 'hemis' must be 'n' or 's', got {fields['hemis']!r}")
    try:
        date = dt.date.fromisoformat(fields["date"])
    except ValueError:
        date = None
    if date is None or date.isoformat() != fields["date"]:
        raise ProductError(path, f"field 'date' must be YYYY-MM-DD, "
                           f"got {fields['date']!r}")
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


def read_parquet(path: Path, data: bytes | pa.Buffer) -> pa.Table:
    """Read one product Parquet file and return it with the contract's column order."""
    expected = product_schema(path.name)
    if bytes(memoryview(data)[:4]) != PARQUET_MAGIC:  # the reader checks only the last 4
        raise ProductError(path, "not a readable Parquet file (it does not start with "
                           "the Parquet magic bytes PAR1)")
    try:
        # ParquetFile.read yields one chunk per row group (read_table splits further).
        # Page CRCs are verified where the writer stored them (the simulator does).
        table = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True).read()
        check_schema(path, table.schema, expected)
        table = table.select(expected.names)
        if table.schema.types != expected.types:
            table = table.cast(pa.schema([f.with_type(expected.field(f.name).type)
                                          for f in table.schema]))
        if any(column.num_chunks > 1 for column in table.columns):
            table = table.combine_chunks()
    except (pa.ArrowException, OSError, MemoryError) as exc:
        reason = " ".join(str(exc).split())
        if "checksum" in reason.lower():
            raise ProductError(path, "corrupted: a page's checksum does not match its data "
                               f"({reason})") from None
        raise ProductError(path, f"not a readable Parquet file ({reason})") from None
    return table


def read_night(directory: Path | str) -> NightProducts:
    """Read a night product directory; raise ``ProductError`` for a missing or bad file."""
    directory = Path(directory)
    try:
        if not stat.S_ISDIR(directory.stat().st_mode):
            raise ProductError(directory, "not a directory")
    except FileNotFoundError:
        raise ProductError(directory, "not a directory") from None
    except OSError as exc:
        raise _unreadable(directory, exc) from None
    # (an optional file left out is an empty table, and has no checksum)
    data = {file: _read_bytes(directory / file) for file in PRODUCT_FILES
            if file in REQUIRED_FILES or _exists(directory / file)}
    # hashlib releases the GIL: hash on a worker thread while Arrow decodes.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.map(lambda blob: hashlib.sha256(blob).hexdigest(), data.values())
        night = read_night_json(directory / NIGHT_JSON, data[NIGHT_JSON])
        tables = {file: read_parquet(directory / file, data[file]) if file in data
                  else product_schema(file).empty_table()
                  for file in PRODUCT_FILES if file != NIGHT_JSON}
        sha256 = dict(zip(data, digests, strict=True))
    return NightProducts(directory, night, tables, sha256)


def _exists(path: Path) -> bool:
    """Whether anything, even a broken symbolic link, is at ``path``; False if unreadable."""
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def _child_nights(directory: Path) -> list[Path]:
    """Subdirectories holding ``night.json``, in name order, ``.partial`` ones left out."""
    try:
        children = sorted(c for c in directory.iterdir()
                          if not c.name.endswith(PARTIAL_SUFFIX) and c.is_dir())
    except OSError:  # not a directory, unreadable: read_night says what it is
        return []
    return [c for c in children if _exists(c / NIGHT_JSON)]


def night_directories(paths: Iterable[Path | str]) -> list[Path]:
    """The night directories a command line names, in the order to ingest them.

    A directory holding ``night.json`` is one night. A directory without one that holds
    night directories (as ``twomass simulate OUT`` writes them) stands for those nights in
    name order, which for ``YYYY-MM-DDh`` names is the order they were observed; a
    ``.partial`` directory (a night still being written) is left out. Anything else is
    returned as given, for ``read_night`` to say what is wrong with it.
    """
    nights: list[Path] = []
    for path in map(Path, paths):
        found = [] if _exists(path / NIGHT_JSON) else _child_nights(path)
        nights.extend(found or [path])
    return nights
