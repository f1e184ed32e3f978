"""Point-source extractions of one scan: the band-merged ``pts`` rows.

Each true source the scan covers is detected per band with a probability set by its
S/N in that scan (:func:`photometry.detection_probability`); a source detected in
any band becomes one band-merged row. Spurious rows (:mod:`artifacts`) go through
the same measurement. Ids are 1..N in order along the scan (y_scan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twomass.core.sphere import neighbour_counts
from twomass.pipeline.sim import artifacts, photometry, scanframe, transients
from twomass.pipeline.sim.footprint import COADD_STEP_ARCSEC, SCAN_RATE_ARCSEC_S, Footprint
from twomass.pipeline.sim.sky import KIND_GALAXY, KIND_MINOR_PLANET, KIND_STAR, Sources

KNOWN_MINOR_PLANET = 0.85
#: Frame detections: the scan S/N at which half the frames see a source, and the width.
FRAME_SNR50, FRAME_SNR_WIDTH = 18.0, 3.0
#: The per-scan cmsig floor [mag], drawn per band: 2MASS's 0.02-0.03 mag for bright
#: unsaturated stars (real PSC rows at S/N > 200: median cmsig 0.018-0.025). The pixel
#: pipeline measures 0.011-0.012 there (bench_pixel_catalog), with the raw-frame
#: simulator's PSF variation the profile fit follows only in part (0.006 without it).
CMSIG_FLOOR = (0.018, 0.026)
#: Row kinds seen on a single frame.
SINGLE_FRAME_KINDS = (artifacts.KIND_COSMIC_RAY, artifacts.KIND_METEOR,
                      transients.KIND_TRANSIENT)


@dataclass
class ScanRows:
    """A scan's pts columns (product names; NaN = NULL) and bookkeeping."""

    columns: dict[str, np.ndarray]
    source_id: np.ndarray  # true source id per row, -1 for spurious rows
    kind: np.ndarray  # row kind: sky.KIND_* or artifacts codes 10-13
    covered_id: np.ndarray  # ids of true sources the scan covered (any band)


def point_mag(src: Sources) -> np.ndarray:
    """Magnitudes a PSF fit sees: galaxies lose flux outside the profile."""
    loss = np.where(src.kind == KIND_GALAXY,
                    0.75 * np.log10(1.0 + (src.radius_arcsec / 4.0) ** 2), 0.0)
    return src.mag + loss[:, None]


