"""GALWORKS: the extended sources of one survey scan, from its Atlas Images (spec §1.14).

Per Atlas Image (the three bands share the grid), after ``galimage`` removed the
background and the scan's point sources: detection and segmentation on Ks (``sep``,
SExtractor's core, already the pipeline's detector, with a 4" FWHM filter and its
deblending; photutils' segmentation does the same some 20 times slower). Each Ks
detection above ``MIN_SNR`` is measured in every band with the point sources it owns
(within ``OWN_ARCSEC``) put back and classified (``galclass``); those the classifier
calls extended (``min(e_score, g_score) <= WDB_SCORE``, looser than the catalog's 1.4,
as the 2MASS extended working database was) get their photometry (``galphot``): the Ks
20 mag/arcsec^2 fiducial ellipse (axis ratio and angle of the Ks detection isophote) and
the J/H/Ks fluxes in it, fixed circular apertures, the 3-sigma radius, the Kron radius
and an exponential-disc extrapolation to total. A source seen on two overlapping images
is kept on the one whose centre is nearer along the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sep
from scipy.spatial import cKDTree

from twomass.core import sphere
from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import atlas, galclass, galimage, galphot, scansources, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.galimage import BandImage

BANDS = "jhk"
KS = 2
ISOPHOTE_MAG_ARCSEC2 = 20.0
#: Detection: sep threshold [pixel sky sigmas] after the filter, smallest segment [px].
DETECT_SIGMA = 1.5
MIN_AREA_PX = 12
FILTER_FWHM_ARCSEC = 4.0
#: Half-size [px] of the shape cutouts.
CUT_HALF_PX = 12
#: Ks detections measured and classified: aperture S/N at least this.
MIN_SNR = 10.0
#: Rows written: the classifier's extended sources.
WDB_SCORE = 1.6
#: Point sources this near a detection are its own (not subtracted from it); in the
#: photometry also those within OWN_PER_RMS rms major axes (a galaxy's core may be
#: fitted as more than one point source).
OWN_ARCSEC = 2.5
OWN_PER_RMS = 1.5
PTS_MATCH_ARCSEC = 3.0
#: The stellar locus of an image's shapes: its brightest unsaturated isolated point
#: sources (J, H, Ks magnitude windows from Read_2's saturation to S/N ~ 30; a
#: high-latitude image holds a handful brighter than Ks 13).
LOCUS_MAG = ((10.5, 15.5), (10.0, 15.0), (9.5, 14.5))
LOCUS_STARS = 40
LOCUS_MIN_STARS = 5
LOCUS_BINS = 3
LOCUS_ISOLATION_ARCSEC = 10.0
#: log10 density column: point sources brighter than this [Ks mag].
DENSITY_KS = 14.0
#: Photometry cutouts: radius per rms major axis of the detection, at least
#: MIN_EXTENT_ARCSEC; doubled while the Ks 3-sigma isophote passes EXTENT_FILLED of it.
EXTENT_PER_RMS = 8.0
MIN_EXTENT_ARCSEC = 20.0
EXTENT_FILLED = 0.7
#: Flags of the isophotal photometry (the XSC's per-aperture confusion flags).
FLAG_SUBTRACTED, FLAG_BOUNDARY = 3, 6


def detect(ks: BandImage) -> np.ndarray:
    """sep detections on the Ks image (its point sources left in: a galaxy's own point
    source is its core)."""
    data = ks.clean + galimage.point_models(ks.clean.shape, ks.star_x, ks.star_y,
                                            ks.star_flux, ks.psf_sigma)
    s = FILTER_FWHM_ARCSEC / 2.3548
    r = np.arange(-4, 5)
    kernel = np.exp(-0.5 * (r[:, None] ** 2 + r[None, :] ** 2) / s**2)
    data = np.ascontiguousarray(np.where(ks.good, data, 0.0))
    return sep.extract(data, DETECT_SIGMA, err=ks.sigma, mask=~ks.good, minarea=MIN_AREA_PX,
                       filter_kernel=kernel, deblend_cont=0.005)


@dataclass
class Extended:
    """One Atlas-image detection measured in the three bands (NaN where unmeasured)."""

    x: float  # Ks centroid, 0-based pixel
    y: float
    x_peak: float
    y_peak: float
    e_score: float
    g_score: float
    snr: np.ndarray  # 7" aperture S/N per band
    ba: np.ndarray  # per band, observed in the shape window
    phi_deg: np.ndarray  # per band, east of north
    sup_ba: float
    sup_phi_deg: float
    r_k20fe: float = float("nan")
    r_3sig: float = float("nan")
    r_ext: float = float("nan")
    r_kron: float = float("nan")
    flux_k20fe: np.ndarray | None = None
    err_k20fe: np.ndarray | None = None
    flg_k20fe: np.ndarray | None = None
    flux_7: np.ndarray | None = None
    err_7: np.ndarray | None = None
    flux_ext: np.ndarray | None = None
    err_ext: np.ndarray | None = None
    flux_kron: np.ndarray | None = None
    flux_circular: np.ndarray | None = None  # (bands, galphot.CIRCULAR_ARCSEC)

    def mags(self, flux: np.ndarray, err: np.ndarray, magzp: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Magnitudes and their errors (NaN where the flux is not positive)."""
        with np.errstate(all="ignore"):
            ok = flux > 0
            m = np.where(ok, magzp - 2.5 * np.log10(np.where(ok, flux, 1.0)), np.nan)
            s = np.where(ok, galphot.MAG_PER_LN_FLUX * err / np.where(ok, flux, 1.0), np.nan)
        return m, s


