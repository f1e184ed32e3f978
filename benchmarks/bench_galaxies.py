"""Extended sources from pixels (GALWORKS), measured against the truth.

Observes a high-latitude region (default RA 137.25-137.40, Dec 6.1-11.75: b = +35 deg,
the three survey scans of bench_pixel_catalog), runs the pixel pipeline and compares the
``ext`` rows with the truth's galaxies (``truth.parquet``) of Ks <= 13.5 lying more than
15" inside a scan (the XSC's edge border):

- completeness: the fraction with an ``ext`` row within 5" that passes the catalog's
  cut (``e_score <= 1.4 or g_score <= 1.4``; target >= 90 %);
- isophotal photometry: median of ``k_m_k20fe`` minus the truth's isophotal magnitude
  (target within 0.1 mag). The truth's is computed from the truth parameters alone: the
  rendered exponential disc (``render.galaxy_isophote``, scale length radius / 4) seen
  through the scan's median Ks core (``sim/true_frames.parquet``, at the array centre)
  widened by the 2" pixel and the drizzle footprint (two 2" boxes) and integrated above
  Ks 20 mag/arcsec^2;
- the extrapolated totals against the truth's total magnitudes, and the catalog-cut rows
  whose nearest rendered source within 5" (``sky.parquet``, the scans' whole width) is not
  a galaxy (star pairs, bright-star debris);
- CPU seconds of the stage per survey scan against the scan's whole.

    python benchmarks/bench_galaxies.py [--dec MIN MAX] [--seed N] [--jobs N] [--work DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twomass.core import sphere
from twomass.pipeline.stages import fidelity, rawio, render
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.observe import SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline
from twomass.schema.truth import FILE_NAME as TRUTH_FILE

RA = (137.25, 137.40)
KS_LIMIT = 13.5
ISOPHOTE = 20.0
MATCH_ARCSEC = 5.0
INSIDE_ARCSEC = 15.0
CATALOG_SCORE = 1.4


def truth_isophotal_mag(k_total: np.ndarray, radius_arcsec: np.ndarray,
                        core_fwhm_arcsec: np.ndarray) -> np.ndarray:
    """Isophotal (Ks 20 mag/arcsec^2) magnitude of each rendered galaxy, noiseless."""
    out = np.full(len(k_total), np.nan)
    for i, (m, r, fwhm) in enumerate(zip(k_total, radius_arcsec, core_fwhm_arcsec,
                                         strict=True)):
        sigma = np.sqrt((fwhm / 2.3548) ** 2 + 2 * inst.PIXEL_ARCSEC**2 / 12.0 + 1.0 / 12.0)
        _, flux = render.galaxy_isophote(10 ** (-0.4 * m), r / 4.0, sigma,
                                         10 ** (-0.4 * ISOPHOTE))
        out[i] = -2.5 * np.log10(flux) if flux > 0 else np.nan
    return out


def galaxy_figures(raw: Path, products: list[Path]) -> dict:
    """Completeness and photometry of the ``ext`` rows of ``products`` (night
    directories) against the galaxies of ``raw``'s truth."""
    truth = pq.read_table(raw / TRUTH_FILE).to_pydict()
    ext = {k: np.concatenate([pq.read_table(p / "ext.parquet").column(k).to_numpy(
        zero_copy_only=False) for p in products]) for k in
        ("ra", "dec", "k_m_k20fe", "k_m_ext", "e_score", "g_score", "scan", "r_k20fe")}
    scans = [r for p in products for r in pq.read_table(p / "scans.parquet").to_pylist()]
    fwhm = {}
    for p in products:
        tf = pq.read_table(raw / p.name / "sim" / "true_frames.parquet").to_pydict()
        band, scan = np.asarray(tf["band"]), np.asarray(tf["scan"])
        for s in np.unique(scan):
            fwhm[int(s)] = float(np.median(np.asarray(tf["fwhm"])[(scan == s) & (band == "k")]))
    gal = np.asarray(truth["type"]) == "galaxy"
    t = {k: np.asarray(truth[k])[gal] for k in ("ra", "dec", "j_m", "h_m", "k_m", "r_k20fe",
                                                 "type")}
    seen = fidelity.sky_on_scans(t, scans)
    pick = (t["k_m"] <= KS_LIMIT) & (seen.inside_arcsec > INSIDE_ARCSEC)
    t = {k: v[pick] for k, v in t.items()}
    catalog = (ext["e_score"] <= CATALOG_SCORE) | (ext["g_score"] <= CATALOG_SCORE)
    t_vec = sphere.unit_vectors(t["ra"], t["dec"])
    e_vec = sphere.unit_vectors(ext["ra"][catalog], ext["dec"][catalog])
    match = sphere.nearest_within(t_vec, e_vec, MATCH_ARCSEC).index
    found = match >= 0
    idx = np.flatnonzero(catalog)[match[found]]
    core = np.full(found.sum(), np.median(list(fwhm.values())))
    for i, j in enumerate(idx):
        core[i] = fwhm.get(int(ext["scan"][j]), core[i])
    iso_true = truth_isophotal_mag(t["k_m"][found], t["r_k20fe"][found], core)
    d_iso = ext["k_m_k20fe"][idx] - iso_true
    d_ext = ext["k_m_ext"][idx] - t["k_m"][found]
    # Every rendered source (the scans reach beyond the region): which the rows fall on.
    sky = pq.read_table(raw / SKY_FILE).to_pydict()
    nearest = sphere.nearest_within(e_vec, sphere.unit_vectors(
        np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)), MATCH_ARCSEC).index
    unmatched = (nearest < 0) | (np.asarray(sky["type"])[np.maximum(nearest, 0)] != "galaxy")
    return {"galaxies": int(len(t["k_m"])), "found": int(found.sum()),
            "completeness": float(found.mean()) if len(found) else float("nan"),
            "median_iso_offset": float(np.nanmedian(d_iso)) if len(d_iso) else float("nan"),
            "rms_iso_offset": float(np.sqrt(np.nanmean(d_iso**2))) if len(d_iso) else
            float("nan"),
            "median_ext_offset": float(np.nanmedian(d_ext)) if len(d_ext) else float("nan"),
            "missed_ks": sorted(np.round(t["k_m"][~found], 2).tolist()),
            "catalog_rows": int(catalog.sum()), "rows": int(len(catalog)),
            "catalog_rows_not_galaxy": int(unmatched.sum()),
            "kinds_not_galaxy": sorted(set(
                np.asarray(sky["type"])[nearest[unmatched & (nearest >= 0)]].tolist()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dec", type=float, nargs=2, default=(6.1, 11.75))
    parser.add_argument("--ra", type=float, nargs=2, default=RA)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, help="working directory (kept; default: a "
                        "temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-galaxies-") as tmp:
        work = args.work or Path(tmp)
        raw = work / "raw"
        t0 = time.perf_counter()
        observe(raw, tuple(args.ra), tuple(args.dec), seed=args.seed, cal_frames=48)
        t1 = time.perf_counter()
        nights = rawio.night_directories([raw])
        summary = run_pipeline(nights, work / "prod", jobs=args.jobs)
        t2 = time.perf_counter()
        figures = galaxy_figures(raw, [work / "prod" / n.name for n in nights])
    per_scan = summary.stage_seconds.get("galworks", 0.0) / max(summary.scans, 1)
    whole = sum(summary.stage_seconds.values()) / max(summary.scans, 1)
    frames = summary.band_frames / max(summary.scans, 1) / 3
    print(f"region RA {args.ra} Dec {args.dec} seed {args.seed}: {summary.scans} survey scans "
          f"({frames:.0f} frames each), observe {t1 - t0:.0f} s, pipeline {t2 - t1:.0f} s "
          f"(--jobs {args.jobs})")
    print(f"galaxies Ks <= {KS_LIMIT} inside the scans: {figures['galaxies']}, found "
          f"{figures['found']}: completeness {figures['completeness']:.3f} (target >= 0.90); "
          f"missed at Ks {figures['missed_ks']}")
    print(f"Ks isophotal magnitude - truth: median {figures['median_iso_offset']:+.3f} mag "
          f"(target |.| <= 0.1), rms {figures['rms_iso_offset']:.3f}; extrapolated total - "
          f"truth total: median {figures['median_ext_offset']:+.3f}")
    print(f"ext rows {figures['rows']}, catalog cut {figures['catalog_rows']}, of which "
          f"{figures['catalog_rows_not_galaxy']} not on a galaxy (nearest: "
          f"{figures['kinds_not_galaxy']})")
    print(f"CPU per survey scan: galworks {per_scan:.1f} s of {whole:.1f} s")


if __name__ == "__main__":
    main()
