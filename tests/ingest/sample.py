"""Small synthetic night product directories, written without the simulator.

Ingest is tested and benchmarked on night products whose contents are known exactly:
every column of every file is generated here, vectorized with NumPy, from a seed. The
values are plausible (magnitudes 8-16, errors 0.02-0.2 mag, flags from the documented
alphabets) but carry no astrophysics; ``twomass simulate`` is the realistic source.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twomass.schema.products import PRODUCT_TABLES, night_start_jd, product_schema


@dataclass(frozen=True)
class SampleNight:
    """What ``write_night`` wrote: enough to check a load against."""

    directory: Path
    hemis: str
    date: dt.date
    rows: dict[str, int]


_FLAG_CHOICES = {
    "rd_flg": ["222", "221", "220", "200", "111", "333", "022", "422", "926", "202"],
    "bl_flg": ["111", "110", "100", "211", "011", "121"],
    "cc_flg": ["000", "0c0", "p00", "00d", "s0b", "000"],
    "ndet": ["666666", "565656", "060606", "666660", "363636"],
    "cnf_flg": ["000000", "100000", "010101", "000011"],
    "dist_edge_flg": ["ne", "nw", "se", "sw"],
    "a": ["0", "0", "0", "T", "U"],
    "sd": ["n", "s"],
}


def _column(name: str, type_: pa.DataType, n: int, rng: np.random.Generator,
            jd0: float, file: str) -> pa.Array:
    """Plausible values for one product column that has no geometric meaning."""
    if name in _FLAG_CHOICES:
        ext_cc = name == "cc_flg" and file == "ext.parquet"
        choices = ["0", "0", "c", "d"] if ext_cc else _FLAG_CHOICES[name]
        return pa.array(np.asarray(choices)[rng.integers(0, len(choices), n)])
    if name == "jdate":
        return pa.array(jd0 + rng.uniform(0.05, 0.45, n))
    if pa.types.is_floating(type_):
        if "sig" in name or "err" in name or "rms" in name:
            values = rng.uniform(0.02, 0.2, n)
        elif "snr" in name:
            values = rng.uniform(5.0, 500.0, n)
        elif name.endswith("_m") or "_m_" in name or name.endswith("msnr10"):
            values = rng.uniform(8.0, 16.0, n)
        else:
            values = rng.uniform(0.0, 10.0, n)
        nulls = None
        if name.startswith(("b_m_opt", "vr_m_opt", "dist_opt")) or name.endswith("psfchi"):
            nulls = rng.random(n) < 0.3
        return pa.array(values.astype(type_.to_pandas_dtype()), mask=nulls)
    if pa.types.is_integer(type_):
        if name == "qual":
            return pa.array(rng.integers(4, 11, n).astype(np.int16))
        if name in ("hgl", "cld", "xph", "anom", "mp_flg", "hry"):
            return pa.array((rng.random(n) < 0.05).astype(type_.to_pandas_dtype()))
        if name == "err_ang":
            return pa.array(rng.integers(0, 180, n).astype(np.int16))
        return pa.array(rng.integers(0, 300, n).astype(type_.to_pandas_dtype()))
    raise TypeError(f"no sample values for {file} column {name} of type {type_}")


def _table(file: str, n: int, rng: np.random.Generator, jd0: float,
           given: dict[str, np.ndarray]) -> pa.Table:
    schema = product_schema(file)
    arrays = [
        pa.array(given[f.name], type=f.type, from_pandas=True) if f.name in given
        else _column(f.name, f.type, n, rng, jd0, file)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_night(directory: Path, *, n_pts: int = 1000, n_ext: int = 20, n_scans: int = 4,
                date: dt.date = dt.date(2000, 6, 1), hemis: str = "n", seed: int = 0,
                first_tile: int = 1000) -> SampleNight:
    """Write a complete, valid night product directory and return what it holds.

    Scans observe consecutive tiles ``first_tile, first_tile + 1, ...`` 0.25 deg apart
    in right ascension near dec +10 deg; extractions are spread evenly over the scans
    and lie inside their scan. Every call with the same arguments writes identical files.
    """
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jd0 = night_start_jd(date)
    tiles = first_tile + np.arange(n_scans, dtype=np.int32)
    ra_c = (0.25 * (tiles - first_tile) + 0.25 * (first_tile % 1000)) % 360.0
    dec_c = np.full(n_scans, 10.0)
    corners = {}
    for i, (dra, ddec) in enumerate([(0.1, -1.5), (-0.1, -1.5), (0.1, 1.5), (-0.1, 1.5)], 1):
        corners[f"ra_{i}"] = (ra_c + dra) % 360.0
        corners[f"dec_{i}"] = dec_c + ddec
    geometry = {"ra": ra_c, "dec": dec_c, **corners}
    tables = {
        "tiles.parquet": _table("tiles.parquet", n_scans, rng, jd0, {
            "tile": tiles, "dec_band": np.full(n_scans, 16, np.int16), **geometry}),
        "scans.parquet": _table("scans.parquet", n_scans, rng, jd0, {
            "scan": np.arange(1, n_scans + 1, dtype=np.int16), "tile": tiles, **geometry}),
    }
    for file, n in (("pts.parquet", n_pts), ("ext.parquet", n_ext)):
        scan_index = np.repeat(np.arange(n_scans), -(-n // n_scans))[:n]
        ids = np.arange(n) - np.searchsorted(scan_index, scan_index) + 1
        ra = (ra_c[scan_index] + rng.uniform(-0.09, 0.09, n)) % 360.0
        dec = dec_c[scan_index] + rng.uniform(-1.4, 1.4, n)
        given = {"scan": (scan_index + 1).astype(np.int16), "id": ids.astype(np.int32),
                 "ra": ra, "dec": dec}
        if file == "ext.parquet":
            # An extended source's point extraction: the same id in the same scan, if any.
            pts_per_scan = np.bincount(np.repeat(np.arange(n_scans), -(-n_pts // n_scans))
                                       [:n_pts], minlength=n_scans)
            given |= {"sup_ra": ra, "sup_dec": dec,
                      "pts_id": np.where(ids <= pts_per_scan[scan_index], ids, np.nan)}
        tables[file] = _table(file, n, rng, jd0, given)
    for file, table in tables.items():
        pq.write_table(table, directory / file, write_page_checksum=True)
    night = {"date": date.isoformat(), "hemis": hemis, "pipeline": "sample",
             "pipeline_version": "1.0"}
    (directory / "night.json").write_text(json.dumps(night, indent=2) + "\n")
    rows = {PRODUCT_TABLES[f].name: t.num_rows for f, t in tables.items()}
    return SampleNight(directory, hemis, date, rows)
