"""Astrometric calibration of a night (spec §1.3, §1.11): the segment adjustment of every
survey scan against the reference catalog and against the night's overlapping scans.

Each scan's frames were registered on its own (``register``), to the reference stars it
holds; what is left is slow: a scan's frame solutions wander by tens of mas over minutes
where the reference stars are few, and neighbouring scans of the night disagree by as
much where they overlap. The optics' field distortion is not fitted here: every stage
maps a frame's pixels through the cameras' calibrated distortion (``Registration.to_sky``,
``to_pixels``, ``register.undistort``; ``instrument.distortion_px``), as 2MASS re-ran its
pipeline with the distortion its own calibration had measured on dense fields. A night's
reference stars (J < 12, a few per frame, 70 mas each) are far too few to fit a 2-D
polynomial per band and night, and such a fit would trade the distortion for their errors.

1. **Segments.** Each scan is cut along its length into segments of ``SEGMENT_FRAMES``
   frames (2MASS: 12 per 273-frame scan; a clipped scan gets proportionally fewer, at
   least one); the correction along the scan is the linear interpolation of a cross-scan
   and an in-scan offset per segment, taken at the segments' centres.
2. **Adjustment.** One weighted least-squares solution over all segments of the night
   makes the matched reference stars agree with their catalog positions and the sources
   seen by two overlapping scans agree with each other, with a weak tie between
   consecutive segments and a weak prior towards zero (a segment with no star stays where
   its registration put it); outliers beyond ``CLIP_SIGMA`` are dropped and the solution
   repeated.
3. **Recomputation.** The positions move by their segments' offsets (in each scan's own
   frame), their errors grow by the offsets' errors (the solution's covariance), and the
   frame solutions get the offsets at their centres (``adjusted_frames``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from twomass.core import sphere
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages.register import Registration

#: Frames per segment: 2MASS cut its 273-frame scans into 12.
SEGMENT_FRAMES = 23
#: Match radius [arcsec] of sources to the reference and to each other's scans.
MATCH_ARCSEC = 1.0
#: Sources with a larger position error [arcsec] do not enter the adjustment.
MAX_ERROR_ARCSEC = 0.4
#: Error floor [arcsec] added in quadrature to each source's (the PSF fit's systematics).
ERROR_FLOOR_ARCSEC = 0.04
#: Prior on each segment's offset, and on consecutive segments' difference [arcsec].
PRIOR_ARCSEC = 1.0
SMOOTH_ARCSEC = 0.2
CLIP_SIGMA = 4.0
PASSES = 3


@dataclass
class ScanFrames:
    """What the night's adjustment needs of a survey scan beyond its ``pts`` columns:
    its meridian and each band's registered frame centres [deg]."""

    scan: int
    ra0: float
    frame_ra: list[np.ndarray]
    frame_dec: list[np.ndarray]

    @classmethod
    def from_registrations(cls, scan: int, ra0: float, regs: list[Registration]
                           ) -> ScanFrames:
        return cls(scan, ra0, [np.asarray(r.ra, float) for r in regs],
                   [np.asarray(r.dec, float) for r in regs])

    def n_segments(self) -> int:
        return max(1, int(round(len(self.frame_ra[1]) / SEGMENT_FRAMES)))

    def segment_centres(self) -> np.ndarray:
        """Along-scan position [deg] of each segment's centre, increasing."""
        _, phi = scanframe.to_scan(self.ra0, self.frame_ra[1], self.frame_dec[1])
        phi = np.sort(phi)
        parts = np.array_split(phi, self.n_segments())
        return np.array([0.5 * (p[0] + p[-1]) for p in parts])


