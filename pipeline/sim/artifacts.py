"""Spurious extractions, and contamination flags on real sources near bright stars.

Every scan gets noise peaks near the detection threshold, single-band cosmic rays and
occasionally a meteor trail (a line of detections); the last two have profile-fit
chi^2 far above 10 (a hit on one frame looks nothing like the PSF).

Noise peaks: ``NOISE_PER_DEG2`` per scan, one band each: what the pixel pipeline
extracts with no rendered source within 3" and no star brighter than Ks 9.5 within
120" (bench_pixel_catalog: 12,340 per deg^2 of scan, 99.5 % of them in one band; their
S/N's 95th and 99th percentiles 3.9 and 4.6, where this law gives 4.0 and 4.5). Before:
8,000, inferred from the 2MASS point WDB's 1.315e9 rows, 31,900 per deg^2: about 1.46
apparitions (tile overlaps and the 18% re-observed scans) of 11,400 PSC sources per
deg^2, faint real detections, and the rest noise. At the all-sky mean density that
budget leaves about 10,000 per deg^2 of scan for noise and faint real detections
together, less than the pixels' noise alone: the pixel pipeline's 3-sigma threshold on
the Atlas Images lets more noise through than 2MASS's did. Their S/N follows the
Gaussian tail above the 3-sigma threshold (e-folding 1/3 sigma), and the peak is the
measurement: S/N >= 7 has a probability of ~1e-5, S/N >= 10 ~1e-9.

Each bright star (true Ks < ``PARENT_KS``) on the scan spawns artifacts flagged with
upper-case ``cc_flg`` letters, all inside the 2MASS release's rejected range ``[C-P]``:

- ``P`` persistence: latent images trailing the star by whole frame steps (83");
- ``D`` diffraction spikes: along the array's rows and columns;
- ``G`` filter glints: at a fixed offset along the scan;
- ``C`` halo confusion and electronic stripes (an upper-case ``S`` would escape the
  ``[C-P]`` rule, so stripe artifacts carry ``C``).

Real sources in the same zones get the lower-case letters p, c, d, s; sources with a
close (< 2.5") companion may get ``b`` (bandmerge confusion). Precedence: p > c > d >
s > b (spec 4.4, an assumption there too).

What the in-scan flagging misses (spec 2.5, the reason for the database-wide DB_MAPCOR
pass): very bright stars (true Ks < ``DB_PARENT_KS``) throw diffraction spikes and halo
ghosts farther than the scan's own flagging reaches, and stars just off a scan throw
them onto it with no parent on the scan at all. These artifacts carry ``cc_flg`` '0'
and pass the source filters; only a search around the very bright stars of other scans
and of the bright-star list (``bright_stars.parquet``) finds them. They are the
parent's light, so they have its colours, and their brightness falls with the distance
from it: in each band ``m_parent + DB_ARTIFACT_DM + 2.5 log10(r / 20")`` (scatter 0.2
mag, 0.03 mag between bands), which the release tests within 0.7 mag and its colours
within 0.2 mag (sql/release/40_artifacts.sql). Spikes run along the arrays' rows and
columns up to ``DB_SPIKE_ARCSEC x 10**(0.2 (DB_PARENT_KS - Ks))`` (from beyond the
in-scan reach of a parent on the scan, from 20" of a parent off it); halo ghosts of off-scan
parents lie within ``DB_HALO_ARCSEC x 10**(0.2 (DB_PARENT_KS - Ks))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARENT_KS = 8.0
FRAME_STEP_ARCSEC = 83.0
NOISE_PER_DEG2 = 12_300.0
#: Noise peaks: detection threshold and e-folding of the S/N above it [sigma].
NOISE_THRESHOLD_SNR, NOISE_SNR_SCALE = 3.0, 1.0 / 3.0
COSMIC_PER_DEG2 = 20.0
METEOR_PER_SCAN = 0.03
#: Row kinds of spurious extractions (after the sky.KIND_* codes of true sources).
KIND_NOISE, KIND_COSMIC_RAY, KIND_METEOR, KIND_ARTIFACT = 10, 11, 12, 13
#: Furthest any artifact lies from its parent [arcsec] (persistence at two frames).
MAX_REACH_ARCSEC = 2 * FRAME_STEP_ARCSEC + 20.0
PRECEDENCE = "pcdsb"
#: Very bright parents whose far artifacts only the database-wide pass finds (spec 2.5:
#: "<= 5-6 mag"), their spike length and halo radius at Ks = DB_PARENT_KS [arcsec]
#: (growing as the square root of the flux), and the artifacts' magnitude offset.
DB_PARENT_KS = 6.0
DB_SPIKE_ARCSEC, DB_HALO_ARCSEC = 120.0, 25.0
DB_ARTIFACT_DM = 7.0


@dataclass
class Spurious:
    """Spurious detections in scan coordinates, before measurement."""

    x: np.ndarray
    y: np.ndarray
    mag: np.ndarray  # (n, 3) magnitudes that give their S/N
    detected: np.ndarray  # (n, 3)
    psfchi: np.ndarray  # (n,) profile-fit chi^2 scale
    letter: np.ndarray  # (n,) cc_flg letter in detected bands ('0' for none)
    kind: np.ndarray  # (n,) int8 row kind code


def _rows(x, y, mag, detected, psfchi, letter, kind) -> Spurious:
    n = len(x)
    return Spurious(np.asarray(x, float), np.asarray(y, float), mag, detected,
                    np.asarray(psfchi, float), np.full(n, letter), np.full(n, kind, np.int8))


def _single_band(rng, n, weights=(0.3, 0.45, 0.25)) -> np.ndarray:
    band = rng.choice(3, size=n, p=weights)
    det = np.zeros((n, 3), bool)
    det[np.arange(n), band] = True
    return det


def spurious(rng: np.random.Generator, area_deg2: float, length_arcsec: float,
             half_width_arcsec: float, msnr10: np.ndarray, parents: np.ndarray,
             very_bright: np.ndarray | None = None) -> Spurious:
    """Noise peaks, cosmic rays, meteor trails and bright-star artifacts of one scan.

    ``parents`` is an (m, 3) array of (x_scan, y_scan, Ks) of bright stars the scan
    detected; ``very_bright`` an (k, 6) array of (x_scan, y_scan, J, H, Ks, on_scan) of
    the stars brighter than ``DB_PARENT_KS`` on or near the scan.
    """
    parts = []
    n = rng.poisson(NOISE_PER_DEG2 * area_deg2)
    snr = NOISE_THRESHOLD_SNR + rng.exponential(NOISE_SNR_SCALE, n)
    mag = msnr10 + 2.5 * np.log10(10.0 / snr)[:, None]
    parts.append(_rows(rng.uniform(-half_width_arcsec, half_width_arcsec, n),
                       rng.uniform(0, length_arcsec, n), mag, _single_band(rng, n),
                       rng.lognormal(0.1, 0.3, n), "0", KIND_NOISE))
    n = rng.poisson(COSMIC_PER_DEG2 * area_deg2)
    parts.append(_rows(rng.uniform(-half_width_arcsec, half_width_arcsec, n),
                       rng.uniform(0, length_arcsec, n),
                       np.repeat(rng.uniform(10.0, 15.0, (n, 1)), 3, axis=1),
                       _single_band(rng, n, (1 / 3, 1 / 3, 1 / 3)),
                       rng.uniform(30.0, 300.0, n), "0", KIND_COSMIC_RAY))
    if rng.random() < METEOR_PER_SCAN:
        k = int(rng.integers(20, 60))
        x0, y0 = rng.uniform(-half_width_arcsec, half_width_arcsec), rng.uniform(0, length_arcsec)
        angle = rng.uniform(0, np.pi)
        t = np.arange(k) * rng.uniform(3.0, 6.0)
        det = np.zeros((k, 3), bool)
        det[:, rng.integers(0, 3)] = True
        parts.append(_rows(x0 + t * np.cos(angle), y0 + t * np.sin(angle),
                           np.repeat(rng.uniform(11.0, 15.5, (k, 1)), 3, axis=1), det,
                           rng.uniform(30.0, 100.0, k), "0", KIND_METEOR))
    for px, py, ks in parents:
        parts.extend(_parent_artifacts(rng, px, py, ks))
    for px, py, j, h, ks, on_scan in (very_bright if very_bright is not None else ()):
        parts.extend(_far_artifacts(rng, px, py, np.array([j, h, ks]), bool(on_scan)))
    return Spurious(*[np.concatenate([getattr(p, f) for p in parts])
                      for f in Spurious.__dataclass_fields__])


def _parent_artifacts(rng: np.random.Generator, px: float, py: float, ks: float
                      ) -> list[Spurious]:
    out = []
    faint = lambda k: np.repeat(rng.uniform(12.5, 15.5, (k, 1)), 3, axis=1)  # noqa: E731
    three = lambda k: np.ones((k, 3), bool)  # noqa: E731
    k = 1 + int(ks < 6.0)
    steps = np.arange(1, k + 1) * FRAME_STEP_ARCSEC
    out.append(_rows(px + rng.normal(0, 1.0, k), py - steps, faint(k), three(k),
                     rng.uniform(1.0, 4.0, k), "P", KIND_ARTIFACT))
    if ks < 7.5:
        k = 2 + int(3 * (7.5 - ks))
        r = rng.uniform(12.0, 30.0 + 20.0 * (8.0 - ks), k)
        axis = rng.integers(0, 4, k)
        dx = np.where(axis == 0, r, np.where(axis == 1, -r, 0.0)) + rng.normal(0, 1.0, k)
        dy = np.where(axis == 2, r, np.where(axis == 3, -r, 0.0)) + rng.normal(0, 1.0, k)
        out.append(_rows(px + dx, py + dy, faint(k), three(k), rng.uniform(1.0, 6.0, k),
                         "D", KIND_ARTIFACT))
    if rng.random() < 0.3:
        out.append(_rows([px + rng.normal(20.0, 2.0)], [py + rng.normal(120.0, 5.0)],
                         faint(1), three(1), [rng.uniform(1.0, 3.0)], "G", KIND_ARTIFACT))
    k = int(rng.integers(1, 5))
    r, a = rng.uniform(8.0, 25.0, k), rng.uniform(0, 2 * np.pi, k)
    out.append(_rows(px + r * np.cos(a), py + r * np.sin(a), faint(k), three(k),
                     rng.uniform(1.0, 6.0, k), "C", KIND_ARTIFACT))
    if ks < 6.0:
        k = int(rng.integers(2, 6))
        out.append(_rows(px + rng.uniform(-150.0, 150.0, k), py + rng.normal(0, 1.0, k),
                         faint(k), three(k), rng.uniform(2.0, 8.0, k), "C", KIND_ARTIFACT))
    return out


def db_reach(ks: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Spike length and halo radius [arcsec] of very bright parents of magnitude ``ks``."""
    scale = 10.0 ** (0.2 * (DB_PARENT_KS - np.asarray(ks, float)))
    return DB_SPIKE_ARCSEC * scale, DB_HALO_ARCSEC * scale


