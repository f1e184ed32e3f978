"""The simulator's truth table, reduced to what the validation compares.

``truth.parquet`` (``twomass.schema.truth``) is read in batches. Each static source
(star or galaxy) is kept once, with the chosen scan it lies farthest inside; minor
planets are kept per chosen scan that covered them; stars bright enough to have an
avoidance area are kept apart; stars no chosen scan covers are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twomass.core.sphere import unit_vectors
from twomass.qa import ValidationError
from twomass.qa.catalog import Scans, scan_code
from twomass.schema.truth import ARTIFACT_PARENT, GALAXY, MINOR_PLANET, SCHEMA, STAR

BANDS = "jhk"
TRUTH_BATCH_ROWS = 50_000
#: The columns read (minor planets' motion included).
TRUTH_COLUMNS = ["type", "ra", "dec", "j_m", "h_m", "k_m", "epoch_jd", "ra_rate", "dec_rate",
                 "scans"]
STATIC_TYPES = (STAR, ARTIFACT_PARENT, GALAXY)
STAR_TYPES = (STAR, ARTIFACT_PARENT)
#: The survey's S/N = 10 requirement, J H Ks [mag] (Skrutskie et al. 2006, sec. 5.2.7):
#: a star no chosen scan covers counts as a coverage-gap star when brighter in one band.
REQUIRED_SNR10_MAG = np.array([15.8, 15.1, 14.3], np.float32)
#: The same per band, as the reports print and compare it [mag].
REQUIRED_MAG = {"j": 15.8, "h": 15.1, "k": 14.3}


@dataclass
class Truth:
    """True sources covered by chosen scans (static ones, minor planets) and bright stars.

    Lists while reading, NumPy arrays after ``concat``.
    """

    rows: int = 0
    uncovered_bright: int = 0  # stars no chosen scan covers, brighter than the requirement
    xyz: list = field(default_factory=list)
    mag: list = field(default_factory=list)  # float32 (n, 3)
    star: list = field(default_factory=list)  # bool: star, not galaxy
    scan: list = field(default_factory=list)  # chosen scan the source lies farthest inside
    inside: list = field(default_factory=list)  # how far inside it [arcsec]
    parents_xyz: list = field(default_factory=list)
    parents_ks: list = field(default_factory=list)
    mp: list = field(default_factory=list)  # (ra, dec, epoch_jd, ra_rate, dec_rate, scan)

    def concat(self) -> None:
        width = {"xyz": (0, 3), "mag": (0, 3), "parents_xyz": (0, 3), "mp": (0, 6)}
        for name in ("xyz", "mag", "star", "scan", "inside", "parents_xyz", "parents_ks", "mp"):
            parts = getattr(self, name)
            setattr(self, name, np.concatenate(parts) if parts
                    else np.zeros(width.get(name, (0,))))


def read_truth(path: Path, scans: Scans, avoid_ks: float) -> Truth:
    """Read the truth table at ``path`` against the release's chosen ``scans``.

    Stars with true Ks < ``avoid_ks`` are kept apart as bright-star avoidance parents.

    Raises
    ------
    ValidationError
        The file is unreadable, or a column of ``TRUTH_COLUMNS`` is missing or not of
        the type ``twomass.schema.truth.SCHEMA`` gives it.
    """
    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: cannot read the truth table: {exc}") from None
    actual = file.schema_arrow
    missing = set(TRUTH_COLUMNS) - set(actual.names)
    if missing:
        raise ValidationError(f"{path}: not a truth table, no column {', '.join(sorted(missing))}")
    for name in TRUTH_COLUMNS:
        if actual.field(name).type != SCHEMA.field(name).type:
            raise ValidationError(f"{path}: column {name} is {actual.field(name).type}, "
                                  f"expected {SCHEMA.field(name).type}")
    truth = Truth()
    for batch in file.iter_batches(TRUTH_BATCH_ROWS, columns=TRUTH_COLUMNS):
        _add_batch(truth, batch, scans, avoid_ks)
    truth.concat()
    return truth


def _add_batch(truth: Truth, batch: pa.RecordBatch, scans: Scans, avoid_ks: float) -> None:
    n = batch.num_rows
    truth.rows += n
    kind = batch.column("type").to_numpy(zero_copy_only=False)
    mag = np.column_stack([batch.column(f"{b}_m").to_numpy(zero_copy_only=False)
                           for b in BANDS]).astype(np.float32)
    xyz = unit_vectors(batch.column("ra").to_numpy(), batch.column("dec").to_numpy())
    is_star = np.isin(kind, STAR_TYPES)
    bright = is_star & (mag[:, 2] < avoid_ks)
    truth.parents_xyz.append(xyz[bright])
    truth.parents_ks.append(mag[bright, 2].astype(float))
    # (row, chosen scan) for every scan listed as covering the row.
    refs = batch.column("scans")
    parent = pc.list_parent_indices(refs).to_numpy()
    flat = pc.list_flatten(refs)
    codes = scan_code(flat.field("date").cast("int32").to_numpy(zero_copy_only=False),
                      pc.equal(flat.field("hemis"), "s").to_numpy(zero_copy_only=False),
                      flat.field("scan").to_numpy(zero_copy_only=False))
    chosen = scans.index_of_codes(codes)
    row, scan = parent[chosen >= 0], chosen[chosen >= 0]
    uncovered = np.ones(n, bool)
    uncovered[row] = False
    truth.uncovered_bright += int((uncovered & is_star
                                   & (mag < REQUIRED_SNR10_MAG).any(axis=1)).sum())
    static = np.isin(kind, STATIC_TYPES)
    keep = static[row]
    r, s = row[keep], scan[keep]
    inside = scans.inside_arcsec(s, xyz[r])
    order = np.lexsort((-inside, r))
    first = np.ones(len(order), bool)
    first[1:] = r[order][1:] != r[order][:-1]
    best = order[first]
    rows = r[best]
    truth.xyz.append(xyz[rows])
    truth.mag.append(mag[rows])
    truth.star.append(is_star[rows])
    truth.scan.append(s[best])
    truth.inside.append(inside[best].astype(np.float32))
    moving = ~keep & (kind[row] == MINOR_PLANET)
    if moving.any():
        m = row[moving]
        truth.mp.append(np.column_stack(
            [batch.column(c).to_numpy(zero_copy_only=False)[m].astype(float)
             for c in ("ra", "dec", "epoch_jd", "ra_rate", "dec_rate")]
            + [scan[moving].astype(float)]))
