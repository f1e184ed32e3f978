"""Pixels to the Point Source Catalog: the whole path, measured against the truth.

Observes the survey scans of three neighbouring tiles around RA 137.33 at b = +35 deg
(by default over the tiles' whole length, Dec 6.1-11.75, every night that observed them,
with 48-frame calibration scans), runs the pixel pipeline with ``--jobs`` processes,
ingests the night products into a scratch database, builds and publishes a release and
compares its Point Source Catalog with every source the frames showed (``sky.parquet``):

- completeness and reliability at S/N >= 10 (the paper's Table 2: >= 99 % and
  >= 99.95 %; ``fidelity.catalog_vs_sky``) and the position rms;
- photometry: rms of (measured - true) / msigcom for stars at S/N 10-100 per band;
- astrometry: isolated Ks < 14 stars of the night products' ``pts`` with and without the
  night's astrometric calibration (``astrocal``'s segment adjustment; the pipeline run a
  second time on the same raw frames without it), and of the catalog;
- depth: each scan's measured S/N = 10 magnitude (``scans.parquet`` msnr10) minus the
  one the simulator set for it (target: within 0.1 mag);
- speed: wall seconds of each step, CPU seconds per stage over the survey scans, and
  their projection to a 273-frame scan (target <= 90 s on one core) and to a 48-scan
  night in two processes (target <= 40 min).

    python benchmarks/bench_pixel_catalog.py [--ra MIN MAX] [--dec MIN MAX] [--seed N]
        [--jobs N] [--db URL]
    python benchmarks/bench_pixel_catalog.py --demo-sky   # the sky of ``twomass demo``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy.spatial import ConvexHull

from twomass import demo, release
from twomass.core import database, sphere
from twomass.core.database import Database
from twomass.core.settings import Settings
from twomass.core.stats import robust_sigma
from twomass.ingest.load import ingest_nights
from twomass.migrations import revision
from twomass.pipeline.sim import artifacts, extraction
from twomass.pipeline.sim import photometry as sim_photometry
from twomass.pipeline.stages import fidelity, rawio
from twomass.pipeline.stages.observe import SKY_FILE, TRUTH_FILE, observe
from twomass.pipeline.stages.run import run_pipeline

RA = (137.25, 137.40)
BANDS = ("j", "h", "k")
SNR_BINS = (3.0, 4.0, 5.0, 6.0, 7.0, 10.0, 15.0)
FULL_SCAN_FRAMES = 273
NIGHT_SCANS = 48


def detection_curve(pts: dict, sky: dict, scans: list[dict], match_arcsec: float = 2.0
                    ) -> dict[str, list[float]]:
    """Per band, the fraction of true stars (inside their scan, away from bright stars)
    with an extraction detected in the band within ``match_arcsec``, in bins of true S/N
    (``SNR_BINS``)."""
    seen = fidelity.sky_on_scans(sky, scans)
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"], float), np.asarray(sky["dec"], float))
    p_vec = sphere.unit_vectors(np.asarray(pts["ra"], float), np.asarray(pts["dec"], float))
    stars = seen.star & (seen.inside_arcsec > 15.0) & ~seen.near_bright
    curve = {}
    for i, b in enumerate(BANDS):
        detected = np.array([f[i] != "0" for f in pts["rd_flg"]], bool)
        fractions = []
        for lo, hi in zip(SNR_BINS[:-1], SNR_BINS[1:], strict=True):
            sel = stars & (seen.snr[:, i] >= lo) & (seen.snr[:, i] < hi)
            found = sphere.nearest_within(t_vec[sel], p_vec[detected], match_arcsec).index >= 0
            fractions.append(float(found.mean()) if sel.any() else float("nan"))
        curve[b] = fractions
    return curve


def noise_density(pts: dict, sky: dict, scans: list[dict], match_arcsec: float = 3.0,
                  parent_ks: float = 9.5, radius_arcsec: float = 120.0
                  ) -> tuple[float, float]:
    """Extractions with no rendered source within ``match_arcsec``, per deg^2 of scan: all
    of them, and those with no star brighter than Ks ``parent_ks`` within
    ``radius_arcsec`` (noise, not the bright stars' artifacts)."""
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"], float), np.asarray(sky["dec"], float))
    p_vec = sphere.unit_vectors(np.asarray(pts["ra"], float), np.asarray(pts["dec"], float))
    alone = sphere.nearest_within(p_vec, t_vec, match_arcsec).index < 0
    parents = t_vec[np.asarray(sky["k_m"], float) < parent_ks]
    near = sphere.nearest_within(p_vec, parents, radius_arcsec).index >= 0 if len(parents) \
        else np.zeros(len(p_vec), bool)
    area = 0.0
    for s in scans:  # the corners' convex hull on the tangent plane at the first corner
        ra = np.array([s[f"ra_{i}"] for i in range(1, 5)])
        dec = np.array([s[f"dec_{i}"] for i in range(1, 5)])
        x = ((ra - ra[0] + 180.0) % 360.0 - 180.0) * np.cos(np.radians(dec.mean()))
        area += ConvexHull(np.column_stack([x, dec])).volume
    return float(alone.sum()) / area, float((alone & ~near).sum()) / area


def error_floor(pts: dict, min_snr: float = 200.0) -> list[float]:
    """Median ``cmsig`` per band of the profile-fit (rd_flg 2) measurements with scan S/N
    above ``min_snr``: bright unsaturated stars, where the floor shows."""
    out = []
    for i, b in enumerate(BANDS):
        rd2 = np.array([f[i] == "2" for f in pts["rd_flg"]], bool)
        snr = np.nan_to_num(np.asarray(pts[f"{b}_snr"], float))
        cmsig = np.asarray(pts[f"{b}_cmsig"], float)
        pick = rd2 & (snr > min_snr) & np.isfinite(cmsig)
        out.append(float(np.median(cmsig[pick])) if pick.any() else float("nan"))
    return out


def false_near_bright(cat: dict, sky: dict, match_arcsec: float = 2.0,
                      parent_ks: float = 9.5, radius_arcsec: float = 120.0) -> tuple[int, int]:
    """Catalog sources with S/N >= 10 and no rendered source within ``match_arcsec``, and
    how many of them lie within ``radius_arcsec`` of a star brighter than Ks
    ``parent_ks`` (where 2MASS's artifact search looks: spikes, persistence, glints)."""
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"], float), np.asarray(sky["dec"], float))
    c_vec = sphere.unit_vectors(np.asarray(cat["ra"], float), np.asarray(cat["dec"], float))
    snr = np.column_stack([np.asarray(cat[f"{b}_snr"], float) for b in BANDS])
    listed = (np.nan_to_num(snr) >= 10).any(axis=1)
    false = c_vec[listed][sphere.nearest_within(c_vec[listed], t_vec, match_arcsec).index < 0]
    parents = t_vec[np.asarray(sky["k_m"], float) < parent_ks]
    near = sphere.nearest_within(false, parents, radius_arcsec).index >= 0 if len(parents) \
        else np.zeros(len(false), bool)
    return len(false), int(near.sum())


def astrometry_ks14(cat: dict, sky: dict, match_arcsec: float = 1.0) -> tuple[float, ...]:
    """rms and mean of (catalog - true) in RA cos Dec and Dec [mas] for isolated true stars
    with Ks < 14 (the issue's astrometry sample), matched within ``match_arcsec``."""
    t_ra, t_dec = np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)
    t_vec = sphere.unit_vectors(t_ra, t_dec)
    c_vec = sphere.unit_vectors(np.asarray(cat["ra"], float), np.asarray(cat["dec"], float))
    found = sphere.nearest_within(c_vec, t_vec, match_arcsec)
    i = np.flatnonzero(found.index >= 0)
    t = found.index[i]
    keep = (np.asarray(sky["type"])[t] == "star") & fidelity.isolated(sky, "k")[t] \
        & (np.asarray(sky["k_m"], float)[t] < 14.0)
    i, t = i[keep], t[keep]
    dra = (np.asarray(cat["ra"])[i] - t_ra[t]) * np.cos(np.radians(t_dec[t])) * 3.6e6
    ddec = (np.asarray(cat["dec"])[i] - t_dec[t]) * 3.6e6
    return (float(np.sqrt(np.mean(dra**2))), float(np.sqrt(np.mean(ddec**2))),
            float(np.mean(dra)), float(np.mean(ddec)), len(i))


