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
import math
import re
import tomllib
import warnings
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
        before duplicate matching (``[C-P]``: upper-case letters C to P). Written with
        letters, digits and ``[ ] ^ $ | ( ) * + ? . -``, read alike by Python and
        PostgreSQL; it must not match ``000``, the flag of a clean source.
    psc_final_artifact_pattern
        Final artifact rejection after duplicate resolution (the database-wide bright
        star clean-up); the working database carries one ``cc_flg``, so by default it
        repeats ``psc_artifact_pattern``.
    snr_primary, msig_primary
        S/N rule: S/N >= 7 in one band (scan S/N, or the working database's measurement
        uncertainty ``msig`` <= 0.1551 mag, as the rule is published) ...
    snr_secondary, msig_secondary
        ... or valid in all three bands with S/N >= 5 in one (msig <= 0.2171 mag).
    psfchi_max
        Profile-fit reduced chi-squared must be below this in at least one band.
    psfchi_exempt_saturated
        UNCONFIRMED: a source with an rd_flg 1 or 3 band (saturated, no profile fit,
        psfchi NULL) passes the psfchi rule. ``psfchi_max`` also sets ph_qual E
        (rd_flg 2 and psfchi > psfchi_max).
    ndet_min_ratio, ndet_min_frames, ndet_bright_j_mag, ndet_bright_h_mag, ndet_bright_k_mag
        Frame-detection test, the magnitude reading that real rows support: a band
        brighter than its ``ndet_bright_*_mag`` must be detected on N/M >=
        ``ndet_min_ratio`` of the frames when measurable on M >= ``ndet_min_frames``,
        on both of 2 frames, and fails on fewer. A source passes with a saturated band
        or one rd_flg 2/4 band passing; a failing rd_flg 1/2 band is ph_qual E.
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
        XSC ``cc_flg`` letters that eliminate a source before matching / at the end
        (empty: none).
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
    msig_primary: float = 0.1551
    snr_secondary: float = 5.0
    msig_secondary: float = 0.2171
    psfchi_max: float = 10.0
    psfchi_exempt_saturated: bool = True
    ndet_min_ratio: float = 0.41
    ndet_min_frames: int = 3
    ndet_bright_j_mag: float = 14.5
    ndet_bright_h_mag: float = 14.0
    ndet_bright_k_mag: float = 13.5
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
                try:
                    value = float(value)
                except OverflowError:  # beyond any double: infinite, refused below
                    value = math.inf if value > 0 else -math.inf
                object.__setattr__(self, f.name, value)
        problems = self.problems()
        if problems:
            raise ReleaseSpecError("; ".join(problems))

    def problems(self) -> list[str]:
        """Values no release can be built with, as messages naming the field.

        Everything is checked here, before any SQL runs: a value out of range would
        otherwise fail deep in the build, never finish, or select nothing at all.
        """
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            want = _PY_TYPES[f.type]
            if type(value) is not want:
                out.append(f"{f.name} must be {_TYPE_NAMES[want]}, got {_show(value)}")
            elif f.name in RANGES and value not in RANGES[f.name]:
                finite = "a finite number " if want is float else ""
                out.append(f"{f.name} must be {finite}in {RANGES[f.name]}, got {_show(value)}")
            elif want is str and "\0" in value:
                out.append(f"{f.name} must not contain a NUL character")
        if out:
            return out
        if self.scan_sensitivity not in SCAN_SENSITIVITY:
            out.append(f"scan_sensitivity must be one of {', '.join(SCAN_SENSITIVITY)}, "
                       f"got {self.scan_sensitivity!r}")
        for name in ("psc_artifact_pattern", "psc_final_artifact_pattern"):
            out += _pattern_problems(name, getattr(self, name))
        for name in ("xsc_artifact_flags", "xsc_final_artifact_flags"):
            if not re.fullmatch(r"[A-Za-z]*", getattr(self, name)):
                out.append(f"{name} must be XSC cc_flg letters (A-Z, a-z), "
                           f"got {getattr(self, name)!r}")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain values (stored as JSON in the release registry)."""
        return dataclasses.asdict(self)

    def sql_columns(self) -> list[tuple[str, str, Any]]:
        """``(name, SQL type, value)`` of every field, in declaration order."""
        return [(f.name, SQL_TYPES[_PY_TYPES[f.type]], getattr(self, f.name))
                for f in fields(self)]


_PY_TYPES = {"bool": bool, "int": int, "float": float, "str": str}
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class Range:
    """The values a number field may take: finite, in [low, high] ((low, high] when
    ``open_low``)."""

    low: float
    high: float
    unit: str = ""
    open_low: bool = False

    def __contains__(self, value: float) -> bool:
        above = self.low < value if self.open_low else self.low <= value
        finite = not isinstance(value, float) or math.isfinite(value)
        return finite and above and value <= self.high

    def __str__(self) -> str:
        text = f"{'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"
        return f"{text} {self.unit}" if self.unit else text


#: The range of every number field. Beyond it a build fails in SQL, never ends, or
#: selects nothing; the reasons come from the 2MASS facts (catalog rules document).
RANGES = {
    # QA scores are integers 0-10.
    "min_scan_qual": Range(0, 10),
    # Half the 8.5' tile width: a wider border leaves no source in any tile.
    "psc_edge_arcsec": Range(0, 255, "arcsec"),
    "xsc_edge_arcsec": Range(0, 255, "arcsec"),
    # S/N thresholds, far above any measured S/N at the top (and within SQL real).
    "snr_primary": Range(0, 1e5),
    "snr_secondary": Range(0, 1e5),
    # Bright limits of the frame-detection test: from 0 mag (hardly any band tested) to
    # 25 mag (every band tested), within SQL real.
    "ndet_bright_j_mag": Range(0, 25, "mag"),
    "ndet_bright_h_mag": Range(0, 25, "mag"),
    "ndet_bright_k_mag": Range(0, 25, "mag"),
    # Frames a band is measurable on: 3 up to the 7 a point is sometimes imaged on (two
    # frames have their own rule, and 9 is the most one ndet digit holds).
    "ndet_min_frames": Range(3, 9),
    # Uncertainties: sigma = 1.0857 / (S/N), so 1.0857 mag is S/N 1.
    "msig_primary": Range(0, 1.0857, "mag"),
    "msig_secondary": Range(0, 1.0857, "mag"),
    "xsc_msig_max": Range(0, 1.0857, "mag"),
    # Reduced chi-squared; the rule is psfchi < psfchi_max, so 0 passes nothing.
    "psfchi_max": Range(0, 1e6, open_low=True),
    # N/M, a fraction of the frames.
    "ndet_min_ratio": Range(0, 1),
    # Apparitions of one source lie within 2" (points) or 5" (extended).
    "psc_match_arcsec": Range(0, 60, "arcsec", open_low=True),
    "xsc_match_arcsec": Range(0, 60, "arcsec", open_low=True),
    # e_score and g_score run from 1 (extended) to 2 (point-like).
    "xsc_score_max": Range(1, 2),
    # 0 is automatic; the search's cell passes end at 1 deg.
    "prox_start_arcsec": Range(0, 3600, "arcsec"),
    # Large galaxies have r_k20fe of arcminutes; the ellipses are searched within 1 deg.
    "gal_contam_min_r_arcsec": Range(0, 3600, "arcsec"),
    "gal_contam_scale": Range(0, 10, open_low=True),
}

#: cc_flg of a source no artifact or confusion touched.
CLEAN_CC_FLG = "000"

#: What an artifact pattern may be written with: cc_flg letters and digits and the
#: regular-expression operators that Python and PostgreSQL read alike (no backslash
#: escapes, whose meanings differ, no ``(?`` extensions).
_PATTERN_ALPHABET = re.compile(r"[A-Za-z0-9\[\]^$|()*+?.-]+")


def _pattern_problems(name: str, pattern: str) -> list[str]:
    """Why ``pattern`` cannot be a cc_flg artifact pattern, if it cannot.

    An empty pattern, or one matching a clean ``000``, would call every source an
    artifact and build an empty catalog.
    """
    if not pattern:
        return [f"{name} is empty: it would match every cc_flg and reject every source"]
    if not _PATTERN_ALPHABET.fullmatch(pattern) or "(?" in pattern:
        return [f"{name} must be a regular expression of cc_flg letters, digits and "
                f"[ ] ^ $ | ( ) * + ? . -, got {pattern!r}"]
    try:
        # Python warns that "[[" may one day open a nested set; today both read a "[".
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = re.compile(pattern)
    except re.error as exc:
        return [f"{name} is not a regular expression: {exc}"]
    if compiled.search(CLEAN_CC_FLG):
        return [f"{name} {pattern!r} matches {CLEAN_CC_FLG!r}, the flag of a clean source: "
                "every source would be an artifact"]
    return []


def _show(value: object) -> str:
    """``repr`` of a value, shortened: a 400-digit number is not worth printing."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


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
    except UnicodeDecodeError:
        raise ReleaseSpecError(f"{path}: not valid TOML: not UTF-8 text") from None
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
