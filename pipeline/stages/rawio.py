"""Raw night files: the FITS cubes the camera wrote, and the checks made before processing.

Layout of a raw night directory (``twomass observe`` writes it, ``twomass pipeline``
reads it)::

    night.json                     date, site, seed, scans (survey and calibration)
    raw/sNNN_<band>_r<1|2>.fits    one int16 cube (frames, 256, 256) per scan, band, read;
                                   header: frame times (JD0, FRAMEDT), airmass; table
                                   FRAMES: the pointing the telescope reported per frame
    cal/dark_<band>_r<1|2>.fits    the night's darks
    cal/flat_<band>_r<1|2>.fits    twilight flats (rising illumination)
    ref/*.parquet                  astrometric reference, photometric standards,
                                   bright stars, minor-planet ephemerides
    sim/true_frames.parquet        the simulation's true frame centres, seeing and zero
                                   points: for benchmarks and tests, never read by the
                                   pipeline

Every file of a night is checked (present, complete, right shape, frame times) before
any output is written, so a bad input changes nothing.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from twomass.core.errors import TwomassError
from twomass.pipeline.stages.instrument import BANDS, NPIX

REF_FILES = ("astrometric.parquet", "standards.parquet", "bright_stars.parquet",
             "minor_planets.parquet")
TIME_KEYS = ("JD0", "FRAMEDT")


class RawInputError(TwomassError):
    """A raw night is incomplete or malformed."""


def cube_name(scan: int, band: str, read: int) -> str:
    return f"s{scan:03d}_{band}_r{read}.fits"


def write_cube(path: Path, data: np.ndarray, header: fits.Header,
               frames: dict[str, np.ndarray] | None = None) -> None:
    """Write an int16 cube and, for scans, the FRAMES table of reported pointings."""
    hdus = [fits.PrimaryHDU(data.astype(np.int16), header=header)]
    if frames is not None:
        cols = [fits.Column(name=k, format="D" if v.dtype.kind == "f" else "J", array=v)
                for k, v in frames.items()]
        hdus.append(fits.BinTableHDU.from_columns(cols, name="FRAMES"))
    fits.HDUList(hdus).writeto(path, output_verify="exception")


@dataclass
class ScanEntry:
    """One scan of a raw night as ``night.json`` lists it."""

    scan: int
    kind: str  # "survey" or "cal"
    tile: int
    sd: str
    ra0: float
    airmass: float
    nframes: int


def night_directories(paths) -> list[Path]:
    """Raw night directories: each path itself, or the nights inside it (as ``observe``
    writes them), in name order."""
    out: list[Path] = []
    for path in map(Path, paths):
        inner = sorted(p for p in path.iterdir() if (p / "night.json").is_file()) \
            if path.is_dir() and not (path / "night.json").exists() else []
        out += inner or [path]
    return out


def read_night(directory: Path) -> tuple[dict, list[ScanEntry]]:
    """``night.json`` and its scans; checks every cube of the night before returning."""
    path = directory / "night.json"
    if not path.is_file():
        raise RawInputError(f"{path}: missing (not a raw night directory)")
    try:
        doc = json.loads(path.read_text())
        scans = [ScanEntry(**s) for s in doc["scans"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise RawInputError(f"{path}: not a raw night description ({exc})") from None
    for entry in scans:
        for band in BANDS:
            for read in (1, 2):
                check_cube(directory / "raw" / cube_name(entry.scan, band, read),
                           entry.nframes, frames_table=True)
    for band in BANDS:
        for kind in ("dark", "flat"):
            for read in (1, 2):
                check_cube(directory / "cal" / f"{kind}_{band}_r{read}.fits", None)
    for name in REF_FILES:
        if not (directory / "ref" / name).is_file():
            raise RawInputError(f"{directory / 'ref' / name}: missing reference list")
    return doc, scans


def check_cube(path: Path, nframes: int | None, frames_table: bool = False) -> None:
    """Refuse a missing, truncated or malformed cube with a message naming the file."""
    if not path.is_file():
        raise RawInputError(f"{path}: missing raw cube")
    try:
        with open(path, "rb") as handle:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                hdul = fits.open(handle, memmap=False, lazy_load_hdus=False)
            with hdul:
                info = hdul.fileinfo(0)
                size = path.stat().st_size
                hdr = hdul[0].header
                shape = tuple(hdr.get(f"NAXIS{i}", 0)
                              for i in range(hdr.get("NAXIS", 0), 0, -1))
                has_table = len(hdul) > 1 and hdul[1].name == "FRAMES"
                last = hdul.fileinfo(len(hdul) - 1)
    except (OSError, ValueError, Warning) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RawInputError(f"{path}: truncated or unreadable FITS: {reason}") from None
    if info["datLoc"] + info["datSpan"] > size or last["datLoc"] + last["datSpan"] > size:
        raise RawInputError(f"{path}: truncated FITS: {size} bytes, the header announces "
                            f"{last['datLoc'] + last['datSpan']}")
    if len(shape) != 3 or shape[1:] != (NPIX, NPIX) or hdr.get("BITPIX") != 16:
        raise RawInputError(f"{path}: wrong shape {shape} (BITPIX {hdr.get('BITPIX')}); "
                            f"expected int16 (frames, {NPIX}, {NPIX})")
    if nframes is not None and shape[0] != nframes:
        raise RawInputError(f"{path}: {shape[0]} frames, night.json lists {nframes}")
    if frames_table:
        missing = [k for k in TIME_KEYS if k not in hdr]
        if missing:
            raise RawInputError(f"{path}: header without frame times (no {', '.join(missing)})")
        if not has_table:
            raise RawInputError(f"{path}: no FRAMES table of reported pointings")


def read_cube(path: Path) -> tuple[np.ndarray, fits.Header, dict[str, np.ndarray] | None]:
    """Data (float32), primary header and the FRAMES table of a checked cube."""
    with fits.open(path, memmap=False) as hdul:
        data = hdul[0].data.astype(np.float32)
        table = None
        if len(hdul) > 1:
            table = {n: np.asarray(hdul[1].data[n]) for n in hdul[1].columns.names}
        return data, hdul[0].header.copy(), table