@dataclass
class NightAstrometry:
    """The night's solution: per scan, the segment offsets and each frame's."""

    segment_offset_arcsec: dict[int, np.ndarray]  # scan -> (segments, 2): cross, along
    segment_error_arcsec: dict[int, np.ndarray]  # scan -> (segments,) per coordinate
    frame_offset_arcsec: dict[int, np.ndarray]  # scan -> (frames, 2), H frames' order
    n_reference: int  # reference matches used
    n_overlap: int  # overlap pairs used
    reference_rms_before_arcsec: float  # per coordinate, the scans' registrations
    reference_rms_after_arcsec: float

    def summary(self) -> dict:
        def mas(v: float) -> float | None:
            return round(1000 * v, 1) if np.isfinite(v) else None

        return {"segments": int(sum(len(v) for v in self.segment_offset_arcsec.values())),
                "reference_matches": self.n_reference, "overlap_pairs": self.n_overlap,
                "reference_rms_before_mas": mas(self.reference_rms_before_arcsec),
                "reference_rms_after_mas": mas(self.reference_rms_after_arcsec)}


def adjust_night(columns: list[dict[str, np.ndarray]], frames: list[ScanFrames],
                 reference: dict) -> tuple[list[dict[str, np.ndarray]], NightAstrometry]:
    """The night's survey scans' ``pts`` columns with positions and errors recomputed
    (see the module docstring), in the same order; the input is not changed."""
    out = [dict(cols) for cols in columns]
    solution = adjust_segments(out, frames, reference)
    for cols, fr in zip(out, frames, strict=True):
        apply_offsets(cols, fr, solution)
    return out, solution


