"""Catalog density of the simulated sky against real 2MASS cones: simulate, ingest, release.

For each real reference cone (counts from complete real 2MASS cone searches, the same
numbers ``tests/data/sky_density/real_cones.csv`` carries with their sources), simulates
a box around the cone, ingests it into a scratch database, builds a release and counts
the catalog (``psc`` or ``xsc``) rows inside the cone, and over the whole box (which
halves the Poisson noise of the smallest cones). Prints simulated against real counts
and against the density model's prediction (``sky.catalog_density`` /
``sky.xsc_density``).

Then the full-sky estimate: the model's mean over an equal-area HEALPix sample of the
sky, and, with ``--sample N``, the same figure checked through the whole path: N small
boxes at tile centres drawn uniformly over the sky are simulated and released, and
the full-sky density is estimated as the model mean times (simulated catalog rows /
model prediction) summed over the boxes (a ratio estimator: the model carries the
strong latitude dependence, the boxes measure what the survey and release make of it).

Usage: python benchmarks/bench_sky_density.py [--db URL] [--seed N] [--cones NAME ...]
       [--sample N]
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
from twomass.pipeline.sim import sky, tiling
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


def released(admin_url: str, ra_range, dec_range, seed: int, catalog: str) -> np.ndarray:
    """(ra, dec) of the catalog rows of a release built on a simulated box."""
    url = database.create_database(admin_url, "twomass_bench_density")
    try:
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
    finally:
        database.drop_database(admin_url, url)
    return np.array(rows, dtype=float).reshape(-1, 2)


def run_cone(admin_url: str, cone, seed: int) -> dict:
    name, catalog, ra, dec, radius, real, half = cone
    ra_range, dec_range = _box(ra, dec, half)
    start = time.perf_counter()
    pos = released(admin_url, ra_range, dec_range, seed, catalog)
    seconds = time.perf_counter() - start
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


def sample_estimate(admin_url: str, n: int, seed: int, half: float = 0.1) -> float:
    """Full-sky PSC density from ``n`` simulated boxes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    tiles = tiling.full_sky()
    ra_c, dec_c = tiles.centres()
    picks = rng.choice(len(tiles), n, replace=False)  # tiles cover about equal areas
    simulated = predicted = 0.0
    for t in picks:
        ra_range, dec_range = _box(float(ra_c[t]), float(dec_c[t]), half)
        pos = released(admin_url, ra_range, dec_range, seed, "psc")
        area = _box_area(ra_range, dec_range)
        grid_ra = (ra_range[0] + np.linspace(0, (ra_range[1] - ra_range[0]) % 360, 20)) % 360
        gr, gd = np.meshgrid(grid_ra, np.linspace(*dec_range, 20))
        model = float(np.mean(sky.catalog_density(gr.ravel(), gd.ravel()))) * area
        glat = float(sky.galactic(np.array([ra_c[t]]), np.array([dec_c[t]]))[1][0])
        print(f"  tile {int(tiles.tile[t]):6d} b {glat:+6.1f}: simulated {len(pos):6,d}  "
              f"model {model:9.1f} ({len(pos) / model:5.2f})", flush=True)
        simulated += len(pos)
        predicted += model
    return sky.all_sky_mean() * simulated / predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cones", nargs="+", default=[c[0] for c in CONES])
    parser.add_argument("--sample", type=int, default=0,
                        help="boxes for the full-sky estimate through the whole path")
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
    if args.sample:
        estimate = sample_estimate(admin_url, args.sample, args.seed)
        print(f"full-sky estimate from {args.sample} simulated boxes: {estimate:,.0f} per deg2 "
              f"({estimate / ALL_SKY_MEAN:.3f} of the real mean)", flush=True)
    print(f"bench_sky_density: worst cone |simulated/real - 1| = {worst:.2f} (target 0.20); "
          f"model all-sky mean {mean:,.0f} per deg2 vs real {ALL_SKY_MEAN:,.0f} "
          f"({mean / ALL_SKY_MEAN:.3f})")


if __name__ == "__main__":
    main()
