"""The survey simulator: night products and a truth table for a region of sky.

``simulate(out_dir, ra_range, dec_range, seed)`` finds every scan whose tile touches
the region (the schedule is fixed for the whole sky, so a tile's scans do not depend
on the region asked for), then writes each night's products, one night at a time and
one scan at a time, and finally ``truth.parquet``. The sky exists only inside the
region: scans crossing its edge have extractions only inside it.

The schedule gives every scan a QA score 0-10, some below 4. By default only scans
with Q >= 4 are written (``min_qual=4``), as the 2MASS working database loaded only
Q > 3 scans (spec 1.1); ``min_qual=0`` writes every scan, to exercise the release's
best-scan choice on bad scans too.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

import twomass
from twomass.pipeline.sim import (
    artifacts,
    extended,
    extraction,
    minorplanets,
    nightwriter,
    sky,
    tiling,
)
from twomass.pipeline.sim.footprint import Footprint
from twomass.pipeline.sim.region import Region, SimulationError
from twomass.pipeline.sim.schedule import Night, plan
from twomass.pipeline.sim.truth import TruthWriter
from twomass.schema.truth import FILE_NAME as TRUTH_FILE

CELL_CACHE = 256
SAMPLE_STEP_DEG = 0.05
SAMPLE_MARGIN_DEG = 0.3


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote."""

    out_dir: Path
    seed: int
    nights: int
    scans: int
    pts_rows: int
    ext_rows: int
    truth_rows: int
    seconds: float


class SkyCache:
    """Sky cells by index, generated on demand; keeps only the most recent ones.

    Holds the sources inside the region widened by ``margin_deg`` on the sky (at most
    ``SAMPLE_MARGIN_DEG``, the margin of the cells ``scan_cells`` lists).
    """

    def __init__(self, seed: int, region: Region, margin_deg: float = 0.0) -> None:
        self.seed, self.region, self.margin_deg = seed, region, margin_deg
        self._cells: OrderedDict[int, sky.Sources] = OrderedDict()

    def sources(self, cells: np.ndarray) -> sky.Sources:
        missing = [int(c) for c in cells if int(c) not in self._cells]
        if missing:
            glon, glat = sky.galactic(*sky.cell_centres(np.array(missing)))
            for c, lo, la in zip(missing, glon, glat, strict=True):
                s = sky.cell_sources(c, self.seed, float(lo), float(la))
                self._cells[c] = s.take(self.region.contains(s.ra, s.dec, self.margin_deg))
        parts = []
        for c in cells:
            self._cells.move_to_end(int(c))
            parts.append(self._cells[int(c)])
        while len(self._cells) > max(CELL_CACHE, len(cells)):
            self._cells.popitem(last=False)
        return sky.Sources.concat(parts)


def scan_cells(fp: Footprint, region: Region) -> np.ndarray:
    """Sky cells that may hold sources of the region seen by this scan."""
    ra, dec = fp.samples(SAMPLE_STEP_DEG, SAMPLE_MARGIN_DEG)
    keep = region.contains(ra, dec, SAMPLE_MARGIN_DEG)
    return sky.cells_near(ra[keep], dec[keep]) if keep.any() else np.zeros(0, np.int64)


def _touches(fp: Footprint, region: Region) -> bool:
    ra, dec = fp.samples(SAMPLE_STEP_DEG / 2, 0.0)
    if region.contains(ra, dec).any():
        return True
    return bool(fp.place(*region.grid(9))[2].any())


def simulate(out_dir: str | Path, ra_range, dec_range, seed: int = 0, *, min_qual: int = 4,
             geometry: tiling.SurveyGeometry | None = None,
             progress: bool = False) -> SimulationSummary:
    """Simulate every night that observed an RA/Dec region and write its products.

    Parameters
    ----------
    out_dir
        Output directory; must not exist or be empty. Gets one ``YYYY-MM-DDh/``
        directory per night (with its ``bright_stars.parquet``, the very bright stars
        near its scans) and ``truth.parquet``.
    ra_range, dec_range
        (min, max) in degrees, ICRS; RA within [0, 360], Dec within [-90, 90].
        RA runs eastward from min to max: min > max is a region crossing RA 0
        (``(355, 5)`` is 10 degrees wide).
    seed
        Same arguments and seed give byte-identical files.
    min_qual
        Scans with a QA score below this are not written (4: the WDB rule).
    """
    start = time.perf_counter()
    region = Region.from_ranges(ra_range, dec_range)
    out = _output_dir(Path(out_dir))
    geometry = geometry or tiling.SurveyGeometry()
    tiles = tiling.full_sky(geometry)
    wanted = tiling.in_box(tiles, region.ra_range, region.dec_range, margin_deg=0.05)
    nights: list[Night] = []
    for night in plan(tiles, wanted, seed, geometry.n_bands):
        scans = [s for s in night.scans if s.columns["qual"] >= min_qual
                 and _touches(Footprint(s, tiles.half_width), region)]
        if scans:
            nights.append(Night(night.hemis, night.date, scans))
    try:
        return _write(out, seed, region, tiles, nights, progress, start)
    except OSError as exc:  # a full disk, a directory made read-only meanwhile, ...
        raise SimulationError(f"{exc.filename or out}: cannot write the night products: "
                              f"{exc.strerror or exc}") from None


