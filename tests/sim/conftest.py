"""A small simulated region shared by the pipeline statistics tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from twomass.pipeline.sim.simulate import SimulationSummary, simulate

#: 3.2 deg^2 at Galactic latitude ~+50. Seed 14 puts a star bright enough to saturate
#: even the 51 ms reads (rd_flg 3) in the region, which a few deg^2 rarely hold.
REGION = ((150.0, 151.8), (20.0, 21.8))
SEED = 14


@dataclass
class Simulated:
    summary: SimulationSummary
    out: Path
    nights: list[Path]
    scans: pd.DataFrame
    pts: pd.DataFrame
    ext: pd.DataFrame
    truth: pd.DataFrame


def _read_all(nights: list[Path], name: str) -> pd.DataFrame:
    frames = []
    for d in nights:
        doc = json.loads((d / "night.json").read_text())
        df = pq.read_table(d / name).to_pandas()
        df["hemis"], df["date"] = doc["hemis"], doc["date"]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    out = tmp_path_factory.mktemp("sim") / "products"
    summary = simulate(out, *REGION, seed=SEED, min_qual=0)
    nights = sorted(p for p in out.iterdir() if p.is_dir())
    truth = pq.read_table(out / "truth.parquet").to_pandas()
    return Simulated(summary, out, nights, _read_all(nights, "scans.parquet"),
                     _read_all(nights, "pts.parquet"), _read_all(nights, "ext.parquet"), truth)
