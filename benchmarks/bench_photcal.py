"""Photometric calibration (``photcal``): the nightly zero points against the truth.

Observes a region (default: the three tiles around RA 137.33 at b = +35 deg of
``bench_pixel_catalog.py``, Dec 8.5-9.5, with 48-frame calibration scans) and runs the
pixel pipeline; then, per night and band:

- the zero point each survey scan got (``scans.parquet`` ``zp_ap``) and the solution at
  each calibration scan's time, minus the simulator's (``sim/true_frames.parquet``):
  the largest |difference| (target <= 0.01 mag), beside a constant c1 over the night (the
  weighted mean of the sets: what hour-to-hour interpolation gains in J);
- the calibrated standards (4" apertures on the calibration scans' Atlas Images, the
  solution at each scan's time and airmass) minus their listed magnitudes: rms of single
  measurements and of each standard's mean over the night (target <= 0.015 mag), and
  minus the true magnitudes (the list carries 0.01 mag errors; the night means about
  their median: the zero point's offset is in the columns before); the residuals' slope
  against the cross-scan offset (the 4" aperture's dependence on the array position);
  the single measurements of the standards brighter than Ks ``BRIGHT_KS``;
- the calibration sets used and dropped, the solution's model and its quoted error.

    python benchmarks/bench_photcal.py [--ra MIN MAX] [--dec MIN MAX] [--seed N]
                                       [--cal-frames N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import photcal, rawio
from twomass.pipeline.stages.observe import EXTINCTION, SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline

#: True zero points are per second; the pipeline's per 1.3 s frame.
FRAME_MAG = 2.5 * np.log10(inst.EXPOSURE_SECONDS)
#: The standards' brighter half, whose single measurements are not noise-limited (at
#: Ks 12-13 the 4" photon, sky and read noise is 14-19 mmag, as 2MASS's own S/N ~ 50).
BRIGHT_KS = 12.0


def true_zero_points(night: Path) -> dict[tuple[int, str], float]:
    """(scan, band) -> the simulator's zero point [mag for 1 ADU per frame]."""
    t = pq.read_table(night / "sim" / "true_frames.parquet").to_pydict()
    out: dict[tuple[int, str], float] = {}
    for scan, band, zp in zip(t["scan"], t["band"], t["zp"], strict=True):
        out[(int(scan), band)] = float(zp) + FRAME_MAG
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs=2, default=(137.25, 137.40))
    parser.add_argument("--dec", type=float, nargs=2, default=(8.5, 9.5))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cal-frames", type=int, default=48)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "products"
        t0 = time.perf_counter()
        obs = observe(raw, tuple(args.ra), tuple(args.dec), seed=args.seed,
                      cal_frames=args.cal_frames, progress=True)
        t1 = time.perf_counter()
        nights = rawio.night_directories([raw])
        kept: dict = {}
        run_pipeline(nights, out, progress=True, keep=kept)
        t2 = time.perf_counter()
        sky = pq.read_table(raw / SKY_FILE).to_pydict()
        true_mag = {int(i): np.array([sky[f"{b}_m"][k] for b in inst.BANDS])
                    for k, i in enumerate(sky["id"])}
        print(f"\nregion RA {tuple(args.ra)}, Dec {tuple(args.dec)}, seed {args.seed}: "
              f"{obs.nights} nights, {obs.scans} survey + {obs.cal_scans} calibration scans "
              f"of {args.cal_frames} frames; observe {t1 - t0:.0f} s, pipeline {t2 - t1:.0f} s")
        for night in nights:
            report(night, out / night.name, kept[(night.name, "photcal")], true_mag)