def extract(fp: Footprint, src: Sources, rng: np.random.Generator,
            inside: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ScanRows:
    """Detect, measure and flag every extraction of the scan ``fp``.

    ``inside(ra, dec)`` says where the simulated sky exists; spurious rows outside it
    are dropped, as the true sources there were never generated.
    """
    scan = fp.scan
    msnr10 = scan.msnr10
    shape = np.array([scan.columns[f"{b}_shape_avg"] for b in "jhk"])
    x, y, covered = fp.place(src.ra, src.dec)
    very = (src.kind == KIND_STAR) & (src.mag[:, 2] < artifacts.DB_PARENT_KS)
    very_bright = np.column_stack([x[very], y[very], src.mag[very], covered[very].any(axis=1)])
    on = covered.any(axis=1)
    src, x, y, covered = src.take(on), x[on], y[on], covered[on]
    mag = point_mag(src)
    snr = photometry.snr_of(mag, msnr10)
    saturated = mag < photometry.SATURATE_R2
    detected = covered & ((rng.random(mag.shape) < photometry.detection_probability(snr))
                          | saturated)
    real = detected.any(axis=1)
    bright = real & (src.kind == KIND_STAR) & (src.mag[:, 2] < artifacts.PARENT_KS)
    parents = np.column_stack([x[bright], y[bright], src.mag[bright, 2]])
    lo, hi = fp.phi_range
    half = fp.half_width_deg * 3600.0
    spur = artifacts.spurious(rng, fp.area_deg2(), (hi - lo) * 3600.0, half, msnr10, parents,
                              very_bright)
    spur = transients.with_bright(spur, rng, fp.area_deg2(), (hi - lo) * 3600.0, half)
    # Spurious rows must lie where the arrays looked, and inside the simulated sky.
    ra_s, dec_s = _scan_to_radec(fp, spur.x, spur.y)
    xs, ys, cov_s = fp.place(ra_s, dec_s)
    keep = (cov_s & spur.detected).any(axis=1) & inside(ra_s, dec_s)
    n_real = int(real.sum())
    ra = np.concatenate([src.ra[real], ra_s[keep]])
    dec = np.concatenate([src.dec[real], dec_s[keep]])
    xx = np.concatenate([x[real], xs[keep]])
    yy = np.concatenate([y[real], ys[keep]])
    mag_all = np.vstack([mag[real], spur.mag[keep]])
    det_all = np.vstack([detected[real], (spur.detected & cov_s)[keep]])
    cov_all = np.vstack([covered[real], cov_s[keep]])
    kind = np.concatenate([src.kind[real], spur.kind[keep]])
    n = len(ra)

    frame = scanframe.frame_vectors(xx, yy)
    near3 = neighbour_counts(frame, 3.0)
    blends = neighbour_counts(frame, 5.0)
    floor = rng.uniform(*CMSIG_FLOOR, 3)
    ph = photometry.measure(rng, mag_all, det_all, cov_all, msnr10, shape, near3 > 0, floor,
                            exact=kind == artifacts.KIND_NOISE)
    rd = ph["rd"]

    confused = (neighbour_counts(frame, 2.5) > 0) & (rng.random(n) < 0.5)
    letter = np.concatenate([artifacts.contamination(xx[:n_real], yy[:n_real], parents,
                                                     confused[:n_real]), spur.letter[keep]])
    band_ok = (rd != 0)
    cc = np.where(band_ok, letter[:, None], "0")

    chi_scale = np.ones(n)
    chi_scale[n_real:] = spur.psfchi[keep]
    is_gal = kind == KIND_GALAXY
    src_r = np.zeros(n)
    src_r[:n_real] = src.radius_arcsec[real]
    chi_scale = np.where(is_gal, 1.0 + src_r / 5.0, chi_scale)
    chi_scale = np.where(kind == KIND_MINOR_PLANET, 1.3, chi_scale)
    psfchi = rng.lognormal(0.0, 0.25, (n, 3)) * (chi_scale * (1 + 0.3 * blends))[:, None]
    psfchi = np.where(rd == 2, psfchi, np.nan)

    ndet = _ndet(rng, rd, ph["snr_true"], kind)
    snr_best = np.nanmax(np.where(np.isnan(ph["snr"]), 1.0, ph["snr"]), axis=1)
    err_maj = np.hypot(0.07, 1.3 / np.maximum(snr_best, 1.0))
    err_min = err_maj * rng.uniform(0.7, 1.0, n)
    sig = err_maj / 3600.0
    dec_m = np.clip(dec + rng.normal(0.0, 1.0, n) * sig, -90.0, 90.0)
    ra_m = (ra + rng.normal(0.0, 1.0, n) * sig / np.maximum(np.cos(np.radians(dec)), 1e-6)
            ) % 360.0
    dist_ns, dist_ew, flg = scanframe.edge_distances(ra_m, dec_m, fp.corners(), scan.sd)

    cols: dict[str, np.ndarray] = {
        "scan": np.full(n, scan.scan), "ra": ra_m, "dec": dec_m,
        "err_maj": err_maj, "err_min": err_min, "err_ang": rng.integers(0, 180, n),
    }
    for i, b in enumerate("jhk"):
        for name in ("m", "cmsig", "msigcom", "snr", "msig"):
            cols[f"{b}_{name}"] = ph[name][:, i]
    cols["rd_flg"] = _join(rd.astype(str))
    bl = np.where(rd == 2, np.minimum(1 + blends, 7)[:, None], np.where(
        (rd == 0) | (rd == 6), 0, 1))
    cols["bl_flg"] = _join(bl.astype(str))
    cols["cc_flg"] = _join(cc)
    cols["ndet"] = ndet
    cols["cnf_flg"] = _cnf(rd, confused)
    mp_known = (kind == KIND_MINOR_PLANET) & (rng.random(n) < KNOWN_MINOR_PLANET)
    cols["mp_flg"] = mp_known.astype(np.int16)
    cols["x_scan"], cols["y_scan"] = xx, yy
    cols["jdate"] = scan.jdate + yy / SCAN_RATE_ARCSEC_S / 86400.0
    for i, b in enumerate("jhk"):
        cols[f"{b}_psfchi"] = psfchi[:, i]
    for i, b in enumerate("jhk"):
        cols[f"{b}_m_stdap"] = ph["m_stdap"][:, i]
    for i, b in enumerate("jhk"):
        cols[f"{b}_msig_stdap"] = ph["msig_stdap"][:, i]
    cols["dist_edge_ns"], cols["dist_edge_ew"], cols["dist_edge_flg"] = dist_ns, dist_ew, flg
    cols["coadd"] = (1 + np.floor(yy / COADD_STEP_ARCSEC)).astype(np.int16)
    cols.update(_optical(rng, mag_all, kind))
    source_id = np.concatenate([src.id[real], np.full(int(keep.sum()), -1, np.int64)])
    order = np.argsort(yy, kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    cols["id"] = np.arange(1, n + 1, dtype=np.int32)
    return ScanRows(cols, source_id[order], kind[order], src.id)


def _scan_to_radec(fp: Footprint, x: np.ndarray, y: np.ndarray):
    sign = 1.0 if fp.scan.sd == "n" else -1.0
    phi = fp.scan.phi_start + sign * y / 3600.0
    xi = -x / 3600.0 + fp.track(phi)
    return scanframe.to_radec(fp.scan.ra0, xi, phi)


def _join(chars: np.ndarray) -> np.ndarray:
    """Join an (n, k) array of one-character strings row-wise."""
    out = chars[:, 0].astype(object)
    for k in range(1, chars.shape[1]):
        out = out + chars[:, k].astype(object)
    return out.astype(str)


def _ndet(rng, rd, snr_true, kind) -> np.ndarray:
    """Frame detections "NM" per band: N detected (>3 sigma) of M possible frames.

    As real PSC rows have them: an upper-limit band (rd_flg 0 or 6) is '00'; a detected
    band is measurable on 5-7 frames and seen on each with a probability rising with the
    scan S/N, about 1 of 6 frames at S/N 10, 2 of 5 at 17, all at 30 (real rows: Polygon
    and fp_psc cones); single-frame events (cosmic rays, meteors, bright transients) on 1.
    """
    n = len(rd)
    m = rng.choice([5, 6, 7], size=(n, 3), p=[0.05, 0.85, 0.10])
    p = 1.0 / (1.0 + np.exp(-(snr_true - FRAME_SNR50) / FRAME_SNR_WIDTH))
    det = rng.binomial(m, np.clip(p, 0.0, 1.0))
    det = np.where((rd == 1) | (rd == 3), m, det)
    single_frame = np.isin(kind, SINGLE_FRAME_KINDS)
    det = np.where(single_frame[:, None], 1, det)
    limit = (rd == 0) | (rd == 6)
    digits = np.stack([np.where(limit, 0, det), np.where(limit, 0, m)], axis=2).reshape(n, 6)
    return _join(digits.astype(str))


def _cnf(rd: np.ndarray, confused: np.ndarray) -> np.ndarray:
    """Band-merge match counts: for each seed band, matches in the two other bands."""
    det = ((rd != 0) & (rd != 6)).astype(int)
    extra = confused.astype(int)
    pairs = [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    digits = np.stack([det[:, s] * (det[:, o] + extra * det[:, o]) for s, o in pairs], axis=1)
    return _join(np.minimum(digits, 9).astype(str))


def _optical(rng, mag: np.ndarray, kind: np.ndarray) -> dict[str, np.ndarray]:
    """Optical association (Tycho-2 'T', USNO-A2.0 'U') from an estimated V."""
    n = len(kind)
    v = mag[:, 0] + 1.7 * (mag[:, 0] - mag[:, 2]) + 0.6
    real = (kind == KIND_STAR) | (kind == KIND_GALAXY)
    tycho = real & (v < 11.5) & (rng.random(n) < 0.95)
    usno = real & ~tycho & (v < 19.5) & (rng.random(n) < 0.9)
    a = np.where(tycho, "T", np.where(usno, "U", "0"))
    has = tycho | usno
    nan = np.full(n, np.nan)
    return {
        "a": a,
        "dist_opt": np.where(has, rng.rayleigh(np.where(tycho, 0.2, 0.45)), nan),
        "phi_opt": np.where(has, rng.integers(0, 360, n), -1),
        "b_m_opt": np.where(has, v + 0.6 + 0.3 * (mag[:, 0] - mag[:, 2]), nan),
        "vr_m_opt": np.where(has, v - 0.4, nan),
        "nopt_mchs": np.where(has, 1 + rng.poisson(0.08, n), 0),
    }
