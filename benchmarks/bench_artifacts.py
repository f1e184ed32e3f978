"""Artifacts of bright stars (MAPCOR): how many of the spurious detections they cause are
flagged upper case, and how many real sources are.

Observes the survey scans around RA 137.33 at b = +35 deg (``bench_pixel_catalog``'s
tiles; by default Dec 6.1-7.5) with bright stars added along each scan's meridian (J = H
= Ks from 5.5 to 9.5, one every ``SPACING_DEG``: the b = +35 sky holds few), runs the
pixel pipeline and compares every S/N >= 10 band detection of ``pts.parquet`` with the
sources the frames showed (``sky.parquet`` plus the added stars):

- injected artifacts: detections with no rendered source within ``UNMATCHED_ARCSEC``
  that lie in an artifact zone of a star brighter than the parent limits, zones drawn
  from the simulator's rendering (``zones``): latent images, diffraction spikes, the
  readout stripe, the filter glint, the halo (the rendered PSF stamp); per zone the
  number and the fraction flagged upper case (target >= 95 %);
- real sources: detections within ``MATCH_ARCSEC`` of a rendered source, the fraction
  flagged upper case (target <= 0.5 %), and which letters;
- the other unmatched detections (no zone), for the record.

    python benchmarks/bench_artifacts.py [--dec MIN MAX] [--seed N] [--jobs N]
                                         [--work DIR (reuse its products)]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twomass.core import sphere
from twomass.pipeline.sim import quality, tiling
from twomass.pipeline.sim.footprint import Footprint
from twomass.pipeline.sim.region import Region
from twomass.pipeline.sim.schedule import plan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import mapcor, observe, render
from twomass.pipeline.stages.run import run_pipeline

RA = (137.25, 137.40)
BANDS = ("j", "h", "k")
PARENT_MAGS = (5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5)
SPACING_DEG = 0.07
UNMATCHED_ARCSEC = 2.0
MATCH_ARCSEC = 1.0
SNR_MIN = 10.0
UPPER = "CDGP"
#: Zone margins [arcsec]: around a latent, a glint, across a spike or a stripe.
NEAR_ARCSEC = 6.0
ACROSS_ARCSEC = 4.0
#: Halo: the rendered PSF stamp of a typical core (sigma [px]) on a typical sky (noise
#: per pixel and frame [ADU]).
HALO_CORE_PX, HALO_NOISE_ADU = 1.1, 12.0


def survey_scans(dec: tuple[float, float], seed: int) -> list:
    """The survey scans ``observe`` writes for the region (as it selects them)."""
    region = Region.from_ranges(RA, dec)
    geometry = tiling.SurveyGeometry()
    tiles = tiling.full_sky(geometry)
    wanted = tiling.in_box(tiles, region.ra_range, region.dec_range, margin_deg=0.05)
    return [s for night in plan(tiles, wanted, seed, geometry.n_bands) for s in night.scans
            if s.columns["qual"] >= 4 and observe._touches(Footprint(s, tiles.half_width),
                                                          region)]


def bright_injections(scans, dec: tuple[float, float]) -> list[observe.Injection]:
    """Bright stars along each scan's meridian, magnitudes cycling through
    ``PARENT_MAGS`` (a scan number may recur on other nights: same stars there)."""
    out = []
    for s in {s.scan: s for s in scans}.values():
        for i, d in enumerate(np.arange(dec[0] + 0.05, dec[1] - 0.03, SPACING_DEG)):
            mag = PARENT_MAGS[(i + s.scan) % len(PARENT_MAGS)]
            out.append(observe.Injection(s.scan, "star", value=mag,
                                         ra=s.ra0 + 0.01 * ((i % 3) - 1), dec=float(d)))
    return out


def prepare(work: Path, dec: tuple[float, float], seed: int, jobs: int) -> None:
    raw = work / "raw"
    injections = bright_injections(survey_scans(dec, seed), dec)
    observe.observe(raw, RA, dec, seed=seed, cal_frames=48, progress=True,
                    injections=tuple(injections))
    (work / "injected.json").write_text(json.dumps(
        [{"scan": i.scan, "ra": i.ra, "dec": i.dec, "mag": i.value} for i in injections]))
    nights = sorted(p for p in raw.iterdir() if (p / "night.json").exists())
    run_pipeline(nights, work / "prod", progress=True, jobs=jobs)


def rendered_sources(work: Path) -> dict[str, np.ndarray]:
    sky = pq.read_table(work / "raw" / observe.SKY_FILE).to_pydict()
    added = json.loads((work / "injected.json").read_text())
    out = {k: np.asarray(sky[k], float) for k in ("ra", "dec", "j_m", "h_m", "k_m")}
    for k, name in (("ra", "ra"), ("dec", "dec"), ("j_m", "mag"), ("h_m", "mag"),
                    ("k_m", "mag")):
        out[k] = np.concatenate([out[k], [a[name] for a in added]])
    return out


def zones(dx: np.ndarray, dy: np.ndarray, mag: float, band: int, sd: str, step: float,
          flux: float) -> dict[str, np.ndarray]:
    """Which of the simulator's artifact zones (``observe._bright_star_effects``, the
    detector's latents, the PSF stamp) of a parent of magnitude ``mag`` and ``flux`` [ADU
    per frame] hold detections at scan offsets (dx, dy) [arcsec] from it (dy along the
    scan's motion, in a northward scan ``sd`` 'n' or a southward one)."""
    px = inst.PIXEL_ARCSEC
    sign = 1.0 if sd == "n" else -1.0
    r = np.hypot(dx, dy)
    out = {"latent": np.zeros(len(dx), bool)}
    for k in (1, 2, 3):
        out["latent"] |= np.hypot(dx, dy - k * step) < NEAR_ARCSEC
    length = px * (10.0 * np.log10(max(flux, 1e4) / 1e4) + 10.0) + ACROSS_ARCSEC
    spikes = mag < 9.0  # spikes, stripe and glint
    out["spike"] = spikes & (r > 2.0) & (r < length) \
        & ((np.abs(dx) < ACROSS_ARCSEC) | (np.abs(dy) < ACROSS_ARCSEC))
    out["stripe"] = spikes & (np.abs(dy) < ACROSS_ARCSEC)
    gx, gy = observe.GLINT_OFFSET_PX[band]
    out["glint"] = spikes & (np.hypot(dx - gx * px, dy - sign * gy * px) < NEAR_ARCSEC)
    halo = px * float(render.stamp_radius(np.array([flux]), np.array([HALO_CORE_PX]),
                                          HALO_NOISE_ADU)[0])
    out["halo"] = (r > 2.0) & (r < halo)
    return out


ZONE_ORDER = ("latent", "glint", "spike", "stripe", "halo")


def measure(work: Path) -> dict:
    """The figures of the module docstring over every night's ``pts.parquet``."""
    src = rendered_sources(work)
    t_vec = sphere.unit_vectors(src["ra"], src["dec"])
    report = {"artifacts": Counter(), "artifacts_upper": Counter(), "real": Counter(),
              "real_upper": Counter(), "other_unmatched": Counter(),
              "other_unmatched_upper": Counter(), "parents": Counter(), "missed": [],
              "real_flagged": []}
    prod = work / "prod"
    for night in sorted(p for p in prod.iterdir() if (p / "pts.parquet").exists()):
        raw_doc = json.loads((work / "raw" / night.name / "night.json").read_text())
        sd = {e["scan"]: e["sd"] for e in raw_doc["scans"]}
        step = inst.STEP_ARCSEC[raw_doc["hemis"]]
        pts = pq.read_table(night / "pts.parquet").to_pydict()
        scan_of = np.asarray(pts["scan"])
        for scan in np.unique(scan_of):
            rows = np.flatnonzero(scan_of == scan)
            _scan_figures(pts, rows, src, t_vec, sd[int(scan)], step, report)
    return report


def _column(pts: dict, name: str, rows: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in pts[name]], float)[rows]