def night_pts(products: list[Path]) -> dict:
    """The nights' ``pts`` rows together."""
    pts: dict = {}
    for p in products:
        more = pq.read_table(p / "pts.parquet").to_pydict()
        pts = {k: pts.get(k, []) + v for k, v in more.items()}
    return pts


def photometry_pulls(cat: dict, sky: dict, match_arcsec: float = 1.0) -> list[float]:
    """rms of (measured - true) / msigcom per band, for isolated true stars matched within
    ``match_arcsec`` whose catalog S/N is 10-100."""
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"], float), np.asarray(sky["dec"], float))
    c_vec = sphere.unit_vectors(np.asarray(cat["ra"], float), np.asarray(cat["dec"], float))
    found = sphere.nearest_within(c_vec, t_vec, match_arcsec)
    star = np.asarray(sky["type"]) == "star"
    alone = fidelity.isolated(sky, "k")
    out = []
    for b in BANDS:
        i = np.flatnonzero(found.index >= 0)
        t = found.index[i]
        m = np.asarray(cat[f"{b}_m"], float)[i]
        sig = np.asarray(cat[f"{b}_msigcom"], float)[i]
        snr = np.asarray(cat[f"{b}_snr"], float)[i]
        ok = star[t] & alone[t] & np.isfinite(m) & np.isfinite(sig) & (snr >= 10) & (snr < 100)
        pull = (m[ok] - np.asarray(sky[f"{b}_m"], float)[t[ok]]) / sig[ok]
        out.append(float(np.sqrt(np.mean(pull**2))) if ok.any() else float("nan"))
    return out