def position_angle(phi_rad: float) -> float:
    """Pixel-frame major-axis angle (from +x, north-up images: -x is east) to degrees
    east of north in [0, 180)."""
    return float(np.degrees(np.arctan2(-np.cos(phi_rad), np.sin(phi_rad))) % 180.0)


def _band_pixels(bands: list[BandImage], x: float, y: float) -> list[tuple[float, float]]:
    ks = bands[KS].image
    ra, dec = tan.pix_to_world(ks.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX,
                               np.array([x]), np.array([y]))
    out = []
    for bi in bands:
        if bi.image.crval == ks.crval:
            out.append((x, y))
        else:
            bx, by = tan.world_to_pix(bi.image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, ra, dec)
            out.append((float(bx[0]), float(by[0])))
    return out


def classify(bands: list[BandImage], x: float, y: float, x_peak: float, y_peak: float
             ) -> Extended:
    """Shape and scores of the detection at Ks pixel (x, y) in every band."""
    half = CUT_HALF_PX
    shapes, snr, flux7 = [], np.zeros(3), np.zeros(3)
    for b, (bi, (bx, by)) in enumerate(zip(bands, _band_pixels(bands, x, y), strict=True)):
        own = galimage.own_sources(bi, bx, by, OWN_ARCSEC)
        cut = galimage.cutout(bi, bx, by, own, half)
        cx, cy = bx - round(bx) + half, by - round(by) + half
        shapes.append(galclass.measure_shape(cut, cx, cy, bi.psf_sigma))
        flux7[b], snr[b] = galimage.aperture_snr(cut, bi)
    band_scores = np.array([galclass.band_score(s, *bi.locus_at(bx))
                            for s, bi, (bx, _) in zip(shapes, bands, _band_pixels(bands, x, y),
                                                      strict=True)])
    with np.errstate(all="ignore"):
        jk = (bands[0].magzp - 2.5 * np.log10(flux7[0])) - (
            bands[KS].magzp - 2.5 * np.log10(flux7[KS])) if (flux7[[0, KS]] > 0).all() \
            else float("nan")
    e, g = galclass.scores(band_scores, snr, float(jk))
    ba = np.array([s.ba if s else np.nan for s in shapes])
    phi = np.array([position_angle(s.phi_rad) if s else np.nan for s in shapes])
    total = sum((s.moments for s in shapes if s is not None), np.zeros((2, 2)))
    vals, vecs = np.linalg.eigh(total)
    sup_ba = float(np.sqrt(max(vals[0], 0.0) / vals[1])) if vals[1] > 0 else float("nan")
    sup_phi = position_angle(float(np.arctan2(vecs[1, 1], vecs[0, 1])))
    return Extended(x, y, x_peak, y_peak, e, g, snr, ba, phi, sup_ba, sup_phi)


