"""Artifact identification around bright stars (MAPCOR, spec §1.9; catalog rules §2.5, §4.4).

Per band and scan, the scan's own detections brighter than J 10.5, H 10.0, Ks 9.5 are
parents (diffraction spikes only from J 10.0, H 9.5, Ks 9.0). A detection of the same band
inside one of a parent's artifact zones is either the artifact itself (upper-case
``cc_flg``, which the release rejects) or a real source the artifact contaminates
(lower-case, kept): it is the artifact when it is no brighter than such an artifact can be,
a fixed number of magnitudes below its parent.

- Persistence (``P``/``p``): a star bright enough to fill half a pixel's well leaves a
  latent image on the pixels it fell on, which the next frames, stepped along the scan,
  see whole frame steps ahead of it. Latents come out 6.8 mag below their parent, 7.9
  below one whose core exceeds the latent's cap.
- Diffraction spikes (``D``/``d``): along the array's rows and columns (the scan's
  directions, to the arrays' 0.3 deg), their detections 9.2-10.3 mag below the parent,
  out to a length that grows by 8" per magnitude of the parent (53" from J 6.7).
- Filter glints (``G``; a real star on one is contaminated, ``c``): a defocused ghost at
  a fixed place in each band's array, so a fixed offset from the parent across the scan
  and, along it, mirrored between northward and southward scans; 6.6-7.7 mag below it.
- Stripes (``C``/``s``): the array row through a parent brighter than the spike limit
  picks up charge on readout, a line across the whole scan; a detection on it beyond the
  spikes is the stripe when at least 10 mag below the parent (its level, 2e-6 of the
  parent's flux per pixel, makes none brighter), else a real star it contaminates. (An
  upper-case ``S`` would escape the release's ``[C-P]`` rule, so stripe artifacts carry
  ``C``, as in the catalog simulator.)
- Halo confusion (``C``/``c``): within a radius growing by 4" per magnitude of the
  parent, detections at least 11 mag below it are taken for the halo's noise, brighter
  ones are real stars whose photometry the halo biases.

The brightness ratios, glint places and lengths were measured on the survey scans of
``benchmarks/bench_pixel_catalog.py``, ``benchmarks/bench_artifacts.py`` (bright stars
added to the b = +35 deg sky) and the test scan at b = +6 deg. The simulated halo (the
PSF's smooth wing) and the stripe left almost no spurious detection at S/N >= 10 there
(4 and 3 of 2,307): their artifact limits are set to keep the real stars in them. A
real star no brighter than the artifact it sits on cannot be told from it and is lost,
as in 2MASS.
Precedence (spec §4.4): an artifact (upper case) beats any contamination, then
p > c > d > s > b; among artifacts P > C > D > G.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

BANDS = ("j", "h", "k")
PARENT_MAG = {"j": 10.5, "h": 10.0, "k": 9.5}
SPIKE_PARENT_MAG = {"j": 10.0, "h": 9.5, "k": 9.0}
#: Latents lie within this of whole frame steps ahead of the parent (up to ``..._STEPS``).
PERSISTENCE_RADIUS_ARCSEC = 4.0
PERSISTENCE_STEPS = (1, 2)
#: A detection at least this much fainter than the parent can be its latent image.
PERSISTENCE_DM = 5.5
#: Spikes: half width across, length at the spike threshold and its growth per magnitude.
SPIKE_HALF_WIDTH_ARCSEC = 3.0
SPIKE_INNER_ARCSEC = 3.0
SPIKE_LENGTH_ARCSEC = 30.0
SPIKE_LENGTH_PER_MAG = 10.0
SPIKE_DM = 8.5
#: Glints: offset (across, along a northward scan; mirrored along for a southward one)
#: [arcsec] per band, the radius they lie within and how much fainter they are at least.
GLINT_OFFSET_ARCSEC = {"j": (-7.0, 12.9), "h": (-9.0, -8.0), "k": (10.0, 9.0)}
GLINT_RADIUS_ARCSEC = 3.0
GLINT_DM = 6.0
#: Stripes: half width along the scan about the parent's row, and the magnitude offset.
STRIPE_HALF_WIDTH_ARCSEC = 3.0
STRIPE_DM = 10.0
#: Halo: radius at the parent limit and its growth per magnitude; magnitude offset.
HALO_INNER_ARCSEC = 3.0
HALO_RADIUS_ARCSEC = 8.0
HALO_RADIUS_PER_MAG = 4.0
HALO_DM = 11.0
#: Artifact letters (all in the release's rejected range [C-P]).
UPPER = "PCDG"
#: Flag precedence: higher wins.
RANK = {"P": 9, "C": 8, "D": 7, "G": 6, "p": 5, "c": 4, "d": 3, "s": 2, "b": 1, "0": 0}
_RANK_OF_CODE = np.zeros(128, int)
_RANK_OF_CODE[[ord(k) for k in RANK]] = list(RANK.values())


def _rank(letters: np.ndarray) -> np.ndarray:
    """``RANK`` of each one-character flag."""
    return _RANK_OF_CODE[np.asarray(letters, dtype="<U1").view(np.uint32)]


def spike_length(mag: np.ndarray, band: str) -> np.ndarray:
    """Reach of a parent's spikes [arcsec] (zero for parents too faint to throw them)."""
    excess = SPIKE_PARENT_MAG[band] - np.asarray(mag, float)
    return np.where(excess >= 0, SPIKE_LENGTH_ARCSEC + SPIKE_LENGTH_PER_MAG * excess, 0.0)