def _segment_weights(fr: ScanFrames, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation between segment centres: (n, 2) segment indices (within the
    scan) and their (n, 2) weights; constant beyond the first and last centres."""
    c = fr.segment_centres()
    if len(c) == 1:
        return np.zeros((len(phi), 2), int), np.column_stack([np.ones(len(phi)),
                                                               np.zeros(len(phi))])
    j = np.clip(np.searchsorted(c, phi) - 1, 0, len(c) - 2)
    t = np.clip((phi - c[j]) / (c[j + 1] - c[j]), 0.0, 1.0)
    return np.column_stack([j, j + 1]), np.column_stack([1.0 - t, t])


def _jacobian(ra0: float, xi: np.ndarray, phi: np.ndarray, ra: np.ndarray, dec: np.ndarray
              ) -> np.ndarray:
    """(n, 2, 2): (east, north) [arcsec] per arcsec of (cross, along) scan offset."""
    eps = 1.0 / 3600.0
    out = np.empty((len(ra), 2, 2))
    for c, (dxi, dphi) in enumerate(((eps, 0.0), (0.0, eps))):
        r, d = scanframe.to_radec(ra0, xi + dxi, phi + dphi)
        out[:, 0, c] = ((r - ra + 180.0) % 360.0 - 180.0) * np.cos(np.radians(dec)) / eps
        out[:, 1, c] = (d - dec) / eps
    return out


@dataclass
class _Sources:
    """One scan's sources as the adjustment sees them."""

    vec: np.ndarray  # unit vectors
    ra: np.ndarray
    dec: np.ndarray
    sigma: np.ndarray  # [arcsec] per coordinate
    usable: np.ndarray
    seg: np.ndarray  # (n, 2) global segment indices
    w: np.ndarray  # (n, 2) their weights
    jac: np.ndarray  # (n, 2, 2)


def _scan_sources(cols: dict, fr: ScanFrames, first_segment: int) -> _Sources:
    ra, dec = np.asarray(cols["ra"], float), np.asarray(cols["dec"], float)
    xi, phi = scanframe.to_scan(fr.ra0, ra, dec)
    seg, w = _segment_weights(fr, phi)
    err = np.hypot(np.asarray(cols["err_maj"], float), ERROR_FLOOR_ARCSEC)
    usable = np.isfinite(err) & (err < MAX_ERROR_ARCSEC)
    return _Sources(sphere.unit_vectors(ra, dec), ra, dec, err, usable, seg + first_segment,
                    w, _jacobian(fr.ra0, xi, phi, ra, dec))


def _tangent_arcsec(ra_a, dec_a, ra_b, dec_b) -> np.ndarray:
    """(n, 2) position b minus position a, (east, north) [arcsec]."""
    return np.column_stack([((ra_b - ra_a + 180.0) % 360.0 - 180.0)
                            * np.cos(np.radians(dec_a)) * 3600.0, (dec_b - dec_a) * 3600.0])


def adjust_segments(columns: list[dict], frames: list[ScanFrames], reference: dict
                    ) -> NightAstrometry:
    """Solve every segment's (cross, along) offset [arcsec] of the night's scans."""
    firsts = np.cumsum([0] + [f.n_segments() for f in frames])
    n_par = 2 * int(firsts[-1])
    srcs = [_scan_sources(c, f, int(firsts[i])) for i, (c, f)
            in enumerate(zip(columns, frames, strict=True))]
    ref_ra = np.asarray(reference.get("ra", []), float)
    ref_dec = np.asarray(reference.get("dec", []), float)
    ref_sigma = np.asarray(reference.get("sigma_arcsec", np.zeros(len(ref_ra))), float)
    ref_vec = sphere.unit_vectors(ref_ra, ref_dec) if len(ref_ra) else np.zeros((0, 3))
    # Observations: rows (coefficient blocks) of [offsets a] - [offsets b] = measured.
    obs = []  # (scan a, index a, scan b or -1, index b, residual (2,), sigma)
    for a, s in enumerate(srcs):
        idx = np.flatnonzero(s.usable)
        if len(idx) and len(ref_vec):
            m = sphere.nearest_within(s.vec[idx], ref_vec, MATCH_ARCSEC).index
            ok = m >= 0
            i, r = idx[ok], m[ok]
            res = _tangent_arcsec(s.ra[i], s.dec[i], ref_ra[r], ref_dec[r])
            obs.append((a, i, -1, None, res, np.hypot(s.sigma[i], ref_sigma[r])))
    n_ref = sum(len(o[1]) for o in obs)
    for a in range(len(srcs)):
        for b in range(a + 1, len(srcs)):
            pa, pb = np.flatnonzero(srcs[a].usable), np.flatnonzero(srcs[b].usable)
            if not len(pa) or not len(pb):
                continue
            ab = sphere.nearest_within(srcs[a].vec[pa], srcs[b].vec[pb], MATCH_ARCSEC).index
            ba = sphere.nearest_within(srcs[b].vec[pb], srcs[a].vec[pa], MATCH_ARCSEC).index
            mutual = np.flatnonzero(ab >= 0)
            mutual = mutual[ba[ab[mutual]] == mutual]
            if not len(mutual):
                continue
            i, j = pa[mutual], pb[ab[mutual]]
            res = _tangent_arcsec(srcs[a].ra[i], srcs[a].dec[i], srcs[b].ra[j], srcs[b].dec[j])
            obs.append((a, i, b, j, res, np.hypot(srcs[a].sigma[i], srcs[b].sigma[j])))
    n_overlap = sum(len(o[1]) for o in obs) - n_ref
    design, target, sigma = _design(srcs, obs, n_par)
    prior = _prior(frames, firsts, n_par)
    keep = np.ones(len(target), bool)
    rms_before = _rms(target[:2 * n_ref])
    for _ in range(PASSES):
        a_k = design[keep]
        w = sparse.diags(1.0 / sigma[keep] ** 2)
        normal = (a_k.T @ w @ a_k).toarray() + prior
        solution = np.linalg.solve(normal, a_k.T @ (target[keep] / sigma[keep] ** 2))
        resid = (target - design @ solution) / sigma
        pair = np.abs(resid).reshape(-1, 2).max(axis=1)
        new_keep = np.repeat(pair < CLIP_SIGMA, 2)
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    cov = np.linalg.inv(normal)
    after = (target - design @ solution)[:2 * n_ref]
    offsets, errors, frame_off = {}, {}, {}
    for i, fr in enumerate(frames):
        lo, hi = 2 * int(firsts[i]), 2 * int(firsts[i + 1])
        offsets[fr.scan] = solution[lo:hi].reshape(-1, 2)
        errors[fr.scan] = np.sqrt(np.diag(cov)[lo:hi].reshape(-1, 2).mean(axis=1))
        _, phi = scanframe.to_scan(fr.ra0, fr.frame_ra[1], fr.frame_dec[1])
        seg, w = _segment_weights(fr, phi)
        frame_off[fr.scan] = (w[:, :, None] * offsets[fr.scan][seg]).sum(axis=1)
    return NightAstrometry(offsets, errors, frame_off, n_ref, n_overlap, rms_before,
                           _rms(after[np.repeat(keep[:2 * n_ref:2], 2)]))


def _rms(res: np.ndarray) -> float:
    return float(np.sqrt(np.mean(res**2))) if len(res) else float("nan")


def _design(srcs: list[_Sources], obs: list, n_par: int
            ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The observation equations: for each match two rows (east, north), the offsets of
    scan a's segments minus scan b's (none for a reference star) giving the measured
    position b minus a."""
    rows, cols, vals, target, sigma = [], [], [], [], []
    row0 = 0
    for a, i, b, j, res, sig in obs:
        n = len(i)
        r = row0 + 2 * np.arange(n)
        for scan, idx, sign in ((a, i, 1.0), (b, j, -1.0)):
            if scan < 0:
                continue
            s = srcs[scan]
            for p in range(2):  # the two interpolated segments
                for coord in range(2):  # east, north rows
                    for c in range(2):  # cross, along offset
                        rows.append(r + coord)
                        cols.append(2 * s.seg[idx, p] + c)
                        vals.append(sign * s.w[idx, p] * s.jac[idx, coord, c])
        target.append(res.ravel())
        sigma.append(np.repeat(sig, 2))
        row0 += 2 * n
    if not rows:
        return sparse.csr_matrix((0, n_par)), np.zeros(0), np.zeros(0)
    design = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                               shape=(row0, n_par)).tocsr()
    return design, np.concatenate(target), np.concatenate(sigma)


def _prior(frames: list[ScanFrames], firsts: np.ndarray, n_par: int) -> np.ndarray:
    """Normal matrix of the priors: each offset towards 0, consecutive segments of a scan
    towards each other."""
    normal = np.eye(n_par) / PRIOR_ARCSEC**2
    w = 1.0 / SMOOTH_ARCSEC**2
    for i in range(len(frames)):
        for s in range(int(firsts[i]), int(firsts[i + 1]) - 1):
            for c in range(2):
                p, q = 2 * s + c, 2 * (s + 1) + c
                normal[p, p] += w
                normal[q, q] += w
                normal[p, q] -= w
                normal[q, p] -= w
    return normal


def apply_offsets(cols: dict, fr: ScanFrames, solution: NightAstrometry) -> None:
    """Move a scan's positions by its segments' offsets; grow their errors by the
    offsets' (in place)."""
    ra, dec = np.asarray(cols["ra"], float), np.asarray(cols["dec"], float)
    xi, phi = scanframe.to_scan(fr.ra0, ra, dec)
    seg, w = _segment_weights(fr, phi)
    off = (w[:, :, None] * solution.segment_offset_arcsec[fr.scan][seg]).sum(axis=1)
    err = (w * solution.segment_error_arcsec[fr.scan][seg]).sum(axis=1)
    new_ra, new_dec = scanframe.to_radec(fr.ra0, xi + off[:, 0] / 3600.0,
                                         phi + off[:, 1] / 3600.0)
    cols["ra"], cols["dec"] = np.asarray(new_ra, float), np.asarray(new_dec, float)
    for name in ("err_maj", "err_min"):
        cols[name] = np.hypot(np.asarray(cols[name], float), err).astype(
            np.asarray(cols[name]).dtype)


def adjusted_frames(fr: ScanFrames, solution: NightAstrometry
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each band's frame centres (ra, dec) [deg] moved by their frames' offsets (the
    three arrays share the pointing)."""
    off = solution.frame_offset_arcsec[fr.scan] / 3600.0
    out = []
    for ra, dec in zip(fr.frame_ra, fr.frame_dec, strict=True):
        xi, phi = scanframe.to_scan(fr.ra0, ra, dec)
        new = scanframe.to_radec(fr.ra0, xi + off[:, 0], phi + off[:, 1])
        out.append((np.asarray(new[0], float), np.asarray(new[1], float)))
    return out
