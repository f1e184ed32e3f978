"""Regions crossing RA 0: membership, and a simulation equal to its two halves."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from twomass.pipeline.sim.region import Region
from twomass.pipeline.sim.simulate import simulate

WRAPPED = ((359.6, 0.4), (10.0, 10.5))
HALVES = (((359.6, 360.0), (10.0, 10.5)), ((0.0, 0.4), (10.0, 10.5)))
SEED = 3


def test_wrapped_region_contains_what_its_halves_contain() -> None:
    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(0.0, 360.0, 20_000), rng.uniform(8.0, 12.0, 20_000)
    # Brute-force oracle: the union of two plain boxes.
    oracle = (dec >= 10.0) & (dec <= 10.5) & ((ra >= 359.6) | (ra <= 0.4))
    assert np.array_equal(Region.from_ranges(*WRAPPED).contains(ra, dec), oracle)
    assert oracle.sum() > 0


def test_wrapped_region_width_area_and_grid() -> None:
    wrapped = Region.from_ranges(*WRAPPED)
    plain = Region.from_ranges((100.0, 100.8), (10.0, 10.5))
    assert wrapped.ra_width == pytest.approx(0.8)
    assert wrapped.area_deg2() == pytest.approx(plain.area_deg2())
    ra, _ = wrapped.grid(5)
    assert ((ra >= 0.0) & (ra < 360.0)).all()
    assert set(np.round(ra, 6)) == {359.6, 359.8, 0.0, 0.2, 0.4}
    assert Region.from_ranges((0.0, 360.0), (0.0, 1.0)).ra_width == 360.0


def _read(out: Path, name: str) -> pd.DataFrame:
    nights = sorted(p for p in out.iterdir() if p.is_dir())
    return pd.concat([pq.read_table(n / name).to_pandas() for n in nights], ignore_index=True)


def _fixed_sky(out: Path) -> pd.DataFrame:
    """Truth rows of stars and galaxies (minor planets are drawn per region)."""
    t = pq.read_table(out / "truth.parquet").to_pandas()
    t = t[t.type != "minor_planet"].sort_values("id").reset_index(drop=True)
    t["scans"] = [sorted((s["hemis"], str(s["date"]), s["scan"]) for s in v) for v in t.scans]
    return t


def _digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_region_across_ra_0_is_simulated_like_its_two_halves(tmp_path: Path) -> None:
    simulate(tmp_path / "wrap", *WRAPPED, seed=SEED)
    simulate(tmp_path / "wrap2", *WRAPPED, seed=SEED)
    for k, half in enumerate(HALVES):
        simulate(tmp_path / f"half{k}", *half, seed=SEED)
    assert _digest(tmp_path / "wrap") == _digest(tmp_path / "wrap2")

    truth = _fixed_sky(tmp_path / "wrap")
    assert ((truth.ra >= 0.0) & (truth.ra < 360.0)).all()
    assert (truth.ra > 359.6).sum() > 100 and (truth.ra < 0.4).sum() > 100
    halves = pd.concat([_fixed_sky(tmp_path / f"half{k}") for k in range(2)])
    halves = halves.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(truth, halves)

    pts = _read(tmp_path / "wrap", "pts.parquet")
    assert ((pts.ra >= 0.0) & (pts.ra < 360.0)).all()
    assert (pts.ra > 359.6).sum() > 100 and (pts.ra < 0.4).sum() > 100
    # Extractions lie in the region, up to their measurement scatter (< 3").
    offset = (pts.ra - 359.6) % 360.0
    slack = 3.0 / 3600.0 / np.cos(np.radians(10.5))
    assert ((offset <= 0.8 + slack) | (offset >= 360.0 - slack)).all()
    # Scans on both sides of RA 0 were written.
    scans = _read(tmp_path / "wrap", "scans.parquet")
    assert (scans.ra > 359.0).any() and (scans.ra < 1.0).any()
