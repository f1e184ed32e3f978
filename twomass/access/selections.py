"""Where on the sky: a cone, a box, a polygon or everything, as a SQL condition.

Each selection is a condition from ``sql/<kind>.sql`` on a relation aliased ``t`` with
columns ``ra``, ``dec`` and ``hpx``, with its arguments checked here first, so an
impossible one gets a one-line error naming the value instead of a database error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
from psycopg import sql

from twomass.core import sphere
from twomass.core.errors import TwomassError


class SelectionError(TwomassError):
    """A cone, box or polygon with an impossible argument."""


@cache
def _condition(kind: str) -> str:
    return resources.files("twomass.access").joinpath("sql", f"{kind}.sql").read_text()


@dataclass(frozen=True)
class Selection:
    """A condition on the rows ``t`` of a relation and its named arguments."""

    kind: str
    params: dict[str, object] = field(default_factory=dict)
    centre: tuple[float, float] | None = None

    def where(self) -> sql.Composable:
        """The condition with its arguments as literals (valid in any client's query)."""
        parts = re.split(r"%\((\w+)\)s", _condition(self.kind))
        return sql.Composed([sql.Literal(self.params[p]) if i % 2 else sql.SQL(p)
                             for i, p in enumerate(parts)])

    def describe(self) -> str:
        """The selection in words, for summaries."""
        p = self.params
        if self.kind == "cone":
            return f"cone ({p['ra0']}, {p['dec0']}) r={p['radius_deg'] * 3600:g}\""
        if self.kind == "box":
            return (f"box ra [{p['ra_min']}, {p['ra_max']}] dec [{p['dec_min']}, "
                    f"{p['dec_max']}]")
        if self.kind == "polygon":
            return f"polygon of {len(p['poly']) // 2} vertices"
        return "all rows"


EVERYTHING = Selection("all")


def _finite(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SelectionError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise SelectionError(f"{name} must be a finite number, got {value}")
    return value


def _dec(name: str, value: float) -> float:
    value = _finite(name, value)
    if not -90.0 <= value <= 90.0:
        raise SelectionError(f"{name} must be in [-90, 90] degrees, got {value:g}")
    return value


def cone(ra: float, dec: float, radius_arcsec: float) -> Selection:
    """Rows strictly within ``radius_arcsec`` of (``ra``, ``dec``) [deg]."""
    ra, dec = _finite("RA", ra) % 360.0, _dec("Dec", dec)
    radius = _finite("radius", radius_arcsec)
    if not 0.0 <= radius <= 180 * 3600:
        raise SelectionError(f"radius must be in [0, 648000] arcsec, got {radius:g}")
    return Selection("cone", {"ra0": ra, "dec0": dec, "radius_deg": radius / 3600.0},
                     centre=(ra, dec))


def box(ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> Selection:
    """Rows with ra in [ra_min, ra_max] and dec in [dec_min, dec_max] [deg], bounds
    included; ``ra_min > ra_max`` is a box across RA 0/360."""
    ra_lo, ra_hi = _finite("RA min", ra_min), _finite("RA max", ra_max)
    dec_lo, dec_hi = _dec("Dec min", dec_min), _dec("Dec max", dec_max)
    for name, value in (("RA min", ra_lo), ("RA max", ra_hi)):
        if not 0.0 <= value <= 360.0:
            raise SelectionError(f"{name} must be in [0, 360] degrees, got {value:g}")
    if dec_lo > dec_hi:
        raise SelectionError(f"Dec min {dec_lo:g} is above Dec max {dec_hi:g}")
    width = (ra_hi - ra_lo) if ra_lo <= ra_hi else (ra_hi + 360.0 - ra_lo)
    ra0, dec0 = (ra_lo + width / 2) % 360.0, (dec_lo + dec_hi) / 2
    corners = np.array([[ra_lo, dec_lo], [ra_lo, dec_hi], [ra_hi, dec_lo], [ra_hi, dec_hi]])
    chords = np.linalg.norm(sphere.unit_vectors(corners[:, 0], corners[:, 1])
                            - sphere.unit_vectors(ra0, dec0), axis=-1)
    far = sphere.separation_arcsec(chords).max() / 3600
    if width > 180.0:  # the far side of a wide box is nearer its edges than its corners
        far = 180.0
    radius = min(180.0, float(far) + 1.0 / 3600)
    return Selection("box", {"ra_min": ra_lo, "ra_max": ra_hi, "dec_min": dec_lo,
                             "dec_max": dec_hi, "ra0": ra0, "dec0": dec0,
                             "radius_deg": radius}, centre=(ra0, dec0))


def polygon(vertices: list[float]) -> Selection:
    """Rows inside the polygon ``[ra1, dec1, ra2, dec2, ...]`` [deg] (at least 3
    vertices, great-circle edges, within a hemisphere: the database checks that)."""
    values = [_finite(f"polygon value {i + 1}", v) for i, v in enumerate(vertices)]
    if len(values) % 2 or len(values) < 6:
        raise SelectionError(f"a polygon needs at least 3 vertices as RA DEC pairs, got "
                             f"{len(values)} numbers")
    for i in range(1, len(values), 2):
        _dec(f"polygon vertex {i // 2 + 1} Dec", values[i])
    return Selection("polygon", {"poly": values})