def _output_dir(out: Path) -> Path:
    """Create the output directory (new or empty) before any work, so that a path which
    cannot be one (under ``/proc``, under a file, without permission) fails at once
    with one line rather than after the simulation."""
    try:
        if out.exists() and not out.is_dir():
            raise SimulationError(f"{out}: exists and is not a directory")
        if out.exists() and any(out.iterdir()):
            raise SimulationError(f"{out}: output directory exists and is not empty")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulationError(f"{out}: cannot create the output directory: "
                              f"{exc.strerror or exc}") from None
    return out


def _write(out: Path, seed: int, region: Region, tiles: tiling.Tiles, nights: list[Night],
           progress: bool, start: float) -> SimulationSummary:
    """Write every night's products, then ``truth.parquet``."""
    cache = SkyCache(seed, region)
    cell_scans: dict[int, list[int]] = {}
    refs: list[tuple[str, object, int]] = []
    footprints: list[Footprint] = []
    moving_parts = []
    totals = {"pts": 0, "ext": 0}
    written = 0
    for night in tqdm(nights, desc="nights", unit="night", file=sys.stderr,
                      disable=not progress):
        moving = minorplanets.for_night(seed, night.hemis, night.date, night.scans[0].jdate,
                                        region)
        writer = None
        mp_pairs = []
        bright_stars = []
        for scan in night.scans:
            fp = Footprint(scan, tiles.half_width)
            cells = scan_cells(fp, region)
            mp_now = moving.at(scan.jdate + 190.0 / 86400.0)
            mp_now = mp_now.take(region.contains(mp_now.ra, mp_now.dec))
            src = sky.Sources.concat([cache.sources(cells), mp_now])
            # the bright-star list: the very bright stars on and near the scan, kept even
            # when the scan itself is not written
            bright_stars.append(src.take((src.kind == sky.KIND_STAR)
                                         & (src.mag[:, 2] < artifacts.DB_PARENT_KS)))
            rng = np.random.default_rng([scan.seed, 5])
            rows = extraction.extract(fp, src, rng, region.contains)
            if not len(rows.columns["id"]):
                # The scan saw only a sliver of the simulated sky, and nothing in it: no
                # scan without extractions is written (ingest would warn of it).
                continue
            density = float(np.log10(max(sky.catalog_density(
                np.array([fp.centre()[0]]), np.array([fp.centre()[1]]))[0] * 0.4, 1.0)))
            ext = extended.extract_ext(fp, src, rows, rng, density)
            index = len(refs)
            refs.append((scan.hemis, night.date, scan.scan))
            footprints.append(fp)
            for c in cells:
                cell_scans.setdefault(int(c), []).append(index)
            writer = writer or nightwriter.NightWriter(out, night, tiles, twomass.__version__)
            writer.add_scan(fp, rows, ext)
            hit = np.isin(moving.id, rows.covered_id)
            mp_pairs.append((np.flatnonzero(hit), np.full(int(hit.sum()), index)))
        if writer is None:
            continue
        for stars in bright_stars:
            writer.add_bright_stars(stars)
        written += 1
        totals["pts"] += writer.pts_rows
        totals["ext"] += writer.ext_rows
        writer.close()
        if mp_pairs and len(moving.id):
            moving_parts.append((moving, np.concatenate([p[0] for p in mp_pairs]),
                                 np.concatenate([p[1] for p in mp_pairs])))
    truth_rows = _write_truth(out, seed, region, cell_scans, refs, footprints, moving_parts)
    return SimulationSummary(out, seed, written, len(refs), totals["pts"], totals["ext"],
                             truth_rows, time.perf_counter() - start)


def _write_truth(out: Path, seed: int, region, cell_scans, refs, footprints, moving_parts) -> int:
    """Write ``truth.parquet``: sky cells in index order, then the minor planets."""
    partial = out / f"{TRUTH_FILE}.partial"
    writer = TruthWriter(partial, [r[0] for r in refs],
                         [r[1] for r in refs], [r[2] for r in refs])
    cache = SkyCache(seed, region)
    cells = sorted(cell_scans)
    for k in range(0, len(cells), 64):
        batch = np.array(cells[k:k + 64], dtype=np.int64)
        src = cache.sources(batch)
        cell_of = src.id >> 24
        rows, scans = [], []
        for s in sorted({i for c in batch for i in cell_scans[int(c)]}):
            mine = np.flatnonzero(np.isin(cell_of, [c for c in batch if s in cell_scans[int(c)]]))
            covered = footprints[s].place(src.ra[mine], src.dec[mine])[2].any(axis=1)
            rows.append(mine[covered])
            scans.append(np.full(int(covered.sum()), s))
        writer.write(src, np.concatenate(rows or [np.zeros(0, np.int64)]),
                     np.concatenate(scans or [np.zeros(0, np.int64)]))
    for moving, rows, scans in moving_parts:
        writer.write(moving.at(moving.jd0), rows, scans, moving)
    writer.close()
    partial.rename(out / TRUTH_FILE)
    shutil.rmtree(out / ".partial", ignore_errors=True)
    return writer.rows
