"""File writers that take Arrow record batches one at a time, so no export holds a table.

Parquet and CSV are written by pyarrow; FITS, VOTable and IPAC by hand here, because
astropy's writers need the whole table in memory: the FITS header is written first with
``NAXIS2 = 0`` and rewritten with the row count at the end (the header keeps its size);
the VOTable is TABLEDATA, row by row; the IPAC table has fixed column widths chosen from
the column types before the first row. Every writer puts each column's unit, UCD and
description where its format keeps them (Parquet field metadata, TUNIT/TCOMM/TUCD,
FIELD attributes, the IPAC unit line).
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from astropy.io import fits

from twomass.schema import catalogs

TEXT_FORMATS = ("csv", "votable", "ipac")


def field_metadata(info: catalogs.CatalogColumn | None) -> dict[bytes, bytes] | None:
    """Parquet/Arrow field metadata of a described column."""
    if info is None:
        return None
    return {b"unit": info.unit.encode(), b"ucd": info.ucd.encode(),
            b"description": info.description.encode()}


def described_schema(schema: pa.Schema, described: dict[str, catalogs.CatalogColumn],
                     table_metadata: dict[str, str]) -> pa.Schema:
    """``schema`` with each described field's unit, UCD and description, and the table's
    own metadata (catalog, release, selection)."""
    fields = [f.with_metadata(field_metadata(described.get(f.name))) for f in schema]
    units = {f.name: described[f.name].unit for f in schema if f.name in described}
    metadata = {**table_metadata, "units": json.dumps(units)}
    return pa.schema(fields, metadata={k.encode(): v.encode() for k, v in metadata.items()})


def open_binary(path: Path) -> io.BufferedIOBase:
    """``path`` for writing, gzip-compressed when its name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=6)
    return open(path, "wb")


class ParquetWriter:
    """Parquet through pyarrow, one row group per batch or more."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


class CsvWriter:
    """CSV through pyarrow: a header line of names, empty for NULL, ISO dates."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.stream = open_binary(path)
        options = pacsv.WriteOptions(quoting_style="needed")
        self.writer = pacsv.CSVWriter(self.stream, schema, write_options=options)
        self.schema = schema

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
        self.stream.close()


def text_columns(batch: pa.RecordBatch) -> list[list[str | None]]:
    """Each column of ``batch`` as text (shortest float repr, ISO dates), None for NULL."""
    out = []
    for column in batch.columns:
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "T", "F")
        elif not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        out.append(column.to_pylist())
    return out


# ---------------------------------------------------------------------------------- FITS

_FITS_CODES = {pa.float64(): "D", pa.float32(): "E", pa.int16(): "I", pa.int32(): "J",
               pa.int64(): "K", pa.bool_(): "L"}
_INT_NULLS = {"I": -32768, "J": -2147483648, "K": -9223372036854775808}


class FitsWriter:
    """A FITS binary table written row block by row block; NULL is NaN for floats and
    TNULL (the type's minimum) for integers, an empty string for text."""

    def __init__(self, path: Path, schema: pa.Schema, widths: dict[str, int],
                 described: dict[str, catalogs.CatalogColumn], extname: str) -> None:
        self.columns = []
        fits_columns = []
        for f in schema:
            code = _FITS_CODES.get(f.type)
            if code is None:  # text and dates
                code = f"{max(1, widths.get(f.name, 10))}A"
            info = described.get(f.name)
            fits_columns.append(fits.Column(
                name=f.name, format=code, unit=(info.unit or None) if info else None,
                null=_INT_NULLS.get(code)))
            self.columns.append((f.name, code))
        hdu = fits.BinTableHDU.from_columns(fits_columns, nrows=0, name=extname.upper())
        for i, f in enumerate(schema, start=1):
            info = described.get(f.name)
            if info is not None:
                hdu.header[f"TCOMM{i}"] = info.description
                hdu.header[f"TUCD{i}"] = info.ucd
        self.header = hdu.header
        self.dtype = hdu.data.dtype.newbyteorder(">")
        self.stream = open(path, "wb")
        fits.PrimaryHDU().writeto(self.stream)
        self.header_at = self.stream.tell()
        self.stream.write(self.header.tostring().encode("ascii"))
        self.rows = 0
        self.nbytes = 0

    def write(self, batch: pa.RecordBatch) -> None:
        block = np.zeros(batch.num_rows, dtype=self.dtype)
        for (name, code), column in zip(self.columns, batch.columns, strict=True):
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if code in _INT_NULLS:
                block[name] = column.fill_null(_INT_NULLS[code]).to_numpy(zero_copy_only=False)
            elif code in ("D", "E"):
                block[name] = column.fill_null(np.nan).to_numpy(zero_copy_only=False)
            elif code == "L":
                block[name] = np.where(column.fill_null(False).to_numpy(zero_copy_only=False),
                                       ord("T"), ord("F"))
            else:
                text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) \
                    else column
                block[name] = np.array(text.fill_null("").to_pylist(), dtype=object) \
                    .astype(bytes)
        data = block.tobytes()
        self.stream.write(data)
        self.rows += batch.num_rows
        self.nbytes += len(data)

    def close(self) -> None:
        self.stream.write(b"\0" * (-self.nbytes % 2880))
        self.header["NAXIS2"] = self.rows
        self.stream.seek(self.header_at)
        self.stream.write(self.header.tostring().encode("ascii"))
        self.stream.close()


