"""Frame position reconstruction along a scan (spec §1.3).

Each frame's true centre differs from the reported one by a scan-wide pointing error,
the slow tracking excursion and a frame-to-frame jitter. Offsets ``d_k`` (cross-scan
and along-scan, in the scan frame) are solved by weighted least squares from two kinds
of equations at once: consecutive frames (k, k+1 and k, k+2) tied by their common
detections, ``d_j - d_k = P_k - P_j``, and every frame tied to the astrometric reference
catalog, ``d_k = R - P_k``, so the solution neither random-walks along the scan nor
follows the reference's errors frame by frame; a weak tie of consecutive offsets (the
jitter's size) carries a frame with too few common stars. Each frame then gets a TAN WCS at its
corrected centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import tan

CRPIX = (0.5 * (inst.NPIX + 1), 0.5 * (inst.NPIX + 1))
MIN_SNR = 10.0
MIN_COMMON = 3
EDGE_PX = 4.0
#: Consecutive frames' offsets differ by the tracking jitter (~0.25" per axis per frame):
#: a weak tie that carries a frame with too few stars over from its neighbours.
JITTER_PRIOR_ARCSEC = 0.35


@dataclass
class Registration:
    """Corrected frame centres and how well they tie together."""

    ra: np.ndarray
    dec: np.ndarray
    offset_arcsec: np.ndarray  # (n, 2): corrected - reported (cross, along)
    pair_residual_px: float  # rms of solved minus measured frame-to-frame offsets
    n_pairs: int
    n_reference: int
    reference_rms_arcsec: float

    def frame_wcs(self, k: int) -> tuple[tuple[float, float], np.ndarray, tuple[float, float]]:
        """(crval, cd, crpix) of frame k."""
        return (float(self.ra[k]), float(self.dec[k])), inst.cd_matrix(), CRPIX


def usable(det: np.ndarray) -> np.ndarray:
    """Detections good for registration: bright enough, round, unsaturated, and away from
    the array's edges (where the star is cut and its centroid pulled inward)."""
    snr = det["flux"] / np.maximum(det["flux_err"], 1e-9)
    inner = ((det["x"] > EDGE_PX) & (det["x"] < inst.NPIX - 1 - EDGE_PX)
             & (det["y"] > EDGE_PX) & (det["y"] < inst.NPIX - 1 - EDGE_PX))
    return ((snr > MIN_SNR) & ~det["saturated"] & (det["a"] < 2.0 * det["b"])
            & (det["b"] > 0.4) & inner)


def scan_positions(det: np.ndarray, ra: float, dec: float, ra0: float) -> np.ndarray:
    """Detection positions (xi, phi) [arcsec] through a frame's TAN at (ra, dec)."""
    w_ra, w_dec = tan.pix_to_world((ra, dec), inst.cd_matrix(), CRPIX, det["x"], det["y"])
    xi, phi = scanframe.to_scan(ra0, w_ra, w_dec)
    return np.column_stack([xi, phi]) * 3600.0


