"""Catalog rows as astropy Tables that carry each column's unit, UCD and description.

The metadata is the one definition in ``twomass.schema.catalogs``; a VOTable, FITS or
Parquet writer takes it from the Table, so every output format describes its columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from astropy.table import MaskedColumn, Table

from twomass.schema import catalogs

#: Catalog name -> its columns by name (a cone search adds ``dist_arcsec``).
_DESCRIBED = {name: {c.name: c for c in (*columns, catalogs.DIST_ARCSEC)}
              for name, columns in (*catalogs.RELEASE_TABLES.items(),
                                    ("wdb", catalogs.WDB_PTS))}


def catalog_table(columns: Sequence[str], arrow_or_rows: pa.Table | Sequence[Sequence],
                  catalog: str) -> Table:
    """A Table of ``columns`` from an Arrow table or row tuples, NULLs masked, each column
    with the unit, UCD (``meta['ucd']``) and description ``catalog`` gives it."""
    described = _DESCRIBED[catalog]
    if isinstance(arrow_or_rows, pa.Table):
        values = [arrow_or_rows.column(i).to_pylist() for i in range(len(columns))]
    else:
        values = [list(v) for v in zip(*arrow_or_rows, strict=True)] or [[] for _ in columns]
    table = Table()
    for name, column_values in zip(columns, values, strict=True):
        column = _masked(column_values)
        info = described.get(name)
        if info is not None:
            column.unit = info.unit or None
            column.description = info.description
            column.meta["ucd"] = info.ucd
        table[name] = column
    return table


def _masked(values: list) -> MaskedColumn:
    """A masked column of ``values``, None masked; dates and other types as text."""
    mask = np.array([v is None for v in values], dtype=bool)
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, str) or sample is None and values:
        data = np.array(["" if v is None else v for v in values], dtype=str)
    elif isinstance(sample, bool | int | float):
        fill = 0 if isinstance(sample, bool | int) else np.nan
        data = np.array([fill if v is None else v for v in values])
    elif sample is None:
        data = np.zeros(0, dtype=float)
    else:
        data = np.array(["" if v is None else str(v) for v in values], dtype=str)
    return MaskedColumn(data, mask=mask)
