"""Hard errors of a night's products: values the working database must never hold.

A position off the sphere, NaN, a negative uncertainty, a flag outside its alphabet or a
value outside the range its definition allows, an extraction whose scan (or whose
matching point extraction) is not in the night, a night whose scans were observed on
another date. Each is a ``ProductError`` naming the file, the first offending row
(0-based, as Arrow, pandas and ``pyarrow.parquet`` count) and the column, with the number
of offending rows. Every check is a vectorized Arrow/NumPy expression.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twomass.ingest.products import NIGHT_JSON, NightProducts, ProductError
from twomass.schema.products import night_start_jd, product_schema

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
#: (file, column) -> (lowest, highest or None, what it is): integer columns whose
#: definition bounds them (spec sections 1.3, 3, 4.7 and 6.1).
RANGES = {
    ("scans.parquet", "scan"): (1, None, "scan number"),
    ("scans.parquet", "qual"): (0, 10, "QA score"),
    **{("scans.parquet", name): (0, 1, "0/1 flag") for name in
       ("hgl", "cld", "xph", "anom", "hry")},
    ("pts.parquet", "id"): (1, None, "source id"),
    ("ext.parquet", "id"): (1, None, "source id"),
    ("ext.parquet", "pts_id"): (1, None, "source id"),
    # 2MASS writes the error ellipse's angle as 0..180 (both ends occur in the PSC).
    ("pts.parquet", "err_ang"): (0, 180, "position angle"),
    ("pts.parquet", "mp_flg"): (0, 1, "0/1 flag"),
    ("ext.parquet", "mp_flg"): (0, 1, "0/1 flag"),
}
RA_COLUMNS = re.compile(r"^(sup_)?ra(_[1-4])?$")
DEC_COLUMNS = re.compile(r"^(sup_)?dec(_[1-4])?$")
#: Uncertainties: never negative (2MASS sentinels for "no estimate" are > 8, not < 0).
ERROR_COLUMNS = re.compile(r"^(err_maj|err_min|.*_cmsig|.*_msigcom|.*_msig(_.*)?|.*_zperr_ap)$")


def compact(value: float, decimals: int) -> str:
    """A value for a message: fixed decimals while short, else compact (``1e+300``)."""
    text = f"{value:.{decimals}f}"
    return text if len(text) <= 16 else f"{value:.6g}"


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

    def wrong_length(i: int) -> str:
        value = column[i].as_py()
        if len(value) == length:  # non-ASCII characters take more than one byte
            return f"flag {value!r} does not match {pattern}"
        return f"flag {reprlib.repr(value)} must have {length} characters"

    _fail(path, lengths, name, wrong_length)
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
        bounds = RANGES.get((file, field.name))
        if bounds:
            check_range(path, column, field.name, *bounds)


def check_range(path, column: pa.ChunkedArray, name: str, low: int, high: int | None,
                what: str) -> None:
    """Integer values within the range their definition allows (NULL passes)."""
    values = column.to_numpy(zero_copy_only=False)
    if column.null_count:
        values = np.where(_mask(pc.is_valid(column)), values, low)
    values = values.astype(np.int64)
    if high is None:
        _fail(path, values < low, name, lambda i: f"{what} {values[i]} below {low}")
    else:
        _fail(path, (values < low) | (values > high), name,
              lambda i: f"{what} {values[i]} outside [{low}, {high}]")


def _first_duplicate(path, keys: np.ndarray, column: str, what: Callable[[int], str]) -> None:
    order = np.argsort(keys, kind="stable")
    same = keys[order][1:] == keys[order][:-1]
    if same.any():
        rows = order[1:][same]
        row = int(rows.min())
        raise ProductError(path, f"duplicate {what(row)} ({rows.size:,d} duplicate rows)",
                           row=row, column=column)


def check_references(products: NightProducts) -> None:
    """Keys unique within the night (tiles, scans, extractions, bright stars); every
    scan's tile, every extraction's scan and every extended extraction's point
    extraction (``pts_id``) known."""
    t = {f: tab for f, tab in products.tables.items()}
    tiles = t["tiles.parquet"].column("tile").to_numpy()
    _first_duplicate(products.path("tiles.parquet"), tiles, "tile",
                     lambda i: f"tile {tiles[i]}")
    scans = t["scans.parquet"].column("scan").to_numpy()
    _first_duplicate(products.path("scans.parquet"), scans, "scan",
                     lambda i: f"scan number {scans[i]}")
    stars = t["bright_stars.parquet"].column("id").to_numpy()
    _first_duplicate(products.path("bright_stars.parquet"), stars, "id",
                     lambda i: f"bright star id {stars[i]}")
    scan_tiles = t["scans.parquet"].column("tile").to_numpy()
    _fail(products.path("scans.parquet"), ~np.isin(scan_tiles, tiles), "tile",
          lambda i: f"tile {scan_tiles[i]} is not in tiles.parquet")
    keys = {}
    for file in ("pts.parquet", "ext.parquet"):
        scan = t[file].column("scan").to_numpy()
        ids = t[file].column("id").to_numpy()
        _fail(products.path(file), ~np.isin(scan, scans), "scan",
              lambda i, s=scan: f"scan number {s[i]} is not in scans.parquet")
        keys[file] = _scan_id_keys(scan, ids)
        _first_duplicate(products.path(file), keys[file], "id",
                         lambda i, s=scan, d=ids: f"(scan, id) = ({s[i]}, {d[i]})")
    ext = t["ext.parquet"]
    scan, pts_id = ext.column("scan").to_numpy(), ext.column("pts_id").fill_null(0).to_numpy()
    known = np.sort(keys["pts.parquet"])
    wanted = _scan_id_keys(scan, pts_id)
    found = np.minimum(np.searchsorted(known, wanted), max(known.size - 1, 0))
    dangling = (known[found] != wanted) if known.size else np.ones(wanted.size, bool)
    _fail(products.path("ext.parquet"), dangling & _mask(pc.is_valid(ext.column("pts_id"))),
          "pts_id", lambda i: f"point extraction (scan, id) = ({scan[i]}, {pts_id[i]}) is "
          "not in pts.parquet")


def _scan_id_keys(scan: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """One int64 per (scan number, id) pair."""
    return (scan.astype(np.int64) << 32) | ids.astype(np.int64).astype(np.uint32)


def check_night_date(products: NightProducts, window_h: tuple[float, float]) -> None:
    """The night's date must be the one its scans were observed on.

    Rows timed outside the night only warn (W04), but when the scans' median time lies
    outside it the night itself is labelled wrongly, and loading it would file every
    row under a date it was not observed on.
    """
    jdate = products.tables["scans.parquet"].column("jdate").to_numpy()
    if jdate.size == 0:
        return
    jd0 = night_start_jd(products.night.date)
    lo, hi = (jd0 + h / 24.0 for h in window_h)
    median = float(np.median(jdate))
    if not lo <= median < hi:
        raise ProductError(
            products.path(NIGHT_JSON),
            f"field 'date' is {products.night.date.isoformat()} but its scans were observed "
            f"{compact(median - jd0, 1)} days from it (median jdate {compact(median, 5)} in "
            "scans.parquet): a wrong date, or another night's files")
