"""The pixel demonstration path: raw frames of a small region to a published catalog.

``run`` observes a 0.15 x 0.3 deg region at b = +35 deg (three neighbouring tiles'
scans, clipped; two 24-frame calibration scans), runs the pixel pipeline on it, ingests
the night products, builds and publishes a release and measures its Point Source
Catalog against every source the frames showed (``sky.parquet``). Raw frames and
products of an earlier run under ``$TWOMASS_HOME/demo`` are reused; nights already
loaded from the same files are skipped by ingest.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twomass import release
from twomass.core.database import Database
from twomass.core.settings import Settings
from twomass.demo import ingest_and_release, phase_timer, prepare
from twomass.ingest.load import IngestSummary

REGION = ((137.25, 137.40), (9.0, 9.3))
SEED = 1
CAL_FRAMES = 24
#: The cone that holds the region's catalog rows [arcsec].
CONE_ARCSEC = 1800.0


@dataclass(frozen=True)
class PixelDemoReport:
    """Outcome of ``run``: where the data are, what each step did, the figures."""

    raw: Path
    products: Path
    reused: bool
    pts_rows: int
    ingest: IngestSummary
    release: release.ReleaseRecord
    fidelity: object  # pipeline.stages.fidelity.CatalogFidelity
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        f = self.fidelity
        return (f"demo --pixels: release {self.release.name} published with "
                f"{self.release.counts.get('psc', 0):,d} psc sources from {self.pts_rows:,d} "
                f"point extractions; S/N > 10: completeness {100 * f.completeness:.1f}% "
                f"({f.n_found} of {f.n_true} stars), reliability {100 * f.reliability:.1f}% "
                f"({f.n_real} of {f.n_catalog}); positions {1000 * f.offset_rms_arcsec[0]:.0f}"
                f"/{1000 * f.offset_rms_arcsec[1]:.0f} mas rms; "
                f"{sum(self.seconds.values()):.1f} s")


def run(db: Database, home: Path | None = None, *, progress: bool = False,
        say: Callable[[str], None] = lambda line: None,
        started: float | None = None) -> PixelDemoReport:
    """Observe, process, ingest, release and measure (see the module docstring)."""
    from twomass.pipeline.stages import fidelity
    from twomass.pipeline.stages.observe import SKY_FILE, TRUTH_FILE, observe
    from twomass.pipeline.stages.run import run_pipeline
    from twomass.query import cone

    seconds, done = phase_timer(started)
    prepare(db)
    done("database")
    (ra_lo, ra_hi), (dec_lo, dec_hi) = REGION
    root = (home or Settings().home) / "demo" / \
        f"pixels_ra{ra_lo:g}-{ra_hi:g}_dec{dec_lo:g}-{dec_hi:g}_seed{SEED}"
    raw, out = root / "raw", root / "products"
    reused = (raw / SKY_FILE).is_file()
    if not reused:
        shutil.rmtree(root, ignore_errors=True)
        observe(raw, *REGION, seed=SEED, cal_frames=CAL_FRAMES, progress=progress)
    done("observe")
    nights = sorted(p for p in raw.iterdir() if (p / "night.json").is_file())
    products = [out / n.name for n in nights]
    if not all((p / "night.json").is_file() for p in products):
        shutil.rmtree(out, ignore_errors=True)
        summary = run_pipeline(nights, out, progress=progress)
        say(f"pipeline: {summary.scans} scans, {summary.atlas_images} Atlas Images, "
            f"{summary.pts_rows:,d} point sources in {out}")
        reused = False
    done("pipeline")
    pts_rows = sum(pq.ParquetFile(p / "pts.parquet").metadata.num_rows for p in products)
    loaded, record = ingest_and_release(db, products, progress, say, done)
    scans = [row for p in products for row in pq.read_table(p / "scans.parquet").to_pylist()]
    centre = (float(np.mean([s["ra"] for s in scans])), float(np.mean([s["dec"] for s in scans])))
    catalog = fidelity.catalog_arrays(cone.cone(db, *centre, CONE_ARCSEC))
    sky = pq.read_table(raw / SKY_FILE).to_pydict()
    measured = fidelity.catalog_vs_sky(
        catalog, sky, scans, minor_planets=fidelity.true_minor_planets(raw / TRUTH_FILE))
    done("validate")
    return PixelDemoReport(raw, out, reused, pts_rows, loaded, record, measured, seconds)
