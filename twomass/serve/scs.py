"""Simple Cone Search 1.03: the request's parameters, the search, its VOTable.

A request names a catalog (``psc`` or ``xsc``), ``RA``, ``DEC`` and ``SR`` in degrees,
optionally ``VERB`` (1 the identifier and position, 2 the usual columns, 3 all) and
DALI's ``MAXREC``. The search is the catalogs' own ``psc_cone`` / ``xsc_cone``
(``sql/cone.sql``), nearest first. Three columns carry the UCD1 names the standard
requires (``ID_MAIN``, ``POS_EQ_RA_MAIN``, ``POS_EQ_DEC_MAIN``); every other column keeps
its UCD1+ word, unit and description from ``twomass.access.tables.catalog_table``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import psycopg
import pyarrow as pa
from psycopg import sql

from twomass.access.tables import catalog_table
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.query import cone
from twomass.schema import catalogs
from twomass.serve import votable

#: Catalogs served, with what the service calls them.
TITLES = {"psc": "2MASS-style Point Source Catalog (published release)",
          "xsc": "2MASS-style Extended Source Catalog (published release)"}

#: The UCD1 names SCS 1.03 requires, on the columns that hold them.
SCS_UCDS = {"designation": "ID_MAIN", "ra": "POS_EQ_RA_MAIN", "dec": "POS_EQ_DEC_MAIN"}

_BANDS = ("j", "h", "k")
#: Catalog -> VERB=2 columns: identification, position and the photometry and flags most
#: users want (the columns VizieR shows by default for 2MASS).
_VERB2 = {
    "psc": ["designation", "ra", "dec", "err_maj", "err_min", "err_ang",
            *[f"{b}_{q}" for b in _BANDS for q in ("m", "cmsig", "msigcom", "snr")],
            "ph_qual", "rd_flg", "bl_flg", "cc_flg", "gal_contam", "mp_flg", "dist_arcsec"],
    "xsc": ["designation", "ra", "dec", "r_k20fe",
            *[f"{b}_{q}_k20fe" for b in _BANDS for q in ("m", "msig", "flg")],
            "k_ba", "k_phi", "e_score", "g_score", "cc_flg", "dist_arcsec"],
}


def columns(catalog: str, verb: int) -> list[str]:
    """The columns a search of ``catalog`` returns at verbosity ``verb``."""
    if verb == 1:
        return ["designation", "ra", "dec"]
    if verb == 2:
        return list(_VERB2[catalog])
    listed = catalogs.RELEASE_TABLES[catalog]
    return [c.name for c in listed] + [catalogs.DIST_ARCSEC.name]


class RequestError(TwomassError):
    """A parameter of the request is missing, malformed or out of range."""


@dataclass(frozen=True)
class Limits:
    """What the service allows: the largest radius [deg] and the most rows per answer."""

    max_radius_deg: float = 1.0
    max_rows: int = 10_000


@dataclass(frozen=True)
class ConeRequest:
    ra: float
    dec: float
    sr: float
    verb: int
    maxrec: int


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name.upper(), [])
    if len(values) > 1:
        raise RequestError(f"parameter {name} is given {len(values)} times; give it once")
    return values[0].strip() if values else None


def _number(params: Mapping[str, list[str]], name: str, what: str) -> float:
    text = _one(params, name)
    if text is None or text == "":
        raise RequestError(f"missing required parameter {name} ({what})")
    try:
        value = float(text)
    except ValueError:
        raise RequestError(f"parameter {name} must be a number ({what}), got {text!r}") from None
    if not math.isfinite(value):
        raise RequestError(f"parameter {name} must be a finite number ({what}), got {text!r}")
    return value


def _integer(params: Mapping[str, list[str]], name: str, default: int) -> int:
    text = _one(params, name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise RequestError(f"parameter {name} must be an integer, got {text!r}") from None


def parse(params: Mapping[str, list[str]], limits: Limits) -> ConeRequest:
    """The request in ``params`` (upper-cased names -> values; names are case-blind).

    Raises
    ------
    RequestError
        Naming the parameter that is missing, not a number or out of range.
    """
    ra = _number(params, "RA", "right ascension in degrees, ICRS")
    dec = _number(params, "DEC", "declination in degrees, ICRS")
    sr = _number(params, "SR", "search radius in degrees")
    if not 0.0 <= ra <= 360.0:
        raise RequestError(f"RA must be in [0, 360] degrees, got {ra:g}")
    if not -90.0 <= dec <= 90.0:
        raise RequestError(f"DEC must be in [-90, 90] degrees, got {dec:g}")
    if sr < 0:
        raise RequestError(f"SR must be >= 0 degrees, got {sr:g}")
    if sr > limits.max_radius_deg:
        raise RequestError(f"SR = {sr:g} deg exceeds this service's maximum search radius "
                           f"of {limits.max_radius_deg:g} deg")
    verb = _integer(params, "VERB", 2)
    if verb not in (1, 2, 3):
        raise RequestError(f"VERB must be 1, 2 or 3, got {verb}")
    maxrec = _integer(params, "MAXREC", limits.max_rows)
    if maxrec < 0:
        raise RequestError(f"MAXREC must be >= 0, got {maxrec}")
    return ConeRequest(ra, dec, sr, verb, min(maxrec, limits.max_rows))


#: psycopg type OID -> PostgreSQL type name, for the types the catalogs use.
_TYPE_NAMES = {psycopg.postgres.types.get(name).oid: name for name in votable.DATATYPES}
_ARROW_TYPES = {"float8": pa.float64(), "float4": pa.float32(), "int2": pa.int16(),
                "int4": pa.int32(), "int8": pa.int64(), "bool": pa.bool_(),
                "bpchar": pa.string(), "varchar": pa.string(), "text": pa.string(),
                "date": pa.date32()}


@cache
def fields(catalog: str, names: tuple[str, ...], type_names: tuple[str, ...]
           ) -> tuple[votable.Field, ...]:
    """The FIELDs of a result: types from the database, unit, UCD and description from
    ``catalog_table`` (on no rows: the metadata does not depend on them)."""
    empty = pa.table({n: pa.array([], type=_ARROW_TYPES[t]) for n, t in zip(names, type_names,
                                                                           strict=True)})
    described = catalog_table(list(names), empty, catalog)
    result = []
    for name, type_name in zip(names, type_names, strict=True):
        column = described[name]
        datatype, arraysize = votable.DATATYPES[type_name]
        result.append(votable.Field(
            name=name, datatype=datatype, arraysize=arraysize,
            unit=_vounit(column.unit),
            ucd=SCS_UCDS.get(name, column.meta.get("ucd", "")),
            description=column.description or "",
            xtype="timestamp" if type_name == "date" else None,
            ref="icrs" if name in ("ra", "dec") else None))
    return tuple(result)


def _vounit(unit: object) -> str:
    """A column's unit as a VOUnit string ('' for none)."""
    if unit is None:
        return ""
    try:
        return unit.to_string(format="vounit")
    except (AttributeError, ValueError):
        return str(unit)