def report(night: Path, products: Path, kept, true_mag: dict) -> None:
    solution, photometry = kept
    truth = true_zero_points(night)
    _, entries = rawio.read_night(night)
    cal = {e.scan: e for e in entries if e.kind == "cal"}
    scans = pq.read_table(products / "scans.parquet").to_pydict()
    std = pq.read_table(night / "ref" / "standards.parquet").to_pydict()
    summary = json.loads((products / "night.json").read_text())["zero_points"]
    residuals = photcal.calibrated_residuals(solution, photometry)
    means = photcal.calibrated_residuals(solution, photometry, per_standard=True)
    print(f"\nnight {night.name}: {len(solution.sets)} calibration sets "
          f"({', '.join(f'{24 * (s.jd - solution.sets[0].jd):.2f} h' for s in solution.sets)}"
          f" after the first), {len(scans['scan'])} survey scans; gaps: "
          f"{summary['gaps_hours'] or 'none'}")
    bright_rms: dict[str, tuple[float, int]] = {}
    print("  band  model        sets used/dropped  |zp - true| max [mmag]: survey   cal  "
          "constant-c1  zp err [mmag]  |  standards rms [mmag]: single listed, true (n);  "
          "night mean listed, true (n);  gradient [mmag per 100\" across]")
    for b, band in enumerate(inst.BANDS):
        bs = solution.bands[b]
        d_survey = [scans[f"{band}_zp_ap"][i] - truth[(s, band)]
                    for i, s in enumerate(scans["scan"])]
        cal_times = {p.scan: p.jd for p in photometry if p.band == b}
        d_cal = [solution.zero_point(b, cal_times[s], e.airmass)[0] - truth[(s, band)]
                 for s, e in cal.items() if s in cal_times]
        # A constant c1: the sets' weighted mean, as one zero point for the night.
        z = np.array([solution.sets[i].zp[b] for i in bs.used])
        w = 1.0 / np.array([solution.sets[i].err[b] for i in bs.used]) ** 2
        c1 = float(np.sum(w * z) / np.sum(w))
        d_const = [c1 - EXTINCTION[b] * (e.airmass - 1.0) - truth[(s, band)]
                   for s, e in cal.items()] + \
            [c1 - EXTINCTION[b] * (scans["airm"][i] - 1.0) - truth[(s, band)]
             for i, s in enumerate(scans["scan"])]
        err = np.array(scans[f"{band}_zperr_ap"])
        true_res, true_ks, errs = [], [], []
        for p in (p for p in photometry if p.band == b):
            zp, _ = solution.zero_point(b, p.jd, p.airmass)
            ids = np.asarray(std["id"])[p.row]
            true_res.append(p.m_inst + zp - np.array([true_mag[int(i)][b] for i in ids]))
            true_ks.append(np.array([true_mag[int(i)][2] for i in ids]))
            errs.append(p.m_err)
        r_true = np.concatenate(true_res)
        bright = np.concatenate(true_ks) < BRIGHT_KS
        bright_rms[band] = (_rms(r_true[bright]), float(np.median(np.concatenate(errs)[bright])),
                            int(bright.sum()))
        rows, r_mean = means[b]
        ids = np.asarray(std["id"])[rows]
        m_true = np.array([true_mag[int(i)][b] for i in ids])
        d_mean = r_mean + np.asarray(std[f"{band}_m"])[rows] - m_true
        # The residuals against the standard's cross-scan offset on the calibration scans.
        xi = np.concatenate([(np.asarray(std["ra"])[p.row] - cal[p.scan].ra0) * 3600.0
                             * np.cos(np.radians(np.asarray(std["dec"])[p.row]))
                             for p in photometry if p.band == b])
        slope = np.polyfit(xi, residuals[b][1], 1)[0] * 100.0
        print(f"  {band:4s}  {bs.model:12s} {len(bs.used):4d}/{len(bs.dropped):<4d}"
              f"{'':23s}{1000 * np.max(np.abs(d_survey)):6.1f} {1000 * np.max(np.abs(d_cal)):5.1f}"
              f"  {1000 * np.max(np.abs(d_const)):8.1f}  {1000 * np.median(err):10.1f}     |"
              f"{'':27s}{1000 * _rms(residuals[b][1]):5.1f} {1000 * _rms(r_true):5.1f} "
              f"({len(r_true)}){'':15s}{1000 * _rms(r_mean):5.1f} "
              f"{1000 * _rms(d_mean - np.median(d_mean)):5.1f} ({len(r_mean)}){'':12s}"
              f"{1000 * slope:+6.1f}")
    print(f"  standards of Ks < {BRIGHT_KS:g}, single measurements vs true, rms (their median "
          "quoted noise) [mmag]: " + ", ".join(f"{band} {1000 * rms:.1f} ({1000 * err:.1f}; {n})"
                                               for band, (rms, err, n) in bright_rms.items()))
    for problem in solution.problems():
        print(f"  note: {problem}")


def _rms(x: np.ndarray) -> float:
    """rms about zero (an offset is an error of the zero point)."""
    return float(np.sqrt(np.mean(x**2))) if len(x) else float("nan")


if __name__ == "__main__":
    main()