def halo_radius(mag: np.ndarray, band: str) -> np.ndarray:
    """Radius of a parent's halo [arcsec]."""
    excess = np.maximum(PARENT_MAG[band] - np.asarray(mag, float), 0.0)
    return HALO_RADIUS_ARCSEC + HALO_RADIUS_PER_MAG * excess


def zone_flags(dx: np.ndarray, dy: np.ndarray, dm: np.ndarray, parent_mag: float,
               band: str, step_arcsec: float, scan_dir: str = "n") -> np.ndarray:
    """The flag one parent gives detections at scan offsets (dx across, dy along the scan
    direction) [arcsec] from it, ``dm`` magnitudes fainter than it ('0': none); the scan
    direction ``scan_dir`` ('n' or 's') places the glint."""
    flag = np.full(len(dx), "0")

    def mark(zone: np.ndarray, min_dm: float, artifact: str, contaminated: str) -> None:
        new = np.where(dm >= min_dm, artifact, contaminated)
        stronger = zone & (_rank(new) > _rank(flag))
        flag[stronger] = new[stronger]

    r = np.hypot(dx, dy)
    mark((r > HALO_INNER_ARCSEC) & (r <= halo_radius(parent_mag, band)), HALO_DM, "C", "c")
    gx, gy = GLINT_OFFSET_ARCSEC[band]
    gy = gy if scan_dir == "n" else -gy
    mark(np.hypot(dx - gx, dy - gy) <= GLINT_RADIUS_ARCSEC, GLINT_DM, "G", "c")
    reach = float(spike_length(parent_mag, band))
    if reach > 0:
        on_row = (np.abs(dx) <= SPIKE_HALF_WIDTH_ARCSEC) & (np.abs(dy) > SPIKE_INNER_ARCSEC) \
            & (np.abs(dy) <= reach)
        on_col = (np.abs(dy) <= SPIKE_HALF_WIDTH_ARCSEC) & (np.abs(dx) > SPIKE_INNER_ARCSEC) \
            & (np.abs(dx) <= reach)
        mark(on_row | on_col, SPIKE_DM, "D", "d")
        stripe = (np.abs(dy) <= STRIPE_HALF_WIDTH_ARCSEC) & (np.abs(dx) > reach)
        mark(stripe, STRIPE_DM, "C", "s")
    latent = np.zeros(len(dx), bool)
    for k in PERSISTENCE_STEPS:
        latent |= np.hypot(dx, dy - k * step_arcsec) <= PERSISTENCE_RADIUS_ARCSEC
    mark(latent, PERSISTENCE_DM, "P", "p")
    return flag


def flag_artifacts(cols: dict[str, np.ndarray], step_arcsec: float, scan_dir: str = "n"
                   ) -> dict[str, int]:
    """Set ``cols['cc_flg']`` of a scan's ``pts`` columns (``x_scan``, ``y_scan``: y along
    the scan direction ``scan_dir``, 'n' or 's') from its parents; returns how many band
    detections got each upper-case letter."""
    cc = np.array([list(f) for f in cols["cc_flg"]]).reshape(-1, len(BANDS))
    xy = np.column_stack([np.asarray(cols["x_scan"], float), np.asarray(cols["y_scan"], float)])
    counts: dict[str, int] = {}
    for b, band in enumerate(BANDS):
        mag = np.asarray(cols[f"{band}_m"], float)
        detected = np.array([f[b] in "1234" for f in cols["rd_flg"]], bool) & np.isfinite(mag)
        rows = np.flatnonzero(detected)
        parents = rows[mag[rows] < PARENT_MAG[band]]
        if not len(parents):
            continue
        tree = cKDTree(xy[rows])
        by_y = rows[np.argsort(xy[rows, 1], kind="stable")]
        y_sorted = xy[by_y, 1]
        reach = np.maximum.reduce([spike_length(mag[parents], band),
                                   halo_radius(mag[parents], band),
                                   np.full(len(parents), max(PERSISTENCE_STEPS) * step_arcsec
                                           + PERSISTENCE_RADIUS_ARCSEC)])
        for p, r in zip(parents, reach, strict=True):
            ball = rows[tree.query_ball_point(xy[p], r)]
            lo = np.searchsorted(y_sorted, xy[p, 1] - STRIPE_HALF_WIDTH_ARCSEC, side="left")
            hi = np.searchsorted(y_sorted, xy[p, 1] + STRIPE_HALF_WIDTH_ARCSEC, side="right")
            near = np.union1d(ball, by_y[lo:hi])
            near = near[near != p]
            d = xy[near] - xy[p]
            new = zone_flags(d[:, 0], d[:, 1], mag[near] - mag[p], mag[p], band, step_arcsec,
                             scan_dir)
            stronger = _rank(new) > _rank(cc[near, b])
            cc[near[stronger], b] = new[stronger]
        for letter in UPPER:
            counts[letter] = counts.get(letter, 0) + int((cc[:, b] == letter).sum())
    cols["cc_flg"] = np.array(["".join(r) for r in cc], dtype=str)
    return {k: v for k, v in counts.items() if v}
