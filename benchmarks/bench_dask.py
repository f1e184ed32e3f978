"""A night on 1 and on 2 Dask workers: wall times, their ratio (target >= 1.8) and
whether the products are the same bytes.

Observes a region (by default RA 135.8-139.2, Dec 9.0-9.6 at b = +35 deg: a night of
27 survey scans clipped to 40 frames beside 12 calibration scans of 48 frames, half a
2MASS night's 48 scans; a night of few scans bounds the ratio: 3 near 1.5, 11 at 1.9) into
``--work`` (kept and reused), takes the night with the most survey scans and runs
``run_pipeline`` on it through a local Dask cluster of each size (started before the
clock, so the figure is the pipeline's, not the cluster's start). To say why a ratio
falls short, it prints from the task stream the night's serial parts (the calibration
task; the night finish in the client, the wall time no task covers) and the scans'
seconds, with the best 2-worker time they allow (longest-first scheduling of the scans
and of the calibration scans, between the serial parts), and the machine's load
average: the figure needs a quiet machine.

    python benchmarks/bench_dask.py --work /tmp/bench-dask [--ra MIN MAX] [--dec MIN MAX]
                                    [--max-frames N] [--seed N]
"""

from __future__ import annotations

import argparse
import heapq
import os
import time
from pathlib import Path

from twomass.pipeline.stages import nights, rawio
from twomass.pipeline.stages.observe import observe
from twomass.pipeline.stages.run import run_pipeline


def lpt_makespan(seconds: list[float], workers: int) -> float:
    """Longest-processing-time-first schedule of tasks on ``workers``: its length."""
    loads = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + s)
    return max(loads)


def timed_run(night: Path, out: Path, workers: int) -> dict:
    from distributed import Client, get_task_stream

    with nights.local_cluster(workers) as cluster, Client(cluster) as client:
        load = os.getloadavg()[0]
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            summary = run_pipeline([night], out, scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - start
    spans = {}
    for task in stream.data:
        for s in task["startstops"]:
            if s["action"] == "compute":
                spans.setdefault(task["key"].split("-")[0], []).append(s["stop"] - s["start"])
    computing = [s["stop"] for t in stream.data for s in t["startstops"]] or [0.0]
    first = min(s["start"] for t in stream.data for s in t["startstops"]) if stream.data else 0
    return {"wall": wall, "load": load, "scans": summary.scans,
            "frames": sum(spans.get("night_frames", [])),
            "cal_scans": spans.get("calibration_scan", []),
            "solution": sum(spans.get("night_solution", [])),
            "scan_seconds": spans.get("night_scan", []),
            "task_span": max(computing) - first}


def files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--ra", type=float, nargs=2, default=(135.8, 139.2))
    parser.add_argument("--dec", type=float, nargs=2, default=(9.0, 9.6))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cal-frames", type=int, default=48)
    parser.add_argument("--max-frames", type=int, default=40,
                        help="clip the survey scans to N frames (0: whole scans)")
    parser.add_argument("--workers", type=int, nargs="+", default=(1, 2))
    args = parser.parse_args()
    raw = args.work / "raw"
    if not raw.exists():
        t0 = time.perf_counter()
        observe(raw, tuple(args.ra), tuple(args.dec), seed=args.seed,
                max_frames=args.max_frames or None, cal_frames=args.cal_frames)
        print(f"observe: {time.perf_counter() - t0:.0f} s")
    counts = {d: sum(s.kind == "survey" for s in rawio.read_night(d)[1])
              for d in rawio.night_directories([raw])}
    night = max(counts, key=lambda d: (counts[d], d.name))
    print(f"night {night.name}: {counts[night]} survey scans "
          f"(nights: {', '.join(f'{d.name} {n}' for d, n in counts.items())})")
    runs = {}
    for workers in args.workers:
        out = args.work / f"out-{workers}"
        if out.exists():
            import shutil

            shutil.rmtree(out)
        r = runs[workers] = timed_run(night, out, workers)
        scans = r["scan_seconds"]
        finish = r["wall"] - r["task_span"]
        serial = r["frames"] + r["solution"] + finish
        best = serial + lpt_makespan(r["cal_scans"], 2) + lpt_makespan(scans, 2)
        print(f"{workers} worker(s): {r['wall']:.1f} s wall (load average {r['load']:.1f}); "
              f"calibration frames {r['frames']:.1f} s, {len(r['cal_scans'])} calibration "
              f"scans {sum(r['cal_scans']):.1f} s, zero points {r['solution']:.1f} s, "
              f"{len(scans)} scan tasks "
              f"{sum(scans):.1f} s (longest {max(scans, default=0):.1f} s), "
              f"outside the tasks {finish:.1f} s; best on 2 workers from these parts "
              f"{best:.1f} s (ratio {r['wall'] / best:.2f})")
    if len(runs) >= 2:
        one, two = (runs[w]["wall"] for w in args.workers[:2])
        a, b = (files(args.work / f"out-{w}" / night.name) for w in args.workers[:2])
        same = a.keys() == b.keys() and all(a[f] == b[f] for f in a)
        print(f"speed-up {args.workers[0]} -> {args.workers[1]} workers: {one / two:.2f} "
              f"(target >= 1.8); products the same bytes: {same} ({len(a)} files)")


if __name__ == "__main__":
    main()