def _pair_offset(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Offset a - b of common stars (median, then mean within 1"), its variance, count."""
    if len(a) < MIN_COMMON or len(b) < MIN_COMMON:
        return np.zeros(2), 0.0, 0
    dist, j = cKDTree(b).query(a, distance_upper_bound=4.0)
    ok = np.isfinite(dist)
    if ok.sum() < MIN_COMMON:
        return np.zeros(2), 0.0, 0
    diff = a[ok] - b[j[ok]]
    med = np.median(diff, axis=0)
    close = np.hypot(*(diff - med).T) < 1.0
    if close.sum() < MIN_COMMON:
        return np.zeros(2), 0.0, 0
    d = diff[close]
    return d.mean(axis=0), float(np.mean(np.var(d, axis=0))) + 1e-4, int(close.sum())


def register(detections: list[np.ndarray], rep_ra: np.ndarray, rep_dec: np.ndarray,
             ra0: float, ref_ra: np.ndarray, ref_dec: np.ndarray, ref_sigma: float
             ) -> Registration:
    """Solve the frame offsets of one band of one scan (see the module docstring)."""
    return register_bands([detections], [rep_ra], [rep_dec], ra0, ref_ra, ref_dec,
                          ref_sigma)[0]


def register_bands(detections: list[list[np.ndarray]], rep_ra: list[np.ndarray],
                   rep_dec: list[np.ndarray], ra0: float, ref_ra: np.ndarray,
                   ref_dec: np.ndarray, ref_sigma: float) -> list[Registration]:
    """Solve one set of frame offsets from the detections of all bands of a scan.

    The three arrays see the sky at once through the camera's dichroics, so a frame's
    pointing error is common to J, H and Ks: every band's frame pairs and reference
    matches (each matched within its own band) tie the same offsets, three times the
    stars of one band. Returns one Registration per band (its reported centres plus the
    common offsets).
    """
    n = len(detections[0])
    nb = len(detections)
    pos = [[scan_positions(d[usable(d)], rep_ra[b][k], rep_dec[b][k], ra0)
            for k, d in enumerate(detections[b])] for b in range(nb)]
    normal = np.zeros((n, n))
    rhs = np.zeros((n, 2))
    pairs = []
    prior = 1.0 / JITTER_PRIOR_ARCSEC**2
    for k in range(n - 1):
        normal[[k, k + 1], [k, k + 1]] += prior
        normal[k, k + 1] -= prior
        normal[k + 1, k] -= prior
    for b in range(nb):
        for k in range(n):
            for step in (1, 2):
                j = k + step
                if j >= n:
                    continue
                off, var, m = _pair_offset(pos[b][k], pos[b][j])
                if m == 0:
                    continue
                w = m / var
                pairs.append((k, j, off, w))
                normal[[k, j], [k, j]] += w
                normal[k, j] -= w
                normal[j, k] -= w
                rhs[j] += w * off
                rhs[k] -= w * off
    chain = _solve(normal + np.eye(n) * 1e-6, rhs)
    ref = np.column_stack(scanframe.to_scan(ra0, ref_ra, ref_dec)) * 3600.0
    tree = cKDTree(ref) if len(ref) else None
    shift = np.zeros(2)
    matches = []
    if tree is not None:
        for radius in (8.0, 3.0, 1.5):
            matches = []
            for b in range(nb):
                for k in range(n):
                    if len(pos[b][k]) == 0:
                        continue
                    p = pos[b][k] + chain[k] + shift
                    dist, i = tree.query(p, distance_upper_bound=radius)
                    ok = np.isfinite(dist)
                    matches += [(k, ref[i[ok]] - pos[b][k][ok])]
            allr = np.concatenate([r - chain[k] for k, r in matches]) if matches else []
            if len(allr) == 0:
                break
            shift = np.median(allr, axis=0)
    n_ref = 0
    resid = []
    sigma2 = ref_sigma**2 + 0.05**2
    for k, r in matches:
        normal[k, k] += len(r) / sigma2
        rhs[k] += r.sum(axis=0) / sigma2
        n_ref += len(r)
    if n_ref == 0:  # no reference star at all: keep the chain on the reported pointing
        normal += np.eye(n) * 1e-3
    d = _solve(normal + np.eye(n) * 1e-9, rhs)
    for k, r in matches:
        resid.append(r - d[k])
    pair_res = [(d[j] - d[k]) - off for k, j, off, _ in pairs if j == k + 1]
    rel = float(np.sqrt(np.mean(np.sum(np.square(pair_res), axis=1)) / 2.0)) if pair_res else np.nan
    ref_rms = (float(np.sqrt(np.mean(np.concatenate(resid) ** 2))) if resid and n_ref
               else np.nan)
    out = []
    for b in range(nb):
        xi0, phi0 = scanframe.to_scan(ra0, rep_ra[b], rep_dec[b])
        ra, dec = scanframe.to_radec(ra0, xi0 + d[:, 0] / 3600.0, phi0 + d[:, 1] / 3600.0)
        out.append(Registration(np.asarray(ra), np.asarray(dec), d, rel / inst.PIXEL_ARCSEC,
                                len(pairs), n_ref, ref_rms))
    return out


def _solve(normal: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.linalg.solve(normal, rhs)
