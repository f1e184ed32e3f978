"""A scan's point sources, from its Atlas Images to the ``pts`` rows (spec §1.5-1.11).

Per band, :func:`measure_band` fills the band-merge input (``bandmerge.BandSources``); it
is the one place the extraction methods meet. Sources are detected on every Atlas Image
of the scan, each kept on the image whose centre is nearest along the scan (the images
overlap by 54"); stars saturated on every Read_1 frame, holes in the Atlas Images, are
added from the frames (``brightstars.saturated_stars``) where no detection lies within
``SATURATED_MATCH_ARCSEC``. Every source is then measured on the frames:

- profile-fit photometry (``psffit.profile_fit``, the scan's PSF measured once per band):
  magnitude on the corrected 4" aperture scale, ``msig``, ``cmsig``, ``psfchi``, the
  position where the fit measured it, ``bl_flg`` the number of components fitted
  together (``rd_flg`` 2);
- a star with a saturated core on a Read_2 frame: ``brightstars.bright_photometry``,
  the Read_1 apertures (``rd_flg`` 1), the wings' fit (3) or its faint bound (4);
- where the profile fit fails (no usable pixel, no convergence): the 4" aperture of the
  Atlas Image, ``rd_flg`` 4 as the catalog defines it (ph_qual 'E'; a source with no
  band of ``rd_flg`` 1-3 fails catalog rule 3, as in 2MASS);
- a measurement below 1 sigma, or one no frame confirms (the position on one frame at
  most, not detected there): no usable magnitude (``rd_flg`` 9).

After the band merge, a detection in one band only that at most
``UNCONFIRMED_MAX_FRAMES`` frames see (a scan's ends and its band-misalignment strips:
fewer frames than the catalog's frame test needs) keeps its magnitude only when the
measurement itself has S/N >= ``UNCONFIRMED_MIN_SNR`` (``1.0857 / msig``); else
``rd_flg`` 9. There the scan S/N, which assumes the scan's 6 frames, is sqrt(6 / M)
times the measurement's, and a noise peak of 4 sigma on one frame would pass as S/N 10.

The 4" aperture magnitude is kept for every detection as ``m_stdap``/``msig_stdap``;
``ndet`` counts the frames at the measured position. Then the bands are merged
(``bandmerge``), undetected bands get upper limits measured on their Atlas Image at the
merged position, and each source gets its scan coordinates, distances to the scan's
edges and time (:func:`pts_columns`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from twomass.pipeline.sim import scanframe
from twomass.pipeline.sim.photometry import FFERR, R1NORM, ZPERR
from twomass.pipeline.stages import atlas, brightstars, extract, psffit, register
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.bandmerge import BandSources, Merged
from twomass.pipeline.stages.photometry import MAG_PER_LN_FLUX, aperture_fluxes

#: Detections of one band closer than this on two overlapping Atlas Images are one source.
DUPLICATE_ARCSEC = 1.5
#: A saturated star found on the frames is the Atlas Image detection within this.
SATURATED_MATCH_ARCSEC = 3.0
#: Upper limits: the 4" aperture flux (0 if negative) plus this many sigma (one-sided 95 %
#: is 1.645 sigma for a Gaussian; 2 covers the aperture error's own uncertainty).
UPPER_LIMIT_SIGMA = 2.0
#: Measurement S/N a detection in one band on at most ``UNCONFIRMED_MAX_FRAMES`` frames
#: needs (the catalog's S/N rule; its frame test needs 3 frames).
UNCONFIRMED_MIN_SNR = 7.0
UNCONFIRMED_MAX_FRAMES = 2


def measure_band(images: list[atlas.AtlasImage], magzp: float, seeing: float, cal, reg,
                 ra0: float, weight: np.ndarray | None = None,
                 seconds: dict[str, float] | None = None) -> BandSources:
    """One band's sources of a scan, measured (see the module docstring). ``weight``:
    the transient masks (``atlas.transient_masks``), whose masked pixels the profile fit
    leaves out as the co-add did. ``seconds``, if given, receives the CPU seconds of
    ``extract`` (Atlas Image detection, apertures, ``ndet``), ``psffit`` and
    ``brightstars``."""
    clock = _Clock(seconds)
    det = _atlas_detections(images, magzp, ra0)
    ra, dec = det["ra"], det["dec"]
    clock.lap("extract")
    # Stars saturated on every Read_1 frame leave holes in the Atlas Images: the frames'
    # saturated patches where no detection is near.
    s_ra, s_dec, _ = brightstars.saturated_stars(cal, reg)
    new = _not_near(s_ra, s_dec, ra, dec, SATURATED_MATCH_ARCSEC)
    n_new = int(new.sum())
    ra, dec = np.concatenate([ra, s_ra[new]]), np.concatenate([dec, s_dec[new]])
    coadd = np.concatenate([det["coadd"], image_numbers(images, s_ra[new], s_dec[new], ra0)])
    # The 4" magnitude where the aperture holds more than 1 sigma (as for upper limits).
    above = det["msig"] < MAG_PER_LN_FLUX
    m_ap = np.concatenate([np.where(above, det["mag"], np.nan), np.full(n_new, np.nan)])
    s_ap = np.concatenate([np.where(above, det["msig"], np.nan), np.full(n_new, np.nan)])
    ap_snr = np.concatenate([det["snr"], np.full(n_new, np.nan)])

    clock.lap("brightstars")
    fit = psffit.profile_fit(cal, reg, ra, dec, seeing, magzp, images, weight=weight)
    clock.lap("psffit")
    bright = brightstars.bright_photometry(cal, reg, ra, dec, magzp, images[0].apcor)
    clock.lap("brightstars")

    rd, mag, msig, cmsig, snr = _default_magnitudes(fit, bright, m_ap, s_ap, ap_snr)
    peak = np.concatenate([det["peak_snr"], np.full(n_new, np.nan)])
    ra, dec, sig_ra, sig_dec = _positions(fit, bright, ra, dec,
                                          np.where(np.isfinite(peak), peak, snr), seeing)
    # A measurement no frame confirms: the position's 4" aperture lies wholly on at most
    # one frame, and that frame does not detect it (spec rd_flg 9, "near tile edges where
    # apertures fall off the array"). At a scan's ends one frame is all there is, the
    # S/N the scan's depth gives a magnitude there is sqrt(6) too high, and the profile
    # fit of one 2" frame takes a lone noisy pixel for a star.
    counts = extract.ndet(cal, reg, ra, dec)
    lone = (counts.possible <= 1) & (counts.detected == 0) \
        & np.isin(rd, (brightstars.RD_READ2, brightstars.RD_APERTURE)) \
        & ~bright.saturated_read2
    rd[lone] = brightstars.RD_NONE
    mag[lone] = msig[lone] = cmsig[lone] = snr[lone] = np.nan
    rd2 = rd == brightstars.RD_READ2
    clock.lap("extract")
    return BandSources(
        ra=ra, dec=dec, sigma_ra=sig_ra, sigma_dec=sig_dec, mag=mag, msig=msig, cmsig=cmsig,
        snr=snr, rd=rd, bl=np.where(rd2, fit.ncomp, 1), psfchi=np.where(rd2, fit.psfchi, np.nan),
        m_stdap=m_ap, msig_stdap=s_ap, ndet=counts.digits(), coadd=coadd.astype(int),
        msig_cal=np.where(rd2, MAG_PER_LN_FLUX * fit.scale_err, 0.0))


def _default_magnitudes(fit: psffit.ProfileFit, bright: brightstars.BrightPhotometry,
                        m_ap: np.ndarray, s_ap: np.ndarray, ap_snr: np.ndarray):
    """Each source's rd_flg digit, magnitude, msig, cmsig and measurement S/N: the profile
    fit (2); where it failed, the 4" aperture (4); saturated on Read_2, the bright-star
    photometry (1, 3, 4); below 1 sigma or nothing, none (9)."""
    n = len(fit.ra)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit_snr = fit.flux / fit.flux_err
    sat = bright.saturated_read2
    rd = np.full(n, brightstars.RD_NONE)
    mag, msig, cmsig, snr = (np.full(n, np.nan) for _ in range(4))
    use = fit.ok & ~sat & (fit_snr >= 1.0)
    rd[use], mag[use], msig[use], cmsig[use], snr[use] = (
        brightstars.RD_READ2, fit.mag[use], fit.msig[use], fit.cmsig[use], fit_snr[use])
    use = ~fit.ok & ~sat & (ap_snr >= 1.0) & np.isfinite(m_ap)
    rd[use], mag[use], msig[use], cmsig[use], snr[use] = (
        brightstars.RD_APERTURE, m_ap[use], s_ap[use], s_ap[use], ap_snr[use])
    rd[sat] = bright.rd[sat]
    use = sat & bright.ok
    mag[use], msig[use], cmsig[use] = bright.mag[use], bright.msig[use], bright.msig[use]
    snr[use] = MAG_PER_LN_FLUX / bright.msig[use]
    return rd, mag, msig, cmsig, snr


def _positions(fit: psffit.ProfileFit, bright: brightstars.BrightPhotometry,
               ra: np.ndarray, dec: np.ndarray, snr: np.ndarray, seeing: float):
    """Positions and their errors [arcsec]: the profile fit's where it fitted them more
    precisely than the detection's centroid (0.7 x FWHM / S/N, the registration's
    centroid error, with its 50 mas floor), the frames' for bright stars, else the
    centroid. A fit of almost no flux leaves its position free: the centroid's stays."""
    sigma = np.hypot(register.CENTROID_FWHM_FACTOR * seeing
                     / np.maximum(np.nan_to_num(snr, nan=1.0), 1.0),
                     register.CENTROID_FLOOR_ARCSEC)
    moved = fit.ok & ~bright.saturated_read2 & np.isfinite(fit.sigma_ra) \
        & np.isfinite(fit.sigma_dec) & (np.hypot(fit.sigma_ra, fit.sigma_dec) < sigma * 2**0.5)
    floor = register.CENTROID_FLOOR_ARCSEC
    sig_ra = np.where(moved, np.maximum(fit.sigma_ra, floor), sigma)
    sig_dec = np.where(moved, np.maximum(fit.sigma_dec, floor), sigma)
    on_frames = bright.saturated_read2 & bright.ok
    ra = np.where(on_frames, bright.ra, np.where(moved, fit.ra, ra))
    dec = np.where(on_frames, bright.dec, np.where(moved, fit.dec, dec))
    return ra, dec, sig_ra, sig_dec


