"""Catalog rows as an astropy Table whose columns say what they hold.

Every reader of the catalogs (the Python API, the exports to FITS, VOTable and IPAC, the
cone search service) turns rows into a Table here, so each column carries the unit, UCD
(UCD1+, in ``meta['ucd']``, where the VOTable writer looks) and description that
``twomass.schema.catalogs`` defines, and a NULL is a masked entry, never a fill value
that could pass for a measurement.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from astropy.table import MaskedColumn, Table

from twomass.core.errors import TwomassError
from twomass.schema import catalogs

#: Catalog name -> its columns, as the release tables (and ``wdb.pts``) hold them.
CATALOG_COLUMNS: dict[str, tuple[catalogs.CatalogColumn, ...]] = {
    **catalogs.RELEASE_TABLES, "wdb": catalogs.WDB_PTS}

#: Columns a query may add to a catalog's own: the distance to a search centre.
EXTRA_COLUMNS = {catalogs.DIST_ARCSEC.name: catalogs.DIST_ARCSEC}


class UnknownCatalog(TwomassError):
    """A catalog name that is not one of the release tables or ``wdb``."""


def described_columns(catalog: str) -> dict[str, catalogs.CatalogColumn]:
    """Column name -> metadata of ``catalog``, the added ``dist_arcsec`` included."""
    if catalog not in CATALOG_COLUMNS:
        raise UnknownCatalog(f"unknown catalog {catalog!r}: choose one of "
                             f"{', '.join(CATALOG_COLUMNS)}")
    return {c.name: c for c in CATALOG_COLUMNS[catalog]} | EXTRA_COLUMNS


def catalog_table(columns: Sequence[str], arrow_or_rows: pa.Table | pa.RecordBatch
                  | Sequence[Sequence[object]], catalog: str) -> Table:
    """A Table of ``columns`` of ``catalog`` with unit, UCD and description on each.

    Parameters
    ----------
    columns
        Column names, in the order of the values (the Arrow columns or each row's items).
    arrow_or_rows
        A ``pyarrow.Table`` or ``RecordBatch`` (as ADBC fetches it), or a sequence of row
        tuples (as a psycopg cursor fetches them); ``None`` / null is a NULL.
    catalog
        ``psc``, ``xsc``, ``scan_info``, ``psc_reject``, ``xsc_reject`` or ``wdb``;
        a column it does not describe (an uploaded table's own) keeps no metadata.

    Returns
    -------
    astropy.table.Table
        One ``MaskedColumn`` per name; NULLs are masked; dates are ISO ``YYYY-MM-DD``
        strings and numeric types keep their width (``real`` stays float32).
    """
    described = described_columns(catalog)
    arrays = _arrow_columns(list(columns), arrow_or_rows)
    table = Table()
    for name, array in zip(columns, arrays, strict=True):
        column = masked_column(array)
        info = described.get(name)
        if info is not None:
            column.unit = info.unit or None
            column.description = info.description
            column.meta["ucd"] = info.ucd
        table[name] = column
    return table


def _arrow_columns(names: list[str], data) -> list[pa.ChunkedArray | pa.Array]:
    if isinstance(data, pa.Table | pa.RecordBatch):
        if data.num_columns != len(names):
            raise ValueError(f"{len(names)} column names for {data.num_columns} columns")
        return [data.column(i) for i in range(data.num_columns)]
    rows = list(data)
    for row in rows:
        if len(row) != len(names):
            raise ValueError(f"{len(names)} column names for a row of {len(row)} values")
    return [pa.array([_plain(row[i]) for row in rows], from_pandas=False)
            for i in range(len(names))]


def _plain(value: object) -> object:
    """A database value Arrow infers a lossless type for (NUMERIC becomes float)."""
    return float(value) if isinstance(value, decimal.Decimal) else value


def masked_column(array: pa.Array | pa.ChunkedArray) -> MaskedColumn:
    """One Arrow column as a MaskedColumn: nulls masked, width kept, dates as text."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    mask = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    kind = array.type
    if pa.types.is_null(kind):
        data = np.zeros(len(array), dtype=np.float64)
    elif pa.types.is_boolean(kind):
        data = np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        fill = 0 if pa.types.is_integer(kind) else np.nan
        data = array.fill_null(fill).to_numpy(zero_copy_only=False)
    elif pa.types.is_decimal(kind):
        data = array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    elif pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        text = pc.strftime(array, format="%Y-%m-%d" if pa.types.is_date(kind)
                           else "%Y-%m-%dT%H:%M:%S")
        data = _strings(text)
    else:
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            array = array.cast(pa.string())
        data = _strings(array)
    return MaskedColumn(data, mask=mask)


def _strings(array: pa.Array) -> np.ndarray:
    values = array.fill_null("").to_numpy(zero_copy_only=False)
    if len(values) == 0:
        return np.zeros(0, dtype="U1")
    return np.asarray(values, dtype=object).astype(str)