def _far_artifacts(rng: np.random.Generator, px: float, py: float, parent: np.ndarray,
                   on_scan: bool) -> list[Spurious]:
    """Artifacts of a very bright parent (J, H, Ks ``parent``) that the in-scan flags
    miss (cc_flg '0')."""
    ks = float(parent[2])
    spike, halo = db_reach(ks)
    three = lambda k: np.ones((k, 3), bool)  # noqa: E731
    mag = lambda r: (parent[None, :] + (DB_ARTIFACT_DM + 2.5 * np.log10(r / 20.0)  # noqa: E731
                                        + rng.normal(0.0, 0.2, len(r)))[:, None]
                     + rng.normal(0.0, 0.03, (len(r), 3)))
    # (on the scan, the in-scan 'D' spikes reach 30 + 20 (PARENT_KS - Ks) arcsec)
    start = 30.0 + 20.0 * (PARENT_KS - ks) if on_scan else 20.0
    out = []
    k = 3 + int(3 * (DB_PARENT_KS - ks))
    r = rng.uniform(start, max(start, spike), k)
    axis = rng.integers(0, 4, k)
    dx = np.where(axis == 0, r, np.where(axis == 1, -r, 0.0)) + rng.normal(0, 1.0, k)
    dy = np.where(axis == 2, r, np.where(axis == 3, -r, 0.0)) + rng.normal(0, 1.0, k)
    out.append(_rows(px + dx, py + dy, mag(r), three(k), rng.uniform(1.0, 3.0, k), "0",
                     KIND_ARTIFACT))
    if not on_scan:
        k = 2 + int(2 * (DB_PARENT_KS - ks))
        r, a = rng.uniform(10.0, halo, k), rng.uniform(0, 2 * np.pi, k)
        out.append(_rows(px + r * np.cos(a), py + r * np.sin(a), mag(r), three(k),
                         rng.uniform(1.0, 3.0, k), "0", KIND_ARTIFACT))
    return out


