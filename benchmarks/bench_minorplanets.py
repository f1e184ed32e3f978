"""Minor planets: the pixel pipeline's ``mp_flg`` against the objects the frames showed.

Observes the three tiles around RA 137.33 (b = +35 deg, ecliptic latitude -7 deg) with
``--density`` minor planets per deg^2 on the ecliptic (the simulator's default, 1.5,
puts less than one on this region per night: too few to measure a percentage), runs the
pixel pipeline and, for every survey scan, places each object where it was when the
scan saw it (the frame nearest to it along the scan, from the raw frame times and the
true frame centres), then counts:

- objects inside the scan (> 15" from its edges) with a true S/N > 10 in some band
  (their magnitudes against the scan's measured S/N = 10 magnitudes), those with a
  source within 2" of their true position, and those whose source has ``mp_flg`` 1
  (target: >= 99 %);
- flagged sources with no object within 2": those within 2" of a star (or galaxy) the
  frames showed (``sky.parquet``) are false associations, split into those whose nearest object the
  scan detected separately (target: none) and those whose object it did not (a star
  taken within the ephemeris errors); the others lie on no star (the object's own
  light, shifted by a star it blends with or detected in one band apart from the
  others).

    python benchmarks/bench_minorplanets.py [--density N] [--seed N] [--jobs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from astropy.io import fits

from twomass.core import sphere
from twomass.pipeline.sim import minorplanets, scanframe
from twomass.pipeline.sim.region import Region
from twomass.pipeline.stages import fidelity, rawio
from twomass.pipeline.stages.observe import SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline

RA = (137.25, 137.40)
DEC = (6.1, 11.75)
MATCH_ARCSEC = 2.0
INSIDE_ARCSEC = 15.0


def true_objects(raw_night: Path, density: float) -> minorplanets.MovingSources:
    """The night's objects as the simulator drew them (``minorplanets.for_night``)."""
    doc = json.loads((raw_night / "night.json").read_text())
    eph = pq.read_table(raw_night / "ref" / "minor_planets.parquet").to_pydict()
    region = Region.from_ranges(doc["region"]["ra"], doc["region"]["dec"])
    jd0 = eph["epoch_jd"][0] if eph["epoch_jd"] else 0.0
    moving = minorplanets.for_night(doc["seed"], doc["hemis"], dt.date.fromisoformat(doc["date"]),
                                    jd0, region, density)
    if not np.array_equal(moving.id, np.asarray(eph["id"], np.int64)):
        raise SystemExit(f"{raw_night}: the ephemeris list is not this density's objects")
    return moving


