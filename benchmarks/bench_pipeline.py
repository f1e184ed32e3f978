"""Pixel pipeline figures: stage rates against their targets and the libraries' floors,
registration residuals, Atlas Image astrometry and photometry against the truth.

Observes the survey scans of three neighbouring tiles around RA 137.33, Dec +9 (b = +35
deg), by default over nearly the tiles' whole length (Dec 6.1-11.75: 250-frame scans, the middle
one inside the region, all three seeing the sky on their whole width), with two 48-frame
calibration scans, runs the pipeline on it keeping the in-memory results, and prints:

- CPU ms per band-frame of raw-frame simulation, of calibration + detection +
  registration, and per input frame of co-adding (masks and drizzle), with the
  issue's targets, the projection to a 273-frame scan and a 48-scan night on one core,
  and, measured in the same run on the same frames, the floors the spec quotes (sep
  background + extraction of one frame; one drizzle add_image), so the ratios hold on a
  loaded machine; the point-source stages (detection, profile fit, bright stars, band
  merge) per band-frame and every stage together per 273-frame scan (target 90 s);
- registration: the frame-to-frame residual (solved vs measured, and vs the true frame
  centres) and the scan's mean offset from the true centres;
- Atlas Image astrometry (Ks < 14 and per band, isolated stars) and 4" aperture
  photometry of isolated unsaturated stars against the truth.

    python benchmarks/bench_pipeline.py [--dec MIN MAX] [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import sep
from drizzle.resample import Drizzle

from twomass.pipeline.sim.simulate import simulate
from twomass.pipeline.stages import fidelity, rawio
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.observe import SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline

RA = (137.25, 137.40)
TARGET_MS = {"simulate": 15.0, "calibrate+register": 60.0, "coadd": 20.0}


def floors(cube: np.ndarray) -> tuple[float, float]:
    """CPU ms of sep (background + extraction) and of one drizzle add_image per frame."""
    frames = [np.ascontiguousarray(f, dtype=np.float32) for f in cube[:20]]
    t0 = time.process_time()
    for f in frames:
        bkg = sep.Background(f)
        sep.extract(f - bkg.back(), 4.0, err=bkg.globalrms, minarea=3)
    t_sep = (time.process_time() - t0) / len(frames)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float64)
    pixmap = np.dstack([xx * 2.0 + 5.0, yy * 2.0 + 100.0])
    driz = Drizzle(kernel="square", out_shape=inst.ATLAS_SHAPE, fillval="0",
                   max_ctx_id=len(frames))
    t0 = time.process_time()
    for f in frames:
        driz.add_image(f, exptime=1.0, pixmap=pixmap, weight_map=np.ones_like(f))
    t_driz = (time.process_time() - t0) / len(frames)
    return 1e3 * t_sep, 1e3 * t_driz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dec", type=float, nargs=2, default=(6.1, 11.75),
                        metavar=("MIN", "MAX"), help="Dec range [deg] (default: the tiles' length)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    dec = tuple(args.dec)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.process_time()
        simulate(Path(tmp) / "catalog", RA, dec, seed=args.seed)
        t_truth = time.process_time() - t0
        t0 = time.process_time()
        raw = Path(tmp) / "raw"
        obs = observe(raw, RA, dec, seed=args.seed, cal_frames=48, progress=True)
        t_observe = time.process_time() - t0 - t_truth
        kept: dict = {}
        nights = sorted(p for p in raw.iterdir() if p.is_dir())
        summary = run_pipeline(nights, Path(tmp) / "out", keep=kept, progress=True)
        truth = pq.read_table(raw / SKY_FILE).to_pydict()
        refs = {n.name: pq.read_table(n / "ref" / "astrometric.parquet").to_pandas()
                for n in nights}
        true_frames = {n.name: pq.read_table(n / "sim" / "true_frames.parquet").to_pandas()
                       for n in nights}
        _, scans = rawio.read_night(nights[0])
        first = next(s for s in scans if s.kind == "survey")
        cube, _, _ = rawio.read_cube(nights[0] / "raw" / rawio.cube_name(first.scan, "k", 2))
        sep_ms, driz_ms = floors(cube)
    n_frames = sum(len(r.cal.frames) for r in kept.values())
    cal_ms = 1e3 * sum(r.seconds["read"] + r.seconds["calibrate"] + r.seconds["register"]
                       for r in kept.values()) / n_frames
    coadd_ms = 1e3 * sum(r.seconds["coadd"] for r in kept.values()) / n_frames
    sim_ms = 1e3 * t_observe / obs.band_frames
    print(f"region RA {RA}, Dec {dec}: {len(nights)} nights, {obs.scans} survey + "
          f"{obs.cal_scans} calibration scans, {obs.band_frames} band-frames observed, "
          f"{n_frames} survey band-frames processed, {summary.atlas_images} Atlas Images")
    print("\nstage rates (CPU ms, one core)    measured  target  floor   ratio  "
          "273-frame scan  48-scan night")
    for name, ms, floor in (("raw-frame simulation / band-frame", sim_ms, None),
                            ("calibrate+detect+register / b-frame", cal_ms, sep_ms),
                            ("co-add / input frame", coadd_ms, driz_ms)):
        key = {0: "simulate", 1: "calibrate+register", 2: "coadd"}[
            ["raw", "cal", "co-"].index(name[:3])]
        scan_s = ms * 273 * 3 / 1e3
        fl = f"{floor:6.1f}  {ms / floor:5.1f}x" if floor else "     -       -"
        print(f"  {name:36s} {ms:7.1f}  {TARGET_MS[key]:6.1f}  {fl}  {scan_s:10.1f} s "
              f"{scan_s * 48 / 3600:9.2f} h")
    print("  (floors: sep background + extraction of one frame; one drizzle add_image "
          "into 512x1024)")
    stages = summary.stage_seconds
    print(f"  point sources / band-frame ({summary.pts_rows:,d} pts rows), and per "
          "273-frame scan:")
    for name, key in (("Atlas Image detection, apertures, ndet", "extract"),
                      ("profile fit (PSF measured once per band)", "psffit"),
                      ("bright stars (saturated on Read_2)", "brightstars"),
                      ("band merge, upper limits, columns", "bandmerge")):
        ms = 1e3 * stages.get(key, 0.0) / n_frames
        print(f"    {name:44s} {ms:7.1f} ms {ms * 273 * 3 / 1e3:7.1f} s")
    total = 1e3 * sum(stages.values()) / n_frames
    print(f"  every stage / band-frame {total:7.1f} ms; a 273-frame scan (3 bands) "
          f"{total * 273 * 3 / 1e3:.1f} s (target 90 s)")
    print("\nregistration (one solution per scan for J, H, Ks)   frames  stars  reference  "
          "frame-to-frame [px]: solved vs measured, vs true   mean offset vs true [mas]")
    offsets = []
    for (night, scan, band), r in sorted(kept.items()):
        t = true_frames[night]
        t = t[(t.scan == scan) & (t.band == band)]
        off = fidelity.frame_offsets_vs_truth(r.reg, t.ra.values, t.dec.values,
                                              float(t.ra.mean()))
        if band != "k":
            continue
        offsets.append(off)
        vs_truth = np.sqrt(np.mean(np.diff(off, axis=0) ** 2)) / inst.PIXEL_ARCSEC
        print(f"  {night} scan {scan:3d}                          {len(off):6d} "
              f"{r.reg.n_stars:6d}  {r.reg.n_reference:9d}          "
              f"{r.reg.pair_residual_px:.4f}   {vs_truth:.4f}            "
              f"({1e3 * off[:, 0].mean():+6.1f}, {1e3 * off[:, 1].mean():+6.1f})")
    allo = np.concatenate(offsets)
    rms, mean = 1e3 * np.sqrt(np.mean(allo**2, axis=0)), 1e3 * allo.mean(axis=0)
    print(f"  all frames: rms offset from the true centres ({rms[0]:.1f}, {rms[1]:.1f}) mas, "
          f"mean ({mean[0]:+.1f}, {mean[1]:+.1f}) mas (cross, along)")
    print("\nSEEING header (Gaussian fits on the frames) against the true mean FWHM [arcsec]")
    for (night, scan, band), r in sorted(kept.items()):
        t = true_frames[night]
        t = t[(t.scan == scan) & (t.band == band)]
        print(f"  {night} scan {scan} {band}: {r.seeing:5.2f} vs {t.fwhm.mean():5.2f}")
    print("\nAtlas Images vs truth        astrometry rms (RA, Dec) [mas]  mean [mas]       "
          "n   |  4\" photometry median ratio  rms/sigma    n")
    for band in inst.BANDS:
        results = [r for (_, _, b), r in kept.items() if b == band]
        images = [i for r in results for i in r.images]
        ast = fidelity.atlas_astrometry(images, truth, band, max_mag=14.0)
        ph = [fidelity.atlas_photometry(r.images, r.magzp, truth, band) for r in results]
        ph = [p for p in ph if p.n]
        n = sum(p.n for p in ph)
        ratio = np.average([p.median_ratio for p in ph], weights=[p.n for p in ph])
        pull = np.sqrt(np.average([p.scatter_over_sigma**2 for p in ph], weights=[p.n for p in ph]))
        print(f"  {band} (< 14 mag)                ({ast.rms_mas[0]:5.1f}, {ast.rms_mas[1]:5.1f})"
              f"            ({ast.mean_mas[0]:+5.1f}, {ast.mean_mas[1]:+5.1f})  {ast.n:5d}   |"
              f"  {ratio:8.4f}                  {pull:5.2f}   {n:5d}")
    print("  targets: <= 100 mas rms per coordinate, |mean| <= 15 mas; photometry within 1 %,"
          " rms/sigma ~ 1")
    print("\nzero points: each scan's MAGZP minus the true zero point of its frames [mag]")
    for night, scan, band in sorted(kept):
        if band != "j":
            continue
        diffs = []
        for b in inst.BANDS:
            t = true_frames[night]
            t = t[(t.scan == scan) & (t.band == b)]
            true_zp = t.zp.mean() + 2.5 * np.log10(inst.EXPOSURE_SECONDS)
            diffs.append(kept[(night, scan, b)].magzp - true_zp)
        print(f"  {night} scan {scan:3d}: J {diffs[0]:+.4f}  H {diffs[1]:+.4f}  "
              f"Ks {diffs[2]:+.4f}")
    ids = np.asarray(truth["id"])
    order = np.argsort(ids)
    for night, ref in refs.items():
        row = order[np.searchsorted(ids, ref.id.values, sorter=order)]
        t_ra, t_dec = np.asarray(truth["ra"])[row], np.asarray(truth["dec"])[row]
        e_ra = (ref.ra.values - t_ra) * np.cos(np.radians(t_dec)) * 3.6e6
        e_dec = (ref.dec.values - t_dec) * 3.6e6
        print(f"  {night}: the astrometric reference's own mean error over its {len(ref)} "
              f"stars: ({e_ra.mean():+5.1f}, {e_dec.mean():+5.1f}) mas, standard error "
              f"{70.0 / np.sqrt(max(len(ref), 1)):.1f} mas")


if __name__ == "__main__":
    main()
