"""Extended-source extractions of one scan: the ``ext`` rows with the XSC key columns.

Galaxies are found on the Atlas Images when their fiducial (Ks 20 mag/arcsec^2
isophote) photometry reaches the extended-source depth, brighter than
the point-source S/N = 10 level (the XSC quotes 15.0/14.3/13.5 against 15.8/15.1/14.3;
we take 1.2 mag with 50% completeness at S/N 8, giving ~1.6 extended rows per XSC-like
source as in the 2MASS extended WDB), and worse
for large, low surface-brightness galaxies. Spurious extended sources: close star
pairs mistaken for resolved objects (point-like ``e_score``), and bright-star halo
and spike debris (``cc_flg`` 'C' or 'D').
"""

from __future__ import annotations

import numpy as np

from twomass.core.sphere import close_pairs
from twomass.pipeline.sim import photometry, scanframe
from twomass.pipeline.sim.artifacts import PARENT_KS
from twomass.pipeline.sim.extraction import ScanRows, _scan_to_radec
from twomass.pipeline.sim.footprint import COADD_STEP_ARCSEC, SCAN_RATE_ARCSEC_S, Footprint
from twomass.pipeline.sim.sky import KIND_GALAXY, KIND_STAR, Sources

EXTENDED_DEPTH_OFFSET = 1.2
#: Extended-source detection: logistic in the fiducial S/N, 50% at EXTENDED_SNR50.
EXTENDED_SNR50, EXTENDED_SNR_WIDTH = 8.0, 0.75


