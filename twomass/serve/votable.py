"""VOTable 1.4 documents of the cone search: results and errors.

Written straight from the database rows into TABLEDATA, not through astropy's writer:
the FIELD metadata is fixed per catalog and verbosity (its XML is made once), and the
cells are formatted a column at a time, so a 60-arcsecond cone costs less to write than
to query (astropy's writer takes tens of milliseconds for the same table). NULL is an
empty ``<TD/>``, as VOTable 1.3 and later allow for every datatype.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape, quoteattr

import numpy as np

NAMESPACE = "http://www.ivoa.net/xml/VOTable/v1.3"  # VOTable 1.4 keeps the 1.3 namespace
MEDIA_TYPE = "text/xml;content=x-votable"

#: PostgreSQL type name -> (VOTable datatype, arraysize).
DATATYPES = {
    "float8": ("double", None), "float4": ("float", None), "int2": ("short", None),
    "int4": ("int", None), "int8": ("long", None), "bool": ("boolean", None),
    "bpchar": ("char", "*"), "varchar": ("char", "*"), "text": ("char", "*"),
    "date": ("char", "*"),
}


@dataclass(frozen=True)
class Field:
    """One FIELD: a column's name, type and the metadata a reader needs."""

    name: str
    datatype: str
    arraysize: str | None
    unit: str
    ucd: str
    description: str
    xtype: str | None = None
    ref: str | None = None

    def xml(self) -> str:
        attrs = [("name", self.name), ("datatype", self.datatype),
                 ("arraysize", self.arraysize), ("unit", self.unit or None),
                 ("ucd", self.ucd or None), ("xtype", self.xtype), ("ref", self.ref)]
        head = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs if v)
        description = f"<DESCRIPTION>{escape(self.description)}</DESCRIPTION>" \
            if self.description else ""
        return f"<FIELD {head}>{description}</FIELD>"


def _text(values: list) -> list[str]:
    cells = []
    for v in values:
        if v is None:
            cells.append("<TD/>")
            continue
        text = v.isoformat() if isinstance(v, dt.date) else str(v).rstrip()
        if "&" in text or "<" in text or ">" in text:
            text = escape(text)
        cells.append(f"<TD>{text}</TD>")
    return cells


def _double(values: list) -> list[str]:
    return ["<TD/>" if v is None else f"<TD>{v!r}</TD>" if math.isfinite(v)
            else f"<TD>{_non_finite(v)}</TD>" for v in values]


def _singles(columns: list[list]) -> list[list[str]]:
    """Cells of float columns: the shortest text that reads back as the same float32
    (psycopg gives a float4 as the exact double, whose repr has spurious digits), made
    by NumPy for all the float columns at once."""
    if not columns or not columns[0]:
        return [[] for _ in columns]
    text = np.array([[math.nan if v is None else v for v in values] for values in columns],
                    dtype=np.float32).astype(str).tolist()
    return [["<TD/>" if v is None else f"<TD>{t}</TD>" if math.isfinite(v)
             else f"<TD>{_non_finite(v)}</TD>" for v, t in zip(values, texts, strict=True)]
            for values, texts in zip(columns, text, strict=True)]


def _integer(values: list) -> list[str]:
    return ["<TD/>" if v is None else f"<TD>{v}</TD>" for v in values]


def _boolean(values: list) -> list[str]:
    return ["<TD/>" if v is None else "<TD>T</TD>" if v else "<TD>F</TD>" for v in values]


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


#: VOTable datatype -> the cells of a column of values (None for NULL); float columns
#: go through ``_singles`` together.
FORMATTERS: dict[str, Callable[[list], list[str]]] = {
    "double": _double, "short": _integer, "int": _integer,
    "long": _integer, "boolean": _boolean, "char": _text,
}


@cache
def _fields_xml(fields: tuple[Field, ...]) -> str:
    return "".join(f"{f.xml()}\n" for f in fields)


def _document(body: str, infos: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VOTABLE version="1.4" xmlns="{NAMESPACE}" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{infos}{body}</VOTABLE>\n").encode()


def _info(name: str, value: str, content: str = "") -> str:
    if content:
        return f"<INFO name={quoteattr(name)} value={quoteattr(value)}>{escape(content)}</INFO>\n"
    return f"<INFO name={quoteattr(name)} value={quoteattr(value)}/>\n"


def results(fields: Sequence[Field], rows: Iterable[Sequence[object]], *, description: str,
            status: str = "OK", status_text: str = "",
            infos: Sequence[tuple[str, str]] = ()) -> bytes:
    """A results document: one RESOURCE of type results holding one TABLE.

    ``status`` is the DALI ``QUERY_STATUS`` (``OK``, or ``OVERFLOW`` when the rows were
    cut at the row limit); ``infos`` are further (name, value) INFO elements, such as
    the request's parameters.
    """
    rows = list(rows)
    values = [[row[i] for row in rows] for i in range(len(fields))]
    floats = [i for i, f in enumerate(fields) if f.datatype == "float"]
    cells = [None if f.datatype == "float" else FORMATTERS[f.datatype](values[i])
             for i, f in enumerate(fields)]
    for i, column in zip(floats, _singles([values[i] for i in floats]), strict=True):
        cells[i] = column
    lines = ["<TR>" + "".join(row) + "</TR>" for row in zip(*cells, strict=True)] if rows else []
    header = _fields_xml(tuple(fields))
    body = (f'<RESOURCE type="results">\n<DESCRIPTION>{escape(description)}</DESCRIPTION>\n'
            f"{_info('QUERY_STATUS', status, status_text)}"
            + "".join(_info(name, value) for name, value in infos)
            + '<COOSYS ID="icrs" system="ICRS"/>\n<TABLE>\n' + header
            + "<DATA><TABLEDATA>\n" + "\n".join(lines) + ("\n" if lines else "")
            + "</TABLEDATA></DATA>\n</TABLE>\n</RESOURCE>\n")
    return _document(body)


def error(message: str) -> bytes:
    """An error document: ``INFO name="Error"`` under VOTABLE, where Simple Cone Search
    1.03 puts it, and DALI's ``QUERY_STATUS`` ``ERROR`` in the results RESOURCE."""
    body = ('<RESOURCE type="results">\n' + _info("QUERY_STATUS", "ERROR", message)
            + "</RESOURCE>\n")
    return _document(body, _info("Error", message))
