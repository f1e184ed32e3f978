"""Writes one night's product directory, scan by scan.

The directory is assembled as ``<name>.partial`` and renamed to its final name
(``1999-10-19n``) only once every file is complete, so a reader never sees a
half-written night.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twomass.pipeline.sim import products
from twomass.pipeline.sim.extraction import ScanRows
from twomass.pipeline.sim.footprint import Footprint
from twomass.pipeline.sim.schedule import Night
from twomass.pipeline.sim.sky import Sources
from twomass.pipeline.sim.tiling import Tiles

SNR10_CUTS = {"j": 15.8, "h": 15.1, "k": 14.3}


class NightWriter:
    """Accumulates a night's scans and streams its point extractions."""

    def __init__(self, out: Path, night: Night, tiles: Tiles, version: str) -> None:
        self.night = night
        self.final = out / night.name
        self.dir = out / f"{night.name}.partial"
        self.dir.mkdir()
        products.write_night_json(self.dir, night.date.isoformat(), night.hemis, version)
        self._tiles = tiles
        self._scans: list[dict[str, object]] = []
        self._ext: list[dict[str, np.ndarray]] = []
        self._pts = products.RowGroupWriter(self.dir / "pts.parquet", "pts.parquet")
        self.ext_rows = 0
        self._stars: dict[int, tuple] = {}

    @property
    def pts_rows(self) -> int:
        return self._pts.rows

    def add_scan(self, fp: Footprint, rows: ScanRows, ext: dict[str, np.ndarray]) -> None:
        """Record one scan's row, its point extractions and its extended extractions."""
        scan = fp.scan
        ra, dec = fp.centre()
        row: dict[str, object] = {"scan": scan.scan, "tile": scan.tile, "ra": ra, "dec": dec,
                                  **fp.corners(), "sd": scan.sd, "jdate": scan.jdate}
        row.update(scan.columns)
        for b, cut in SNR10_CUTS.items():
            m = rows.columns[f"{b}_m"]
            snr = rows.columns[f"{b}_snr"]
            row[f"{b}_n_snr10"] = int(np.sum((np.nan_to_num(snr) > 10.0)
                                             & (np.nan_to_num(m, nan=99.0) <= cut)))
        row["n_ext"] = len(ext["id"])
        self._scans.append(row)
        self._pts.write(rows.columns)
        if len(ext["id"]):
            self._ext.append(ext)
            self.ext_rows += len(ext["id"])

    def add_bright_stars(self, stars: Sources) -> None:
        """List very bright stars near the night's scans (each once, by id)."""
        for i, ra, dec, mag in zip(stars.id, stars.ra, stars.dec, stars.mag, strict=True):
            self._stars.setdefault(int(i), (ra, dec, *mag))

    def close(self) -> None:
        """Write the remaining files and publish the directory under its final name."""
        self._pts.close()
        names = list(self._scans[0])
        scans = {k: np.array([r[k] for r in self._scans]) for k in names}
        products.write_table(products.to_table(scans, "scans.parquet"),
                             self.dir / "scans.parquet")
        ids = np.array(sorted(self._stars), dtype=np.int64)
        star = np.array([self._stars[i] for i in ids], dtype=float).reshape(-1, 5)
        stars = {"id": ids, "ra": star[:, 0], "dec": star[:, 1], "j_m": star[:, 2],
                 "h_m": star[:, 3], "k_m": star[:, 4]}
        products.write_table(products.to_table(stars, "bright_stars.parquet"),
                             self.dir / "bright_stars.parquet")
        if self._ext:
            ext = {k: np.concatenate([e[k] for e in self._ext]) for k in self._ext[0]}
            table = products.to_table(ext, "ext.parquet")
        else:
            table = products.empty_table("ext.parquet")
        products.write_table(table, self.dir / "ext.parquet")
        products.write_table(products.to_table(tile_columns(self._tiles, scans["tile"]),
                                               "tiles.parquet"), self.dir / "tiles.parquet")
        self.dir.rename(self.final)


def tile_columns(tiles: Tiles, ids: np.ndarray) -> dict[str, np.ndarray]:
    """``tiles.parquet`` columns of the planned tiles ``ids`` (each once)."""
    ids = np.unique(ids)
    chosen = tiles.take(np.searchsorted(tiles.tile, ids))
    ra, dec = chosen.centres()
    return {"tile": chosen.tile, "dec_band": chosen.dec_band, "ra": ra, "dec": dec,
            **chosen.corners()}
