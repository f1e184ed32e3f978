"""The DaCHS resource descriptor of a published release, made from the column metadata.

Units, UCDs and descriptions come from ``schema/catalogs.py`` (the one definition of
what each column means); the SQL types are those of the release tables. Each table gets
a q3c index on (ra, dec) of kind ``q3c``, which is what makes DaCHS rewrite ADQL
``CONTAINS`` and ``DISTANCE`` on these columns to ``q3c_join``; and B-trees on ``hpx``
and the row key.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twomass.schema.catalogs import CatalogColumn
from twomass.tap.site import TapError

#: PostgreSQL type (``format_type``) -> DaCHS column type and the cast COPY applies.
#: Fixed-width ``character(n)`` becomes ``text`` without its padding.
_TYPES = {
    "double precision": ("double precision", ""),
    "real": ("real", ""),
    "smallint": ("smallint", ""),
    "integer": ("integer", ""),
    "bigint": ("bigint", ""),
    "boolean": ("boolean", ""),
    "text": ("text", ""),
    "date": ("date", ""),
}


#: Words ADQL reserves (ADQL 2.1 sec. 2.1.2: SQL-92 words, which leave out DEC, and ADQL
#: functions); a catalog column so named (``date``) is
#: published as a delimited identifier (``"date"``), as TAP validators require.
ADQL_RESERVED = frozenset("""
    absolute action add all allocate alter and any are as asc assertion at authorization
    avg begin between bit bit_length both by cascade cascaded case cast catalog char
    character character_length char_length check close coalesce collate collation column
    commit connect connection constraint constraints continue convert corresponding count
    create cross current current_date current_time current_timestamp current_user cursor
    date day deallocate decimal declare default deferrable deferred delete desc
    describe descriptor diagnostics disconnect distinct domain double drop else end
    end-exec escape except exception exec execute exists external extract false fetch
    first float for foreign found from full get global go goto grant group having hour
    identity immediate in indicator initially inner input insensitive insert int integer
    intersect interval into is isolation join key language last leading left level like
    local lower match max min minute module month names national natural nchar next no
    not null nullif numeric octet_length of on only open option or order outer output
    overlaps pad partial position precision prepare preserve primary prior privileges
    procedure public read real references relative restrict revoke right rollback rows
    schema scroll second section select session session_user set size smallint some space
    sql sqlcode sqlerror sqlstate substring sum system_user table temporary then time
    timestamp timezone_hour timezone_minute to trailing transaction translate translation
    trim true union unique unknown update upper usage user using value values varchar
    varying view when whenever where with work write year zone
    abs acos area asin atan atan2 box ceiling centroid circle contains coord1 coord2
    coordsys cos cot degrees distance exp floor intersects log log10 mod pi point polygon
    power radians region rand round sin sqrt tan top truncate
""".split())


def adql_name(name: str) -> str:
    """``name`` as the RD declares it: delimited (DaCHS's ``quoted/``) when ADQL
    reserves it."""
    return f"quoted/{name}" if name in ADQL_RESERVED else name


@dataclass(frozen=True)
class TapColumn:
    """A release column as DaCHS publishes it."""

    meta: CatalogColumn
    sql_type: str
    dachs_type: str
    cast: str
    required: bool

    @property
    def select(self) -> str:
        """The column in the COPY that reads the release table."""
        return f'"{self.meta.name}"{self.cast}'


def tap_column(meta: CatalogColumn, sql_type: str, not_null: bool) -> TapColumn:
    """The DaCHS type of a release column of PostgreSQL type ``sql_type``."""
    if sql_type.startswith(("character(", "character varying", "character")):
        return TapColumn(meta, sql_type, "text", "::text", not_null)
    if sql_type not in _TYPES:
        raise TapError(f"column {meta.name} has type {sql_type}, which the TAP "
                       "publication does not map")
    dachs_type, cast = _TYPES[sql_type]
    return TapColumn(meta, sql_type, dachs_type, cast, not_null)


@dataclass(frozen=True)
class TapTable:
    """One published table: name, description, key column and columns in order."""

    name: str
    description: str
    key: str
    columns: Sequence[TapColumn]


def resource_descriptor(schema: str, tables: Sequence[TapTable],
                        meta: Mapping[str, str]) -> str:
    """The RD XML text: ``schema``'s tables, queryable through ADQL, and an import data
    element that creates them (the rows are copied in afterwards)."""
    resource = ET.Element("resource", schema=schema, resdir=schema)
    for key, value in meta.items():
        ET.SubElement(resource, "meta", name=key).text = value
    data = ET.Element("data", id="import")
    for table in tables:
        element = ET.SubElement(resource, "table", id=table.name, onDisk="True",
                                adql="True")
        ET.SubElement(element, "meta", name="description").text = table.description
        ET.SubElement(element, "index", name=f"q3c_{table.name}", kind="q3c",
                      columns="ra, dec", cluster="False").text = "q3c_ang2ipix(ra, dec)"
        ET.SubElement(element, "index", name=f"hpx_{table.name}", columns="hpx")
        ET.SubElement(element, "index", name=f"key_{table.name}", columns=table.key)
        for column in table.columns:
            attributes = {"name": adql_name(column.meta.name), "type": column.dachs_type,
                          "ucd": column.meta.ucd, "description": column.meta.description,
                          "required": str(column.required)}
            if column.meta.unit:
                attributes["unit"] = column.meta.unit
            if column.meta.ucd.endswith("meta.main") or column.meta.name == table.key:
                attributes["verbLevel"] = "1"
            ET.SubElement(element, "column", attributes)
        ET.SubElement(data, "make", table=table.name)
    resource.append(data)
    ET.indent(resource, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        resource, encoding="unicode") + "\n"
