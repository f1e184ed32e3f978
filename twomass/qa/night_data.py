"""One night's scans and extraction counts, from its product directory or the database.

2MASS reviewed every night's QA before its scans entered the working database, so a
night directory is read on its own, with no database; a night already loaded is read
from ``wdb`` (``sql/qa/night.sql``), and its scans are then ranked against every loaded
scan of the same tiles. Both give the same ``NightData``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twomass.core.database import Database
from twomass.core.healpix import ang2hpx, to_order
from twomass.core.sphere import unit_vectors
from twomass.ingest.nights import NIGHT_PATTERN, NightError, parse_night
from twomass.ingest.products import read_night
from twomass.qa.queries import session
from twomass.qa.skyplots import region_box, zoom_order
from twomass.release.spec import ReleaseSpec
from twomass.schema.products import night_start_jd

BANDS = "jhk"
#: The scan columns the report reads (``wdb.scan`` names).
SCAN_COLUMNS = (
    "scan", "tile", "sd", "qual", "hgl", "cld", "xph", "anom", "jdate", "airm", "ra", "dec",
    *(f"{c}_{k}" for k in range(1, 5) for c in ("ra", "dec")),
    *(f"{b}_{c}" for c in ("zp_ap", "zperr_ap", "msnr10", "shape_avg", "psp", "back",
                            "n_snr10") for b in BANDS),
)


@dataclass
class NightData:
    """A night's scans (one row each, in scan-number order) and its extractions.

    Attributes
    ----------
    label, source
        The night's name (``2000-05-01n``) and where it was read from.
    date
        Its reference date.
    scans
        Column name (``SCAN_COLUMNS``) -> values, one per scan.
    extractions
        Point extractions per scan.
    tile_offset_arcsec
        Distance of each scan's centre from its planned tile's centre [arcsec].
    outranked_by
        Per scan, the scan the release rules choose for its tile instead (``2000-05-03n
        scan 12, qual 10``), "" when it is this one; None when no scan qualifies.
    pixels, counts, order
        Point extractions per HEALPix NESTED pixel of ``order``.
    """

    label: str
    source: str
    date: dt.date
    scans: dict[str, np.ndarray]
    extractions: np.ndarray
    tile_offset_arcsec: np.ndarray
    outranked_by: list[str | None]
    pixels: np.ndarray
    counts: np.ndarray
    order: int

    @property
    def hours_ut(self) -> np.ndarray:
        """Scan start [h UT from 00:00 of the night's date; an evening before is < 0]."""
        return (self.scans["jdate"] - night_start_jd(self.date)) * 24.0

    @property
    def corners(self) -> np.ndarray:
        """(scans, 8) corners ra_1, dec_1, ..., dec_4 [deg]."""
        return np.column_stack([self.scans[f"{c}_{k}"] for k in range(1, 5)
                                for c in ("ra", "dec")]).astype(float)


def is_night_directory(night: str | Path) -> bool:
    """Whether ``night`` names a product directory rather than a loaded night: a
    directory, or anything not shaped like a night's name (``2000-05-01n``), so that a
    mistyped path is reported as a missing directory."""
    return Path(night).is_dir() or not NIGHT_PATTERN.match(str(night))


def from_directory(directory: str | Path) -> NightData:
    """A night product directory, checked against the product contract as ingest reads it.

    Raises
    ------
    ProductError
        A file is missing, unreadable or breaks the contract.
    """
    products = read_night(directory)
    table = products.tables["scans.parquet"].sort_by("scan")
    scans = {c: table.column(c).to_numpy(zero_copy_only=False) for c in SCAN_COLUMNS}
    tiles = products.tables["tiles.parquet"].select(["tile", "ra", "dec"]).to_pydict()
    centre = {t: (ra, dec) for t, ra, dec in zip(*tiles.values(), strict=True)}
    tile_xy = np.array([centre.get(int(t), (np.nan, np.nan)) for t in scans["tile"]], float)
    pts = products.tables["pts.parquet"]
    n = len(scans["scan"])
    extractions = np.bincount(np.searchsorted(scans["scan"], pts.column("scan").to_numpy()),
                              minlength=n)[:n]
    order = _order(scans)
    pixels, counts = np.unique(to_order(ang2hpx(pts.column("ra").to_numpy(),
                                                pts.column("dec").to_numpy()), order),
                               return_counts=True)
    info = products.night
    return NightData(info.label, f"night products in {products.directory}", info.date, scans,
                     extractions, _offset_arcsec(scans, tile_xy), _rank_within(scans, info.label),
                     pixels, counts, order)


def from_database(db: Database, night: str) -> NightData:
    """A night loaded in the working database, its scans ranked against every loaded scan.

    Raises
    ------
    NightError
        The name is malformed or the night is not loaded.
    """
    hemis, date = parse_night(night)
    label = f"{date.isoformat()}{hemis}"
    with session(db, "night") as q:
        records = q.records("night_scans", hemis=hemis, date=date,
                            min_scan_qual=ReleaseSpec().min_scan_qual)
        if not records:
            raise NightError(f"night {label} is not loaded: `twomass nights list` shows the "
                             "loaded nights, and a night product directory can be given "
                             "instead")
        keys = [r["scan_key"] for r in records]
        per_scan = dict(q.rows("scan_rows", scan_keys=keys))
        scans = {c: np.array([r[c] for r in records]) for c in SCAN_COLUMNS}
        order = _order(scans)
        rows = np.array(q.rows("density", order=order, scan_keys=keys), np.int64).reshape(-1, 2)
    tile_xy = np.array([[r["tile_ra"], r["tile_dec"]] for r in records], float)
    outranked = [None if r["choice_scan_key"] is None
                 else "" if r["choice_scan_key"] == r["scan_key"]
                 else f"{r['choice_label']}, qual {r['choice_qual']}" for r in records]
    return NightData(label, f"working database {db.masked_url}", date, scans,
                     np.array([per_scan.get(k, 0) for k in keys], np.int64),
                     _offset_arcsec(scans, tile_xy), outranked, rows[:, 0], rows[:, 1], order)


def _order(scans: dict[str, np.ndarray]) -> int:
    corners = np.column_stack([scans[f"{c}_{k}"] for k in range(1, 5) for c in ("ra", "dec")])
    if not len(corners):
        return zoom_order(1.0)
    *_, width = region_box(corners[:, 0::2].astype(float).ravel(),
                           corners[:, 1::2].astype(float).ravel())
    return zoom_order(width)


def _offset_arcsec(scans: dict[str, np.ndarray], tile_deg: np.ndarray) -> np.ndarray:
    a = unit_vectors(scans["ra"].astype(float), scans["dec"].astype(float))
    b = unit_vectors(tile_deg[:, 0], tile_deg[:, 1])
    return np.degrees(2 * np.arcsin(np.linalg.norm(a - b, axis=1) / 2)) * 3600.0


def _rank_within(scans: dict[str, np.ndarray], label: str) -> list[str | None]:
    """For a night on its own: the scan of the same tile in the night that the release
    rules rank first (highest QA score, deeper mean S/N = 10 magnitude, higher mean zero
    point, earlier scan), as ``outranked_by`` has it."""
    min_qual = ReleaseSpec().min_scan_qual
    depth = np.mean([scans[f"{b}_msnr10"] for b in BANDS], axis=0)
    zp = np.mean([scans[f"{b}_zp_ap"] for b in BANDS], axis=0)
    out: list[str | None] = []
    for i, tile in enumerate(scans["tile"]):
        rivals = [j for j in np.flatnonzero(scans["tile"] == tile)
                  if scans["qual"][j] >= min_qual]
        if not rivals:
            out.append(None)
            continue
        best = min(rivals, key=lambda j: (-scans["qual"][j], -np.nan_to_num(depth[j], nan=-99),
                                          -np.nan_to_num(zp[j], nan=-99), scans["scan"][j]))
        out.append("" if best == i else
                   f"{label} scan {scans['scan'][best]}, qual {scans['qual'][best]}")
    return out