def search(db: Database, catalog: str, request: ConeRequest) -> bytes:
    """Run the cone search of ``request`` on ``catalog`` and return its VOTable.

    Raises
    ------
    RequestError
        The catalog is not published, or the search outlasted the statement timeout.
    """
    names = columns(catalog, request.verb)
    radius_arcsec = request.sr * 3600
    cone.check_arguments(request.ra, request.dec, radius_arcsec, catalog, request.maxrec)
    query = sql.SQL("SELECT {} FROM {}(%s, %s, %s) LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.Identifier("public", cone.CATALOGS[catalog]))
    try:
        with db.connection() as conn, conn.cursor() as cur:
            cur.execute(query, (request.ra, request.dec, radius_arcsec, request.maxrec + 1))
            type_names = tuple(_TYPE_NAMES[d.type_code] for d in cur.description or [])
            rows = cur.fetchall()
    except psycopg.errors.UndefinedTable:
        raise RequestError(f"no release is published yet: there is no {catalog} to "
                           "search") from None
    except psycopg.errors.QueryCanceled:
        raise RequestError("the search took longer than this service allows; "
                           "ask for a smaller radius (SR)") from None
    overflow = len(rows) > request.maxrec
    rows = rows[:request.maxrec]
    status_text = (f"the answer holds the {request.maxrec} rows nearest to the centre; "
                   "more lie within SR" if overflow else "")
    return votable.results(
        fields(catalog, tuple(names), type_names), rows,
        description=f"{TITLES[catalog]}: rows within {request.sr:g} deg of "
                    f"({request.ra:g}, {request.dec:g}), nearest first",
        status="OVERFLOW" if overflow else "OK", status_text=status_text)
