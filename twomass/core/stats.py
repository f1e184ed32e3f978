"""Robust statistics shared by the pipeline and the QA measurements."""

from __future__ import annotations

import numpy as np

#: A Gaussian's sigma over its median absolute deviation.
MAD_TO_SIGMA = 1.4826


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation (NaN when empty): a sigma that outliers
    (blends, cosmic rays, mismatches) do not set."""
    values = np.asarray(values, float)
    if len(values) == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(values - np.median(values))))
