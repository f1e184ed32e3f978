"""The night driver: every night's calibration and survey scans as tasks, on a Dask
cluster or in this process.

Per night: the night inputs (``run.night_frames``: calibration frames and reference lists
-> ``run.calibration_scan`` for each calibration scan -> ``run.night_solution``: the zero
points) -> one task per survey scan
(``run.night_scan``, which also writes the scan's Atlas Images into the night's
``.partial/atlas``) -> the night finish in this process (``run.finish_night``: the scan
outputs in scan order, the night-level products, the manifest, the rename). On Dask the
nights' inputs are submitted first and then every scan of every night, so scans of
several nights share the workers; a night is finished as soon as its last scan is in.
The products are the same bytes whatever the workers, since each file is written by one
task or by the night finish, in scan order.

Workers of an existing cluster (``scheduler`` address) must see the raw nights and the
output directory at the same paths and have this package installed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from twomass.core.errors import TwomassError
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import restart, run

#: Workers run the scans as this process would: no statistical profiler sampling the task
#: every 10 ms, and glibc's own malloc tuning (Dask's MALLOC_TRIM_THRESHOLD_ fixes the mmap
#: threshold, so every large array is mapped and faulted in anew). With Dask's defaults a
#: test night's scans took 23 CPU seconds on the workers (11 s more in the kernel), 15 s
#: without them, 13 s in one process.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False,
                 "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

#: Seconds to wait for the scheduler of ``--scheduler``.
CONNECT_SECONDS = 10


def run_nights(checked: list, out: Path, totals: dict, stages: dict, *, progress: bool,
               keep: dict | None, jobs: int, scheduler: str | None, force: bool,
               astrometric_calibration: bool = True) -> None:
    """Make the nights of ``checked`` ((directory, night.json, scans) each) not already in
    ``out``; add their counts to ``totals`` and the scans' CPU seconds to ``stages``."""
    manifests = [(d.name, restart.input_manifest(d, run.PIPELINE)) for d, _, _ in checked]
    plans, kept = restart.plan_nights(manifests, out, force)
    totals["skipped"] += len(kept)
    by_name = {directory.name: (directory, doc, scans) for directory, doc, scans in checked}
    todo = [(plan, *by_name[plan.name]) for plan in plans]
    if not todo:
        return
    on_dask = keep is None and (scheduler is not None or jobs > 1)
    n_scans = sum(e.kind == "survey" for *_, scans in todo for e in scans)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_client(jobs, scheduler)) if on_dask else None
        out.mkdir(parents=True, exist_ok=True)
        for plan, *_ in todo:
            restart.start(plan)
        bar = stack.enter_context(tqdm(total=n_scans, desc="scans", unit="scan",
                                       file=sys.stderr, disable=not progress or n_scans == 0))
        finished = (_on_dask(todo, client, bar) if on_dask
                    else _in_process(todo, keep is not None, bar))
        for (plan, _, doc, _), night, outputs in finished:
            run.finish_night(plan.partial, doc, night, outputs, astrometric_calibration)
            restart.commit(plan)
            _count(totals, stages, keep, plan.name, outputs)
            if keep is not None:
                keep[(plan.name, "photcal")] = (night.solution, night.photometry)


def _in_process(todo: list, keep_results: bool, bar) -> Iterator:
    for plan, directory, doc, scans in todo:
        night = run.night_inputs(directory, scans)
        outputs = []
        for entry in (s for s in scans if s.kind == "survey"):
            outputs.append(run.night_scan(night, directory, doc, entry, plan.partial / "atlas",
                                          keep_results))
            bar.update(1)
        yield (plan, directory, doc, scans), night, outputs


def _on_dask(todo: list, client, bar) -> Iterator:
    """Nights as they are complete: their calibration tasks first, then every scan of
    every night, scans of several nights sharing the workers."""
    from distributed import as_completed

    inputs = [_submit_night_inputs(client, directory, scans)
              for _, directory, _, scans in todo]
    waiting: dict = {}  # future -> (night index, position in the night)
    for i, ((plan, directory, doc, scans), night) in enumerate(zip(todo, inputs, strict=True)):
        survey = [s for s in scans if s.kind == "survey"]
        for k, entry in enumerate(survey):
            future = client.submit(run.night_scan, night, directory, doc, entry,
                                   plan.partial / "atlas", pure=False)
            waiting[future] = (i, k)
    outputs: list[list] = [[None] * sum(s.kind == "survey" for s in t[3]) for t in todo]
    left = [len(o) for o in outputs]
    for i in (i for i, n in enumerate(left) if n == 0):  # nights without survey scans
        yield todo[i], inputs[i].result(), []
    for future in as_completed(list(waiting)):
        i, k = waiting.pop(future)
        outputs[i][k] = future.result()
        future.release()
        bar.update(1)
        left[i] -= 1
        if left[i] == 0:
            yield todo[i], inputs[i].result(), outputs[i]
            outputs[i] = []


def _submit_night_inputs(client, directory: Path, scans: list):
    """The night's calibration as tasks: its frames, then each calibration scan, then the
    zero points (``run.night_inputs`` in this process)."""
    frames = client.submit(run.night_frames, directory, pure=False)
    cal = [client.submit(run.calibration_scan, frames, directory, entry, pure=False)
           for entry in scans if entry.kind == "cal"]
    return client.submit(run.night_solution, frames, scans, cal, pure=False)


@contextlib.contextmanager
def _client(jobs: int, scheduler: str | None):
    """A client of the cluster at ``scheduler``, or of a ``local_cluster``; closed on the
    way out."""
    from distributed import Client

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS)
        except (OSError, ValueError) as exc:
            raise TwomassError(f"--scheduler {scheduler}: no Dask scheduler there ({exc})"
                               ) from None
        with client:
            yield client
        return
    with local_cluster(jobs) as cluster, Client(cluster) as client:
        yield client


def local_cluster(workers: int):
    """A Dask cluster on this machine: ``workers`` processes with one thread each
    (``WORKER_CONFIG``), no dashboard, Dask's own logging kept to errors (a busy machine
    makes it warn of slow worker shutdowns and event loops)."""
    import dask
    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    dask.config.set(WORKER_CONFIG)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=None, memory_limit=0, silence_logs=logging.ERROR,
                        # the scheduler's HTTP server on a free port: another cluster's
                        # 8787 would give a warning and a leaked socket
                        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})


def _count(totals: dict, stages: dict, keep: dict | None, name: str, outputs: list) -> None:
    totals["nights"] += 1
    for output in outputs:
        totals["pts"] += len(output.columns["id"])
        totals["frames"] += output.frames
        totals["images"] += len(output.atlas_rows)
        totals["scans"] += 1
        for stage, value in output.seconds.items():
            stages[stage] = stages.get(stage, 0.0) + value
        if keep is not None:
            for band, result in zip(inst.BANDS, output.results, strict=True):
                keep[(name, output.scan_row["scan"], band)] = result