def positions_seen(moving: minorplanets.MovingSources, raw_night: Path, scan: int,
                   ra0: float, true_frames: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each object's true position on the frame whose true centre (H array) lies
    nearest to it along the scan."""
    with fits.open(raw_night / "raw" / rawio.cube_name(scan, "h", 2), memmap=False) as hdul:
        jd = np.asarray(hdul[1].data["JD"], float)
        frame = np.asarray(hdul[1].data["FRAME"], int)
    sel = (np.asarray(true_frames["scan"]) == scan) & (np.asarray(true_frames["band"]) == "h")
    order = np.argsort(np.asarray(true_frames["frame"])[sel])
    assert np.array_equal(np.asarray(true_frames["frame"])[sel][order], frame)
    _, phi_frame = scanframe.to_scan(ra0, np.asarray(true_frames["ra"])[sel][order],
                                     np.asarray(true_frames["dec"])[sel][order])
    ra = np.empty((len(jd), len(moving.id)))
    dec = np.empty_like(ra)
    for f, t in enumerate(jd):
        at = moving.at(t)
        ra[f], dec[f] = at.ra, at.dec
    _, phi = scanframe.to_scan(ra0, ra, dec)
    best = np.argmin(np.abs(np.asarray(phi) - np.asarray(phi_frame)[:, None]), axis=0)
    cols = np.arange(len(moving.id))
    return ra[best, cols], dec[best, cols]


def measure_night(raw_night: Path, prod_night: Path, density: float, stars: np.ndarray
                  ) -> dict[str, int]:
    """Counts of one night (see the module docstring); ``stars``: unit vectors of the
    stars and galaxies the frames showed."""
    moving = true_objects(raw_night, density)
    doc = json.loads((raw_night / "night.json").read_text())
    ra0_of = {s["scan"]: s["ra0"] for s in doc["scans"]}
    true_frames = pq.read_table(raw_night / "sim" / "true_frames.parquet").to_pydict()
    pts = pq.read_table(prod_night / "pts.parquet").to_pydict()
    scans = pq.read_table(prod_night / "scans.parquet").to_pylist()
    out = {k: 0 for k in ("objects", "detected", "flagged", "flags",
                          "star_while_object_seen", "star_object_unseen", "on_no_star")}
    p_scan = np.asarray(pts["scan"])
    for row in scans:
        ra, dec = positions_seen(moving, raw_night, row["scan"], ra0_of[row["scan"]],
                                 true_frames)
        seen = fidelity.sky_on_scans({"ra": ra, "dec": dec, "j_m": moving.mag[:, 0],
                                      "h_m": moving.mag[:, 1], "k_m": moving.mag[:, 2],
                                      "type": np.full(len(ra), "star")}, [row])
        wanted = (seen.inside_arcsec > INSIDE_ARCSEC) & (seen.snr > 10.0).any(axis=1)
        mine = np.flatnonzero(p_scan == row["scan"])
        s_vec = sphere.unit_vectors(np.asarray(pts["ra"])[mine], np.asarray(pts["dec"])[mine])
        o_vec = sphere.unit_vectors(ra, dec)
        found = sphere.nearest_within(o_vec, s_vec, MATCH_ARCSEC).index
        flag = np.asarray(pts["mp_flg"])[mine] == 1
        out["objects"] += int(wanted.sum())
        out["detected"] += int((wanted & (found >= 0)).sum())
        out["flagged"] += int((wanted & (found >= 0) & flag[np.maximum(found, 0)]).sum())
        out["flags"] += int(flag.sum())
        stray = flag.copy()
        stray[found[found >= 0]] = False
        # On a star? And the object nearest it: was it seen as a source of its own?
        on_star = sphere.nearest_within(s_vec[stray], stars, MATCH_ARCSEC).index >= 0
        near = sphere.nearest_within(s_vec[stray], o_vec, 60.0).index
        own = (near >= 0) & (found[np.maximum(near, 0)] >= 0)
        out["star_while_object_seen"] += int((on_star & own).sum())
        out["star_object_unseen"] += int((on_star & ~own).sum())
        out["on_no_star"] += int((~on_star).sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=float, default=600.0,
                        help="minor planets per deg^2 on the ecliptic")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cal-frames", type=int, default=48)
    parser.add_argument("--keep", type=Path, help="work in this directory (reused if it "
                        "holds raw/ and prod/)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mp-") as tmp:
        work = args.keep or Path(tmp)
        raw, prod = work / "raw", work / "prod"
        t0 = time.perf_counter()
        if not raw.exists():
            observe(raw, RA, DEC, seed=args.seed, cal_frames=args.cal_frames, progress=True,
                    minor_planet_density=args.density)
        t1 = time.perf_counter()
        nights = rawio.night_directories([raw])
        if not prod.exists():
            run_pipeline(nights, prod, progress=True, jobs=args.jobs)
        t2 = time.perf_counter()
        sky = pq.read_table(raw / SKY_FILE, columns=["ra", "dec"]).to_pydict()
        stars = sphere.unit_vectors(np.asarray(sky["ra"]), np.asarray(sky["dec"]))
        totals: dict[str, int] = {}
        for night in nights:
            counts = measure_night(night, prod / night.name, args.density, stars)
            print(night.name, counts)
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
        print(json.dumps({"density_per_deg2": args.density, "seed": args.seed, **totals,
                          "flagged_fraction": totals["flagged"] / max(totals["objects"], 1),
                          "detected_fraction": totals["detected"] / max(totals["objects"], 1),
                          "observe_s": round(t1 - t0), "pipeline_s": round(t2 - t1)},
                         indent=2))


if __name__ == "__main__":
    main()
