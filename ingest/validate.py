"""Warnings of a night's products, and the whole check of a night before it is written.

Hard errors (``twomass.ingest.checks``) are values the working database must never hold.
Warnings are legal but implausible values, numbered ``W01``... like astropy's VOTable
warnings (see ``docs/ingest.md``); ``on_warning`` chooses whether they are ignored,
reported, or turned into errors. Every check is a vectorized Arrow/NumPy expression.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twomass.core.errors import TwomassError
from twomass.ingest import footprint
from twomass.ingest.checks import check_night_date, check_references, check_values, compact
from twomass.ingest.products import NightProducts, printable
from twomass.schema.products import night_start_jd

ON_WARNING = ("ignore", "warn", "error")

MAGNITUDE_COLUMNS = re.compile(r"^([jhk]_m|[jhk]_m_(stdap|k20fe|7|ext))$")
SNR_COLUMNS = re.compile(r"^[jhk]_snr$")
POSITION_ERROR_COLUMNS = ("err_maj", "err_min")


class InvalidWarning(TwomassError):
    """A warning class was raised as an error (``on_warning='error'``)."""


class IngestWarning(UserWarning):
    """Base of the numbered warning classes: a legal but implausible value."""

    code = "W00"


class W01(IngestWarning):
    """Signal-to-noise ratio above ``Limits.max_snr``: a saturated or mis-calibrated fit."""

    code = "W01"


class W02(IngestWarning):
    """Magnitude outside ``Limits.magnitude_range``: a zero-point or unit error."""

    code = "W02"


class W03(IngestWarning):
    """Scan QA score below ``Limits.min_scan_qual``; 2MASS loaded only scans with Q > 3."""

    code = "W03"


class W04(IngestWarning):
    """``jdate`` outside the night: not within ``Limits.night_window_h`` of 00:00 UT."""

    code = "W04"


class W05(IngestWarning):
    """A scan of ``scans.parquet`` has no point extraction in ``pts.parquet``."""

    code = "W05"


class W06(IngestWarning):
    """Position-error ellipse axis above ``Limits.max_position_error_arcsec``."""

    code = "W06"


class W07(IngestWarning):
    """An extraction lies outside its scan by more than ``Limits.scan_margin_arcsec``."""

    code = "W07"


WARNING_CLASSES = (W01, W02, W03, W04, W05, W06, W07)


@dataclass(frozen=True)
class Limits:
    """Plausibility limits of the warning classes (legal values beyond them warn)."""

    #: The scan S/N is ``10 * 10**(-0.4 * (m - msnr10))`` (spec 4.10, and real PSC rows
    #: follow it), so it grows without bound for bright stars: the brightest 2MASS
    #: sources (J ~ -3) in a scan reaching S/N 10 at J ~ 16.5 have S/N ~ 6e8.
    max_snr: float = 1e9
    magnitude_range: tuple[float, float] = (-5.0, 25.0)
    min_scan_qual: int = 4
    #: Hours relative to 00:00 UT of the night's date (the UT date at sunrise): both
    #: observatories' nights fall between the previous noon and the date's midnight.
    night_window_h: tuple[float, float] = (-12.0, 24.0)
    #: 2MASS error ellipses are a fraction of an arcsec (PSC: under 1"); 10" is five
    #: pixels, beyond any centroid a detection can have.
    max_position_error_arcsec: float = 10.0
    #: Extractions lie within the scan's 3-band corners but for the few arcsec of the
    #: single-band edge strips and the RA tracking excursions (up to 7-8").
    scan_margin_arcsec: float = 60.0


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ProductWarning:
    """One warning class raised by one column of one file."""

    category: type[IngestWarning]
    file: str
    row: int
    column: str
    count: int
    message: str

    def __str__(self) -> str:
        more = f" ({self.count:,d} rows)" if self.count > 1 else ""
        return (f"{self.category.code}: {self.file} row {self.row} column {self.column}: "
                f"{self.message}{more}")


def _warn(found: list[ProductWarning], category: type[IngestWarning], file: str,
          column: str, mask: np.ndarray, describe: Callable[[int], str]) -> None:
    bad = np.flatnonzero(mask)
    if bad.size:
        found.append(ProductWarning(category, file, int(bad[0]), column, int(bad.size),
                                    describe(int(bad[0]))))


def find_warnings(products: NightProducts, limits: Limits = DEFAULT_LIMITS) -> list[ProductWarning]:
    """Every warning class the night raises, one record per (class, file, column)."""
    found: list[ProductWarning] = []
    lo_mag, hi_mag = limits.magnitude_range
    jd0 = night_start_jd(products.night.date)
    jd_lo, jd_hi = (jd0 + h / 24.0 for h in limits.night_window_h)
    for file, table in products.tables.items():
        for name in table.column_names:
            if SNR_COLUMNS.match(name):
                v = table.column(name).to_numpy(zero_copy_only=False)
                _warn(found, W01, file, name, v > limits.max_snr,
                      lambda i, v=v: f"S/N {v[i]:g} above {limits.max_snr:g}")
            if MAGNITUDE_COLUMNS.match(name):
                v = table.column(name).to_numpy(zero_copy_only=False)
                _warn(found, W02, file, name, (v < lo_mag) | (v > hi_mag),
                      lambda i, v=v: f"magnitude {v[i]:g} outside [{lo_mag:g}, {hi_mag:g}]")
            if name == "jdate":
                v = table.column(name).to_numpy()
                _warn(found, W04, file, name, (v < jd_lo) | (v >= jd_hi),
                      lambda i, v=v: f"Julian Date {compact(v[i], 5)} outside the night "
                      f"{products.night.label} [{jd_lo:.1f}, {jd_hi:.1f})")
            if name in POSITION_ERROR_COLUMNS:
                v = table.column(name).to_numpy()
                limit = limits.max_position_error_arcsec
                _warn(found, W06, file, name, v > limit, lambda i, v=v, lim=limit:
                      f"position error {v[i]:g} arcsec above {lim:g}")
    scans = products.tables["scans.parquet"]
    qual = scans.column("qual").to_numpy()
    _warn(found, W03, "scans.parquet", "qual", qual < limits.min_scan_qual,
          lambda i: f"QA score {qual[i]} below {limits.min_scan_qual}")
    numbers = scans.column("scan").to_numpy()
    empty = ~np.isin(numbers, products.tables["pts.parquet"].column("scan").to_numpy())
    _warn(found, W05, "scans.parquet", "scan", empty,
          lambda i: f"scan {numbers[i]} has no point extraction")
    margin = limits.scan_margin_arcsec
    for file in ("pts.parquet", "ext.parquet"):
        outside = footprint.outside_arcsec(scans, products.tables[file])
        _warn(found, W07, file, "ra", outside > margin,
              lambda i, o=outside, f=file: f"extraction {compact(o[i], 0)} arcsec outside "
              f"scan {products.tables[f].column('scan')[i]} (more than {margin:g})")
    return found


def validate(products: NightProducts, on_warning: str = "warn",
             limits: Limits = DEFAULT_LIMITS) -> list[ProductWarning]:
    """Check a night completely; raise on hard errors, handle warnings per ``on_warning``.

    Parameters
    ----------
    on_warning
        ``ignore``: return the warnings silently; ``warn``: also issue each one as a
        Python warning of its class; ``error``: raise ``InvalidWarning`` for the first.

    Raises
    ------
    ProductError
        The first hard error, naming file, 0-based row and column.
    """
    if on_warning not in ON_WARNING:
        raise ValueError(f"on_warning must be one of {ON_WARNING}, got {on_warning!r}")
    for file in products.tables:
        check_values(products, file)
    check_references(products)
    check_night_date(products, limits.night_window_h)
    found = find_warnings(products, limits)
    if found and on_warning == "error":
        first = found[0]
        raise InvalidWarning(f"{printable(products.directory)}: {first} "
                             "(refused: --on-warning error)")
    if on_warning == "warn":
        for w in found:
            warnings.warn(f"{printable(products.directory)}: {w}", w.category, stacklevel=2)
    return found
