"""What the QA tests compute again, independently of the report's SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from twomass.qa.report import ReportFiles

#: 1.2 deg x 1 deg at Galactic latitude ~+50: some nine tiles wide, so tile overlaps
#: hold a few thousand duplicate apparitions.
REGION = ((150.0, 151.2), (20.0, 21.0))
SEED = 5
RELEASE = "qa"


@dataclass
class Region:
    """The simulated region in its database, and the reports written of it."""

    url: str
    out: Path
    nights: list[Path]
    truth: Path
    release_files: ReportFiles
    release_png: Path
    night_files: ReportFiles
    night_png: Path

    @property
    def release_json(self) -> dict[str, Any]:
        return json.loads(self.release_files.json.read_text())

    @property
    def night_json(self) -> dict[str, Any]:
        return json.loads(self.night_files.json.read_text())

    def frame(self, query: str, params: Any = None) -> pd.DataFrame:
        """Rows of ``query`` read back from the database, as a DataFrame."""
        with psycopg.connect(self.url) as conn:
            cur = conn.execute(query, params)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def bucket(values: np.ndarray, lo: float, hi: float, count: int) -> np.ndarray:
    """PostgreSQL's width_bucket, written again with NumPy for the comparisons (NULL, here
    NaN, gives -1)."""
    values = np.asarray(values, float)
    finite = np.isfinite(values)
    out = np.full(values.shape, -1)
    out[finite] = np.floor((values[finite] - lo) / ((hi - lo) / count)).astype(int) + 1
    out[finite & (values < lo)] = 0
    out[finite & (values >= hi)] = count + 1
    return out


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x the median absolute value."""
    return float(1.4826 * np.median(np.abs(values)))


def union_area_deg2(corners_deg: np.ndarray, points: int = 400_000, seed: int = 1) -> float:
    """Solid angle [deg²] of the union of scan quadrilaterals (rows ra_1, dec_1, ...,
    ra_4, dec_4), by Monte Carlo over their RA-Dec bounding box: a point is inside a
    scan when it lies on the inner side of the great circles of its four edges."""
    ra, dec = corners_deg[:, 0::2], corners_deg[:, 1::2]
    ra0 = float(np.median(ra))
    dra = (ra - ra0 + 180.0) % 360.0 - 180.0
    lo, hi = np.radians(dra.min()), np.radians(dra.max())
    slo, shi = np.sin(np.radians(dec.min())), np.sin(np.radians(dec.max()))
    rng = np.random.default_rng(seed)
    p = _xyz(np.degrees(rng.uniform(lo, hi, points)) + ra0,
             np.degrees(np.arcsin(rng.uniform(slo, shi, points))))
    inside = np.zeros(points, bool)
    for row_ra, row_dec in zip(ra, dec, strict=True):
        v = _xyz(row_ra[[0, 1, 3, 2]], row_dec[[0, 1, 3, 2]])
        centre = v.sum(axis=0)
        ok = np.ones(points, bool)
        for k in range(4):
            normal = np.cross(v[k], v[(k + 1) % 4])
            ok &= np.sign(p @ normal) == np.sign(centre @ normal)
        inside |= ok
    box_deg2 = (hi - lo) * (shi - slo) * (180.0 / np.pi) ** 2
    return float(inside.mean() * box_deg2)


def _xyz(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    r, d = np.radians(ra_deg), np.radians(dec_deg)
    return np.column_stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])