def _scan_figures(pts, rows, src, t_vec, sd, step, report) -> None:
    ra, dec = _column(pts, "ra", rows), _column(pts, "dec", rows)
    x, y = _column(pts, "x_scan", rows), _column(pts, "y_scan", rows)
    cc, rd = np.asarray(pts["cc_flg"])[rows], np.asarray(pts["rd_flg"])[rows]
    p_vec = sphere.unit_vectors(ra, dec)
    nearest = sphere.nearest_within(p_vec, t_vec, UNMATCHED_ARCSEC).index
    real = sphere.nearest_within(p_vec, t_vec, MATCH_ARCSEC).index >= 0
    unmatched = nearest < 0
    for b, band in enumerate(BANDS):
        snr = np.nan_to_num(_column(pts, f"{band}_snr", rows))
        mag = _column(pts, f"{band}_m", rows)
        good = np.array([f[b] in "1234" for f in rd]) & (snr >= SNR_MIN)
        letter = np.array([f[b] for f in cc])
        upper = np.isin(letter, list(UPPER))
        report["real"][band] += int((real & good).sum())
        report["real_upper"].update(f"{band}:{c}" for c in letter[real & good & upper])
        true_mag = src[f"{band}_m"][np.maximum(nearest, 0)]
        parents = np.flatnonzero(real & (true_mag < mapcor.PARENT_MAG[band]))
        zone = np.full(len(rows), "", dtype=object)
        for p in parents:
            flux = 10 ** (-0.4 * (true_mag[p] - quality.ZERO_POINT[b])) * inst.EXPOSURE_SECONDS
            hits = zones(x - x[p], y - y[p], float(true_mag[p]), b, sd, step, flux)
            report["parents"][band] += 1
            for name in reversed(ZONE_ORDER):  # the first in ZONE_ORDER wins
                zone[hits[name] & unmatched & good] = name
        for name in ZONE_ORDER:
            art = zone == name
            report["artifacts"][f"{band}:{name}"] += int(art.sum())
            report["artifacts_upper"][f"{band}:{name}"] += int((art & upper).sum())
        for i in np.flatnonzero((zone != "") & ~upper):
            report["missed"].append((band, zone[i], round(float(mag[i]), 2),
                                     round(float(snr[i]), 1), letter[i]))
        for i in np.flatnonzero(real & good & upper):
            report["real_flagged"].append((band, letter[i], round(float(mag[i]), 2),
                                           round(float(snr[i]), 1)))
        rest = unmatched & good & (zone == "")
        report["other_unmatched"][band] += int(rest.sum())
        report["other_unmatched_upper"][band] += int((rest & upper).sum())


def summary(report: dict) -> dict:
    """Totals and fractions of ``measure``'s counts."""
    art, art_up = sum(report["artifacts"].values()), sum(report["artifacts_upper"].values())
    real, real_up = sum(report["real"].values()), sum(report["real_upper"].values())
    return {"injected_artifacts_snr10": art, "flagged_upper": art_up,
            "artifact_fraction_upper": art_up / art if art else float("nan"),
            "real_snr10": real, "real_upper": real_up,
            "real_fraction_upper": real_up / real if real else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dec", type=float, nargs=2, default=(6.1, 7.5))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, help="directory to keep (and reuse) the run in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
        work = args.work or Path(tmp)
        if not (work / "prod").exists():
            prepare(work, tuple(args.dec), args.seed, args.jobs)
        report = measure(work)
        report["summary"] = summary(report)
        print(json.dumps(report, indent=1, default=dict))


if __name__ == "__main__":
    main()
