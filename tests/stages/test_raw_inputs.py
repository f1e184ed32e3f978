"""Raw nights: the same seed gives the same bytes; bad inputs are refused, nothing written."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits

from twomass.pipeline.sim.region import Region
from twomass.pipeline.stages import rawio
from twomass.pipeline.stages.observe import FRAME_SKY_MARGIN_DEG, SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline
from twomass.schema.truth import MINOR_PLANET

REGION = ((137.28, 137.37), (9.2, 9.4))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "raw"
    observe(out, *REGION, seed=3, max_frames=2, cal_frames=1)
    return out


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_same_bytes(tiny, tmp_path) -> None:
    again = tmp_path / "again"
    observe(again, *REGION, seed=3, max_frames=2, cal_frames=1)
    names = _files(tiny)
    assert names == _files(again)
    assert any(n.suffix == ".fits" for n in names) and Path("truth.parquet") in names
    match, mismatch, errors = filecmp.cmpfiles(tiny, again, [str(n) for n in names],
                                               shallow=False)
    assert mismatch == [] and errors == []


def test_every_raw_file_is_readable_by_astropy(tiny) -> None:
    night = next(p for p in tiny.iterdir() if p.is_dir())
    doc, scans = rawio.read_night(night)
    assert {s.kind for s in scans} == {"survey", "cal"} and doc["clipped"] is True
    for path in sorted((night / "raw").glob("*.fits")):
        with fits.open(path) as hdul:
            data = hdul[0].data
            assert data.dtype.kind == "i" and data.shape[1:] == (256, 256)
            table = hdul["FRAMES"].data
            assert len(table) == data.shape[0]
            assert np.all(np.diff(table["JD"]) > 0)
            assert hdul[0].header["JD0"] == pytest.approx(table["JD"][0])


def test_frames_show_the_sky_beyond_the_region(tiny) -> None:
    """``sky.parquet`` lists every source rendered: the region's truth and the margin the
    frames cover (a scan touching the region is rendered on its whole width)."""
    truth = pq.read_table(tiny / "truth.parquet").to_pandas()
    sky = pq.read_table(tiny / SKY_FILE).to_pandas()
    region = Region.from_ranges(*REGION)
    assert set(truth.id) <= set(sky.id) and sky.id.is_unique
    inside = region.contains(sky.ra.values, sky.dec.values)
    assert set(sky.id[inside]) == set(truth[truth.type != MINOR_PLANET].id)
    assert (~inside).sum() > inside.sum()  # the region is smaller than one frame
    assert region.contains(sky.ra.values, sky.dec.values, FRAME_SKY_MARGIN_DEG).all()


def _broken(tiny: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "raw"
    shutil.copytree(tiny, copy)
    return next(p for p in copy.iterdir() if p.is_dir())


def _survey_cube(night: Path, band: str = "h", read: int = 2) -> Path:
    _, scans = rawio.read_night(night)
    scan = next(s for s in scans if s.kind == "survey").scan
    return night / "raw" / rawio.cube_name(scan, band, read)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])


def _reshape(path: Path) -> None:
    with fits.open(path) as hdul:
        cube = hdul[0].data[:, :128, :]
        header, table = hdul[0].header.copy(), hdul["FRAMES"].copy()
    fits.HDUList([fits.PrimaryHDU(cube, header=header), table]).writeto(path, overwrite=True)


def _drop_times(path: Path) -> None:
    with fits.open(path, mode="update") as hdul:
        del hdul[0].header["JD0"]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: p.unlink(), "missing raw cube"),
    (_reshape, "wrong shape"),
    (_truncate, "truncated"),
    (_drop_times, "header without frame times (no JD0)"),
])
def test_bad_raw_input_refused_nothing_written(tiny, tmp_path, damage, message) -> None:
    night = _broken(tiny, tmp_path)
    cube = _survey_cube(night)
    damage(cube)
    out = tmp_path / "products"
    with pytest.raises(rawio.RawInputError) as info:
        run_pipeline([night], out)
    assert str(cube) in str(info.value) and message in str(info.value)
    assert not out.exists()


def test_cli_reports_a_bad_raw_night_on_one_line(tiny, tmp_path) -> None:
    night = _broken(tiny, tmp_path)
    cube = _survey_cube(night, "k", 1)
    cube.unlink()
    out = tmp_path / "products"
    result = subprocess.run([sys.executable, "-m", "twomass", "pipeline", str(night),
                             "--out", str(out)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"twomass: error: {cube}: missing raw cube"
    assert not out.exists()
