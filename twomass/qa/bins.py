"""Histogram bins shared by the SQL aggregates and the figures.

A ``Bins`` is what PostgreSQL's ``width_bucket(value, lo, hi, count)`` computes: bin 1 is
``[lo, lo + width)``, bin ``count`` ends at ``hi``, 0 and ``count + 1`` hold what lies
outside. Rows from SQL (bin numbers) and arrays binned here mean the same bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Bins:
    """``count`` equal bins from ``lo`` to ``hi`` (in the unit of the binned values)."""

    lo: float
    hi: float
    count: int

    @property
    def width(self) -> float:
        """Width of one bin."""
        return (self.hi - self.lo) / self.count

    @property
    def edges(self) -> np.ndarray:
        """The ``count + 1`` bin edges."""
        return np.linspace(self.lo, self.hi, self.count + 1)

    def centre(self, bucket: int | np.ndarray) -> np.ndarray:
        """Centre of width_bucket bucket(s) 1..count."""
        return self.lo + (np.asarray(bucket, float) - 0.5) * self.width

    def bucket(self, values: np.ndarray) -> np.ndarray:
        """width_bucket of each value (NaN -> -1)."""
        values = np.asarray(values, float)
        with np.errstate(invalid="ignore"):
            b = np.floor((values - self.lo) / self.width).astype(np.int64) + 1
        b = np.clip(np.where(np.isfinite(values), b, -1), -1, self.count + 1)
        return np.where(np.isfinite(values) & (values < self.lo), 0, b)

    def params(self) -> dict[str, Any]:
        """The SQL parameters ``lo``, ``hi``, ``bins``."""
        return {"lo": self.lo, "hi": self.hi, "bins": self.count}

    def fractions(self, values: np.ndarray, hit: np.ndarray, min_count: int = 1
                  ) -> list[dict[str, Any]]:
        """Per bin with at least ``min_count`` values: its range, the values and the
        fraction of them where ``hit`` is true."""
        bucket = self.bucket(values)
        out = []
        for b in range(1, self.count + 1):
            inside = bucket == b
            n = int(inside.sum())
            if n >= min_count:
                out.append({"lo": float(self.edges[b - 1]), "hi": float(self.edges[b]),
                            "count": n, "fraction": float(hit[inside].mean())})
        return out


#: S/N = 10 magnitudes of the scans' depth histograms (Fig. 16) [mag].
DEPTH_BINS = Bins(13.0, 18.0, 50)
