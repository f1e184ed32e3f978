"""The release spec: every threshold the release rules use, defaults = 2MASS All-Sky.

A spec is a flat TOML file whose keys are the field names below; keys left out keep
their default. The build writes the spec into the release schema as a one-row table
``spec`` with one typed column per field, and the SQL steps read their thresholds
from it, so a value never travels into SQL as text.

Fields marked UNCONFIRMED are choices where the 2MASS documentation is silent or
inconsistent; ``docs/release-rules.md`` explains each one.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from twomass.core.errors import TwomassError


class ReleaseSpecError(TwomassError):
    """A release spec file cannot be read or has a bad key or value."""


#: SQL type of each Python field type in the ``spec`` table.
SQL_TYPES = {bool: "boolean", int: "integer", float: "double precision", str: "text"}

SCAN_SENSITIVITY = ("msnr10", "psp")


@dataclass(frozen=True)
class ReleaseSpec:
    """Thresholds and choices of one release build (units in the names).

    Attributes
    ----------
    min_scan_qual
        Lowest QA score a scan may have to be chosen for its tile (2MASS: the best
        scan of each tile was taken whatever its score).
    scan_sensitivity
        UNCONFIRMED tie-break between scans of equal score: ``msnr10`` = deeper mean
        J/H/Ks S/N=10 magnitude first, ``psp`` = lower mean photometric sensitivity
        parameter first; then the higher mean zero point, then the earlier scan.
    psc_edge_arcsec, xsc_edge_arcsec
        Safety border: a catalog source lies more than this from every tile edge.
    psc_artifact_pattern
        Regular expression on ``cc_flg``: rows matching it are artifacts, excluded
        before duplicate matching (``[C-P]``: upper-case letters C to P).
    psc_final_artifact_pattern
        Final artifact rejection after duplicate resolution (the database-wide bright
        star clean-up); the working database carries one ``cc_flg``, so by default it
        repeats ``psc_artifact_pattern``.
    snr_primary, cmsig_primary
        S/N rule: S/N >= 7 in one band (scan S/N, or cmsig <= 0.1551 mag) ...
    snr_secondary, cmsig_secondary
        ... or valid in all three bands with S/N >= 5 in one (cmsig <= 0.2171 mag).
    psfchi_max
        Profile-fit reduced chi-squared must be below this in at least one band.
    psfchi_exempt_saturated
        UNCONFIRMED: a source with an rd_flg 1 or 3 band (saturated, no profile fit,
        psfchi NULL) passes the psfchi rule.
    ndet_min_ratio, ndet_bright_snr
        UNCONFIRMED frame-detection test: bands with scan S/N >= ``ndet_bright_snr``
        must be detected on N/M >= ``ndet_min_ratio`` of the frames (M >= 3), or on
        both of 2 frames; the 40 %/41 % and S/N 20/magnitude readings disagree.
    psc_match_arcsec, xsc_match_arcsec
        Radius within which apparitions in different chosen scans are the same source.
    virtual_apparitions
        Create virtual apparitions for sources seen once where another chosen scan
        covers the position beyond its border (only flags: such sources stay in).
    xsc_msig_max
        XSC S/N rule: m_k20fe or m_7 uncertainty at most this (0.1551 mag = S/N 7)
        in at least one band.
    xsc_score_max
        UNCONFIRMED for All-Sky: e_score or g_score at most this is extended.
    xsc_artifact_flags, xsc_final_artifact_flags
        XSC ``cc_flg`` letters that eliminate a source before matching / at the end.
    prox_start_arcsec
        First radius of the nearest-neighbour search; it doubles for the sources still
        without a neighbour, so ``prox`` has no radius limit. It only sets the build's
        speed. 0 (the default) derives it from the catalog's median source density, so
        that about 3 in 4 sources find their neighbour in the first pass.
    gal_contam_min_r_arcsec, gal_contam_scale
        XSC sources with r_k20fe above this contaminate point sources inside their
        Ks 20 mag/arcsec^2 ellipse enlarged by ``gal_contam_scale``.
    """

    min_scan_qual: int = 0
    scan_sensitivity: str = "msnr10"
    psc_edge_arcsec: float = 10.0
    xsc_edge_arcsec: float = 15.0
    psc_artifact_pattern: str = "[C-P]"
    psc_final_artifact_pattern: str = "[C-P]"
    snr_primary: float = 7.0
    cmsig_primary: float = 0.1551
    snr_secondary: float = 5.0
    cmsig_secondary: float = 0.2171
    psfchi_max: float = 10.0
    psfchi_exempt_saturated: bool = True
    ndet_min_ratio: float = 0.41
    ndet_bright_snr: float = 20.0
    psc_match_arcsec: float = 2.0
    xsc_match_arcsec: float = 5.0
    virtual_apparitions: bool = True
    xsc_msig_max: float = 0.1551
    xsc_score_max: float = 1.4
    xsc_artifact_flags: str = "CDIA"
    xsc_final_artifact_flags: str = "CDIA"
    prox_start_arcsec: float = 0.0
    gal_contam_min_r_arcsec: float = 10.0
    gal_contam_scale: float = 1.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, f.name, float(value))
        problems = self.problems()
        if problems:
            raise ReleaseSpecError("; ".join(problems))

    def problems(self) -> list[str]:
        """Values no release can be built with, as messages naming the field."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            want = _PY_TYPES[f.type]
            if type(value) is not want:
                out.append(f"{f.name} must be a {want.__name__}, got {value!r}")
            elif want is float and value < 0:
                out.append(f"{f.name} must not be negative, got {value!r}")
        if out:
            return out
        if self.scan_sensitivity not in SCAN_SENSITIVITY:
            out.append(f"scan_sensitivity must be one of {', '.join(SCAN_SENSITIVITY)}, "
                       f"got {self.scan_sensitivity!r}")
        for name in ("psc_artifact_pattern", "psc_final_artifact_pattern"):
            try:
                re.compile(getattr(self, name))
            except re.error as exc:
                out.append(f"{name} is not a regular expression: {exc}")
        if not 0 < self.psc_match_arcsec <= 60 or not 0 < self.xsc_match_arcsec <= 60:
            out.append("match radii must be in (0, 60] arcsec")
        if self.prox_start_arcsec < 0:
            out.append("prox_start_arcsec must be 0 (automatic) or positive")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain values (stored as JSON in the release registry)."""
        return dataclasses.asdict(self)

    def sql_columns(self) -> list[tuple[str, str, Any]]:
        """``(name, SQL type, value)`` of every field, in declaration order."""
        return [(f.name, SQL_TYPES[_PY_TYPES[f.type]], getattr(self, f.name))
                for f in fields(self)]


_PY_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def load_spec(path: Path | None) -> ReleaseSpec:
    """Read a TOML release spec; ``None`` gives the 2MASS All-Sky defaults.

    Raises
    ------
    ReleaseSpecError
        If the file cannot be read or parsed, or names an unknown key or a bad value.
    """
    if path is None:
        return ReleaseSpec()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReleaseSpecError(f"{path}: cannot read the release spec: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseSpecError(f"{path}: not valid TOML: {exc}") from None
    known = {f.name for f in fields(ReleaseSpec)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ReleaseSpecError(f"{path}: unknown key(s) {', '.join(unknown)}; "
                               f"known keys: {', '.join(sorted(known))}")
    try:
        return ReleaseSpec(**data)
    except ReleaseSpecError as exc:
        raise ReleaseSpecError(f"{path}: {exc}") from None