class _Clock:
    """CPU seconds per stage, summed into ``seconds`` (nothing when it is None)."""

    def __init__(self, seconds: dict[str, float] | None) -> None:
        self.seconds = seconds
        self.t = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        if self.seconds is not None:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self.t
        self.t = now


def _atlas_detections(images: list[atlas.AtlasImage], magzp: float, ra0: float
                      ) -> dict[str, np.ndarray]:
    """Detections on every Atlas Image with their 4" aperture magnitudes, each source
    once (see ``_unique``)."""
    centres = image_phi(images, ra0)
    parts = []
    for k, image in enumerate(images):
        det = extract.detect(image)
        if len(det):
            det = det[_nearest_image(det["ra"], det["dec"], centres, ra0) == k]
        ap = extract.aperture_photometry_radii(image, det["ra"], det["dec"], magzp)
        std = int(np.flatnonzero(ap.radii_arcsec == extract.STANDARD_ARCSEC)[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = ap.flux[:, std] / ap.flux_err[:, std]
        parts.append({"ra": det["ra"], "dec": det["dec"], "peak_snr": det["snr"],
                      "mag": ap.mag, "msig": ap.mag_err, "snr": snr,
                      "coadd": np.full(len(det), image.number)})
    if not parts:
        raise ValueError("measure_band: the scan has no Atlas Image")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = _unique(cols["ra"], cols["dec"], cols["peak_snr"], cols["coadd"], ra0)
    return {k: v[keep] for k, v in cols.items()}


def image_phi(images: list[atlas.AtlasImage], ra0: float) -> np.ndarray:
    """Along-scan position [arcsec] of each Atlas Image's centre."""
    if not images:
        return np.zeros(0)
    ra = np.array([i.crval[0] for i in images])
    dec = np.array([i.crval[1] for i in images])
    return scanframe.to_scan(ra0, ra, dec)[1] * 3600.0


def _nearest_image(ra: np.ndarray, dec: np.ndarray, centres: np.ndarray, ra0: float
                   ) -> np.ndarray:
    """Index of the Atlas Image whose centre (``image_phi``) is nearest along the scan."""
    _, phi = scanframe.to_scan(ra0, ra, dec)
    return np.argmin(np.abs(np.asarray(phi)[:, None] * 3600.0 - centres[None, :]), axis=1)


def image_numbers(images: list[atlas.AtlasImage], ra: np.ndarray, dec: np.ndarray,
                  ra0: float) -> np.ndarray:
    """The number of the Atlas Image each position belongs to (nearest centre)."""
    if len(ra) == 0:
        return np.zeros(0, int)
    numbers = np.array([i.number for i in images])
    return numbers[_nearest_image(ra, dec, image_phi(images, ra0), ra0)]


def _not_near(ra: np.ndarray, dec: np.ndarray, ra_ref: np.ndarray, dec_ref: np.ndarray,
              radius_arcsec: float) -> np.ndarray:
    """Whether each position has no reference position within ``radius_arcsec``."""
    if len(ra) == 0 or len(ra_ref) == 0:
        return np.ones(len(ra), bool)
    dist, _ = cKDTree(psffit.unit_vectors(ra_ref, dec_ref)).query(
        psffit.unit_vectors(ra, dec), distance_upper_bound=np.radians(radius_arcsec / 3600.0))
    return ~np.isfinite(dist)


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
    owner = _nearest_image(ra, dec, image_phi(images, ra0), ra0)
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
            s_ap[i] = np.where(pos, MAG_PER_LN_FLUX * e / f, np.nan)
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

    def frame_step_arcsec(self) -> float:
        """The step between consecutive frames along the scan, as registered."""
        return float(np.median(np.abs(np.diff(self.track_phi)))) * 3600.0

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
                msnr10: np.ndarray, zp_err: np.ndarray) -> dict[str, np.ndarray]:
    """The scan's ``pts.parquet`` columns (NaN or -1 = NULL), ids 1..N along the scan.

    ``limits[b]`` holds band b's upper limits of the merged sources without that band,
    in their order; ``zp_err`` is the error of each band's zero point [mag] (the night's
    solution at the scan), which ``msigcom`` adds to ``cmsig`` with the catalog's
    zero-point term ``ZPERR`` (what the solution's error from the standards' scatter does
    not hold: the aperture corrections' and the standards' own systematic errors, about
    1 %), the scan's profile-fit flux scale (``BandSources.msig_cal``), the flat-field
    and the Read_1 normalisation terms."""
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
                                   "m_stdap", "msig_stdap", "msig_cal")}
    coadd = np.zeros(n, int)
    for b, (src, lim) in enumerate(zip(bands, limits, strict=True)):
        has = merged.index[:, b] >= 0
        i = merged.index[has, b]
        rd[has, b], bl[has, b], ndet[has, b] = src.rd[i], src.bl[i], src.ndet[i]
        per["m"][has, b] = src.mag[i]
        per["msig"][has, b] = src.msig[i]
        per["cmsig"][has, b] = src.cmsig[i]
        per["msig_cal"][has, b] = src.msig_cal[i]
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
    lone = unconfirmed(rd, ndet, per["msig"])
    rd[lone], per["m"][lone] = 9, np.nan
    valid = np.isin(rd, (1, 2, 3, 4))
    per["cmsig"] = np.where(valid, per["cmsig"], np.nan)
    per["msig"] = np.where(valid, per["msig"], np.nan)
    extra = np.where(rd == 1, R1NORM, 0.0)
    per["msigcom"] = np.sqrt(per["cmsig"] ** 2 + np.asarray(zp_err)[None, :] ** 2
                             + np.nan_to_num(per["msig_cal"]) ** 2
                             + ZPERR**2 + FFERR**2 + extra**2)
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


def unconfirmed(rd: np.ndarray, ndet: np.ndarray, msig: np.ndarray) -> np.ndarray:
    """(n, 3) mask of band measurements that neither enough frames nor a second band
    confirm and whose own S/N is below ``UNCONFIRMED_MIN_SNR``: the source's only
    detected band (``rd_flg`` 2 or 4; Read_1 photometry needs a saturated star) seen on
    at most ``UNCONFIRMED_MAX_FRAMES`` frames (``ndet``'s second digit)."""
    detected = np.isin(rd, (1, 2, 3, 4))
    possible = np.array([[int(d[1]) for d in row] for row in ndet]).reshape(rd.shape)
    weak = ~(1.0857 / np.where(np.isfinite(msig), msig, np.inf) >= UNCONFIRMED_MIN_SNR)
    alone = (detected.sum(axis=1) == 1)[:, None] & np.isin(rd, (2, 4))
    return alone & (possible <= UNCONFIRMED_MAX_FRAMES) & weak


def _join(chars: np.ndarray) -> np.ndarray:
    """Join an (n, k) array of strings row-wise."""
    return np.array(["".join(r) for r in chars], dtype=str)
