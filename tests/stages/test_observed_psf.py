"""The simulator's PSF variation (``observe.psf_shape``, ``render.psf_components``).

The rendered core's second moments against their closed form, and the observed frames'
bright stars against the law: elongated along x at the array's +x edge (far from the
optical axis), round near its centre.
"""

from __future__ import annotations

import numpy as np
import pytest

from twomass.pipeline.stages import fidelity, observe, render, tan
from twomass.pipeline.stages import instrument as inst

HALF_BOX = 3


def moments(stamp: np.ndarray) -> tuple[float, float, float]:
    """(Ixx + Iyy, e1, e2) of a stamp about its centroid: e1 = (Ixx - Iyy) / (Ixx + Iyy),
    e2 = 2 Ixy / (Ixx + Iyy)."""
    yy, xx = np.mgrid[0:stamp.shape[0], 0:stamp.shape[1]]
    total = stamp.sum()
    cx, cy = (stamp * xx).sum() / total, (stamp * yy).sum() / total
    ixx = (stamp * (xx - cx) ** 2).sum() / total
    iyy = (stamp * (yy - cy) ** 2).sum() / total
    ixy = (stamp * (xx - cx) * (yy - cy)).sum() / total
    return ixx + iyy, (ixx - iyy) / (ixx + iyy), 2.0 * ixy / (ixx + iyy)


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 90.0])
def test_elongated_core_has_the_second_moments_of_its_law(angle_deg) -> None:
    """Core halves of width s at +-d along the angle: s^2 + d^2 along it, s^2 across
    (rendered on a fine grid, 0.05 of the core width a pixel; no wing)."""
    s, elong, scale = 1.0, 0.6, 20.0
    n = 301
    image = np.zeros((n, n))
    c = np.array([150.3])
    parts = render.psf_components(np.array([s * scale]), elong, np.radians(angle_deg), 0.0)
    render.add_mixtures(image, c, c, [(w, *rest) for w, *rest in parts], 150)
    assert abs(image.sum() - 1.0) < 1e-6
    size, e1, e2 = moments(image)
    d2 = (elong * s) ** 2
    t = np.radians(angle_deg)
    expected = d2 / (2 * s * s + d2)
    assert abs(size / scale**2 - (2 * s * s + d2)) < 0.01
    assert abs(e1 - expected * np.cos(2 * t)) < 1e-3 and abs(e2 - expected * np.sin(2 * t)) < 1e-3


def test_observed_frames_carry_the_astigmatism(processed) -> None:
    """Bright isolated stars on the survey scan's frames (sky-subtracted, 7 x 7 px, the
    three bands), stacked at the array's +x edge (far from the optical axis) and near its
    centre: their second moments are the law's (the same stacks of the law's noiseless
    rendering at the same positions, scaled to each star's flux). On 2" pixels and with
    the wing in the box the elongation's e1 is small (0.016 at the edge): its check is
    loose; the edge stars' larger size is the clear signal."""
    stars = {"edge": [], "centre": []}
    tf = processed.true_frames
    for band in inst.BANDS:
        r = processed.results[band]
        truth = processed.truth
        m = np.asarray(truth[f"{band}_m"])
        ra, dec = np.asarray(truth["ra"]), np.asarray(truth["dec"])
        bright = (np.asarray(truth["type"]) == "star") & (m > 10.0) & (m < 12.5) \
            & fidelity.isolated(truth, band)
        rows = [i for i, (s, b) in enumerate(zip(tf["scan"], tf["band"], strict=True))
                if s == processed.survey_scan and b == band]
        for k, row in enumerate(rows):
            x, y = tan.world_to_pix(*r.reg.frame_wcs(k), ra[bright], dec[bright])
            ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
            u = (x - 127.5) / 128.0
            inside = (ix >= HALF_BOX + 2) & (ix < inst.NPIX - HALF_BOX - 2) \
                & (iy >= HALF_BOX + 2) & (iy < inst.NPIX - HALF_BOX - 2)
            for i in np.flatnonzero(inside & ((u > 0.6) | (np.abs(u) < 0.3))):
                box = (slice(iy[i] - HALF_BOX, iy[i] + HALF_BOX + 1),
                       slice(ix[i] - HALF_BOX, ix[i] + HALF_BOX + 1))
                data = np.asarray(r.cal.frames[k][box], float)
                if not r.cal.good[k][box].all() or r.cal.saturated[k][box].any():
                    continue
                sig, elong, angle = observe.psf_shape(
                    tf["fwhm"][row], np.array([tf["tilt_x"][row], tf["tilt_y"][row]]),
                    x[i:i + 1], y[i:i + 1])
                model = np.zeros((inst.NPIX, inst.NPIX))
                render.add_psf_sources(model, x[i:i + 1], y[i:i + 1], np.ones(1), sig, 1e-3,
                                       elong, angle, tf["wing"][row])
                model = model[box] * data.sum() / model[box].sum()
                stars["edge" if u[i] > 0.6 else "centre"].append((data, model))
    rng = np.random.default_rng(0)
    stats = {}
    for name, pairs in stars.items():
        assert len(pairs) >= 30
        data, model = (np.array([p[j] for p in pairs]) for j in (0, 1))
        boot = np.array([moments(data[rng.integers(0, len(data), len(data))].sum(axis=0))
                         for _ in range(200)])
        stats[name] = (np.array(moments(data.sum(axis=0))), np.array(moments(model.sum(axis=0))),
                       boot.std(axis=0))
    (edge, edge_law, edge_err), (centre, centre_law, centre_err) = stats["edge"], stats["centre"]
    # Size (Ixx + Iyy): the law's edge stars are wider (astigmatism, tilt, growth).
    law_ratio, ratio = edge_law[0] / centre_law[0], edge[0] / centre[0]
    ratio_err = ratio * np.hypot(edge_err[0] / edge[0], centre_err[0] / centre[0])
    assert law_ratio > 1.05
    assert abs(ratio - law_ratio) < 3.0 * ratio_err + 0.02
    assert ratio > 1.0 + 2.0 * ratio_err  # 30 frames: the size gap is 2-3 sigma
    # Elongation: e1 and e2 as the law has them, at the edge and the centre.
    for got, law, err in ((edge, edge_law, edge_err), (centre, centre_law, centre_err)):
        assert np.all(np.abs(got[1:] - law[1:]) < 3.0 * err[1:] + 0.01)
