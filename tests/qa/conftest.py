"""The simulated region the QA report tests share: ingested, built and reported once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.ingest.load import ingest_nights
from twomass.pipeline.sim.simulate import simulate
from twomass.qa.night_report import write_night_report
from twomass.qa.release_report import write_release_report

from .helpers import REGION, RELEASE, SEED, Region


@pytest.fixture(scope="package")
def region(admin_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Region]:
    """Simulate, ingest and build release ``qa``; write its report (with the truth) and the
    report of its first night (from the product directory)."""
    url = database.create_database(admin_url, "twomass_qa", template_db)
    tmp = tmp_path_factory.mktemp("qa")
    out = tmp / "sky"
    try:
        simulate(out, *REGION, seed=SEED)
        nights = sorted(p for p in out.iterdir() if p.is_dir())
        with Database(url) as db:
            ingest_nights(db, nights, on_warning="ignore", progress=False)
            release.build(db, RELEASE, progress=False)
            release_files = write_release_report(
                db, RELEASE, tmp / "release.html", truth_path=out / "truth.parquet",
                png_dir=tmp / "release_png", progress=False)
        night_files = write_night_report(nights[0], tmp / "night.html",
                                         png_dir=tmp / "night_png", progress=False)
        yield Region(url, out, nights, out / "truth.parquet", release_files,
                     tmp / "release_png", night_files, tmp / "night_png")
    finally:
        database.drop_database(admin_url, url)

