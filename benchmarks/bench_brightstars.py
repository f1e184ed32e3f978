"""Bright-star photometry on an observed scan with injected bright stars, against the truth.

Observes a small region (by default the pixel-pipeline tests' b = +6 deg field, whose
first night's survey scan is number 26) with stars of J = H = Ks = 4.0, 4.5, ... 8.0
injected into the survey scan ``--scan``, runs the pipeline up to the Atlas Images
keeping the in-memory results, and per band: detects on the Atlas Images and finds the
saturated stars on the frames (``brightstars.saturated_stars``: a star saturated on every
Read_1 frame leaves a hole in the Atlas Images), measures every true star brighter than
9.5 mag at the nearest of those positions within 4" (``brightstars.bright_photometry``),
and prints each one's rd_flg, magnitude error, msig and position error, then per rd_flg
the mean, rms and largest magnitude error, and the CPU time of the bright-star photometry
and of the upper limits at every detection.

    python benchmarks/bench_brightstars.py [--ra MIN MAX] [--dec MIN MAX] [--scan N]
        [--frames N] [--seed N] [--shift ARCMIN]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy.spatial import cKDTree

from twomass.pipeline.stages import brightstars, extract
from twomass.pipeline.stages.observe import SKY_FILE, Injection, observe
from twomass.pipeline.stages.run import run_pipeline

MAGS = np.arange(4.0, 8.01, 0.5)
MATCH_ARCSEC = 4.0
FIELD = [0.0, 0.0]  # the region's centre (ra, dec), for _flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs=2, default=(104.99, 105.14))
    parser.add_argument("--dec", type=float, nargs=2, default=(9.0, 9.6))
    parser.add_argument("--scan", type=int, default=26, help="survey scan to inject into")
    parser.add_argument("--frames", type=int, default=30, help="survey scan frames kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shift", type=float, default=0.0,
                        help="move the injected stars by this [arcmin] (another placement)")
    args = parser.parse_args()
    FIELD[:] = [0.5 * sum(args.ra), 0.5 * sum(args.dec)]
    ra_c, dec_lo = 0.5 * sum(args.ra), args.dec[0] + 0.16 * (args.dec[1] - args.dec[0])
    injected = [Injection(args.scan, "star", value=float(m),
                          ra=ra_c - 0.035 + 0.02 * (i % 3) + 0.3 * args.shift / 60.0,
                          dec=dec_lo + 0.035 * i + args.shift / 60.0)
                for i, m in enumerate(MAGS)]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        observe(raw, tuple(args.ra), tuple(args.dec), seed=args.seed, max_frames=args.frames,
                cal_frames=10, injections=tuple(injected))
        nights = sorted(p for p in raw.iterdir() if p.is_dir())[:1]
        kept: dict = {}
        run_pipeline(nights, Path(tmp) / "out", keep=kept)
        truth = pq.read_table(raw / SKY_FILE).to_pydict()
    t_ra = np.concatenate([truth["ra"], [i.ra for i in injected]])
    t_dec = np.concatenate([truth["dec"], [i.dec for i in injected]])
    errors: dict[int, list[float]] = {}
    print("band  true mag  injected  rd  measured-true  msig   position error [\"]")
    for (_, scan, band), r in sorted(kept.items(), key=lambda kv: "jhk".index(kv[0][2])):
        if scan != args.scan:
            continue
        t_m = np.concatenate([truth[f"{band}_m"], MAGS])
        det = np.concatenate([extract.detect(image) for image in r.images])
        s_ra, s_dec, _ = brightstars.saturated_stars(r.cal, r.reg)
        ra, dec = np.concatenate([det["ra"], s_ra]), np.concatenate([det["dec"], s_dec])
        bright = np.flatnonzero(t_m < 9.5)
        dist, j = cKDTree(_flat(ra, dec)).query(_flat(t_ra[bright], t_dec[bright]))
        found = dist < MATCH_ARCSEC
        t0 = time.process_time()
        out = brightstars.bright_photometry(r.cal, r.reg, ra[j[found]], dec[j[found]],
                                            r.magzp, r.images[0].apcor)
        t_bright = time.process_time() - t0
        for n, i in enumerate(bright[found]):
            pos = float(np.hypot(*(_flat(out.ra[n:n + 1], out.dec[n:n + 1])
                                   - _flat(t_ra[i:i + 1], t_dec[i:i + 1]))[0]))
            dm = out.mag[n] - t_m[i]
            print(f"  {band}  {t_m[i]:8.2f}  {i >= len(truth['ra']):8d}  {out.rd[n]:2d}  "
                  f"{dm:+13.3f}  {out.msig[n]:5.3f}  {pos:6.2f}")
            if out.ok[n]:
                errors.setdefault(int(out.rd[n]), []).append(float(dm))
        t0 = time.process_time()
        every = brightstars.bright_photometry(r.cal, r.reg, ra, dec, r.magzp,
                                              r.images[0].apcor)
        t_every = time.process_time() - t0
        t0 = time.process_time()
        for image in r.images:
            brightstars.upper_limits(image, r.magzp, det["ra"], det["dec"])
        t_limits = time.process_time() - t0
        digits, counts = np.unique(every.rd, return_counts=True)
        tally = ", ".join(f"{d}: {c}" for d, c in zip(digits, counts, strict=True))
        print(f"  {band}: {len(r.cal.frames)} frames; bright_photometry {t_bright:.2f} s CPU "
              f"for {int(found.sum())} stars, {t_every:.2f} s for all {len(ra)} positions "
              f"(rd_flg {tally}); upper limits at {len(det)} positions on {len(r.images)} "
              f"images {t_limits:.2f} s")
    for rd, dm in sorted(errors.items()):
        d = np.array(dm)
        print(f"rd_flg {rd}: {len(d)} stars, mean {d.mean():+.3f}, rms "
              f"{np.sqrt(np.mean(d**2)):.3f}, largest |error| {np.abs(d).max():.3f} mag")


def _flat(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Local flat coordinates [arcsec] about the field (a fraction of a degree wide)."""
    return np.column_stack([(np.asarray(ra) - FIELD[0]) * np.cos(np.radians(FIELD[1])),
                            np.asarray(dec) - FIELD[1]]) * 3600.0


if __name__ == "__main__":
    main()
