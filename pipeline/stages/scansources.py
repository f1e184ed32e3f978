"""A scan's point sources, from its Atlas Images to the ``pts`` rows (spec §1.5-1.11).

Per band, :func:`measure_band` fills the band-merge input (``bandmerge.BandSources``):
detection on every Atlas Image of the scan, each source kept on the image whose centre
is nearest along the scan (the images overlap by 54"), the 4" standard aperture as the
default magnitude, ``ndet`` from the frames. It is the one place the extraction methods
meet: profile fitting and bright-star photometry replace its magnitudes when they come.
Then the bands are merged (``bandmerge``), undetected bands get upper limits measured on
their Atlas Image at the merged position, and each source gets its scan coordinates,
distances to the scan's edges and time (:func:`pts_columns`).

Choices until the profile fit exists: the 4" aperture magnitude is reported with
``rd_flg`` 2 (not 4, "profile fit failed", which no catalog rule accepts) and ``psfchi``
is the reduced chi^2 of the best of four Gaussian templates around the measured
seeing, amplitude and background fitted to a 7 x 7" stamp of the Atlas Image
(:func:`profile_chi2`); ``rd_flg`` 1 where Read_2
saturated at the source on some frame (the Atlas Image holds scaled Read_1 pixels there);
9 where the 4" aperture's flux is below 1 sigma (no usable magnitude, as the simulator's
rows have it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import erf

from twomass.pipeline.sim import scanframe
from twomass.pipeline.sim.photometry import FFERR, R1NORM, ZPERR
from twomass.pipeline.stages import atlas, extract, register, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.bandmerge import BandSources, Merged
from twomass.pipeline.stages.photometry import aperture_fluxes

#: Detections of one band closer than this on two overlapping Atlas Images are one source.
DUPLICATE_ARCSEC = 1.5
#: Upper limits: the 4" aperture flux (0 if negative) plus this many sigma (one-sided 95 %
#: is 1.645 sigma for a Gaussian; 2 covers the aperture error's own uncertainty).
UPPER_LIMIT_SIGMA = 2.0
#: The profile chi^2: stamp half-size [1" px] and the PSF model's relative error per
#: pixel (a Gaussian core without the PSF's wing; 2MAPPS's "PSF-error term").
CHI_HALF = 3
PSF_ERROR = 0.2
TEMPLATE_SCALES = (0.9, 1.0, 1.1, 1.2)
MAG_PER_SNR = 2.5 / np.log(10.0)


def measure_band(images: list[atlas.AtlasImage], magzp: float, seeing: float, cal, reg,
                 ra0: float) -> BandSources:
    """One band's sources of a scan, measured (see the module docstring)."""
    centres = image_phi(images, ra0)
    parts = []
    for k, image in enumerate(images):
        det = extract.detect(image)
        _, phi = scanframe.to_scan(ra0, det["ra"], det["dec"])
        det = det[np.argmin(np.abs(phi[:, None] * 3600.0 - centres[None, :]), axis=1) == k] \
            if len(det) else det
        ap = extract.aperture_photometry_radii(image, det["ra"], det["dec"], magzp)
        std = int(np.flatnonzero(ap.radii_arcsec == extract.STANDARD_ARCSEC)[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = ap.flux[:, std] / ap.flux_err[:, std]
        parts.append({"ra": det["ra"], "dec": det["dec"], "peak_snr": det["snr"],
                      "mag": ap.mag, "msig": ap.mag_err, "snr": snr,
                      "psfchi": profile_chi2(image, det["x"], det["y"], seeing),
                      "coadd": np.full(len(det), image.number)})
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    keep = _unique(cols["ra"], cols["dec"], cols["peak_snr"], cols["coadd"], ra0)
    cols = {k: v[keep] for k, v in cols.items()}
    sigma = np.hypot(register.CENTROID_FWHM_FACTOR * seeing / np.maximum(cols["peak_snr"], 1.0),
                     register.CENTROID_FLOOR_ARCSEC)
    saturated = read2_saturated(cal, reg, cols["ra"], cols["dec"])
    usable = np.isfinite(cols["mag"]) & (cols["snr"] >= 1.0)
    cols["mag"] = np.where(usable, cols["mag"], np.nan)
    cols["msig"] = np.where(usable, cols["msig"], np.nan)
    rd = np.where(usable, np.where(saturated, 1, 2), 9)
    counts = extract.ndet(cal, reg, cols["ra"], cols["dec"])
    return BandSources(
        ra=cols["ra"], dec=cols["dec"], sigma_ra=sigma, sigma_dec=sigma.copy(),
        mag=cols["mag"], msig=cols["msig"], snr=np.where(usable, cols["snr"], np.nan), rd=rd,
        bl=np.ones(len(rd), int), psfchi=np.where(rd == 2, cols["psfchi"], np.nan),
        m_stdap=cols["mag"].copy(), msig_stdap=cols["msig"].copy(), ndet=counts.digits(),
        coadd=cols["coadd"].astype(int))


def image_phi(images: list[atlas.AtlasImage], ra0: float) -> np.ndarray:
    """Along-scan position [arcsec] of each Atlas Image's centre."""
    if not images:
        return np.zeros(0)
    ra = np.array([i.crval[0] for i in images])
    dec = np.array([i.crval[1] for i in images])
    return scanframe.to_scan(ra0, ra, dec)[1] * 3600.0


def _unique(ra, dec, snr, coadd, ra0) -> np.ndarray:
    """Indices kept after removing a source seen on two overlapping images (keep the
    higher S/N): the nearest-centre rule splits the overlap, positions scatter across it."""
    keep = np.ones(len(ra), bool)
    if len(ra) < 2:
        return np.flatnonzero(keep)
    xy = np.column_stack(scanframe.to_scan(ra0, ra, dec)) * 3600.0
    pairs = cKDTree(xy).query_pairs(DUPLICATE_ARCSEC, output_type="ndarray")
    pairs = pairs[coadd[pairs[:, 0]] != coadd[pairs[:, 1]]]
    for a, b in pairs:
        keep[b if snr[a] >= snr[b] else a] = False
    return np.flatnonzero(keep)


def read2_saturated(cal, reg, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Whether Read_2 saturated within a pixel of each position on some frame."""
    out = np.zeros(len(ra), bool)
    for k in range(len(cal.frames)):
        x, y = tan.world_to_pix(*reg.frame_wcs(k), ra, dec)
        ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
        on = np.flatnonzero((ix >= 1) & (ix < inst.NPIX - 1) & (iy >= 1) & (iy < inst.NPIX - 1))
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                out[on] |= cal.saturated[k, iy[on] + dy, ix[on] + dx]
    return out


def profile_chi2(image: atlas.AtlasImage, x: np.ndarray, y: np.ndarray,
                 fwhm_arcsec: float) -> np.ndarray:
    """Reduced chi^2 of the best of a few pixel-integrated Gaussian templates (the
    measured seeing through the frames' 2" pixels, widths scaled by ``TEMPLATE_SCALES``:
    the seeing wanders along the scan and widens toward the arrays' corners), amplitude
    and background free, on a 7 x 7" stamp at each (x, y).

    The variance per pixel: the image's pixel noise at the stamp's coverage, the
    source's Poisson noise and ``PSF_ERROR`` of the model. NaN off the covered image.
    """
    n = len(x)
    out = np.full(n, np.nan)
    if n == 0 or not np.isfinite(fwhm_arcsec):
        return out
    data, cover = image.image, image.coverage
    ny, nx = data.shape
    covered = cover > 0
    cov_ref = float(np.median(cover[covered])) if covered.any() else 1.0
    lo, hi = np.percentile(data[cover >= cov_ref], [15.87, 84.13])
    pixel_var = (0.5 * (hi - lo)) ** 2
    h = CHI_HALF
    ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
    ok = np.flatnonzero((ix >= h) & (ix < nx - h) & (iy >= h) & (iy < ny - h))
    offsets = np.arange(-h, h + 1)
    rows = (iy[ok, None] + offsets[None, :])[:, :, None]
    cols = (ix[ok, None] + offsets[None, :])[:, None, :]
    stamp = data[rows, cols].reshape(len(ok), -1).astype(float)
    cov = cover[rows, cols].reshape(len(ok), -1).astype(float)
    full = (cov > 0).all(axis=1)
    ok, stamp, cov = ok[full], stamp[full], cov[full]
    edges = np.arange(-h - 0.5, h + 1.0)
    base = np.sqrt((fwhm_arcsec / 2.3548) ** 2 + inst.PIXEL_ARCSEC**2 / 12.0) / inst.ATLAS_ARCSEC
    best = np.full(len(ok), np.inf)
    for scale in TEMPLATE_SCALES:
        s = np.sqrt(2.0) * base * scale
        gx = np.diff(erf((edges[None, :] - (x[ok] - ix[ok])[:, None]) / s), axis=1) / 2.0
        gy = np.diff(erf((edges[None, :] - (y[ok] - iy[ok])[:, None]) / s), axis=1) / 2.0
        model = (gy[:, :, None] * gx[:, None, :]).reshape(len(ok), -1)
        # Least squares of stamp = a model + c, per source, in closed form.
        m_mean, d_mean = model.mean(axis=1), stamp.mean(axis=1)
        dm = model - m_mean[:, None]
        a = np.sum(dm * (stamp - d_mean[:, None]), axis=1) / np.sum(dm * dm, axis=1)
        c = d_mean - a * m_mean
        fit = a[:, None] * model + c[:, None]
        var = (pixel_var * cov_ref / cov + np.maximum(a[:, None] * model, 0.0)
               / (inst.GAIN * cov) + (PSF_ERROR * a[:, None] * model) ** 2)
        chi = np.sum((stamp - fit) ** 2 / var, axis=1) / (model.shape[1] - 2)
        best = np.minimum(best, chi)
    out[ok] = best
    return out


@dataclass
class UpperLimits:
    """4" aperture measurements at positions where a band has no source."""

    mag: np.ndarray  # 95 % upper limit [mag] (NaN: not measurable)
    m_stdap: np.ndarray  # the aperture's magnitude where its flux is positive
    msig_stdap: np.ndarray


def upper_limits(images: list[atlas.AtlasImage], magzp: float, ra: np.ndarray,
                 dec: np.ndarray, ra0: float) -> UpperLimits:
    """Each position measured on the band's Atlas Image whose centre is nearest."""
    n = len(ra)
    mag, m_ap, s_ap = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if n == 0 or not images:
        return UpperLimits(mag, m_ap, s_ap)
    _, phi = scanframe.to_scan(ra0, ra, dec)
    owner = np.argmin(np.abs(phi[:, None] * 3600.0 - image_phi(images, ra0)[None, :]), axis=1)
    for k, image in enumerate(images):
        i = np.flatnonzero(owner == k)
        if len(i) == 0:
            continue
        flux, err, ok = aperture_fluxes(image, ra[i], dec[i], np.array([extract.STANDARD_ARCSEC]))
        f, e, ok = flux[:, 0], err[:, 0], ok[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            limit = np.maximum(f, 0.0) + UPPER_LIMIT_SIGMA * e
            mag[i] = np.where(ok, magzp - 2.5 * np.log10(limit / image.apcor), np.nan)
            pos = ok & (f > e)  # below 1 sigma: no usable magnitude
            m_ap[i] = np.where(pos, magzp - 2.5 * np.log10(f / image.apcor), np.nan)
            s_ap[i] = np.where(pos, MAG_PER_SNR * e / f, np.nan)
    return UpperLimits(mag, m_ap, s_ap)


@dataclass
class ScanGeometry:
    """A scan as its registered frames show it: the 3-band area and the track."""

    ra0: float
    sd: str
    phi_start: float  # [deg] along-scan edge where the scan starts
    phi_end: float
    xi_east: float  # [deg] 3-band area's cross-scan edges
    xi_west: float
    track_phi: np.ndarray  # frame centres (H array): along [deg], sorted
    track_xi: np.ndarray  # and across [deg]
    frame_jd: np.ndarray  # time of each of those frames

    def corners(self) -> dict[str, float]:
        """``ra_1..dec_4``: 1 east at start, 2 west at start, 3 east at end, 4 west at end."""
        out = {}
        for i, (xi, phi) in enumerate([(self.xi_east, self.phi_start),
                                       (self.xi_west, self.phi_start),
                                       (self.xi_east, self.phi_end),
                                       (self.xi_west, self.phi_end)], 1):
            ra, dec = scanframe.to_radec(self.ra0, xi, phi)
            out[f"ra_{i}"], out[f"dec_{i}"] = float(ra), float(dec)
        return out

    def centre(self) -> tuple[float, float]:
        ra, dec = scanframe.to_radec(self.ra0, 0.5 * (self.xi_east + self.xi_west),
                                     0.5 * (self.phi_start + self.phi_end))
        return float(ra), float(dec)

    def place(self, ra: np.ndarray, dec: np.ndarray):
        """x_scan, y_scan [arcsec] and the time [JD] of each position."""
        xi, phi = scanframe.to_scan(self.ra0, ra, dec)
        x = -(xi - np.interp(phi, self.track_phi, self.track_xi)) * 3600.0
        y = np.abs(phi - self.phi_start) * 3600.0
        jd = np.interp(phi, self.track_phi, self.frame_jd)
        return x, y, jd


def scan_geometry(regs, frame_tables, ra0: float, sd: str) -> ScanGeometry:
    """The 3-band area of the registered frames: across, between the arrays' inner
    edges (median frame centre of each band +- half an array); along, from the first
    frame's leading edge to the last frame's trailing edge."""
    half = 0.5 * inst.NPIX * inst.PIXEL_ARCSEC / 3600.0
    xi_b, phi_b = zip(*(scanframe.to_scan(ra0, r.ra, r.dec) for r in regs), strict=True)
    east = min(float(np.median(x)) + half for x in xi_b)
    west = max(float(np.median(x)) - half for x in xi_b)
    lo = max(float(np.min(p)) for p in phi_b) - half
    hi = min(float(np.max(p)) for p in phi_b) + half
    order = np.argsort(phi_b[1])
    start, end = (lo, hi) if sd == "n" else (hi, lo)
    return ScanGeometry(ra0, sd, start, end, east, west, np.asarray(phi_b[1])[order],
                        np.asarray(xi_b[1])[order],
                        np.asarray(frame_tables[1]["JD"], float)[order])


def pts_columns(scan: int, merged: Merged, bands: list[BandSources],
                limits: list[UpperLimits], geometry: ScanGeometry,
                msnr10: np.ndarray) -> dict[str, np.ndarray]:
    """The scan's ``pts.parquet`` columns (NaN or -1 = NULL), ids 1..N along the scan.

    ``limits[b]`` holds band b's upper limits of the merged sources without that band,
    in their order."""
    n = len(merged.ra)
    x, y, jd = geometry.place(merged.ra, merged.dec)
    dist_ns, dist_ew, flg = scanframe.edge_distances(merged.ra, merged.dec,
                                                     geometry.corners(), geometry.sd)
    cols: dict[str, np.ndarray] = {
        "scan": np.full(n, scan), "ra": merged.ra, "dec": merged.dec,
        "err_maj": merged.err_maj, "err_min": merged.err_min, "err_ang": merged.err_ang}
    rd = np.zeros((n, 3), int)
    bl = np.zeros((n, 3), int)
    cc = np.full((n, 3), "0")
    ndet = np.full((n, 3), "00")
    per: dict[str, np.ndarray] = {k: np.full((n, 3), np.nan) for k in
                                  ("m", "cmsig", "msigcom", "snr", "msig", "psfchi",
                                   "m_stdap", "msig_stdap")}
    coadd = np.zeros(n, int)
    for b, (src, lim) in enumerate(zip(bands, limits, strict=True)):
        has = merged.index[:, b] >= 0
        i = merged.index[has, b]
        rd[has, b], bl[has, b], ndet[has, b] = src.rd[i], src.bl[i], src.ndet[i]
        per["m"][has, b] = src.mag[i]
        per["msig"][has, b] = src.msig[i]
        per["psfchi"][has, b] = src.psfchi[i]
        per["m_stdap"][has, b], per["msig_stdap"][has, b] = src.m_stdap[i], src.msig_stdap[i]
        coadd[has & (coadd == 0)] = src.coadd[i][coadd[has] == 0]
        cc[has & merged.confused[:, b], b] = "b"
        none = ~has
        rd[none, b] = np.where(merged.inconsistent[none, b], 6, 0)
        per["m"][none, b] = lim.mag
        per["m_stdap"][none, b], per["msig_stdap"][none, b] = lim.m_stdap, lim.msig_stdap
    limit = (rd == 0) | (rd == 6)
    rd = np.where(limit & np.isnan(per["m"]), 9, rd)  # no aperture at all: no brightness
    valid = np.isin(rd, (1, 2, 3, 4))
    per["cmsig"] = np.where(valid, per["msig"], np.nan)
    per["msig"] = np.where(valid, per["msig"], np.nan)
    extra = np.where(rd == 1, R1NORM, 0.0)
    per["msigcom"] = np.sqrt(per["cmsig"] ** 2 + ZPERR**2 + FFERR**2 + extra**2)
    per["snr"] = np.where(valid, 10.0 * 10.0 ** (-0.4 * (per["m"] - msnr10[None, :])), np.nan)
    for b, band in enumerate("jhk"):
        for name in ("m", "cmsig", "msigcom", "snr"):
            cols[f"{band}_{name}"] = per[name][:, b]
    cols["rd_flg"] = _join(rd.astype(str))
    cols["bl_flg"] = _join(bl.astype(str))
    cols["cc_flg"] = _join(cc)
    cols["ndet"] = _join(ndet)
    cols["cnf_flg"] = _join(merged.cnf.astype(str))
    cols["mp_flg"] = np.zeros(n, np.int16)
    cols["x_scan"], cols["y_scan"], cols["jdate"] = x, y, jd
    for name in ("psfchi", "m_stdap", "msig_stdap"):
        for b, band in enumerate("jhk"):
            cols[f"{band}_{name}"] = per[name][:, b]
    cols["dist_edge_ns"], cols["dist_edge_ew"], cols["dist_edge_flg"] = dist_ns, dist_ew, flg
    cols["coadd"] = coadd.astype(np.int16)
    cols.update({"a": np.full(n, "0"), "dist_opt": np.full(n, np.nan),
                 "phi_opt": np.full(n, -1), "b_m_opt": np.full(n, np.nan),
                 "vr_m_opt": np.full(n, np.nan), "nopt_mchs": np.zeros(n, int)})
    for b, band in enumerate("jhk"):
        cols[f"{band}_msig"] = per["msig"][:, b]
    order = np.argsort(y, kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    cols["id"] = np.arange(1, n + 1, dtype=np.int32)
    return cols


def _join(chars: np.ndarray) -> np.ndarray:
    """Join an (n, k) array of strings row-wise."""
    return np.array(["".join(r) for r in chars], dtype=str)