def measure(bands: list[BandImage], src: Extended, ba: float, phi_rad: float,
            a_rms: float) -> None:
    """The photometry of ``src`` (filled in place): the Ks fiducial ellipse (axis ratio
    ``ba``, major axis at ``phi_rad`` from +x) and the apertures, in every band, out to
    ``EXTENT_PER_RMS`` times the detection's rms major axis ``a_rms`` [arcsec] (further
    while the Ks 3-sigma isophote reaches ``EXTENT_FILLED`` of that)."""
    extent = float(np.clip(EXTENT_PER_RMS * a_rms, MIN_EXTENT_ARCSEC,
                           galphot.MAX_RADIUS_ARCSEC))
    n_ap = len(galphot.CIRCULAR_ARCSEC)
    flux20, err20, flg20 = np.full(3, np.nan), np.full(3, np.nan), np.zeros(3, np.int16)
    flux7, err7 = np.full(3, np.nan), np.full(3, np.nan)
    fext, eext, fkron = np.full(3, np.nan), np.full(3, np.nan), np.full(3, np.nan)
    circ = np.full((3, n_ap), np.nan)
    pix = _band_pixels(bands, src.x, src.y)
    order = [KS, 0, 1]  # Ks first: it sets the radii the other bands use
    for b in order:
        bi, (bx, by) = bands[b], pix[b]
        while True:
            half = int(np.ceil(extent)) + 2
            own = galimage.own_sources(bi, bx, by, max(OWN_ARCSEC, OWN_PER_RMS * a_rms))
            cut = galimage.cutout(bi, bx, by, own, half)
            good = galimage.good_cutout(bi, bx, by, half)
            cx, cy = bx - round(bx) + half, by - round(by) + half
            prof = galphot.profile(cut, good, cx, cy, ba, phi_rad, extent)
            if b != KS:
                break
            level = 10 ** (-0.4 * (ISOPHOTE_MAG_ARCSEC2 - bi.magzp))
            src.r_k20fe = max(prof.radius_at(level), galphot.MIN_FIDUCIAL_ARCSEC)
            src.r_3sig = max(prof.radius_at(3.0 * bi.sigma), src.r_k20fe)
            if src.r_3sig < EXTENT_FILLED * extent or extent >= galphot.MAX_RADIUS_ARCSEC:
                break
            extent = min(2 * extent, galphot.MAX_RADIUS_ARCSEC)
        if b == KS:
            src.r_kron = galphot.kron_radius(prof, galphot.KRON_WINDOW * src.r_3sig)
        r20 = src.r_k20fe
        flux20[b] = prof.flux_within(r20)
        err20[b] = galphot.flux_error(flux20[b], prof.area_within(r20), bi.sigma, bi.frames,
                                      inst.GAIN)
        inside = prof.edges <= r20
        if prof.used[inside].sum() < 0.98 * prof.area[inside].sum():
            flg20[b] = FLAG_BOUNDARY
        elif _subtracted_inside(bi, bx, by, own, r20, ba, phi_rad):
            flg20[b] = FLAG_SUBTRACTED
        circle = galphot.profile(cut, good, cx, cy, 1.0, 0.0, extent)
        circ[b] = [circle.flux_within(r) if r <= extent else np.nan
                   for r in galphot.CIRCULAR_ARCSEC]
        flux7[b] = circle.flux_within(7.0)
        err7[b] = galphot.flux_error(flux7[b], np.pi * 49.0, bi.sigma, bi.frames, inst.GAIN)
        ext = galphot.extrapolate(prof, ba, r20, src.r_3sig, bi.psf_sigma)
        if b == KS:
            src.r_ext = ext.r_ext
        fext[b] = ext.flux
        eext[b] = galphot.flux_error(ext.flux, prof.area_within(ext.r_ext), bi.sigma,
                                     bi.frames, inst.GAIN)
        if np.isfinite(src.r_kron):
            fkron[b] = prof.flux_within(src.r_kron)
    src.flux_k20fe, src.err_k20fe, src.flg_k20fe = flux20, err20, flg20
    src.flux_7, src.err_7 = flux7, err7
    src.flux_ext, src.err_ext, src.flux_kron, src.flux_circular = fext, eext, fkron, circ


