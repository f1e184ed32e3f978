"""VOTable 1.4 documents of the cone search: results and errors.

Written straight from the database rows into TABLEDATA, not through astropy's writer:
the FIELD metadata is fixed per catalog and verbosity, and the rows are formatted one
cell at a time, so a 60-arcsecond cone costs about as much to write as to query
(astropy's writer takes tens of milliseconds for the same table). NULL is an empty
``<TD/>``, as VOTable 1.3 and later allow for every datatype.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value).rstrip())


def _double(value: float) -> str:
    return repr(value) if math.isfinite(value) else _non_finite(value)


def _single(value: float) -> str:
    # The shortest text that reads back as the same float32 (psycopg gives float4 as
    # the exact double, whose repr has spurious digits).
    return str(np.float32(value)) if math.isfinite(value) else _non_finite(value)


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _boolean(value: bool) -> str:
    return "T" if value else "F"


FORMATTERS: dict[str, Callable[[object], str]] = {
    "double": _double, "float": _single, "short": str, "int": str, "long": str,
    "boolean": _boolean, "char": _text,
}


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
    formatters = [FORMATTERS[f.datatype] for f in fields]
    lines = ["<TR>" + "".join("<TD/>" if v is None else f"<TD>{fmt(v)}</TD>"
                              for fmt, v in zip(formatters, row, strict=True)) + "</TR>"
             for row in rows]
    header = "".join(f"{f.xml()}\n" for f in fields)
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
