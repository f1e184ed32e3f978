"""Simulator throughput and memory: a small and a 10x larger region, side by side.

Each size runs in its own child process, which reports its wall time, rows written
and its own peak resident memory (``getrusage(RUSAGE_SELF)`` in the child); an
import-only child gives the baseline every run pays (Python, NumPy, astropy,
pyarrow). Memory stays bounded because the simulator holds one scan's sky and rows
at a time, so the larger region should need about the same memory.

Usage: python benchmarks/bench_simulate.py [--small DEG2] [--ra RA] [--dec DEC]
Defaults: 10 deg^2 and 100 deg^2 square boxes centred at RA 65, Dec 5 (Galactic
latitude about -30, mid latitude).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from twomass.pipeline.simulate import simulate
out, ra, dec, side = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
rows = 0
if side > 0:
    s = simulate(out, (ra - side / 2, ra + side / 2), (dec - side / 2, dec + side / 2), seed=1)
    rows = s.pts_rows + s.ext_rows
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(out: Path, ra: float, dec: float, side: float) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(out), str(ra), str(dec), str(side)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=float, default=10.0, help="small region [deg^2]")
    parser.add_argument("--ra", type=float, default=65.0)
    parser.add_argument("--dec", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = run(Path(tmp) / "none", args.ra, args.dec, 0.0)
        results = {}
        for factor in (1, 10):
            area = args.small * factor
            r = run(Path(tmp) / f"r{factor}", args.ra, args.dec, math.sqrt(area))
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