def _subtracted_inside(bi: BandImage, x: float, y: float, own: np.ndarray, a: float,
                       ba: float, phi_rad: float) -> bool:
    dx, dy = bi.star_x - x, bi.star_y - y
    u = dx * np.cos(phi_rad) + dy * np.sin(phi_rad)
    v = (-dx * np.sin(phi_rad) + dy * np.cos(phi_rad)) / max(ba, 0.05)
    inside = u**2 + v**2 <= a**2
    inside[own] = False
    return bool(inside.any())


def stellar_locus(bi: BandImage, mags: tuple[float, float]) -> np.ndarray:
    """Median minor-axis excess and concentration (``galclass``) of the image's brightest
    point sources within ``mags``, none other within ``LOCUS_ISOLATION_ARCSEC``, in
    ``LOCUS_BINS`` bins across the image (the PSF widens towards the arrays' edges);
    a bin with fewer than ``LOCUS_MIN_STARS`` takes the image's median, an image with
    fewer (0, 1)."""
    none = np.array([[0.0], [1.0]])
    if len(bi.star_x) < LOCUS_MIN_STARS:
        return none
    mag = bi.magzp - 2.5 * np.log10(np.maximum(bi.star_flux, 1e-30))
    xy = np.column_stack([bi.star_x, bi.star_y])
    dist, _ = cKDTree(xy).query(xy, k=2)
    ny, nx = bi.clean.shape
    edge = CUT_HALF_PX + 1
    pick = np.flatnonzero((mag >= mags[0]) & (mag <= mags[1])
                          & (dist[:, 1] > LOCUS_ISOLATION_ARCSEC / inst.ATLAS_ARCSEC)
                          & (xy[:, 0] > edge) & (xy[:, 0] < nx - edge)
                          & (xy[:, 1] > edge) & (xy[:, 1] < ny - edge))
    pick = pick[np.argsort(mag[pick], kind="stable")][:LOCUS_STARS]
    found = []
    for k in pick:
        x, y = float(xy[k, 0]), float(xy[k, 1])
        cut = galimage.cutout(bi, x, y, np.array([k]), CUT_HALF_PX)
        shape = galclass.measure_shape(cut, x - round(x) + CUT_HALF_PX,
                                       y - round(y) + CUT_HALF_PX, bi.psf_sigma)
        if shape is not None and bi.good[int(round(y)), int(round(x))]:
            found.append((x, shape.minor_excess, shape.concentration))
    if len(found) < LOCUS_MIN_STARS:
        return none
    at = np.array(found)
    whole = np.median(at[:, 1:], axis=0)
    k = np.clip((at[:, 0] / nx * LOCUS_BINS).astype(int), 0, LOCUS_BINS - 1)
    out = np.empty((2, LOCUS_BINS))
    for i in range(LOCUS_BINS):
        out[:, i] = np.median(at[k == i, 1:], axis=0) if (k == i).sum() >= LOCUS_MIN_STARS \
            else whole
    return out


def measure_image(bands: list[BandImage]) -> list[Extended]:
    """Every extended source (``WDB_SCORE``) of one Atlas Image (bands J, H, Ks)."""
    ks = bands[KS]
    for b, bi in enumerate(bands):
        bi.locus = stellar_locus(bi, LOCUS_MAG[b])
    objs = detect(ks)
    out = []
    for o in objs:
        if o["flag"] & 1 and o["npix"] < MIN_AREA_PX:
            continue
        own = galimage.own_sources(ks, o["x"], o["y"], OWN_ARCSEC)
        cut = galimage.cutout(ks, o["x"], o["y"], own, 8)
        _, snr = galimage.aperture_snr(cut, ks)
        if not snr >= MIN_SNR:
            continue
        src = classify(bands, float(o["x"]), float(o["y"]), float(o["xpeak"]),
                       float(o["ypeak"]))
        if min(src.e_score, src.g_score) > WDB_SCORE:
            continue
        b_over_a = float(np.clip(o["b"] / o["a"], 0.05, 1.0)) if o["a"] > 0 else 1.0
        measure(bands, src, b_over_a, float(o["theta"]), float(o["a"]) * inst.ATLAS_ARCSEC)
        out.append(src)
    return out