def extract_ext(fp: Footprint, src: Sources, pts: ScanRows, rng: np.random.Generator,
                log_density: float) -> dict[str, np.ndarray]:
    """The scan's ``ext`` columns (NaN or -1 = NULL), ids 1..N along the scan."""
    scan = fp.scan
    gal = src.take(src.kind == KIND_GALAXY)
    x, y, cov = fp.place(gal.ra, gal.dec)
    on = cov.all(axis=1)
    gal, x, y = gal.take(on), x[on], y[on]
    m20 = gal.mag + 0.15
    depth = scan.msnr10 - EXTENDED_DEPTH_OFFSET - 0.5 * np.log10(
        np.maximum(gal.radius_arcsec, 5.0) / 5.0)[:, None]
    snr = photometry.snr_of(m20, depth)
    found = rng.random(len(gal)) < 1.0 / (1.0 + np.exp(
        -(snr.max(axis=1) - EXTENDED_SNR50) / EXTENDED_SNR_WIDTH))
    gal, x, y, m20, snr = gal.take(found), x[found], y[found], m20[found], snr[found]
    r = gal.radius_arcsec * np.exp(rng.normal(0.0, 0.05, len(gal)))
    e_score = np.clip(1.0 + 0.45 * np.exp(-(r - 5.0) / 6.0) + rng.normal(0, 0.05, len(r)),
                      0.8, 2.0)
    g_score = np.clip(e_score + rng.normal(0.0, 0.05, len(r)), 0.8, 2.0)
    ba, pa = gal.ba, gal.pa
    cc = np.full(len(gal), "0")
    # Star pairs taken for resolved sources.
    stars = pts.kind == KIND_STAR
    sx, sy = pts.columns["x_scan"][stars], pts.columns["y_scan"][stars]
    sk = pts.columns["k_m"][stars]
    i, j, _ = close_pairs(scanframe.frame_vectors(sx, sy), 4.0)
    pick = (np.nan_to_num(sk[i], nan=99.0) < 14.0) & (np.nan_to_num(sk[j], nan=99.0) < 14.0)
    pick &= rng.random(len(i)) < 0.5
    i, j = i[pick], j[pick]
    px, py = 0.5 * (sx[i] + sx[j]), 0.5 * (sy[i] + sy[j])
    pmag = np.column_stack([np.full(len(i), 0.0)] * 3) + (np.minimum(sk[i], sk[j]) - 0.3
                                                          )[:, None] + np.array([0.8, 0.2, 0.0])
    # Bright-star debris.
    bright = stars & (np.nan_to_num(pts.columns["k_m"], nan=99.0) < PARENT_KS)
    bx, by = pts.columns["x_scan"][bright], pts.columns["y_scan"][bright]
    debris = rng.random(len(bx)) < 0.4
    bx, by = bx[debris], by[debris]
    ang = rng.uniform(0, 2 * np.pi, len(bx))
    rad = rng.uniform(10.0, 30.0, len(bx))
    bx, by = bx + rad * np.cos(ang), by + rad * np.sin(ang)
    bmag = rng.uniform(12.0, 14.0, (len(bx), 1)) + np.array([0.8, 0.3, 0.0])

    ra_g, dec_g = gal.ra, gal.dec
    ra_p, dec_p = _scan_to_radec(fp, px, py)
    ra_b, dec_b = _scan_to_radec(fp, bx, by)
    n_g, n_p, n_b = len(gal), len(px), len(bx)
    n = n_g + n_p + n_b
    ra = np.concatenate([ra_g, ra_p, ra_b])
    dec = np.concatenate([dec_g, dec_p, dec_b])
    xx = np.concatenate([x, px, bx])
    yy = np.concatenate([y, py, by])
    mag = np.vstack([m20, pmag, bmag])
    snr_all = np.vstack([snr, photometry.snr_of(pmag, scan.msnr10 - EXTENDED_DEPTH_OFFSET),
                         photometry.snr_of(bmag, scan.msnr10 - EXTENDED_DEPTH_OFFSET)])
    radius = np.concatenate([r, rng.uniform(5.0, 8.0, n_p), rng.uniform(6.0, 20.0, n_b)])
    ba = np.concatenate([ba, rng.uniform(0.4, 0.7, n_p), rng.uniform(0.3, 1.0, n_b)])
    pa = np.concatenate([pa, rng.uniform(0, 180, n_p), rng.uniform(0, 180, n_b)])
    e_score = np.concatenate([e_score, rng.uniform(1.4, 1.95, n_p), rng.uniform(1.0, 1.6, n_b)])
    g_score = np.concatenate([g_score, rng.uniform(1.5, 2.0, n_p), rng.uniform(1.3, 2.0, n_b)])
    cc = np.concatenate([cc, np.full(n_p, "0"), np.where(rng.random(n_b) < 0.5, "C", "D")])
    sigma = np.minimum(1.0857 / np.maximum(snr_all, 0.5), 2.0)
    m_meas = mag + rng.standard_normal((n, 3)) * sigma
    pos = rng.normal(0.0, 0.5, (2, n)) / 3600.0
    sup = rng.normal(0.0, 0.3, (2, n)) / 3600.0
    cosd = np.maximum(np.cos(np.radians(dec)), 1e-6)
    dist_ns, dist_ew, flg = scanframe.edge_distances(ra, dec, fp.corners(), scan.sd)
    coadd = (1 + np.floor(yy / COADD_STEP_ARCSEC)).astype(np.int16)

    pts_id = np.full(n, -1, np.int64)
    if n_g and len(pts.source_id):
        order = np.argsort(pts.source_id, kind="stable")
        sid = pts.source_id[order]
        where = np.minimum(np.searchsorted(sid, gal.id), len(sid) - 1)
        pts_id[:n_g] = np.where(sid[where] == gal.id, pts.columns["id"][order][where], -1)

    cols: dict[str, np.ndarray] = {
        "scan": np.full(n, scan.scan), "coadd": coadd,
        "ra": (ra + pos[0] / cosd) % 360.0, "dec": np.clip(dec + pos[1], -90, 90),
        "sup_ra": (ra + sup[0] / cosd) % 360.0, "sup_dec": np.clip(dec + sup[1], -90, 90),
        "pts_id": pts_id, "jdate": scan.jdate + yy / SCAN_RATE_ARCSEC_S / 86400.0,
        "x_coadd": 256.5 - xx, "y_coadd": yy - (coadd - 1) * COADD_STEP_ARCSEC + 27.0,
        "density": np.full(n, log_density), "r_k20fe": radius,
    }
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_m_k20fe"] = m_meas[:, i_b]
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_msig_k20fe"] = sigma[:, i_b]
    for b in "jhk":
        cols[f"{b}_flg_k20fe"] = np.where(cc == "0", 0, 4)
    m7 = m_meas + np.maximum(0.0, 1.2 * np.log10(radius / 5.0))[:, None]
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_m_7"] = m7[:, i_b]
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_msig_7"] = 0.8 * sigma[:, i_b]
    cols["r_3sig"] = 1.3 * radius
    for b in "jhk":
        cols[f"{b}_ba"] = np.clip(ba + rng.normal(0, 0.04, n), 0.1, 1.0)
    for b in "jhk":
        cols[f"{b}_phi"] = np.round(pa + rng.normal(0, 4.0, n)).astype(int) % 180
    cols["sup_ba"] = np.clip(ba + rng.normal(0, 0.02, n), 0.1, 1.0)
    cols["sup_phi"] = np.round(pa).astype(int) % 180
    cols["r_ext"] = 2.0 * radius
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_m_ext"] = m_meas[:, i_b] - 0.25
    for i_b, b in enumerate("jhk"):
        cols[f"{b}_msig_ext"] = 1.3 * sigma[:, i_b]
    cols["e_score"], cols["g_score"] = e_score, g_score
    cols["vc"] = np.full(n, -1)
    cols["cc_flg"] = cc
    cols["dist_edge_ns"], cols["dist_edge_ew"], cols["dist_edge_flg"] = dist_ns, dist_ew, flg
    cols["mp_flg"] = np.zeros(n, np.int16)
    order = np.argsort(yy, kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    cols["id"] = np.arange(1, n + 1, dtype=np.int32)
    return cols
