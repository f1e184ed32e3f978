"""Writing ``truth.parquet`` (its columns: ``twomass.schema.truth``).

Written in sky-cell batches (the sky is regenerated cell by cell from the seed, and
each cell's candidate scans are re-placed geometrically exactly as the extraction
placed them), so memory does not grow with the region.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twomass.pipeline.sim.artifacts import PARENT_KS
from twomass.pipeline.sim.minorplanets import MovingSources
from twomass.pipeline.sim.products import WRITE_OPTIONS
from twomass.pipeline.sim.sky import KIND_GALAXY, KIND_MINOR_PLANET, KIND_STAR, Sources
from twomass.schema.truth import (
    ARTIFACT_PARENT,
    GALAXY,
    MINOR_PLANET,
    SCAN_REF,
    SCHEMA,
    STAR,
)


def type_names(src: Sources) -> np.ndarray:
    """The ``type`` of each source; artifact parents are stars with Ks < PARENT_KS."""
    names = np.full(len(src), STAR, dtype=object)
    names[(src.kind == KIND_STAR) & (src.mag[:, 2] < PARENT_KS)] = ARTIFACT_PARENT
    names[src.kind == KIND_GALAXY] = GALAXY
    names[src.kind == KIND_MINOR_PLANET] = MINOR_PLANET
    return names


class TruthWriter:
    """Streams truth rows; ``scan_refs`` lists (hemis, date, scan) by global scan index."""

    def __init__(self, path: Path, hemis: list[str], dates: list, numbers: list[int]) -> None:
        self._writer = pq.ParquetWriter(path, SCHEMA, **WRITE_OPTIONS)
        self._hemis = np.array(hemis, dtype=object)
        self._dates = np.array(dates, dtype="datetime64[D]")
        self._numbers = np.array(numbers, dtype=np.int16)
        self.rows = 0

    def write(self, src: Sources, row: np.ndarray, scan: np.ndarray,
              moving: MovingSources | None = None) -> None:
        """Write sources with coverage pairs (row index into ``src``, global scan index)."""
        if len(src) == 0:
            return
        order = np.lexsort((scan, row))
        row, scan = row[order], scan[order]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(src)))])
        refs = pa.StructArray.from_arrays(
            [pa.array(self._hemis[scan], pa.string()), pa.array(self._dates[scan], pa.date32()),
             pa.array(self._numbers[scan], pa.int16())], fields=list(SCAN_REF))
        scans = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), refs,
                                         type=SCHEMA.field("scans").type)
        galaxy = src.kind == KIND_GALAXY
        nan = np.full(len(src), np.nan)
        cols = {
            "id": pa.array(src.id, pa.int64()), "type": pa.array(type_names(src), pa.string()),
            "ra": pa.array(src.ra), "dec": pa.array(src.dec),
            "j_m": pa.array(src.mag[:, 0], pa.float32()),
            "h_m": pa.array(src.mag[:, 1], pa.float32()),
            "k_m": pa.array(src.mag[:, 2], pa.float32()),
            "r_k20fe": pa.array(np.where(galaxy, src.radius_arcsec, nan), pa.float32(),
                                from_pandas=True),
            "ba": pa.array(np.where(galaxy, src.ba, nan), pa.float32(), from_pandas=True),
            "pa": pa.array(np.where(galaxy, src.pa, nan), pa.float32(), from_pandas=True),
        }
        if moving is not None:
            cols["epoch_jd"] = pa.array(np.full(len(src), moving.jd0))
            cols["ra_rate"] = pa.array(moving.ra_rate)
            cols["dec_rate"] = pa.array(moving.dec_rate)
        else:
            for name in ("epoch_jd", "ra_rate", "dec_rate"):
                cols[name] = pa.nulls(len(src), pa.float64())
        cols["scans"] = scans
        self._writer.write_table(pa.Table.from_pydict(cols, schema=SCHEMA))
        self.rows += len(src)

    def close(self) -> None:
        self._writer.close()