def scan_ext(scan: int, ra0: float, images: list[list[atlas.AtlasImage]],
             magzp: list[float], seeing: list[float], pts: dict[str, np.ndarray],
             geometry: scansources.ScanGeometry) -> dict[str, np.ndarray]:
    """The scan's ``ext`` columns (NaN or -1 = NULL), ids 1..N along the scan, from its
    J, H, Ks Atlas Images and its ``pts`` columns."""
    by_number = [{im.number: im for im in band} for band in images]
    numbers = sorted(set(by_number[KS]) & set(by_number[0]) & set(by_number[1]))
    ks_images = [by_number[KS][n] for n in numbers]
    centres = scansources.image_phi(ks_images, ra0)
    pts_ra, pts_dec = np.asarray(pts["ra"], float), np.asarray(pts["dec"], float)
    # Measured magnitudes only (no upper limits: msig NULL).
    pts_mag = [np.where(np.isfinite(np.asarray(pts[f"{b}_msig"], float)),
                        np.asarray(pts[f"{b}_m"], float), np.nan) for b in BANDS]
    pts_image = (np.argmin(np.abs(scanframe.to_scan(ra0, pts_ra, pts_dec)[1][:, None] * 3600.0
                                  - centres[None, :]), axis=1)
                 if len(pts_ra) and len(centres) else np.zeros(len(pts_ra), int))
    rows: list[tuple[int, Extended, BandImage]] = []
    density = {}
    for k, n in enumerate(numbers):
        bands = [galimage.prepare(by_number[b][n], magzp[b], seeing[b], pts_ra, pts_dec,
                                  pts_mag[b]) for b in range(3)]
        bright = np.sum((pts_image == k) & (np.nan_to_num(pts_mag[KS], nan=99.0) < DENSITY_KS))
        area = inst.ATLAS_SHAPE[0] * inst.ATLAS_SHAPE[1] * inst.ATLAS_ARCSEC**2 / 3600.0**2
        density[n] = float(np.log10(max(bright, 1) / area))
        for src in measure_image(bands):
            ra, dec = tan.pix_to_world(bands[KS].image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX,
                                       np.array([src.x]), np.array([src.y]))
            phi = scanframe.to_scan(ra0, ra, dec)[1][0] * 3600.0
            if int(np.argmin(np.abs(phi - centres))) == k:
                rows.append((n, src, bands[KS]))
    return ext_columns(scan, rows, magzp, density, pts, geometry)