# ------------------------------------------------------------------------------- VOTable

_VOTABLE_TYPES = {pa.float64(): "double", pa.float32(): "float", pa.int16(): "short",
                  pa.int32(): "int", pa.int64(): "long", pa.bool_(): "boolean"}


class VotableWriter:
    """A VOTable 1.4 TABLEDATA table; an empty cell is NULL (VOTable 1.3 and later)."""

    def __init__(self, path: Path, schema: pa.Schema,
                 described: dict[str, catalogs.CatalogColumn], name: str,
                 description: str) -> None:
        self.stream = io.TextIOWrapper(open_binary(path), encoding="utf-8")
        w = self.stream.write
        w('<?xml version="1.0" encoding="utf-8"?>\n'
          '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
          f'<RESOURCE type="results">\n<TABLE name={quoteattr(name)}>\n'
          f"<DESCRIPTION>{escape(description)}</DESCRIPTION>\n")
        for f in schema:
            datatype = _VOTABLE_TYPES.get(f.type)
            attrs = f'name={quoteattr(f.name)} datatype="{datatype or "char"}"'
            if datatype is None:
                attrs += ' arraysize="*"'
            info = described.get(f.name)
            if info is not None:
                attrs += f" ucd={quoteattr(info.ucd)}"
                if info.unit:
                    attrs += f" unit={quoteattr(info.unit)}"
                w(f"<FIELD {attrs}>\n<DESCRIPTION>{escape(info.description)}</DESCRIPTION>\n"
                  "</FIELD>\n")
            else:
                w(f"<FIELD {attrs}/>\n")
        w("<DATA>\n<TABLEDATA>\n")

    def write(self, batch: pa.RecordBatch) -> None:
        columns = text_columns(batch)
        lines = []
        for row in zip(*columns, strict=True):
            cells = "".join("<TD/>" if v is None else f"<TD>{escape(v)}</TD>" for v in row)
            lines.append(f"<TR>{cells}</TR>\n")
        self.stream.write("".join(lines))

    def close(self) -> None:
        self.stream.write("</TABLEDATA>\n</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n")
        self.stream.close()


# ---------------------------------------------------------------------------------- IPAC

_IPAC_TYPES = {pa.float64(): ("double", 24), pa.float32(): ("float", 15),
               pa.int16(): ("int", 6), pa.int32(): ("int", 11), pa.int64(): ("long", 20),
               pa.bool_(): ("char", 1)}


class IpacWriter:
    """An IPAC table (as IRSA serves): fixed-width columns under ``|name|type|unit|null|``
    header lines, ``null`` for NULL."""

    def __init__(self, path: Path, schema: pa.Schema, widths: dict[str, int],
                 described: dict[str, catalogs.CatalogColumn],
                 keywords: dict[str, str]) -> None:
        self.stream = io.TextIOWrapper(open_binary(path), encoding="utf-8")
        names, types, units = [], [], []
        self.widths = []
        for f in schema:
            kind, width = _IPAC_TYPES.get(f.type, ("char", widths.get(f.name, 10)))
            info = described.get(f.name)
            unit = info.unit if info and info.unit else ""
            width = max(width, len(f.name), len(kind), len(unit), 4)
            names.append(f.name)
            types.append(kind)
            units.append(unit)
            self.widths.append(width)
        w = self.stream.write
        for key, value in keywords.items():
            w(f"\\{key} = {json.dumps(value)}\n")
        for f in schema:
            info = described.get(f.name)
            if info is not None:
                w(f"\\ {f.name}: {info.description} (UCD {info.ucd})\n")
        for line in (names, types, units, ["null"] * len(names)):
            w("|" + "|".join(v.rjust(width) for v, width in zip(line, self.widths,
                                                                  strict=True)) + "|\n")

    def write(self, batch: pa.RecordBatch) -> None:
        columns = text_columns(batch)
        lines = []
        for row in zip(*columns, strict=True):
            lines.append(" " + " ".join(("null" if v is None else v).rjust(width)
                                        for v, width in zip(row, self.widths, strict=True))
                         + " \n")
        self.stream.write("".join(lines))

    def close(self) -> None:
        self.stream.close()


def arrow_writer(fmt: str, path: Path, schema: pa.Schema, *, widths: dict[str, int],
                 described: dict[str, catalogs.CatalogColumn], name: str,
                 table_metadata: dict[str, str]):
    """The writer of format ``fmt`` for batches of ``schema``."""
    if fmt == "parquet":
        return ParquetWriter(path, described_schema(schema, described, table_metadata))
    if fmt == "csv":
        return CsvWriter(path, schema)
    if fmt == "fits":
        return FitsWriter(path, schema, widths, described, name)
    if fmt == "votable":
        return VotableWriter(path, schema, described, name,
                             table_metadata.get("description", name))
    if fmt == "ipac":
        return IpacWriter(path, schema, widths, described, table_metadata)
    raise ValueError(f"no Arrow writer for {fmt!r}")
