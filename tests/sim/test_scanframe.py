"""The scan frame as unit vectors: neighbour searches see the flat frame's distances."""

from __future__ import annotations

import numpy as np

from twomass.core import sphere
from twomass.pipeline.sim import scanframe


def test_frame_vectors_keep_flat_distances() -> None:
    rng = np.random.default_rng(5)
    # A scan: 510" across, 6 deg long; clusters so that many pairs lie within 5".
    centres = np.column_stack([rng.uniform(-255, 255, 400), rng.uniform(0, 21600, 400)])
    xy = np.repeat(centres, 5, axis=0) + rng.normal(0, 2.0, (2000, 2))
    x, y = xy[:, 0], xy[:, 1]
    i, j, sep = sphere.close_pairs(scanframe.frame_vectors(x, y), 5.0)
    flat = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    want = np.argwhere(np.triu(flat < 5.0, k=1))
    assert len(want) > 1000
    np.testing.assert_array_equal(np.column_stack([i, j]), want)
    np.testing.assert_allclose(sep, flat[i, j], rtol=1.1e-6)
