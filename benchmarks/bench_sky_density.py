"""Catalog density of the simulated sky against real 2MASS cones: simulate, ingest, release.

For each real reference cone (counts from complete real 2MASS cone searches, the same
numbers ``tests/data/sky_density/real_cones.csv`` carries with their sources), simulates
a box around the cone, ingests it into a scratch database, builds a release and counts
the catalog (``psc`` or ``xsc``) rows inside the cone, and over the whole box (which
halves the Poisson noise of the smallest cones). Prints simulated against real counts
and against the density model's prediction (``sky.catalog_density`` /
``sky.xsc_density``), then a full-sky estimate of the model from a HEALPix sample.

Usage: python benchmarks/bench_sky_density.py [--db URL] [--seed N] [--cones NAME ...]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.core.settings import Settings
from twomass.ingest.load import ingest_nights
from twomass.migrations import revision
from twomass.pipeline.sim import sky
from twomass.pipeline.sim.simulate import simulate

#: name, catalog, ra, dec, cone radius [deg], real rows in the cone, box half-side [deg].
CONES = [
    ("m31", "psc", 10.68479, 41.26906, 500.0 / 3600.0, 2412, 0.16),
    ("ngc188", "psc", 12.11, 85.26, 0.5, 5014, 0.5),
    ("b-59", "psc", 12.3, 3.4, 300.0 / 3600.0, 24, 0.5),
    ("hcg7", "xsc", 9.81625, 0.88806, 20.0 / 60.0, 23, 0.6),
]
ALL_SKY_MEAN = 470_992_970 / 41_253.0


def _box(ra: float, dec: float, half: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """An RA/Dec box that holds the circle of radius ``half`` around (ra, dec)."""
    dlo, dhi = max(dec - half, -90.0), min(dec + half, 90.0)
    widen = half / max(math.cos(math.radians(max(abs(dlo), abs(dhi)))), 1e-3)
    return ((ra - widen) % 360.0, (ra + widen) % 360.0), (dlo, dhi)


def _box_area(ra_range, dec_range) -> float:
    width = (ra_range[1] - ra_range[0]) % 360.0
    s_lo, s_hi = np.sin(np.radians(dec_range))
    return float(width * (s_hi - s_lo) * 180.0 / np.pi)


def run_cone(admin_url: str, cone, seed: int) -> dict:
    name, catalog, ra, dec, radius, real, half = cone
    ra_range, dec_range = _box(ra, dec, half)
    url = database.create_database(admin_url, "twomass_bench_density")
    try:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sky"
            simulate(out, ra_range, dec_range, seed=seed)
            nights = sorted(p for p in out.iterdir() if p.is_dir())
            with Database(url) as db:
                revision.init(db)
                ingest_nights(db, nights, on_warning="ignore", progress=False)
                release.build(db, "bench", publish_after=False, progress=False)
        with psycopg.connect(url) as conn:
            rows = conn.execute(f"SELECT ra, dec FROM rel_bench.{catalog}").fetchall()
        seconds = time.perf_counter() - start
    finally:
        database.drop_database(admin_url, url)
    pos = np.array(rows, dtype=float).reshape(-1, 2)
    centre = SkyCoord(ra * u.deg, dec * u.deg)
    sep = centre.separation(SkyCoord(pos[:, 0] * u.deg, pos[:, 1] * u.deg)).deg
    cone_area = 2.0 * math.pi * (1.0 - math.cos(math.radians(radius))) * (180 / math.pi) ** 2
    in_cone = int((sep <= radius).sum())
    box_density = len(pos) / _box_area(ra_range, dec_range)
    model = sky.catalog_density if catalog == "psc" else sky.xsc_density
    ring = _ring(ra, dec, radius)
    predicted = float(np.mean(model(*ring))) * cone_area
    return {"name": name, "catalog": catalog, "real": real, "cone": in_cone,
            "box": box_density * cone_area, "model": predicted, "seconds": seconds}


def _ring(ra: float, dec: float, radius: float, n: int = 400):
    """Positions spread uniformly over a cone (a sunflower pattern), for model means."""
    i = np.arange(n) + 0.5
    r = radius * np.sqrt(i / n)
    theta = i * 2.399963229728653
    at = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(theta * u.rad, r * u.deg)
    return at.ra.deg, at.dec.deg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cones", nargs="+", default=[c[0] for c in CONES])
    args = parser.parse_args()
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    worst = 0.0
    for cone in CONES:
        if cone[0] not in args.cones:
            continue
        r = run_cone(admin_url, cone, args.seed)
        worst = max(worst, abs(r["cone"] / r["real"] - 1.0))
        print(f"{r['name']:>7} {r['catalog']}: real {r['real']:6,d}  simulated in cone "
              f"{r['cone']:6,d} ({r['cone'] / r['real']:5.2f})  box density x cone area "
              f"{r['box']:8.1f} ({r['box'] / r['real']:5.2f})  model {r['model']:8.1f} "
              f"({r['model'] / r['real']:5.2f})  [{r['seconds']:.0f} s]", flush=True)
    mean = sky.all_sky_mean()
    print(f"bench_sky_density: worst cone |simulated/real - 1| = {worst:.2f} (target 0.20); "
          f"model all-sky mean {mean:,.0f} per deg2 vs real {ALL_SKY_MEAN:,.0f} "
          f"({mean / ALL_SKY_MEAN:.3f})")


if __name__ == "__main__":
    main()
