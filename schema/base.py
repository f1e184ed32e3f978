"""Shared metadata and column helpers: every column carries its unit in a comment."""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

BANDS = ("j", "h", "k")


def col(name: str, type_: sa.types.TypeEngine, comment: str, *args, **kw) -> sa.Column:
    """A column, nullable unless told otherwise, with its description and unit."""
    kw.setdefault("nullable", True)
    return sa.Column(name, type_, *args, comment=comment, **kw)


def req(name: str, type_: sa.types.TypeEngine, comment: str, *args, **kw) -> sa.Column:
    """A NOT NULL column."""
    return col(name, type_, comment, *args, nullable=False, **kw)


def per_band(template: str, type_: sa.types.TypeEngine, comment: str, **kw) -> list[sa.Column]:
    """One column per band: ``template`` and ``comment`` contain ``{band}``."""
    names = {"j": "J", "h": "H", "k": "Ks"}
    return [
        col(template.format(band=b), type_, comment.format(band=names[b]), **kw) for b in BANDS
    ]


def position_columns(what: str) -> list[sa.Column]:
    """``ra``, ``dec`` and the order-29 NESTED ``hpx`` every spatial table carries."""
    return [
        req("ra", sa.Double(), f"{what} right ascension, ICRS J2000 [deg]"),
        req("dec", sa.Double(), f"{what} declination, ICRS J2000 [deg]"),
        req("hpx", sa.BigInteger, "HEALPix NESTED order-29 index of (ra, dec)"),
    ]


def hpx_index(table: str) -> sa.Index:
    """The named B-tree on ``hpx`` that drives every spatial query."""
    return sa.Index(f"ix_{table}_hpx", "hpx")
