"""Profile-fit photometry on an observed scan, against the truth.

Observes a small region (by default the pixel-pipeline tests' b = +6 deg field; the
survey scan keeps the frames over the region, at most ``--frames``), runs the pipeline
up to the Atlas Images keeping the in-memory results, detects on the Atlas Images, fits
every detection on the frames (``psffit.profile_fit``; a source detected on two
overlapping images is fitted once) and prints per band: the measured PSF (per-frame
FWHM against the true seeing), the cmsig/msig correction, CPU time and sources per
second, and for isolated unsaturated stars the rms of (measured - true) over cmsig and
msig at S/N 10-100 and the scatter of bright stars.

    python benchmarks/bench_psffit.py [--ra MIN MAX] [--dec MIN MAX] [--frames N] [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from twomass.pipeline.stages import extract, fidelity, psffit
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.observe import SKY_FILE, observe
from twomass.pipeline.stages.run import run_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs=2, default=(104.99, 105.14))
    parser.add_argument("--dec", type=float, nargs=2, default=(9.0, 9.6))
    parser.add_argument("--frames", type=int, default=60, help="survey scan frames kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        observe(raw, tuple(args.ra), tuple(args.dec), seed=args.seed, max_frames=args.frames,
                cal_frames=10)
        nights = sorted(p for p in raw.iterdir() if p.is_dir())[:1]
        kept: dict = {}
        run_pipeline(nights, Path(tmp) / "out", keep=kept)
        truth = pq.read_table(raw / SKY_FILE).to_pydict()
        frames = pq.read_table(nights[0] / "sim" / "true_frames.parquet").to_pandas()
    print("band scan  sources  PSF [s]  fit [s]  sources/s  FWHM: SEEING  PSF  true  "
          "per-frame rms   wing        growth (tilt x y)    psf_error  aperture scale")
    for (_, scan, band), r in sorted(kept.items(), key=lambda kv: "jhk".index(kv[0][2])):
        det = np.concatenate([extract.detect(image) for image in r.images])
        t0 = time.process_time()
        psf = psffit.measure_psf(r.cal, r.seeing)
        t1 = time.process_time()
        fit = psffit.profile_fit(r.cal, r.reg, det["ra"], det["dec"], r.seeing, r.magzp,
                                 r.images, psf=psf, weight=r.weight)
        t2 = time.process_time()
        true_fwhm = frames[(frames.scan == scan) & (frames.band == band)].fwhm.values
        fwhm = 2.3548 * psf.sigma_px * inst.PIXEL_ARCSEC
        sources = int(np.sum(fit.same_as == np.arange(len(det))))
        print(f"  {band}  {scan:4d}  {sources:7d}  {t1 - t0:7.2f}  {t2 - t1:7.2f}  "
              f"{sources / (t2 - t1):9.0f}        {r.seeing:5.2f} {psf.fwhm_arcsec():5.2f} "
              f"{true_fwhm.mean():5.2f}  {np.sqrt(np.mean((fwhm - true_fwhm) ** 2)):8.3f}     "
              f"{psf.wing_fraction:.2f} x{psf.wing_scale:.2f}  {psf.growth:6.3f} "
              f"({psf.tilt[0]:+.3f} {psf.tilt[1]:+.3f})  "
              f"{psf.psf_error:9.4f}  {fit.aperture_scale:8.4f}")
        c = fit.correction
        print("       cmsig/msig by S/N: " + ", ".join(
            f"{s:.0f}: {f:.2f} ({n})" for s, f, n in zip(c.snr, c.factor, c.sources,
                                                         strict=True))
            + f"; common floor {c.floor:.4f}")
        ph = fidelity.profile_photometry(fit, truth, band)
        print(f"       S/N 10-100: n {ph.n}, rms/cmsig {ph.rms_over_cmsig:.2f}, rms/msig "
              f"{ph.rms_over_msig:.2f}, median dmag {ph.median_dmag:+.4f}, psfchi "
              f"{ph.psfchi_median:.2f}; bright (< {fidelity.BRIGHT_PROFILE[band]}): n "
              f"{ph.n_bright}, rms {ph.bright_rms:.4f} mag, median {ph.bright_median:+.4f}; "
              f"bl_flg > 1: {int((fit.ncomp > 1).sum())}")


if __name__ == "__main__":
    main()