def ext_columns(scan: int, rows: list, magzp: list[float], density: dict[int, float],
                pts: dict[str, np.ndarray], geometry: scansources.ScanGeometry
                ) -> dict[str, np.ndarray]:
    """Columns of ``ext.parquet`` from the measured sources (number, Extended, Ks image)."""
    n = len(rows)
    zp = np.asarray(magzp, float)

    def world(x, y, images):
        ra, dec = np.zeros(n), np.zeros(n)
        for i, im in enumerate(images):
            r, d = tan.pix_to_world(im.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX,
                                    np.array([x[i]]), np.array([y[i]]))
            ra[i], dec[i] = r[0], d[0]
        return ra, dec

    src = [r[1] for r in rows]
    ks_images = [r[2].image for r in rows]
    x = np.array([s.x for s in src])
    y = np.array([s.y for s in src])
    ra, dec = world(np.array([s.x_peak for s in src]), np.array([s.y_peak for s in src]),
                    ks_images)
    sup_ra, sup_dec = world(x, y, ks_images)
    _, y_scan, jd = geometry.place(sup_ra, sup_dec)
    cols: dict[str, np.ndarray] = {
        "scan": np.full(n, scan, np.int16), "coadd": np.array([r[0] for r in rows], np.int16),
        "ra": ra, "dec": dec, "sup_ra": sup_ra, "sup_dec": sup_dec,
        "pts_id": _pts_match(ra, dec, pts), "jdate": jd,
        "x_coadd": x + 1.0, "y_coadd": y + 1.0,
        "density": np.array([density[r[0]] for r in rows]),
        "r_k20fe": np.array([s.r_k20fe for s in src]),
    }
    mags = [s.mags(s.flux_k20fe, s.err_k20fe, zp) for s in src]
    m7 = [s.mags(s.flux_7, s.err_7, zp) for s in src]
    mext = [s.mags(s.flux_ext, s.err_ext, zp) for s in src]

    def per_band(name, values, kind=float):
        arr = np.array(values, kind).reshape(n, 3)
        for b, band in enumerate(BANDS):
            cols[name.format(band=band)] = arr[:, b]

    per_band("{band}_m_k20fe", [m[0] for m in mags])
    per_band("{band}_msig_k20fe", [m[1] for m in mags])
    per_band("{band}_flg_k20fe", [s.flg_k20fe for s in src], np.int16)
    per_band("{band}_m_7", [m[0] for m in m7])
    per_band("{band}_msig_7", [m[1] for m in m7])
    cols["r_3sig"] = np.array([s.r_3sig for s in src])
    per_band("{band}_ba", [s.ba for s in src])
    per_band("{band}_phi", [np.nan_to_num(np.round(s.phi_deg), nan=-1) for s in src], int)
    cols["sup_ba"] = np.array([s.sup_ba for s in src])
    cols["sup_phi"] = np.array([int(round(s.sup_phi_deg)) % 180 for s in src], int)
    cols["r_ext"] = np.array([s.r_ext for s in src])
    per_band("{band}_m_ext", [m[0] for m in mext])
    per_band("{band}_msig_ext", [m[1] for m in mext])
    cols["e_score"] = np.array([s.e_score for s in src])
    cols["g_score"] = np.array([s.g_score for s in src])
    cols["vc"] = np.full(n, -1)
    cols["cc_flg"] = _artifact_flags(cols["pts_id"], pts)
    cols["dist_edge_ns"], cols["dist_edge_ew"], cols["dist_edge_flg"] = \
        scanframe.edge_distances(ra, dec, geometry.corners(), geometry.sd)
    cols["mp_flg"] = np.zeros(n, np.int16)
    order = np.argsort(y_scan, kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    cols["id"] = np.arange(1, n + 1, dtype=np.int32)
    return cols


def _artifact_flags(pts_id: np.ndarray, pts: dict[str, np.ndarray]) -> np.ndarray:
    """``cc_flg``: the artifact letter (upper case, ``mapcor``: persistence, spike, ...)
    of the point source at the peak, Ks first; '0' if it has none."""
    out = np.full(len(pts_id), "0")
    if len(pts_id) == 0 or "cc_flg" not in pts:
        return out
    row = {int(i): k for k, i in enumerate(np.asarray(pts["id"]))}
    flags = np.asarray(pts["cc_flg"])
    for n, pid in enumerate(pts_id):
        if pid >= 0:
            upper = [c for c in flags[row[int(pid)]][::-1] if c.isupper()]
            out[n] = upper[0] if upper else "0"
    return out


def _pts_match(ra: np.ndarray, dec: np.ndarray, pts: dict[str, np.ndarray]) -> np.ndarray:
    """``id`` of the nearest point source within ``PTS_MATCH_ARCSEC`` (-1: none)."""
    out = np.full(len(ra), -1, np.int64)
    if len(ra) == 0 or len(pts["ra"]) == 0:
        return out
    tree = cKDTree(sphere.unit_vectors(np.asarray(pts["ra"]), np.asarray(pts["dec"])))
    dist, idx = tree.query(sphere.unit_vectors(ra, dec),
                           distance_upper_bound=np.radians(PTS_MATCH_ARCSEC / 3600.0))
    hit = np.isfinite(dist)
    out[hit] = np.asarray(pts["id"])[idx[hit]]
    return out


def survey_scan_ext(entry, results, pts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``scan_ext`` of a survey scan from the night driver's per-band results (their
    Atlas Images, zero points, seeing and registrations)."""
    geometry = scansources.scan_geometry([r.reg for r in results], [r.frames for r in results],
                                         entry.ra0, entry.sd)
    return scan_ext(entry.scan, entry.ra0, [r.images for r in results],
                    [r.magzp for r in results], [r.seeing for r in results], pts, geometry)
