"""What a night's products were made from, so that a run on an output directory that
already holds some nights redoes only what is missing.

Each night directory the pipeline writes holds ``manifest.json``: the pipeline and its
version, and every input file of the raw night (``sim/``, the simulator's truth, is not
an input) with its size and either its SHA-256 (descriptions and reference lists) or its
modification time (the raw and calibration cubes, too large to hash on every run). A
night whose manifest equals the one its inputs give now is complete and kept; a
``<night>.partial`` left by a killed run is removed and redone; a night directory with
another manifest (other inputs, another version, or none) is refused unless the run is
forced to redo it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import twomass
from twomass.pipeline.stages.rawio import RawInputError

MANIFEST = "manifest.json"
PARTIAL = ".partial"
#: Input folders identified by size and modification time instead of their content.
CUBE_FOLDERS = ("raw", "cal")
#: Folders of a raw night that the pipeline does not read.
NOT_INPUT = ("sim",)


def input_manifest(directory: Path, pipeline: str) -> dict:
    """The manifest the night's products have when made now from ``directory``."""
    files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory)
        if rel.parts[0] in NOT_INPUT:
            continue
        stat = path.stat()
        entry = {"file": rel.as_posix(), "size": stat.st_size}
        if rel.parts[0] in CUBE_FOLDERS:
            entry["mtime_ns"] = stat.st_mtime_ns
        else:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        files.append(entry)
    return {"night": directory.name, "pipeline": pipeline,
            "pipeline_version": twomass.__version__, "inputs": files}


@dataclass
class NightPlan:
    """A night to make: where its products go and the manifest they get."""

    name: str
    partial: Path
    final: Path
    manifest: dict


def plan_nights(names_and_manifests: list[tuple[str, dict]], out: Path,
                force: bool) -> tuple[list[NightPlan], list[str]]:
    """The nights to make and the names of those kept. Refuses, before anything is
    touched, a night directory whose products came from other inputs (unless ``force``)."""
    todo, kept, refused = [], [], []
    for name, manifest in names_and_manifests:
        final = out / name
        if final.exists():
            if read_manifest(final) == manifest:
                kept.append(name)
                continue
            if not force:
                refused.append(final)
        todo.append(NightPlan(name, out / f"{name}{PARTIAL}", final, manifest))
    if refused:
        raise RawInputError(
            f"{refused[0]}: holds products of other inputs or another pipeline version "
            f"({MANIFEST} differs or is missing); remove it or run with --force to redo it"
            + (f" ({len(refused) - 1} more such nights)" if len(refused) > 1 else ""))
    return todo, kept


def read_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def start(plan: NightPlan) -> None:
    """An empty ``<night>.partial`` (what a killed run left is removed); a night being
    redone is removed first."""
    for path in (plan.partial, plan.final):
        if path.exists():
            shutil.rmtree(path)
    (plan.partial / "atlas").mkdir(parents=True)


def commit(plan: NightPlan) -> None:
    """The manifest written last, then the night renamed to its name: a night directory
    is complete or absent."""
    (plan.partial / MANIFEST).write_text(json.dumps(plan.manifest, indent=1) + "\n")
    plan.partial.rename(plan.final)
