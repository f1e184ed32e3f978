"""One small observed region, processed once, shared by the pixel-pipeline tests.

One survey scan (l = 206, b = +6 deg, where frames hold enough stars to register on)
clipped to 30 frames, three calibration sets an hour apart around it, each of two 10-frame
scans (shorter ones hold too few Ks stars for their curve of growth), with a
cosmic ray, a meteor trail and a Ks 6 star (saturated in Read_2, not in Read_1) injected
into the survey scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import rawio, run
from twomass.pipeline.stages.observe import SKY_FILE, Injection, observe

REGION = ((104.99, 105.14), (9.0, 9.6))
SEED = 1
NIGHT = "1999-12-04s"  # the region is observed on two nights; the tests use the first
SURVEY_SCAN = 26
COSMIC = Injection(SURVEY_SCAN, "cosmic", frame=10, x=101.0, y=77.0, value=2500.0)
METEOR = Injection(SURVEY_SCAN, "meteor", frame=17, x=128.0, y=128.0, value=400.0,
                   angle_deg=35.0)
BRIGHT = Injection(SURVEY_SCAN, "star", value=6.0, ra=105.0300, dec=9.3000)


@dataclass
class Processed:
    survey_scan: int
    raw: Path
    night: Path
    scans: list[rawio.ScanEntry]
    truth: dict  # sky.parquet: the region's truth and the margin the frames show
    true_frames: dict
    results: dict[str, run.BandResult]  # survey scan, by band
    products: Path  # the pipeline's night directory
    summary: run.PipelineSummary
    kept_photcal: tuple  # the night's photcal.NightSolution and standards' photometry


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Processed:
    raw = tmp_path_factory.mktemp("observed") / "raw"
    observe(raw, *REGION, seed=SEED, max_frames=30, cal_frames=10,
            injections=(COSMIC, METEOR, BRIGHT))
    night = raw / NIGHT
    _, scans = rawio.read_night(night)
    kept: dict = {}
    products = raw.parent / "products"
    summary = run.run_pipeline([night], products, keep=kept)
    truth = pq.read_table(raw / SKY_FILE).to_pydict()  # every source rendered
    for name, value in (("ra", BRIGHT.ra), ("dec", BRIGHT.dec), ("type", "star"),
                        ("j_m", BRIGHT.value), ("h_m", BRIGHT.value), ("k_m", BRIGHT.value)):
        truth[name].append(value)  # the injected star is not in the truth table
    return Processed(SURVEY_SCAN, raw, night, scans, truth,
                     pq.read_table(night / "sim" / "true_frames.parquet").to_pydict(),
                     {band: kept[(night.name, SURVEY_SCAN, band)] for band in inst.BANDS},
                     products / night.name, summary, kept[(night.name, "photcal")])


@dataclass
class TwoNights:
    """A small region observed on two nights, and its products made in this process."""

    raw: Path  # the raw nights' parent, as ``observe`` writes it
    nights: list[str]
    serial: Path  # the products of both nights, one scan after another in this process

    @staticmethod
    def files(directory: Path) -> dict[str, bytes]:
        """Every file under ``directory`` by relative path, with its bytes."""
        return {p.relative_to(directory).as_posix(): p.read_bytes()
                for p in sorted(directory.rglob("*")) if p.is_file()}


#: Survey scans of 12 frames on two nights (one, then three; b = +6 deg).
TWO_NIGHTS_REGION = ((104.99, 105.30), (9.0, 9.3))


@pytest.fixture(scope="session")
def two_nights(tmp_path_factory) -> TwoNights:
    raw = tmp_path_factory.mktemp("two_nights") / "raw"
    observe(raw, *TWO_NIGHTS_REGION, seed=SEED, max_frames=12, cal_frames=10,
            cal_margin_sets=0)  # one calibration set: the survey scans are the test
    nights = [d.name for d in rawio.night_directories([raw])]
    serial = raw.parent / "serial"
    run.run_pipeline([raw], serial, jobs=1)
    return TwoNights(raw, nights, serial)