def contamination(x: np.ndarray, y: np.ndarray, parents: np.ndarray,
                  confused: np.ndarray) -> np.ndarray:
    """Lower-case ``cc_flg`` letter per real row ('0' when unaffected)."""
    letter = np.full(len(x), "0")
    rank = np.full(len(x), len(PRECEDENCE))
    rank[confused] = PRECEDENCE.index("b")
    for px, py, ks in parents:
        dx, dy = x - px, y - py
        r = np.hypot(dx, dy)
        zones = {
            "p": (np.abs(dx) < 5.0) & (np.abs(dy + FRAME_STEP_ARCSEC) < 5.0),
            "c": (r > 2.5) & (r < 20.0 + 8.0 * (PARENT_KS - ks)),
            "d": (r > 2.5) & (r < 30.0 + 20.0 * (PARENT_KS - ks))
            & ((np.abs(dx) < 3.0) | (np.abs(dy) < 3.0)),
            "s": (ks < 6.0) & (np.abs(dy) < 3.0) & (np.abs(dx) > 2.5) & (np.abs(dx) < 150.0),
        }
        for code, zone in zones.items():
            rank = np.where(zone, np.minimum(rank, PRECEDENCE.index(code)), rank)
    has = rank < len(PRECEDENCE)
    letter[has] = np.array(list(PRECEDENCE))[rank[has]]
    return letter
