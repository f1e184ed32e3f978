"""Simulator throughput and memory: a small and a 10x larger region, side by side.

Each size runs in its own child process, which reports its wall time, rows written
and its own peak resident memory (``getrusage(RUSAGE_SELF)`` in the child); an
import-only child gives the baseline every run pays (Python, NumPy, astropy,
pyarrow). Memory stays bounded because the simulator holds one scan's sky and rows
at a time, so the larger region should need about the same memory.

Usage: python benchmarks/bench_simulate.py [--small DEG2] [--ra RA] [--dec DEC]
Defaults: boxes of 10 and 100 deg^2 (Dec side sqrt(area), RA side widened so the
solid angle is exact) centred at RA 254.5, Dec 24.5: Galactic l = 45, b = +35, mid
latitude toward the inner Galaxy (the 100 deg^2 box spans b ~ +30 to +40). The issue
asks for about 3 million working rows there; at the anticentre (RA 65, Dec 5,
b = -30, the sparsest direction at that latitude) the same area gives about 2.8M.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from twomass.pipeline.sim.sky import galactic

CHILD = """
import json, math, resource, sys, time
from twomass.pipeline.sim.simulate import simulate
out, ra, dec, area = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
rows = 0
if area > 0:
    half = math.sqrt(area) / 2
    lo, hi = math.radians(dec - half), math.radians(dec + half)
    width = area / (math.sin(hi) - math.sin(lo)) * math.pi / 180
    ras = ((ra - width / 2) % 360, (ra + width / 2) % 360)
    s = simulate(out, ras, (dec - half, dec + half), seed=1)
    rows = s.pts_rows + s.ext_rows
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(out: Path, ra: float, dec: float, area: float) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(out), str(ra), str(dec), str(area)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=float, default=10.0, help="small region [deg^2]")
    parser.add_argument("--ra", type=float, default=254.5, help="box centre RA [deg]")
    parser.add_argument("--dec", type=float, default=24.5, help="box centre Dec [deg]")
    args = parser.parse_args()
    glon, glat = galactic(np.array([args.ra]), np.array([args.dec]))
    print(f"region: centre RA {args.ra:g}, Dec {args.dec:g} (Galactic l {glon[0]:.1f}, "
          f"b {glat[0]:+.1f}); seed 1; one core")
    with tempfile.TemporaryDirectory() as tmp:
        base = run(Path(tmp) / "none", args.ra, args.dec, 0.0)
        results = {}
        for factor in (1, 10):
            area = args.small * factor
            r = run(Path(tmp) / f"r{factor}", args.ra, args.dec, area)
            results[factor] = r
            print(f"{area:7.1f} deg^2: {r['rows']:>10,d} rows in {r['seconds']:7.1f} s = "
                  f"{r['rows'] / r['seconds']:>9,.0f} rows/s; peak RSS {r['peak_mib']:6.0f} MiB "
                  f"({r['peak_mib'] - base['peak_mib']:5.0f} MiB above the "
                  f"{base['peak_mib']:.0f} MiB import baseline)")
    small, large = results[1], results[10]
    above = (large["peak_mib"] - base["peak_mib"]) / (small["peak_mib"] - base["peak_mib"])
    print(f"summary: 10x area -> {large['rows'] / small['rows']:.1f}x rows, "
          f"{large['seconds'] / small['seconds']:.1f}x time, "
          f"{large['peak_mib'] / small['peak_mib']:.2f}x peak memory "
          f"({above:.2f}x above baseline); {large['rows'] / large['seconds']:,.0f} rows/s at "
          f"{args.small * 10:.0f} deg^2")


if __name__ == "__main__":
    main()