def bright_star_scatter(cat: dict, sky: dict, rd_flg: np.ndarray, match_arcsec: float = 2.0,
                        bright_mag: float = 13.0) -> list[tuple[float, float, int]]:
    """Per band, Table 2's photometric figure as ``twomass.qa.table2`` measures it: the
    robust sigma of (measured - true) of stars brighter than ``bright_mag`` measured by
    profile fit (rd_flg 2), with their median, and how many."""
    t_vec = sphere.unit_vectors(np.asarray(sky["ra"], float), np.asarray(sky["dec"], float))
    c_vec = sphere.unit_vectors(np.asarray(cat["ra"], float), np.asarray(cat["dec"], float))
    found = sphere.nearest_within(c_vec, t_vec, match_arcsec)
    star = np.asarray(sky["type"]) == "star"
    i = np.flatnonzero(found.index >= 0)
    t = found.index[i]
    out = []
    for k, b in enumerate(BANDS):
        true_m = np.asarray(sky[f"{b}_m"], float)[t]
        d = np.asarray(cat[f"{b}_m"], float)[i] - true_m
        use = star[t] & (rd_flg[i, k] == "2") & (true_m < bright_mag) & np.isfinite(d)
        out.append((robust_sigma(d[use]), float(np.median(d[use])), int(use.sum()))
                   if use.any() else (float("nan"), float("nan"), 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs=2, default=RA)
    parser.add_argument("--dec", type=float, nargs=2, default=(6.1, 11.75))
    parser.add_argument("--demo-sky", action="store_true",
                        help="the region and seed of `twomass demo` (overrides --ra, --dec, "
                        "--seed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="pipeline processes")
    parser.add_argument("--cal-frames", type=int, default=48)
    parser.add_argument("--db", help="URL of a database on the server to use "
                        "(default: $TWOMASS_DATABASE_URL, else the embedded server)")
    args = parser.parse_args()
    if args.demo_sky:
        (args.ra, args.dec), args.seed = demo.REGION, demo.SEED
    ra, dec = tuple(args.ra), tuple(args.dec)
    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    admin_url = database.resolve_url(settings)
    wall: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "products"
        t0 = time.perf_counter()
        obs = observe(raw, ra, dec, seed=args.seed, cal_frames=args.cal_frames, progress=True)
        wall["observe"] = time.perf_counter() - t0
        nights = rawio.night_directories([raw])
        t0 = time.perf_counter()
        summary = run_pipeline(nights, out, progress=True, jobs=args.jobs)
        wall["pipeline"] = time.perf_counter() - t0
        products = [out / n.name for n in nights]
        pts = night_pts(products)
        t0 = time.perf_counter()
        run_pipeline(nights, Path(tmp) / "unadjusted", jobs=args.jobs,
                     astrometric_calibration=False)
        wall["pipeline without astrometric calibration"] = time.perf_counter() - t0
        pts_unadjusted = night_pts([Path(tmp) / "unadjusted" / n.name for n in nights])
        astrometry_notes = [json.loads((p / "night.json").read_text()).get("astrometry")
                            for p in products]
        scans = []
        for p in products:
            doc = json.loads((p / "night.json").read_text())
            scans += [{**row, "night": (doc["hemis"], doc["date"])}
                      for row in pq.read_table(p / "scans.parquet").to_pylist()]
        sky = pq.read_table(raw / SKY_FILE).to_pydict()
        movers = fidelity.true_minor_planets(raw / TRUTH_FILE)
        url = database.create_database(admin_url, "twomass_bench_pixel_catalog")
        try:
            with Database(url) as db:
                revision.init(db)
                t0 = time.perf_counter()
                loaded = ingest_nights(db, products, progress=False)
                wall["ingest"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                record = release.build(db, "pixels", progress=False)
                wall["release build"] = time.perf_counter() - t0
                with db.engine().connect() as conn:
                    rows = conn.exec_driver_sql(
                        "SELECT rd_flg, ra, dec, jdate, " + ", ".join(f"{b}_m, {b}_snr, {b}_msigcom"
                                                       for b in BANDS) + " FROM psc")
                    names = list(rows.keys())
                    data = rows.fetchall()
        finally:
            database.drop_database(admin_url, url)
    rd_flg = np.array([list(r[0]) for r in data], dtype="<U1").reshape(-1, 3)
    cat = {n: np.array([r[i] for r in data], dtype=float)
           for i, n in enumerate(names) if n != "rd_flg"}
    fid = fidelity.catalog_vs_sky(cat, sky, scans, minor_planets=movers)
    pulls = photometry_pulls(cat, sky)
    scatter = bright_star_scatter(cat, sky, rd_flg)
    depths = fidelity.set_depths(ra, dec, args.seed)

    print(f"\nregion RA {ra}, Dec {dec}, seed {args.seed}: {obs.nights} nights, {obs.scans} "
          f"survey + {obs.cal_scans} calibration scans, {summary.band_frames:,d} band-frames "
          f"of survey scans; {summary.pts_rows:,d} point extractions, {loaded.line()}; "
          f"{release.summary(record)}")
    print("\ncatalog against the frames' sources (S/N >= 10)")
    print(f"  completeness {100 * fid.completeness:.2f} % ({fid.n_found} of {fid.n_true} stars; "
          f"target >= 99 %)")
    print(f"  reliability  {100 * fid.reliability:.3f} % ({fid.n_real} of {fid.n_catalog}, "
          f"{fid.n_minor_planets} of them minor planets where they were at the row's time; "
          f"target >= 99.95 %)")
    n_false, n_near = false_near_bright(cat, sky)
    print(f"  of the {n_false} sources on no static source ({fid.n_minor_planets} minor "
          f"planets), {n_near} lie within 120\" of a star brighter than Ks 9.5 (the artifact "
          "search's parents)")
    print(f"  positions rms (RA cos Dec, Dec) ({1000 * fid.offset_rms_arcsec[0]:.0f}, "
          f"{1000 * fid.offset_rms_arcsec[1]:.0f}) mas")
    print("  photometric scatter of profile-fit stars < 13 mag (robust sigma; median) "
          "(Table 2: < 0.03 mag): " + ", ".join(
              f"{b.upper()} {sig:.3f} ({med:+.3f}; {n})"
              for b, (sig, med, n) in zip(BANDS, scatter, strict=True)))
    ast = astrometry_ks14(cat, sky)
    print(f"  isolated stars with Ks < 14 ({ast[4]}): rms ({ast[0]:.0f}, {ast[1]:.0f}) mas, "
          f"mean ({ast[2]:+.0f}, {ast[3]:+.0f}) mas (targets <= 80 rms, |mean| <= 15)")
    print("\nastrometry of the night products (pts), isolated stars with Ks < 14, "
          "rms; mean (RA cos Dec, Dec) [mas]")
    for label, rows in (("without the astrometric calibration", pts_unadjusted),
                        ("with it (segment adjustment)", pts)):
        a = astrometry_ks14(rows, sky)
        print(f"  {label:<38} ({a[0]:3.0f}, {a[1]:3.0f}); ({a[2]:+3.0f}, {a[3]:+3.0f})  "
              f"[{a[4]} stars]")
    for note in astrometry_notes:
        print(f"  night solution: {note}")
    print("  photometry rms of (measured - true) / msigcom, S/N 10-100: "
          + ", ".join(f"{b.upper()} {p:.2f}" for b, p in zip(BANDS, pulls, strict=True))
          + " (target 0.8-1.3)")
    print("\nS/N = 10 magnitude, measured minus the simulator's [mag] (target within 0.1)")
    for s in scans:
        key = (*s["night"], s["scan"])
        if key in depths:
            diff = [s[f"{b}_msnr10"] - depths[key][i] for i, b in enumerate(BANDS)]
            print(f"  {key[1]}{key[0]} scan {key[2]:3d}: "
                  + "  ".join(f"{b.upper()} {d:+.2f}" for b, d in zip(BANDS, diff, strict=True)))
    cpu = sum(summary.stage_seconds.values())
    per_frame = cpu / max(summary.band_frames, 1)
    full_scan = per_frame * FULL_SCAN_FRAMES * 3
    # True S/N against the depth the simulator set for each scan.
    true_scans = [{**s, **{f"{b}_msnr10": depths[(*s["night"], s["scan"])][i]
                           for i, b in enumerate(BANDS)}}
                  for s in scans if (*s["night"], s["scan"]) in depths]
    curve = detection_curve(pts, sky, true_scans)
    print("\nwhat the catalog-level simulator assumes, against the pixels")
    print("  detection probability by true S/N (the simulator's depth) " + "  ".join(
        f"{lo:g}-{hi:g}" for lo, hi in zip(SNR_BINS[:-1], SNR_BINS[1:], strict=True)))
    centres = 0.5 * (np.array(SNR_BINS[:-1]) + np.array(SNR_BINS[1:]))
    print("    simulator".ljust(62) + "  ".join(
        f"{p:.2f}" for p in sim_photometry.detection_probability(centres)))
    for b in BANDS:
        print(f"    pixels {b.upper()}".ljust(62)
              + "  ".join(f"{p:.2f}" for p in curve[b]))
    every, away = noise_density(pts, sky, scans)
    print(f"  extractions with no source within 3\": {every:,.0f} per deg^2 of scan, "
          f"{away:,.0f} with no star brighter than Ks 9.5 within 120\" (the simulator's "
          f"noise peaks: {artifacts.NOISE_PER_DEG2:,.0f})")
    lo, hi = extraction.CMSIG_FLOOR
    print("  cmsig of profile-fit stars at S/N > 200 (median): " + ", ".join(
        f"{b.upper()} {f:.4f}" for b, f in zip(BANDS, error_floor(pts), strict=True))
          + f" (the simulator's floor: {lo:.3f}-{hi:.3f})")
    print("\nspeed")
    print("  wall: " + ", ".join(f"{k} {v:.0f} s" for k, v in wall.items())
          + f" (pipeline in {args.jobs} processes)")
    print(f"  CPU per stage over {summary.scans} survey scans: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(summary.stage_seconds.items())))
    print(f"  {1000 * per_frame:.0f} ms per band-frame: a {FULL_SCAN_FRAMES}-frame scan "
          f"{full_scan:.0f} s on one core (target <= 90), a {NIGHT_SCANS}-scan night "
          f"{NIGHT_SCANS * full_scan / 2 / 60:.0f} min in two processes (target <= 40)")
    print(f"\nbench_pixel_catalog: completeness {100 * fid.completeness:.2f} %, reliability "
          f"{100 * fid.reliability:.3f} %, {full_scan:.0f} s per {FULL_SCAN_FRAMES}-frame scan")


if __name__ == "__main__":
    main()
