"""Checks of a night's products before anything is written: hard errors and warnings.

Hard errors (``ProductError``) are values the working database must never hold: a
position off the sphere, NaN, a negative uncertainty, a flag outside its alphabet, an
extraction whose scan is not in the night. They name the file, the first offending row
(0-based, as Arrow, pandas and ``pyarrow.parquet`` count) and the column.

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
import pyarrow as pa
import pyarrow.compute as pc

from twomass.core.errors import TwomassError
from twomass.ingest.products import NightProducts, ProductError
from twomass.schema.products import night_start_jd, product_schema

ON_WARNING = ("ignore", "warn", "error")

#: (file, column) -> (length, regular expression of one valid value).
FLAG_FORMATS = {
    ("scans.parquet", "sd"): (1, "[ns]"),
    ("pts.parquet", "rd_flg"): (3, "[0-9]{3}"),
    ("pts.parquet", "bl_flg"): (3, "[0-9]{3}"),
    ("pts.parquet", "cc_flg"): (3, "[A-Za-z0]{3}"),
    ("pts.parquet", "ndet"): (6, "[0-9]{6}"),
    ("pts.parquet", "cnf_flg"): (6, "[0-9]{6}"),
    ("pts.parquet", "dist_edge_flg"): (2, "[ns][ew]"),
    ("pts.parquet", "a"): (1, "[TU0]"),
    ("ext.parquet", "cc_flg"): (1, "[A-Za-z0]"),
    ("ext.parquet", "dist_edge_flg"): (2, "[ns][ew]"),
}
RA_COLUMNS = re.compile(r"^(sup_)?ra(_[1-4])?$")
DEC_COLUMNS = re.compile(r"^(sup_)?dec(_[1-4])?$")
#: Uncertainties: never negative (2MASS sentinels for "no estimate" are > 8, not < 0).
ERROR_COLUMNS = re.compile(r"^(err_maj|err_min|.*_cmsig|.*_msigcom|.*_msig_.*|.*_zperr_ap)$")
MAGNITUDE_COLUMNS = re.compile(r"^([jhk]_m|[jhk]_m_(stdap|k20fe|7|ext))$")
SNR_COLUMNS = re.compile(r"^[jhk]_snr$")


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


WARNING_CLASSES = (W01, W02, W03, W04, W05)


@dataclass(frozen=True)
class Limits:
    """Plausibility limits of the warning classes (legal values beyond them warn)."""

    max_snr: float = 1e5
    magnitude_range: tuple[float, float] = (-5.0, 25.0)
    min_scan_qual: int = 4
    #: Hours relative to 00:00 UT of the night's date (the UT date at sunrise): both
    #: observatories' nights fall between the previous noon and the date's midnight.
    night_window_h: tuple[float, float] = (-12.0, 24.0)


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


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean Arrow result as NumPy, null counting as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _fail(path, mask: np.ndarray, column: str, describe: Callable[[int], str]) -> None:
    bad = np.flatnonzero(mask)
    if bad.size:
        more = f" ({bad.size:,d} rows)" if bad.size > 1 else ""
        raise ProductError(path, describe(int(bad[0])) + more, row=int(bad[0]), column=column)


def _char_classes(pattern: str) -> list[np.ndarray]:
    """Per character position of a flag pattern like ``[ns][ew]``: allowed bytes."""
    classes = []
    for chars in re.findall(r"\[([^]]+)\](?:\{(\d+)\})?", pattern):
        allowed = np.zeros(256, dtype=bool)
        for lo, hi in re.findall(r"(.)(?:-(.))?", chars[0]):
            allowed[ord(lo):ord(hi or lo) + 1] = True
        classes += [allowed] * int(chars[1] or 1)
    return classes


def check_flag(path, column: pa.ChunkedArray, name: str, length: int, pattern: str) -> None:
    """Fixed length, then every character in its class (a byte lookup, not a regex)."""
    lengths = _mask(pc.not_equal(pc.binary_length(column), length))
    _fail(path, lengths, name, lambda i: f"flag {column[i].as_py()!r} must have "
          f"{length} characters")
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if len(array) == 0:
        return
    start = int(np.frombuffer(array.buffers()[1], np.int32)[array.offset])
    chars = np.frombuffer(array.buffers()[2], np.uint8, count=len(array) * length,
                          offset=start).reshape(len(array), length)
    bad = np.zeros(len(array), dtype=bool)
    for position, allowed in enumerate(_char_classes(pattern)):
        bad |= ~allowed[chars[:, position]]
    _fail(path, bad, name, lambda i: f"flag {column[i].as_py()!r} does not match {pattern}")


def check_values(products: NightProducts, file: str) -> None:
    """Per-column checks of one file: required, finite, on the sphere, flags."""
    table, path = products.tables[file], products.path(file)
    for field in product_schema(file):
        column = table.column(field.name)
        if not field.nullable and column.null_count:
            _fail(path, _mask(pc.is_null(column)), field.name, lambda i: "value is NULL, "
                  "the column is required")
        if pa.types.is_floating(field.type):
            values = column.to_numpy(zero_copy_only=False)
            bad = ~np.isfinite(values)
            if column.null_count:
                bad &= _mask(pc.is_valid(column))
            _fail(path, bad, field.name,
                  lambda i, v=values: f"value {v[i]} is not finite (NaN or infinite)")
            if RA_COLUMNS.match(field.name):
                _fail(path, (values < 0) | (values >= 360), field.name,
                      lambda i, v=values: f"right ascension {v[i]} outside [0, 360)")
            if DEC_COLUMNS.match(field.name):
                _fail(path, (values < -90) | (values > 90), field.name,
                      lambda i, v=values: f"declination {v[i]} outside [-90, 90]")
            if ERROR_COLUMNS.match(field.name):
                _fail(path, values < 0, field.name,
                      lambda i, v=values: f"uncertainty {v[i]} is negative")
        flag = FLAG_FORMATS.get((file, field.name))
        if flag:
            check_flag(path, column, field.name, *flag)
    if file == "scans.parquet":
        qual = table.column("qual").to_numpy()
        _fail(path, (qual < 0) | (qual > 10), "qual",
              lambda i: f"QA score {qual[i]} outside [0, 10]")


def _first_duplicate(path, keys: np.ndarray, column: str, what: Callable[[int], str]) -> None:
    order = np.argsort(keys, kind="stable")
    same = keys[order][1:] == keys[order][:-1]
    if same.any():
        rows = order[1:][same]
        row = int(rows.min())
        raise ProductError(path, f"duplicate {what(row)} ({rows.size:,d} duplicate rows)",
                           row=row, column=column)


def check_references(products: NightProducts) -> None:
    """Keys unique within the night; every scan's tile and every extraction's scan known."""
    t = {f: tab for f, tab in products.tables.items()}
    tiles = t["tiles.parquet"].column("tile").to_numpy()
    _first_duplicate(products.path("tiles.parquet"), tiles, "tile",
                     lambda i: f"tile {tiles[i]}")
    scans = t["scans.parquet"].column("scan").to_numpy()
    _first_duplicate(products.path("scans.parquet"), scans, "scan",
                     lambda i: f"scan number {scans[i]}")
    scan_tiles = t["scans.parquet"].column("tile").to_numpy()
    _fail(products.path("scans.parquet"), ~np.isin(scan_tiles, tiles), "tile",
          lambda i: f"tile {scan_tiles[i]} is not in tiles.parquet")
    for file in ("pts.parquet", "ext.parquet"):
        scan = t[file].column("scan").to_numpy()
        ids = t[file].column("id").to_numpy()
        _fail(products.path(file), ~np.isin(scan, scans), "scan",
              lambda i, s=scan: f"scan number {s[i]} is not in scans.parquet")
        keys = (scan.astype(np.int64) << 32) | ids.astype(np.int64).astype(np.uint32)
        _first_duplicate(products.path(file), keys, "id",
                         lambda i, s=scan, d=ids: f"(scan, id) = ({s[i]}, {d[i]})")


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
                      lambda i, v=v: f"Julian Date {v[i]:.5f} outside the night "
                      f"{products.night.label} [{jd_lo:.1f}, {jd_hi:.1f})")
    scans = products.tables["scans.parquet"]
    qual = scans.column("qual").to_numpy()
    _warn(found, W03, "scans.parquet", "qual", qual < limits.min_scan_qual,
          lambda i: f"QA score {qual[i]} below {limits.min_scan_qual}")
    numbers = scans.column("scan").to_numpy()
    empty = ~np.isin(numbers, products.tables["pts.parquet"].column("scan").to_numpy())
    _warn(found, W05, "scans.parquet", "scan", empty,
          lambda i: f"scan {numbers[i]} has no point extraction")
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
    found = find_warnings(products, limits)
    if found and on_warning == "error":
        first = found[0]
        raise InvalidWarning(f"{products.directory}: {first} (refused: --on-warning error)")
    if on_warning == "warn":
        for w in found:
            warnings.warn(f"{products.directory}: {w}", w.category, stacklevel=2)
    return found
