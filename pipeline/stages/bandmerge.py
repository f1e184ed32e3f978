"""Band merging (spec §1.10): one source per object from the J, H and Ks source lists.

Detections of different bands within ``MATCH_ARCSEC`` are candidates for one another.
They are joined nearest pair first, and a join that would put two detections of one band
into a source is refused: a chain (J1-H1-J2) or a pair resolved in one band but not in
another ends as separate sources, the single detection going with its nearest partner.
A detection with more than one candidate in another band is bandmerge-confused
(``cc_flg`` 'b' in its band); a source left without a band whose detection went to a
neighbour gets ``rd_flg`` 6 there (detected, not deblended consistently with the other
bands). ``cnf_flg`` counts each band's candidates in the two other bands.

The position is the mean of the bands' positions weighted by their inverse variances
(which come from the flux S/N), and the error ellipse is that mean's, with the
registration's systematic error added.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.spatial import cKDTree

from twomass.pipeline.sim import scanframe

MATCH_ARCSEC = 2.0
#: Frame registration error common to the three bands (frame centres against the
#: truth: 43-76 mas rms per coordinate).
SYSTEMATIC_ARCSEC = 0.07
#: cnf_flg digits: (seed band, other band) in the order of the column.
CNF_PAIRS = ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))


@dataclass
class BandSources:
    """One band's sources of one scan, measured (arrays of equal length).

    ``scansources.measure_band`` fills it: Atlas Image detection, profile-fit and
    bright-star photometry.
    """

    ra: np.ndarray  # [deg]
    dec: np.ndarray
    sigma_ra: np.ndarray  # 1-sigma position error along RA [arcsec]
    sigma_dec: np.ndarray  # [arcsec]
    mag: np.ndarray  # default magnitude (NaN: no usable brightness, rd 9)
    msig: np.ndarray  # its measurement uncertainty [mag]
    cmsig: np.ndarray  # msig corrected by the scan's measured scatter [mag]
    snr: np.ndarray  # measurement S/N
    rd: np.ndarray  # rd_flg digit (int)
    bl: np.ndarray  # bl_flg digit (int)
    psfchi: np.ndarray  # reduced chi^2 of the profile (NaN: none)
    m_stdap: np.ndarray  # 4" standard-aperture magnitude [mag]
    msig_stdap: np.ndarray
    ndet: np.ndarray  # two ndet digits (str)
    coadd: np.ndarray  # Atlas Image the source was measured on (int)
    #: The scan's calibration error of the magnitude beyond the zero point [mag]: the
    #: profile fit's flux scale (``psffit.ProfileFit.scale_err``) for rd_flg 2, else 0.
    msig_cal: np.ndarray

    def __len__(self) -> int:
        return len(self.ra)

    def take(self, index: np.ndarray) -> BandSources:
        return BandSources(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Merged:
    """Band-merged sources of one scan."""

    index: np.ndarray  # (n, 3) row of each band's BandSources, -1 where none
    ra: np.ndarray
    dec: np.ndarray
    err_maj: np.ndarray  # [arcsec]
    err_min: np.ndarray
    err_ang: np.ndarray  # [deg] E of N, 0..180
    confused: np.ndarray  # (n, 3) bool: cc_flg 'b'
    inconsistent: np.ndarray  # (n, 3) bool: a detection of the band went to a neighbour
    cnf: np.ndarray  # (n, 6) int


def merge_bands(bands: list[BandSources], ra0: float,
                radius_arcsec: float = MATCH_ARCSEC) -> Merged:
    """Merge three bands' sources (scan meridian ``ra0`` for the local plane)."""
    xy = [np.column_stack(scanframe.to_scan(ra0, b.ra, b.dec)) * 3600.0 for b in bands]
    band = np.concatenate([np.full(len(b), i) for i, b in enumerate(bands)]).astype(int)
    row = np.concatenate([np.arange(len(b)) for b in bands]).astype(int)
    pos = np.concatenate(xy) if len(band) else np.zeros((0, 2))
    pairs = cKDTree(pos).query_pairs(radius_arcsec, output_type="ndarray") \
        if len(band) > 1 else np.zeros((0, 2), int)
    pairs = pairs[band[pairs[:, 0]] != band[pairs[:, 1]]]
    # Candidates per detection and band: the confusion counts.
    candidates = np.zeros((len(band), 3), int)
    for a, b in ((0, 1), (1, 0)):
        np.add.at(candidates, (pairs[:, a], band[pairs[:, b]]), 1)
    # Joins, nearest first, never two detections of one band in a source.
    d = np.hypot(*(pos[pairs[:, 0]] - pos[pairs[:, 1]]).T)
    parent = np.arange(len(band))
    members = np.zeros((len(band), 3), int) - 1
    members[np.arange(len(band)), band] = np.arange(len(band))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for k in np.argsort(d, kind="stable"):
        ra_, rb_ = root(pairs[k, 0]), root(pairs[k, 1])
        if ra_ == rb_ or ((members[ra_] >= 0) & (members[rb_] >= 0)).any():
            continue
        parent[rb_] = ra_
        members[ra_] = np.maximum(members[ra_], members[rb_])
    roots = np.unique([root(i) for i in range(len(band))]).astype(int)
    groups = members[roots]  # (n, 3) detection numbers
    n = len(groups)
    index = np.where(groups >= 0, row[np.maximum(groups, 0)], -1)
    det = groups >= 0
    confused = np.zeros((n, 3), bool)
    cnf = np.zeros((n, 6), int)
    wanted = np.zeros((n, 3), bool)  # some member has a candidate in the band
    for b in range(3):
        g = np.maximum(groups[:, b], 0)
        confused[:, b] = det[:, b] & (candidates[g] > 1).any(axis=1)
        wanted |= det[:, b][:, None] & (candidates[g] > 0)
    for j, (s, o) in enumerate(CNF_PAIRS):
        cnf[:, j] = np.where(det[:, s], candidates[np.maximum(groups[:, s], 0), o], 0)
    inconsistent = wanted & ~det
    ra, dec, err = _weighted_positions(bands, index, ra0)
    return Merged(index, ra, dec, *err, confused, inconsistent, np.minimum(cnf, 9))


def _weighted_positions(bands: list[BandSources], index: np.ndarray, ra0: float):
    """Inverse-variance mean position per source and its error ellipse."""
    n = len(index)
    sum_w = np.zeros((n, 2))
    sum_wx = np.zeros((n, 2))
    for b, sources in enumerate(bands):
        has = index[:, b] >= 0
        i = index[has, b]
        xi, phi = scanframe.to_scan(ra0, sources.ra[i], sources.dec[i])
        w = 1.0 / np.column_stack([sources.sigma_ra[i], sources.sigma_dec[i]]) ** 2
        sum_w[has] += w
        sum_wx[has] += w * np.column_stack([xi, phi])
    mean = sum_wx / sum_w
    ra, dec = scanframe.to_radec(ra0, mean[:, 0], mean[:, 1])
    sig = np.sqrt(1.0 / sum_w + SYSTEMATIC_ARCSEC**2)  # (east, north) [arcsec]
    major_north = sig[:, 1] >= sig[:, 0]
    err_maj = np.where(major_north, sig[:, 1], sig[:, 0])
    err_min = np.where(major_north, sig[:, 0], sig[:, 1])
    err_ang = np.where(major_north, 0, 90).astype(np.int16)
    return np.asarray(ra) % 360.0, np.asarray(dec), (err_maj, err_min, err_ang)
