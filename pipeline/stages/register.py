"""Frame position reconstruction along a scan (spec §1.3).

Each frame's true centre differs from the reported one by a scan-wide pointing error,
the slow tracking excursion and a frame-to-frame jitter. The offsets ``d_k`` (cross-scan
and along-scan, in the scan frame) come from a block adjustment of the whole scan:

1. consecutive frames (k, k+1 and k, k+2) are tied by their common detections (the
   three arrays' pooled), which gives a first chain of offsets, good enough to link
   detections into stars;
2. detections of the J, H and Ks arrays (which share the telescope's pointing) are
   linked across frames into stars, and stars are matched to the astrometric reference;
3. one weighted least-squares solution of every detection ``P_ik + d_k = s_i`` (each
   star's position ``s_i`` eliminated, so the unknowns are the frame offsets only), with
   the matched stars tied to their reference positions and a weak tie of consecutive
   offsets at the jitter's size; then 2 and 3 again on that solution.

Every detection of every star seen on two or more frames counts, weighted by its
centroid error, and the reference ties the scan's absolute position through all of
them: in a sparse field (a few stars per frame, a few reference stars per scan) this is
what keeps the frame solutions to the 2MASS floors. Each frame then gets a TAN WCS at
its corrected centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages import tan

CRPIX = (0.5 * (inst.NPIX + 1), 0.5 * (inst.NPIX + 1))
MIN_SNR = 10.0
#: Detections from this S/N on enter the block adjustment (weighted by their errors).
LINK_SNR = 5.0
MIN_COMMON = 3
EDGE_PX = 4.0
#: Consecutive frames' offsets differ by the tracking jitter (~0.25" per axis per frame):
#: a weak tie that carries a frame with too few stars over from its neighbours.
JITTER_PRIOR_ARCSEC = 0.35
#: Detections of one star on different frames, after the first chain, lie within this.
LINK_ARCSEC = 1.0
ADJUSTMENT_PASSES = 2
#: Centroid error of a detection [arcsec]: ``CENTROID_FWHM_FACTOR * 2.5" / S/N`` in
#: quadrature with a floor (windowed centroids on 2" pixels).
CENTROID_FWHM_FACTOR = 0.7
CENTROID_FLOOR_ARCSEC = 0.05


@dataclass
class Registration:
    """Corrected frame centres and how well they tie together."""

    ra: np.ndarray
    dec: np.ndarray
    offset_arcsec: np.ndarray  # (n, 2): corrected - reported (cross, along)
    pair_residual_px: float  # rms of solved minus measured frame-to-frame offsets
    n_pairs: int
    n_reference: int  # reference stars tied to the scan
    reference_rms_arcsec: float
    n_stars: int = 0  # stars (seen on two or more frames) in the adjustment
    band: int | None = None  # the array (its scale and distortion); None: nominal, none

    @property
    def cd(self) -> np.ndarray:
        """The array's CD matrix (its own pixel scale)."""
        return band_cd(self.band)

    def frame_wcs(self, k: int) -> tuple[tuple[float, float], np.ndarray, tuple[float, float]]:
        """(crval, cd, crpix) of frame k's TAN projection (the optics' distortion aside:
        ``to_pixels`` and ``to_sky`` add it)."""
        return (float(self.ra[k]), float(self.dec[k])), self.cd, CRPIX

    def to_pixels(self, k: int, ra: np.ndarray, dec: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel (x, y) of (ra, dec) [deg] on frame k: its TAN projection and
        the array's distortion."""
        x, y = tan.world_to_pix(*self.frame_wcs(k), ra, dec)
        if self.band is None:
            return x, y
        dx, dy = inst.distortion_px(self.band, x, y)
        return x + dx, y + dy

    def to_sky(self, k: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ra, dec) [deg] of 0-based pixel (x, y) of frame k (``to_pixels`` inverted)."""
        return tan.pix_to_world(*self.frame_wcs(k), *undistort(self.band, x, y))


def undistort(band: int | None, x: np.ndarray, y: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (x, y) of band ``band``'s array with the optics' distortion taken out (where
    a TAN projection puts the image; the distortion is 0.2 px at most and smooth, so
    evaluating it at the distorted position costs < 1e-3 px). None: none."""
    if band is None:
        return np.asarray(x, float), np.asarray(y, float)
    dx, dy = inst.distortion_px(band, x, y)
    return x - dx, y - dy


def band_cd(band: int | None) -> np.ndarray:
    """CD matrix of band ``band``'s array (None: the nominal scale)."""
    return inst.cd_matrix() if band is None else inst.cd_matrix(inst.BAND_PIXEL_ARCSEC[band])


def usable(det: np.ndarray, min_snr: float = MIN_SNR) -> np.ndarray:
    """Detections good for registration: bright enough, round, unsaturated, and away from
    the array's edges (where the star is cut and its centroid pulled inward)."""
    snr = det["flux"] / np.maximum(det["flux_err"], 1e-9)
    inner = ((det["x"] > EDGE_PX) & (det["x"] < inst.NPIX - 1 - EDGE_PX)
             & (det["y"] > EDGE_PX) & (det["y"] < inst.NPIX - 1 - EDGE_PX))
    return ((snr > min_snr) & ~det["saturated"] & (det["a"] < 2.0 * det["b"])
            & (det["b"] > 0.4) & inner)


def scan_positions(det: np.ndarray, ra: float, dec: float, ra0: float,
                   band: int | None = None) -> np.ndarray:
    """Detection positions (xi, phi) [arcsec] through a frame's TAN at (ra, dec): with
    ``band``, that array's scale and its distortion taken out (``instrument``); without,
    the nominal scale."""
    w_ra, w_dec = tan.pix_to_world((ra, dec), band_cd(band), CRPIX,
                                   *undistort(band, det["x"], det["y"]))
    xi, phi = scanframe.to_scan(ra0, w_ra, w_dec)
    return np.column_stack([xi, phi]) * 3600.0


def centroid_weight(det: np.ndarray) -> np.ndarray:
    """1 / sigma^2 [arcsec^-2] of each detection's position (see CENTROID_*)."""
    snr = det["flux"] / np.maximum(det["flux_err"], 1e-9)
    sigma = np.hypot(CENTROID_FWHM_FACTOR * 2.5 / snr, CENTROID_FLOOR_ARCSEC)
    return 1.0 / sigma**2


def _pair_offset(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[np.ndarray, float, int]:
    """Offset a - b of two frames' common stars, the arrays' stars pooled (one pointing):
    nearest neighbours within 4", their median difference, then the mean of those within
    1" of it; its variance and the number of stars."""
    diffs = []
    for pa, pb in zip(a, b, strict=True):
        if len(pa) == 0 or len(pb) == 0:
            continue
        dist, j = cKDTree(pb).query(pa, distance_upper_bound=4.0)
        ok = np.isfinite(dist)
        diffs.append(pa[ok] - pb[j[ok]])
    diff = np.concatenate(diffs) if diffs else np.zeros((0, 2))
    if len(diff) < MIN_COMMON:
        return np.zeros(2), 0.0, 0
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
                   ref_dec: np.ndarray, ref_sigma: float,
                   bands: tuple[int, ...] | None = None) -> list[Registration]:
    """Solve one set of frame offsets from the detections of all bands of a scan.

    The three arrays see the sky at once through the camera's dichroics, so a frame's
    pointing error is common to J, H and Ks, and a star's J, H and Ks detections are
    one star of the adjustment. ``bands``: the array of each detection list (its pixel
    scale and distortion, ``instrument``; default: the nominal scale, no distortion).
    Returns one Registration per band (its reported centres plus the common offsets).
    """
    n = len(detections[0])
    nb = len(detections)
    arrays = list(bands) if bands is not None else [None] * nb
    prior = _jitter_prior(n)
    # 1. The first chain, from frame pairs.
    pos_by_frame = [[scan_positions(d[usable(d, LINK_SNR)], rep_ra[b][k], rep_dec[b][k], ra0,
                                    arrays[b]) for k, d in enumerate(detections[b])]
                    for b in range(nb)]
    pairs, chain = _pair_chain(pos_by_frame, prior)
    # 2. Every usable detection, to be linked into stars.
    pos, wgt, frame, band = [], [], [], []
    for b in range(nb):
        for k, d in enumerate(detections[b]):
            d = d[usable(d, LINK_SNR)]
            pos.append(scan_positions(d, rep_ra[b][k], rep_dec[b][k], ra0, arrays[b]))
            wgt.append(centroid_weight(d))
            frame.append(np.full(len(d), k))
            band.append(np.full(len(d), b))
    pos, wgt = np.concatenate(pos), np.concatenate(wgt)
    frame, band = np.concatenate(frame), np.concatenate(band)
    # 3. Reference stars, then the block adjustment; twice: the second pass links on
    # the first solution, which bridges a frame the pairs could not tie (too few common
    # stars, or a jump of the telescope) through the reference stars on both sides.
    ref = np.column_stack(scanframe.to_scan(ra0, ref_ra, ref_dec)) * 3600.0
    w_ref = 1.0 / (ref_sigma**2 + CENTROID_FLOOR_ARCSEC**2)
    d = chain
    for _ in range(ADJUSTMENT_PASSES):
        star = _link(pos + d[frame], frame, band)
        ref_of = _match_reference(pos + d[frame], wgt, star, ref)
        d, s, n_stars = _adjust(pos, wgt, frame, star, ref, ref_of, w_ref, prior, n)
    tied = ref_of >= 0
    resid = s[tied] - ref[ref_of[tied]]
    ref_rms = float(np.sqrt(np.mean(resid**2))) if tied.any() else np.nan
    pair_res = [(d[j] - d[k]) - off for k, j, off, _ in pairs if j == k + 1]
    rel = float(np.sqrt(np.mean(np.sum(np.square(pair_res), axis=1)) / 2.0)) if pair_res \
        else np.nan
    out = []
    for b in range(nb):
        xi0, phi0 = scanframe.to_scan(ra0, rep_ra[b], rep_dec[b])
        ra, dec = scanframe.to_radec(ra0, xi0 + d[:, 0] / 3600.0, phi0 + d[:, 1] / 3600.0)
        out.append(Registration(np.asarray(ra), np.asarray(dec), d, rel / inst.PIXEL_ARCSEC,
                                len(pairs), int(tied.sum()), ref_rms, n_stars, arrays[b]))
    return out


def _jitter_prior(n: int) -> np.ndarray:
    """Normal matrix of the weak tie between consecutive frames' offsets."""
    normal = np.zeros((n, n))
    w = 1.0 / JITTER_PRIOR_ARCSEC**2
    for k in range(n - 1):
        normal[[k, k + 1], [k, k + 1]] += w
        normal[k, k + 1] -= w
        normal[k + 1, k] -= w
    return normal


def _pair_chain(pos: list[list[np.ndarray]], prior: np.ndarray
                ) -> tuple[list[tuple[int, int, np.ndarray, float]], np.ndarray]:
    """Frame-pair offsets (k, k+1 and k, k+2, the bands' stars pooled) and the chain
    they give."""
    n = len(prior)
    normal, rhs, pairs = prior.copy(), np.zeros((n, 2)), []
    for k in range(n):
        for j in (k + 1, k + 2):
            if j >= n:
                continue
            off, var, m = _pair_offset([band[k] for band in pos], [band[j] for band in pos])
            if m == 0:
                continue
            w = m / var
            pairs.append((k, j, off, w))
            normal[[k, j], [k, j]] += w
            normal[k, j] -= w
            normal[j, k] -= w
            rhs[j] += w * off
            rhs[k] -= w * off
    return pairs, np.linalg.solve(normal + np.eye(n) * 1e-6, rhs)


def _link(pos: np.ndarray, frame: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Star number of each detection (-1: alone, or ambiguous): detections within
    ``LINK_ARCSEC`` of each other, friends of friends; a group with two detections of
    one band on one frame (a blend or a chance pairing) is left out."""
    star = np.full(len(pos), -1)
    if len(pos) < 2:
        return star
    pairs = cKDTree(pos).query_pairs(LINK_ARCSEC, output_type="ndarray")
    if len(pairs) == 0:
        return star
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(pos), len(pos)))
    _, label = connected_components(graph, directed=False)
    size = np.bincount(label)
    key = (label * (frame.max() + 1) + frame) * 3 + band
    _, first, dup = np.unique(key, return_index=True, return_counts=True)
    bad = np.zeros(len(size), bool)
    bad[label[first[dup > 1]]] = True
    keep = (size[label] > 1) & ~bad[label]
    _, star[keep] = np.unique(label[keep], return_inverse=True)
    return star


def _match_reference(pos: np.ndarray, wgt: np.ndarray, star: np.ndarray, ref: np.ndarray
                     ) -> np.ndarray:
    """Reference index of each star (-1: none): the stars' mean positions matched to the
    reference after a common shift found at decreasing radii (8", 3", 1.5")."""
    n_stars = star.max() + 1
    ref_of = np.full(max(n_stars, 0), -1)
    if n_stars <= 0 or len(ref) == 0:
        return ref_of
    mean = _star_means(pos, wgt, star, n_stars)
    tree = cKDTree(ref)
    shift = np.zeros(2)
    for radius in (8.0, 3.0, 1.5):
        dist, i = tree.query(mean + shift, distance_upper_bound=radius)
        ok = np.isfinite(dist)
        if not ok.any():
            return ref_of
        shift = np.median(ref[i[ok]] - mean[ok], axis=0)
    dist, i = tree.query(mean + shift, distance_upper_bound=1.5)
    ok = np.isfinite(dist)
    # One star per reference star: the nearest.
    order = np.argsort(dist[ok])
    ids, first = np.unique(i[ok][order], return_index=True)
    ref_of[np.flatnonzero(ok)[order[first]]] = ids
    return ref_of


def _adjust(pos, wgt, frame, star, ref, ref_of, w_ref, prior, n
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-squares frame offsets of ``P_ik + d_k = s_i`` with the star positions
    eliminated (a reference star adds ``s_i = R`` with weight ``w_ref``); returns the
    offsets, the star positions and the number of stars used."""
    normal, rhs = prior.copy(), np.zeros((n, 2))
    linked = star >= 0
    n_stars = int(star.max()) + 1 if linked.any() else 0
    order = np.argsort(star[linked], kind="stable")
    idx = np.flatnonzero(linked)[order]
    bounds = np.searchsorted(star[idx], np.arange(n_stars + 1))
    for i in range(n_stars):
        j = idx[bounds[i]:bounds[i + 1]]
        w, k, p = wgt[j], frame[j], pos[j]
        wr = w_ref if ref_of[i] >= 0 else 0.0
        total = w.sum() + wr
        mean = (w @ p + (wr * ref[ref_of[i]] if wr else 0.0)) / total
        np.add.at(normal, (k, k), w)
        np.add.at(normal, (k[:, None], k[None, :]), -np.outer(w, w) / total)
        np.add.at(rhs, k, w[:, None] * (mean - p))
    if not (ref_of >= 0).any():  # no reference star: keep the scan on the reported pointing
        normal += np.eye(n) * 1e-3
    d = np.linalg.solve(normal + np.eye(n) * 1e-9, rhs)
    return d, _star_means(pos + d[frame], wgt, star, n_stars), n_stars


def _star_means(pos: np.ndarray, wgt: np.ndarray, star: np.ndarray, n_stars: int
                ) -> np.ndarray:
    """Weighted mean position of each star's detections (``star`` -1: none)."""
    linked = star >= 0
    w = np.bincount(star[linked], wgt[linked], n_stars)
    return np.column_stack([np.bincount(star[linked], wgt[linked] * pos[linked, i], n_stars)
                            for i in (0, 1)]) / w[:, None]
