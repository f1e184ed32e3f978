"""Profile-fit photometry on the individual R2-R1 frames (spec §1.6).

Each Atlas Image detection is fitted jointly on the 6 (7) calibrated frames that see it:
one flux and one position (offsets east and north of the detection) common to all
frames, the PSF evaluated as pixel integrals on each frame's own pixels at the position
mapped through that frame's registered WCS (the frame offsets are held fixed). The sky is
the median of the 14-20" annulus on each frame, fixed. Detections within ``GROUP_ARCSEC``
of each other are fitted together (up to ``MAX_COMPONENTS``; the group size is the
source's ``bl_flg`` digit); no component is ever added (no active deblending: the
field-dependent PSF would split single stars).

The PSF (``PsfModel``) is measured from the scan's own bright frame stars, starting
from the scan's SEEING: a Gaussian core and a wider Gaussian wing (fraction and width
fitted), the core's width per frame (the seeing wanders along a scan) and its growth
towards the array's corners and its linear gradient across it (the focal plane's field
dependence and tilt), and a fractional model error per pixel (the residual of the bright
stars beyond their noise). The simulator's PSF varies more than that (astigmatism, the
tilt and wing wandering from frame to frame): the rest is the bright stars' floor.

Errors come from the fit covariance (read and sky noise, the source's Poisson noise, the
PSF-error term) plus the annulus sky's own error. ``msig`` is that error in magnitudes;
``cmsig`` is it corrected by the scatter the scan's own measurements show: each source's
fluxes on its single frames (position held) scatter about the joint flux by
``sqrt(chi2 / df)`` times their predicted errors, and the root of the mean of chi2 / df
over the sources of an S/N bin (each clipped at ``CORRECTION_CLIP`` times the bin's
median, so a cosmic ray or a blend does not set it) is the bin's correction factor
(``ErrorCorrection``; 1.05-1.8 at S/N 10-100 on the simulated scans, the PSF's
frame-to-frame variation most of it). A mean, not a median: the PSF's error differs from
source to source (larger at the array's edges), and the errors must hold for all of them.
Errors common to all of a source's frames do not show in that scatter: the PSF mismatch
where a star stays on the array (``ErrorCorrection.floor``, from the profile-fit against
the aperture fluxes), and the flat-field residuals and zero point the catalog's
``msigcom`` adds.

Fluxes are put on the curve-of-growth corrected 4" aperture scale of the Atlas Images
(the median ratio of the aperture to the profile-fit flux of bright isolated stars), so
a star's profile-fit flux is the total flux ``MAGZP`` and ``APCOR`` give. Pixels
saturated in Read_2 are not used; a source with one at its centre is flagged
``saturated`` (Read_1 photometry measures it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.special import erf
from scipy.stats import chi2

from twomass.core.stats import robust_sigma
from twomass.pipeline.stages import atlas, register
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.calibrate import CalibratedScan
from twomass.pipeline.stages.photometry import MAG_PER_LN_FLUX, annulus_sky, aperture_photometry

#: Neighbours closer than this are fitted together (spec §1.6: ~5").
GROUP_ARCSEC = 5.0
MAX_COMPONENTS = 7
#: Inputs closer than this are one source (a detection on two overlapping Atlas Images):
#: two components there would share its flux at random.
SAME_SOURCE_ARCSEC = 1.0
#: Half size of each source's fitting box on a frame [px]: 7 x 7 pixels, +-7".
BOX_HALF_PX = 3
SKY_INNER_ARCSEC, SKY_OUTER_ARCSEC = 14.0, 20.0
GAUSS_NEWTON_STEPS = 4
#: From the second step on, each step drops the pixel of a group furthest off the model
#: if it is more than ``CLIP_SIGMA`` off (a cosmic ray on the star, a hot pixel the
#: bad-pixel mask missed).
CLIP_SIGMA = 6.0
#: A component's position is fitted from this S/N; fainter ones stay at the detection.
POSITION_MIN_SNR = 3.0
#: Weak prior on the position offsets [arcsec]: a faint component cannot wander off.
POSITION_PRIOR_ARCSEC = 2.0
#: Largest position change of one Gauss-Newton step.
MAX_STEP_ARCSEC = 1.0
#: The core's growth is a function of the distance from the array centre over this [px].
FIELD_RADIUS_PX = 0.5 * inst.NPIX * np.sqrt(2.0)
#: PSF measurement: stars of frame S/N above this, no other detection within
#: ``PSF_ISOLATION_PX``, on 11 x 11 px stamps; the per-frame seeing from the stars of
#: at least ``PSF_WINDOW_STARS`` stars in the frames around each frame.
PSF_MIN_SNR = 30.0
PSF_ISOLATION_PX = 8.0
PSF_STAMP_HALF_PX = 5
PSF_MAX_STARS = 800
PSF_WINDOW_STARS = 8
PSF_ERROR_MIN_SNR = 100.0
PSF_ERROR_MAX = 0.1
#: Error correction: S/N bin edges, and the sources a bin needs.
CORRECTION_SNR_EDGES = np.array([3.0, 7.0, 10.0, 20.0, 50.0, 100.0, 300.0, 1e4])
CORRECTION_MIN_SOURCES = 15
CORRECTION_CLIP = 9.0
#: PSF stars whose width lies further than this many robust sigmas (at least
#: ``WIDTH_CLIP_MIN`` in log width) from the scan's median width are left out.
WIDTH_CLIP = 4.0
WIDTH_CLIP_MIN = 0.15
#: The core's field terms (growth, tilt) are fitted from this many PSF stars.
FIELD_MIN_STARS = 6
#: Aperture normalisation: isolated profile-fit stars of S/N above this.
NORMALISE_MIN_SNR = 30.0
NORMALISE_MIN_STARS = 5
#: The error common to a source's frames (``ErrorCorrection.floor``) from at least this
#: many of those stars; at most ``FLOOR_MAX``.
FLOOR_MIN_STARS = 10
FLOOR_MAX = 0.1


@dataclass
class PsfModel:
    """The scan's PSF: a Gaussian core of ``sigma_px[k]`` on frame k at the array centre,
    ``(1 + growth r^2 / FIELD_RADIUS_PX^2 + tilt . (u, v))`` times that at r px from it
    ((u, v): the position in half array widths from the centre; a tilted focal plane),
    plus a wing of ``wing_fraction`` of the flux and ``wing_scale`` times the core's
    width; its fractional error per pixel ``psf_error``."""

    sigma_px: np.ndarray
    growth: float
    wing_fraction: float
    wing_scale: float
    psf_error: float
    tilt: tuple[float, float] = (0.0, 0.0)

    def core_sigma(self, frame: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.sigma_px[frame] * (1.0 + _field_terms(x, y) @ self.field_coefficients())

    def field_coefficients(self) -> np.ndarray:
        """(growth, tilt x, tilt y): the coefficients of ``_field_terms``."""
        return np.array([self.growth, *self.tilt])

    def fwhm_arcsec(self) -> float:
        """Median core FWHM at the array centre."""
        return float(2.3548 * np.median(self.sigma_px) * inst.PIXEL_ARCSEC)


@dataclass
class ErrorCorrection:
    """cmsig / msig per S/N bin (``snr`` the bins' centres), from the frame-to-frame
    scatter of the scan's sources; ``floor``: the fractional flux error common to a
    source's frames (the PSF model's mismatch where a star stays on the array), added
    in quadrature."""

    snr: np.ndarray
    factor: np.ndarray
    sources: np.ndarray  # per bin
    floor: float = 0.0

    def __call__(self, snr: np.ndarray) -> np.ndarray:
        if len(self.snr) == 0:
            return np.ones_like(snr)
        return np.interp(np.log(np.maximum(snr, 1e-3)), np.log(self.snr), self.factor)


@dataclass
class ProfileFit:
    """Profile-fit photometry, index-aligned with the input positions.

    Fluxes [ADU per R2-R1 frame] are totals on the aperture scale; ``mag`` is NaN where
    the flux is not positive. ``ncomp`` is the number of components fitted together
    (the ``bl_flg`` digit); ``nframes`` the frames that contributed pixels; ``ok`` False
    where the source had no usable pixel or its fit did not converge.
    """

    ra: np.ndarray
    dec: np.ndarray
    sigma_ra: np.ndarray  # [arcsec], along RA on the sky
    sigma_dec: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    mag: np.ndarray
    msig: np.ndarray
    cmsig: np.ndarray
    psfchi: np.ndarray
    ncomp: np.ndarray
    nframes: np.ndarray
    saturated: np.ndarray  # Read_2 saturated at the source on a frame: Read_1's job
    ok: np.ndarray
    #: The position whose fit this is: of inputs within ``SAME_SOURCE_ARCSEC`` of each
    #: other (one source detected on two overlapping Atlas Images) the first is fitted
    #: and the others repeat it.
    same_as: np.ndarray
    psf: PsfModel
    correction: ErrorCorrection
    aperture_scale: float  # aperture / profile-fit flux of bright isolated stars
    #: The fractional error of ``aperture_scale`` (a median over the scan's stars): common
    #: to every profile-fit flux of the scan and band, so a calibration error (msigcom).
    scale_err: float = 0.0


# --------------------------------------------------------------------------- pixels


def pixel_integrals(edges: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrals of a unit 1-D Gaussian of ``sigma`` between consecutive ``edges``
    (positions relative to its centre, last axis), and their derivatives with respect
    to the centre. ``sigma`` broadcasts against ``edges``."""
    s = np.sqrt(2.0) * sigma
    cdf = 0.5 * erf(edges / s)
    density = np.exp(-(edges / s) ** 2) / (np.sqrt(np.pi) * s)
    return np.diff(cdf, axis=-1), -np.diff(density, axis=-1)


def psf_pixels(psf: PsfModel, core: np.ndarray, ex: np.ndarray, ey: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSF pixel integrals and their x and y derivatives on boxes whose pixel edges are
    ``ex``, ``ey`` (relative to the source, (..., B + 1)) for core sigmas ``core`` (...):
    arrays (..., B, B), rows y."""
    out = [0.0, 0.0, 0.0]
    for weight, scale in ((1.0 - psf.wing_fraction, 1.0), (psf.wing_fraction, psf.wing_scale)):
        if weight <= 0.0:
            continue
        s = (scale * core)[..., None]
        gx, dgx = pixel_integrals(ex, s)
        gy, dgy = pixel_integrals(ey, s)
        out[0] = out[0] + weight * gy[..., :, None] * gx[..., None, :]
        out[1] = out[1] + weight * gy[..., :, None] * dgx[..., None, :]
        out[2] = out[2] + weight * dgy[..., :, None] * gx[..., None, :]
    return out[0], out[1], out[2]


# --------------------------------------------------------------------------- the PSF


def measure_psf(cal: CalibratedScan, seeing_arcsec: float) -> PsfModel:
    """The scan's PSF from its bright, isolated, unsaturated frame detections (see the
    module docstring). Every star gets its own flux, position and core width; the wing
    is the (fraction, scale) on a grid that fits them best; the per-frame width is the
    median of the stars' widths over the nearest frames holding ``PSF_WINDOW_STARS``,
    after the field growth (a least-squares fit of the widths against r^2) is taken out.
    Without stars, the scan's SEEING and no wing."""
    n = len(cal.frames)
    sigma0 = seeing_arcsec / 2.3548 / inst.PIXEL_ARCSEC if np.isfinite(seeing_arcsec) else 0.6
    fallback = PsfModel(np.full(n, sigma0), 0.0, 0.0, 3.0, 0.02)
    stamps = _psf_stars(cal)
    if stamps is None:
        return fallback
    frame, x, y, data, var0 = stamps
    best = None
    coarse = [(w, q) for w in (0.0, 0.03, 0.06, 0.09, 0.12, 0.16, 0.20)
              for q in (2.0, 2.5, 3.0, 3.5, 4.5) if w > 0.0 or q == 3.0]
    for grid in (coarse, "fine"):
        if grid == "fine":
            w0, q0 = best[1], best[2]
            grid = [(w, q) for w in w0 + np.array([-0.02, -0.01, 0.01, 0.02])
                    for q in q0 + np.array([-0.25, 0.0, 0.25]) if w >= 0.0]
        for w, q in grid:
            trial = PsfModel(np.full(n, sigma0), 0.0, float(w), float(q), 0.0)
            fit = _fit_stamps(trial, frame, x, y, data, var0, sigma0)
            if best is None or fit[0] < best[0]:
                best = (fit[0], float(w), float(q), fit[1])
    _, w, q, (fx, fy, flux, log_s, resid, model) = best
    s = np.exp(log_s)
    ok = (s > 0.2) & (s < 3.0) & np.isfinite(s)
    if ok.any():  # widths far from the scan's are blends, galaxies, artifacts: not the PSF
        dev = np.log(s) - np.median(np.log(s[ok]))
        ok &= np.abs(dev) <= max(WIDTH_CLIP * robust_sigma(dev[ok]), WIDTH_CLIP_MIN)
    if ok.sum() < 3:
        return fallback
    frame, fx, fy, s, data, var = (a[ok] for a in (frame, fx, fy, s, data, var0))
    terms = _field_terms(fx, fy)
    coef = np.zeros(3)
    sigma_k = np.full(n, np.median(s))
    for _ in range(3):
        sigma_k = _per_frame_median(frame, np.log(s / (1.0 + terms @ coef)), n)
        ratio = s / sigma_k[frame]
        # ratio = 1 + growth r^2 + tilt . (u, v): least squares through 1 at the centre.
        coef = np.linalg.lstsq(terms, ratio - 1.0, rcond=None)[0] if len(s) >= FIELD_MIN_STARS \
            else coef
        coef = np.clip(coef, [-0.3, -0.2, -0.2], [0.5, 0.2, 0.2])
    # The model error is what the stars show at the model's widths (each star's own width
    # would absorb the frame-to-frame and field variation the model does not follow).
    width = sigma_k[frame] * (1.0 + terms @ coef)
    trial = PsfModel(np.full(n, sigma0), 0.0, w, q, 0.0)
    _, (*_, resid, model) = _fit_stamps(trial, frame, fx, fy, data, var, sigma0, sigma=width)
    psf_error = _psf_error(resid, model, var, params=3)
    return PsfModel(sigma_k, float(coef[0]), w, q, psf_error, (float(coef[1]), float(coef[2])))


def _psf_stars(cal: CalibratedScan):
    """Stamps of the PSF stars: (frame, x, y, pixels (n, S, S), noise variance)."""
    h = PSF_STAMP_HALF_PX
    rows = []
    for k, d in enumerate(cal.detections):
        if len(d) == 0:
            continue
        xy = np.column_stack([d["x"], d["y"]])
        dist, _ = cKDTree(xy).query(xy, k=2) if len(d) > 1 else (np.full((1, 2), np.inf),
                                                                   None)
        pick = register.usable(d, PSF_MIN_SNR) & (d["peak"] < atlas.SHARP * d["iso"]) \
            & (dist[:, 1] > PSF_ISOLATION_PX) & (d["x"] > h + 1) & (d["x"] < inst.NPIX - h - 2) \
            & (d["y"] > h + 1) & (d["y"] < inst.NPIX - h - 2)
        for i in np.flatnonzero(pick):
            rows.append((d["flux"][i], k, d["x"][i], d["y"][i]))
    if len(rows) < 3:
        return None
    rows.sort(key=lambda r: -r[0])
    rows = np.array(rows[:PSF_MAX_STARS])
    frame = rows[:, 1].astype(int)
    x, y = rows[:, 2], rows[:, 3]
    offs = np.arange(-h, h + 1)
    iy = np.rint(y).astype(int)[:, None, None] + offs[None, :, None]
    ix = np.rint(x).astype(int)[:, None, None] + offs[None, None, :]
    data = cal.frames[frame[:, None, None], iy, ix].astype(float)
    good = cal.good[frame[:, None, None], iy, ix] & ~cal.saturated[frame[:, None, None], iy, ix]
    keep = good.all(axis=(1, 2))
    if keep.sum() < 3:
        return None
    var0 = np.broadcast_to((cal.noise[frame] ** 2)[:, None, None], data.shape)
    return frame[keep], x[keep], y[keep], data[keep], var0[keep]


def _fit_stamps(psf: PsfModel, frame, x, y, data, var0, sigma0, steps: int = 6,
                sigma: np.ndarray | None = None):
    """Per-star Gauss-Newton fit of (x, y, flux, log core sigma) on the stamps for a
    given wing, or of (x, y, flux) at the core sigmas ``sigma`` [px] when given; returns
    the total chi-square and the fitted values."""
    npar = 4 if sigma is None else 3
    h = PSF_STAMP_HALF_PX
    cx, cy = np.rint(x), np.rint(y)
    edges = np.arange(-h - 0.5, h + 1.0)
    fx, fy = x.copy(), y.copy()
    log_s = np.full(len(x), np.log(sigma0)) if sigma is None else np.log(sigma)
    flux = np.maximum(data.sum(axis=(1, 2)), 1.0)
    eps = 1e-3
    for _ in range(steps):
        ex = (cx - fx)[:, None] + edges
        ey = (cy - fy)[:, None] + edges
        p, px, py = psf_pixels(psf, np.exp(log_s), ex, ey)
        p2, _, _ = psf_pixels(psf, np.exp(log_s + eps), ex, ey)
        ps = (p2 - p) / eps
        model = flux[:, None, None] * p
        var = var0 + np.maximum(model, 0.0) / inst.GAIN
        jac = np.stack([p, flux[:, None, None] * px, flux[:, None, None] * py,
                        flux[:, None, None] * ps][:npar], axis=-1).reshape(len(x), -1, npar)
        r = (data - model).reshape(len(x), -1)
        wgt = 1.0 / var.reshape(len(x), -1)
        normal = np.einsum("npi,np,npj->nij", jac, wgt, jac) + np.eye(npar) * 1e-9
        step = np.linalg.solve(normal, np.einsum("npi,np,np->ni", jac, wgt, r)[..., None])[..., 0]
        flux = flux + step[:, 0]
        fx = fx + np.clip(step[:, 1], -0.5, 0.5)
        fy = fy + np.clip(step[:, 2], -0.5, 0.5)
        if sigma is None:
            log_s = np.clip(log_s + np.clip(step[:, 3], -0.3, 0.3), np.log(0.15), np.log(4.0))
    ex = (cx - fx)[:, None] + edges
    ey = (cy - fy)[:, None] + edges
    model = flux[:, None, None] * psf_pixels(psf, np.exp(log_s), ex, ey)[0]
    var = var0 + np.maximum(model, 0.0) / inst.GAIN
    resid = data - model
    return float(np.sum(resid**2 / var)), (fx, fy, flux, log_s, resid, model)


def _field_terms(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(..., 3): r^2 / FIELD_RADIUS_PX^2 (at most 1) and (u, v), the position in half
    array widths from the centre: the core's relative growth over the array is these
    times ``PsfModel.field_coefficients``."""
    half = 0.5 * inst.NPIX
    u, v = (np.asarray(x) - (half - 0.5)) / half, (np.asarray(y) - (half - 0.5)) / half
    r2 = np.clip((u**2 + v**2) * half**2 / FIELD_RADIUS_PX**2, 0.0, 1.0)
    return np.stack([r2, u, v], axis=-1)


def _per_frame_median(frame: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """exp of the median of ``value`` over the stars of the nearest frames around each
    frame that hold at least ``PSF_WINDOW_STARS`` stars (all of them if fewer)."""
    order = np.argsort(frame, kind="stable")
    f, v = frame[order], value[order]
    out = np.empty(n)
    need = min(PSF_WINDOW_STARS, len(v))
    for k in range(n):
        for half in range(0, n + 1):
            lo, hi = np.searchsorted(f, k - half), np.searchsorted(f, k + half, side="right")
            if hi - lo >= need:
                break
        out[k] = np.exp(np.median(v[lo:hi]))
    return out


def _psf_error(resid: np.ndarray, model: np.ndarray, var: np.ndarray, params: int
               ) -> float:
    """The fractional model error e per pixel that makes the bright stars' median reduced
    chi-square 1 with variances ``var + model/GAIN + (e model)^2`` (``params`` fitted a
    star).

    Bright: S/N above ``PSF_ERROR_MIN_SNR`` (the brightest quarter if fewer than 5 are),
    where the term matters; the faint stars' chi-square does not depend on it. Only the
    pixels within ``BOX_HALF_PX`` of the star count (the fit's own box): further out the
    excess is the neighbours' and the background's, not the PSF's. At most
    ``PSF_ERROR_MAX``."""
    var = var + np.maximum(model, 0.0) / inst.GAIN
    h = PSF_STAMP_HALF_PX
    yy, xx = np.mgrid[-h:h + 1, -h:h + 1]
    inner = (np.hypot(xx, yy) <= BOX_HALF_PX).ravel()
    dof = int(inner.sum()) - params
    r2 = resid.reshape(len(resid), -1)[:, inner] ** 2
    m2 = model.reshape(len(model), -1)[:, inner] ** 2
    v = var.reshape(len(var), -1)[:, inner]
    snr = m2.sum(axis=1) ** 0.5 / np.sqrt(np.mean(v, axis=1))
    bright = snr > PSF_ERROR_MIN_SNR
    if bright.sum() < 5:
        bright = snr >= np.percentile(snr, 75.0)
    r2, m2, v = r2[bright], m2[bright], v[bright]
    # E[r^2] = v + e^2 m^2 per pixel: each star's moment estimate, their median.
    e2 = (r2.sum(axis=1) * dof / (dof + params) - v.sum(axis=1)) \
        / np.maximum(m2.sum(axis=1), 1e-30)
    return float(np.sqrt(np.clip(np.median(e2), 0.0, PSF_ERROR_MAX**2)))


# --------------------------------------------------------------------------- the fit


def profile_fit(cal: CalibratedScan, reg: register.Registration, ra: np.ndarray,
                dec: np.ndarray, seeing_arcsec: float, magzp: float,
                images: list[atlas.AtlasImage] | None = None, *, psf: PsfModel | None = None,
                weight: np.ndarray | None = None) -> ProfileFit:
    """Profile-fit photometry of the positions (ra, dec) [deg] on one band of one scan.

    ``seeing_arcsec`` is the scan's SEEING (where the PSF measurement starts, and the PSF
    where it finds no star); ``psf`` replaces the measurement. ``images``: the scan's
    Atlas Images, whose 4" apertures with their APCOR set the flux scale (without them
    the PSF model's total flux is the scale). ``weight``: per-frame pixel weights (the
    transient masks, ``atlas.transient_masks``); pixels of weight 0 are not used.
    """
    ra, dec = np.atleast_1d(np.asarray(ra, float)), np.atleast_1d(np.asarray(dec, float))
    if ra.shape != dec.shape:
        raise ValueError(f"profile_fit: ra has {len(ra)} positions, dec {len(dec)}")
    psf = measure_psf(cal, seeing_arcsec) if psf is None else psf
    usable = cal.good & ~cal.saturated
    if weight is not None:
        usable = usable & (weight > 0)
    same_as = _same_source(ra, dec)
    unique = np.flatnonzero(same_as == np.arange(len(ra)))
    all_ra, all_dec = ra, dec
    ra, dec = ra[unique], dec[unique]
    res = _empty(len(ra))
    groups = _groups(ra, dec)
    sizes = np.bincount(groups)
    res["ncomp"] = sizes[groups]
    on = _frames_seeing(reg, ra, dec, len(cal.frames))
    sky = _annulus_sky(cal.frames, usable, on, reg, ra, dec)
    for m in range(1, MAX_COMPONENTS + 1):
        ids = np.flatnonzero(sizes == m)
        if len(ids) == 0:
            continue
        members = np.argsort(groups, kind="stable")
        members = members[np.isin(groups[members], ids)].reshape(-1, m)
        chunk = max(1, 4000 // (m * m))
        for a in range(0, len(members), chunk):
            _fit_groups(cal, usable, reg, psf, members[a:a + chunk], on, sky, ra, dec, res)
    correction = error_correction(res)
    row = np.searchsorted(unique, same_as)
    res = {k: v[row] for k, v in res.items()}
    ra, dec = all_ra[same_as], all_dec[same_as]
    fit = _result(res, ra, dec, psf, correction, magzp, 1.0, same_as)
    if images:
        scale, floor, scale_err = aperture_comparison(fit, images)
        correction = dataclasses.replace(correction, floor=floor)
        fit = _result(res, ra, dec, psf, correction, magzp, scale, same_as, scale_err)
    return fit


def _same_source(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """For each position, the first position within ``SAME_SOURCE_ARCSEC`` of it
    (friends of friends; itself if none)."""
    first = np.arange(len(ra))
    if len(ra) < 2:
        return first
    pairs = cKDTree(unit_vectors(ra, dec)).query_pairs(np.radians(SAME_SOURCE_ARCSEC / 3600.0),
                                                       output_type="ndarray")
    if len(pairs) == 0:
        return first
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(ra), len(ra)))
    _, label = connected_components(graph, directed=False)
    lowest = np.full(label.max() + 1, len(ra))
    np.minimum.at(lowest, label, first)
    return lowest[label]


def _empty(n: int) -> dict[str, np.ndarray]:
    nan = np.full(n, np.nan)
    return {"dxi": np.zeros(n), "deta": np.zeros(n), "var_xi": nan.copy(),
            "var_eta": nan.copy(), "flux": nan.copy(), "var_flux": nan.copy(),
            "chi2": nan.copy(), "npix": np.zeros(n), "frame_chi2": nan.copy(),
            "frame_df": np.zeros(n, int), "ncomp": np.zeros(n, int),
            "nframes": np.zeros(n, int), "saturated": np.zeros(n, bool),
            "ok": np.zeros(n, bool)}


def _result(res, ra, dec, psf, correction, magzp, scale, same_as,
            scale_err: float = 0.0) -> ProfileFit:
    flux = np.where(res["ok"], res["flux"] * scale, np.nan)
    err = np.where(res["ok"], np.sqrt(res["var_flux"]) * scale, np.nan)
    dec_new = dec + res["deta"] / 3600.0
    ra_new = (ra + res["dxi"] / 3600.0 / np.cos(np.radians(dec))) % 360.0
    positive = res["ok"] & (flux > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mag = np.where(positive, magzp - 2.5 * np.log10(flux), np.nan)
        msig = np.where(positive, MAG_PER_LN_FLUX * err / flux, np.nan)
        snr = flux / err
        cmsig = np.hypot(msig * correction(np.where(np.isfinite(snr), snr, 1.0)),
                         MAG_PER_LN_FLUX * correction.floor)
        psfchi = res["chi2"] / np.maximum(res["npix"] - 3.0, 1.0)
    return ProfileFit(ra_new, dec_new, np.sqrt(res["var_xi"]), np.sqrt(res["var_eta"]),
                      flux, err, mag, msig, cmsig, psfchi, res["ncomp"].copy(),
                      res["nframes"].copy(), res["saturated"].copy(), res["ok"].copy(),
                      same_as, psf, correction, scale, scale_err)


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Unit vectors of (ra, dec) [deg]: neighbour searches without an RA wrap."""
    a, d = np.radians(ra), np.radians(dec)
    return np.column_stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)])


def _groups(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Group number of each position: friends of friends within ``GROUP_ARCSEC``; a
    group larger than ``MAX_COMPONENTS`` is split at shorter links (down to 1", then in
    order of RA)."""
    labels = np.zeros(len(ra), int)
    pending = [(np.arange(len(ra)), GROUP_ARCSEC)]
    nxt = 0
    while pending:
        idx, link = pending.pop()
        if link < 1.0:
            order = idx[np.argsort(ra[idx])]
            for a in range(0, len(order), MAX_COMPONENTS):
                labels[order[a:a + MAX_COMPONENTS]] = nxt
                nxt += 1
            continue
        pairs = cKDTree(unit_vectors(ra[idx], dec[idx])).query_pairs(
            np.radians(link / 3600.0), output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                           shape=(len(idx), len(idx))) if len(pairs) else \
            coo_matrix((len(idx), len(idx)))
        _, lab = connected_components(graph, directed=False)
        counts = np.bincount(lab)
        small = counts[lab] <= MAX_COMPONENTS
        for g in np.unique(lab[small]):
            labels[idx[lab == g]] = nxt
            nxt += 1
        for g in np.unique(lab[~small]):
            pending.append((idx[lab == g], 0.8 * link))
    return labels


@dataclass
class _OnFrames:
    """(source, frame) pairs where the source lies on the frame, with its pixel."""

    source: np.ndarray
    frame: np.ndarray
    x: np.ndarray
    y: np.ndarray


def _frames_seeing(reg: register.Registration, ra, dec, n_frames: int) -> _OnFrames:
    tree = cKDTree(unit_vectors(ra, dec))
    radius = np.radians((0.5 * inst.NPIX * np.sqrt(2.0) + 4.0) * inst.PIXEL_ARCSEC / 3600.0)
    src, frm, xs, ys = [], [], [], []
    centres = unit_vectors(reg.ra[:n_frames], reg.dec[:n_frames])
    for k in range(n_frames):
        near = np.asarray(tree.query_ball_point(centres[k], radius), int)
        if len(near) == 0:
            continue
        x, y = reg.to_pixels(k, ra[near], dec[near])
        on = (x > -0.5) & (x < inst.NPIX - 0.5) & (y > -0.5) & (y < inst.NPIX - 0.5)
        src.append(near[on])
        frm.append(np.full(int(on.sum()), k))
        xs.append(x[on])
        ys.append(y[on])
    if not src:
        return _OnFrames(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0))
    return _OnFrames(*(np.concatenate(a) for a in (src, frm, xs, ys)))


def _annulus_sky(frames, usable, on: _OnFrames, reg, ra, dec) -> dict:
    """Median of the usable pixels of each (source, frame)'s 14-20" annulus, and its
    variance from the pixels' spread: {(source, frame): ...} as arrays aligned with
    ``on``."""
    med, sd, count = annulus_sky(frames, usable, on.frame, on.x, on.y,
                                 SKY_INNER_ARCSEC / inst.PIXEL_ARCSEC,
                                 SKY_OUTER_ARCSEC / inst.PIXEL_ARCSEC)
    # The median's variance: (1.2533 sd)^2 / n.
    var = np.where(count > 0, (1.2533 * sd) ** 2 / np.maximum(count, 1), 0.0)
    key = on.source.astype(np.int64) * (len(frames) + 1) + on.frame
    return {"key": key, "sky": med, "var": var}


def _lookup(sky: dict, source: np.ndarray, frame: np.ndarray, n_frames: int):
    key = source.astype(np.int64) * (n_frames + 1) + frame
    order = np.argsort(sky["key"])
    i = np.searchsorted(sky["key"], key, sorter=order)
    i = order[np.minimum(i, len(order) - 1)] if len(order) else np.zeros_like(key)
    found = (sky["key"][i] == key) if len(order) else np.zeros(len(key), bool)
    return np.where(found, sky["sky"][i], 0.0), np.where(found, sky["var"][i], 0.0), found


def _fit_groups(cal, usable, reg, psf, members, on: _OnFrames, sky, ra, dec, res) -> None:
    """Joint fit of groups of equal size m (``members``: (G, m) source indices)."""
    g_count, m = members.shape
    n_frames = len(cal.frames)
    # The frames of each group: those that see any member.
    in_group = np.full(len(ra), -1)
    in_group[members.ravel()] = np.repeat(np.arange(g_count), m)
    pick = in_group[on.source] >= 0
    gf = np.unique(in_group[on.source[pick]].astype(np.int64) * n_frames + on.frame[pick])
    g_of, f_of = gf // n_frames, gf % n_frames
    slot = np.arange(len(gf)) - np.searchsorted(g_of, g_of)
    n_slots = int(slot.max()) + 1 if len(slot) else 1
    frame = np.full((g_count, n_slots), -1)
    frame[g_of, slot] = f_of
    valid = frame >= 0
    fk = np.where(valid, frame, 0)
    # Initial pixel positions of every member on every slot's frame.
    x0 = np.zeros((g_count, n_slots, m))
    y0 = np.zeros_like(x0)
    src = members[:, None, :].repeat(n_slots, axis=1)
    for k in np.unique(fk[valid]):
        sel = (fk == k) & valid
        s = src[sel]
        x, y = reg.to_pixels(int(k), ra[s.ravel()], dec[s.ravel()])
        x0[sel], y0[sel] = x.reshape(s.shape), y.reshape(s.shape)
    core = psf.core_sigma(fk[:, :, None], x0, y0)
    sky_v, sky_var, _ = _lookup(sky, src.ravel(), np.repeat(fk.ravel(), m), n_frames)
    sky_v, sky_var = sky_v.reshape(src.shape), sky_var.reshape(src.shape)
    group_sky = sky_v.mean(axis=2)
    # Boxes: one per member and slot, fixed at the initial positions.
    b = 2 * BOX_HALF_PX + 1
    offs = np.arange(-BOX_HALF_PX, BOX_HALF_PX + 1)
    cx, cy = np.rint(x0).astype(int), np.rint(y0).astype(int)
    px = cx[..., None] + offs  # (G, K, m, B)
    py = cy[..., None] + offs
    pxx = np.broadcast_to(px[..., None, :], px.shape[:-1] + (b, b))
    pyy = np.broadcast_to(py[..., :, None], py.shape[:-1] + (b, b))
    inside = (pxx >= 0) & (pxx < inst.NPIX) & (pyy >= 0) & (pyy < inst.NPIX) \
        & valid[:, :, None, None, None]
    ff = fk[:, :, None, None, None]
    index = np.where(inside, (ff * inst.NPIX + pyy) * inst.NPIX + pxx, 0)
    use = inside & usable.reshape(-1)[index]
    data = np.where(use, cal.frames.reshape(-1)[index] - group_sky[:, :, None, None, None],
                    0.0)
    share = use.astype(float)
    if m > 1:  # pixels in several members' boxes of a group count once in all
        pix_id = np.arange(g_count)[:, None, None, None, None] * (n_frames * inst.NPIX**2) \
            + index
        _, inverse, counts = np.unique(pix_id.ravel(), return_inverse=True,
                                       return_counts=True)
        share = (1.0 / counts[inverse]).reshape(pix_id.shape) * use
    noise2 = (cal.noise[fk] ** 2)[:, :, None, None, None] * np.ones_like(data)
    centre_on = valid[:, :, None] & (cx >= 0) & (cx < inst.NPIX) & (cy >= 0) & (cy < inst.NPIX)
    sat = centre_on & cal.saturated.reshape(-1)[np.where(
        centre_on, (fk[:, :, None] * inst.NPIX + cy) * inst.NPIX + cx, 0)]
    # Edges of the owners' box pixels relative to each component: (G, K, m_own, m, B+1).
    edges = np.arange(-BOX_HALF_PX - 0.5, BOX_HALF_PX + 1.0)
    npix = n_slots * m * b * b
    d_flat, share_flat, noise_flat = (a.reshape(g_count, npix) for a in (data, share, noise2))
    a_inv = np.linalg.inv(inst.cd_matrix()) / 3600.0  # px per arcsec of (xi, eta)
    offset = np.zeros((g_count, m, 2))
    flux = np.zeros((g_count, m))
    fit_position = np.zeros((g_count, m), bool)
    n_par = 3 * m

    def design(offset):
        dx = offset @ a_inv.T  # (G, m, 2) pixel shifts (x, y)
        xc = x0 + dx[:, None, :, 0]
        yc = y0 + dx[:, None, :, 1]
        ex = (cx[:, :, :, None, None] + edges) - xc[:, :, None, :, None]
        ey = (cy[:, :, :, None, None] + edges) - yc[:, :, None, :, None]
        p, ppx, ppy = psf_pixels(psf, np.broadcast_to(core[:, :, None, :], ex.shape[:-1]),
                                 ex, ey)
        # (G, K, own, comp, B, B) -> (G, npix, comp)
        return [np.moveaxis(t, 3, -1).reshape(g_count, npix, m) for t in (p, ppx, ppy)]

    p, ppx, ppy = design(offset)
    var = noise_flat + np.maximum(d_flat, 0.0) / inst.GAIN
    wgt = share_flat / var
    normal = _normal(p, wgt) + np.eye(m) * 1e-12
    flux = np.linalg.solve(normal, _rhs(p, wgt, d_flat))[..., 0]
    prior = np.concatenate([np.zeros(m), np.full(2 * m, POSITION_PRIOR_ARCSEC ** -2.0)])
    for step in range(GAUSS_NEWTON_STEPS):
        model = (p @ flux[..., None])[..., 0]
        var = noise_flat + np.maximum(model, 0.0) / inst.GAIN + (psf.psf_error * model) ** 2
        if step >= 1:
            # The worst pixel of each group, if it is an outlier: one at a time, so
            # a cosmic ray that pulled the flux up does not take the star's core along.
            dev = np.where(share_flat > 0, np.abs(d_flat - model) / np.sqrt(var), 0.0)
            worst = np.argmax(dev, axis=1)
            out = dev[np.arange(g_count), worst] > CLIP_SIGMA
            share_flat[np.flatnonzero(out), worst[out]] = 0.0
        wgt = share_flat / var
        jac = _jacobian(p, ppx, ppy, flux, a_inv)
        normal = _normal(jac, wgt)
        flux_var = np.diagonal(np.linalg.inv(normal[:, :m, :m] + np.eye(m) * 1e-12),
                               axis1=1, axis2=2)
        fit_position = flux > POSITION_MIN_SNR * np.sqrt(np.maximum(flux_var, 1e-30))
        rhs = _rhs(jac, wgt, d_flat - model)[..., 0]
        normal = normal + np.eye(n_par) * prior
        rhs = rhs - prior * np.concatenate([np.zeros((g_count, m)), offset[..., 0],
                                            offset[..., 1]], axis=1)
        normal, rhs = _hold(normal, rhs, fit_position)
        delta = np.linalg.solve(normal + np.eye(n_par) * 1e-12, rhs[..., None])[..., 0]
        flux = flux + delta[:, :m]
        move = np.stack([delta[:, m:2 * m], delta[:, 2 * m:]], axis=-1)
        offset = offset + np.clip(move, -MAX_STEP_ARCSEC, MAX_STEP_ARCSEC)
        p, ppx, ppy = design(offset)
    # Final solution's variances, chi-square and single-frame fluxes.
    model = (p @ flux[..., None])[..., 0]
    var = noise_flat + np.maximum(model, 0.0) / inst.GAIN + (psf.psf_error * model) ** 2
    wgt = share_flat / var
    jac = _jacobian(p, ppx, ppy, flux, a_inv)
    normal, _ = _hold(_normal(jac, wgt), np.zeros((g_count, n_par)), fit_position)
    cov = np.linalg.pinv(normal)
    diag = np.diagonal(cov, axis1=1, axis2=2)
    # The annulus sky's error: a constant offset per frame moves each flux by
    # sum_p w P over the frame, over the normal matrix's flux block.
    a_k = (p * wgt[..., None]).reshape(g_count, n_slots, -1, m).sum(axis=2)
    sky_err = np.einsum("gki,gk->gi", np.einsum("gki,gij->gkj", a_k, cov[:, :m, :m]) ** 2,
                        sky_var.mean(axis=2))
    owner = np.broadcast_to(np.arange(m)[None, None, :, None, None],
                            (g_count, n_slots, m, b, b)).reshape(g_count, npix)
    chi_pix = share_flat * (d_flat - model) ** 2 / var
    used = share_flat > 0
    frame_chi2, frame_df, n_used_frames = _frame_scatter(p, wgt, d_flat, model, flux, n_slots,
                                                         m, valid)
    for j in range(m):
        s = members[:, j]
        mine = owner == j
        res["flux"][s] = flux[:, j]
        res["var_flux"][s] = diag[:, j] + sky_err[:, j]
        res["dxi"][s], res["deta"][s] = offset[:, j, 0], offset[:, j, 1]
        res["var_xi"][s] = np.where(fit_position[:, j], diag[:, m + j], np.nan)
        res["var_eta"][s] = np.where(fit_position[:, j], diag[:, 2 * m + j], np.nan)
        res["chi2"][s] = np.sum(chi_pix * mine, axis=1)
        res["npix"][s] = np.sum(share_flat * mine, axis=1)
        res["frame_chi2"][s], res["frame_df"][s] = frame_chi2[:, j], frame_df[:, j]
        res["nframes"][s] = n_used_frames[:, j]
        res["saturated"][s] = sat[:, :, j].any(axis=1)
        res["ok"][s] = np.isfinite(flux[:, j]) & (np.sum(used * mine, axis=1) > 0) \
            & (diag[:, j] > 0)


def _jacobian(p, ppx, ppy, flux, a_inv):
    """Columns: fluxes, then offsets east (xi) and north (eta) [arcsec] of each
    component."""
    f = flux[:, None, :]
    d_xi = f * (ppx * a_inv[0, 0] + ppy * a_inv[1, 0])
    d_eta = f * (ppx * a_inv[0, 1] + ppy * a_inv[1, 1])
    return np.concatenate([p, d_xi, d_eta], axis=2)


def _normal(jac: np.ndarray, wgt: np.ndarray) -> np.ndarray:
    """J^T W J per group (batched matrix products, much faster than einsum here)."""
    return np.matmul((jac * wgt[..., None]).transpose(0, 2, 1), jac)


def _rhs(jac: np.ndarray, wgt: np.ndarray, r: np.ndarray) -> np.ndarray:
    """J^T W r per group, as (G, parameters, 1)."""
    return np.matmul(jac.transpose(0, 2, 1), (wgt * r)[..., None])


def _hold(normal: np.ndarray, rhs: np.ndarray, fit_position: np.ndarray):
    """The normal equations with the positions of components not fitted held: their
    rows and columns replaced by the identity, their right-hand side by 0."""
    m = fit_position.shape[1]
    free = np.concatenate([np.ones_like(fit_position), fit_position, fit_position], axis=1)
    normal = normal * (free[:, :, None] & free[:, None, :])
    normal = normal + np.eye(3 * m)[None] * ~free[:, :, None]
    return normal, rhs * free


def _frame_scatter(p, wgt, d_flat, model, flux, n_slots, m, valid):
    """Each component's flux on each of its frames alone (position and the other
    components held), and their chi-square about the weighted mean: (chi2, df, frames)."""
    g_count = len(p)
    shape = (g_count, n_slots, -1, m)
    pk = p.reshape(shape)
    wk = wgt.reshape(g_count, n_slots, -1)
    own = (d_flat - model).reshape(g_count, n_slots, -1)[..., None] + pk * flux[:, None, None, :]
    num = np.einsum("gkpi,gkp,gkpi->gki", pk, wk, own)
    den = np.einsum("gkpi,gkp,gkpi->gki", pk, wk, pk)
    has = (den > 0) & valid[:, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fk = np.where(has, num / den, 0.0)
    wsum = np.sum(den * has, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.sum(fk * den * has, axis=1) / wsum
        chi = np.sum(has * den * (fk - mean[:, None, :]) ** 2, axis=1)
    n = has.sum(axis=1)
    return chi, n - 1, n


# --------------------------------------------------------------------------- scales


def error_correction(res: dict) -> ErrorCorrection:
    """cmsig / msig per S/N bin: the root of the mean over isolated sources of
    ``frame_chi2 / df`` (1 when the errors are right), each at most ``CORRECTION_CLIP``
    times the bin's median of ``frame_chi2 / median(chi2(df))``. A bin with fewer than
    ``CORRECTION_MIN_SOURCES`` sources is merged with the next (the last with the one
    before): a sparse scan's few bright sources still get their own factor, where the
    PSF's error, growing with S/N, dominates."""
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = res["flux"] / np.sqrt(res["var_flux"])
    df = res["frame_df"]
    pick = res["ok"] & (res["ncomp"] == 1) & (df >= 2) & np.isfinite(res["frame_chi2"]) \
        & ~res["saturated"] & (snr > CORRECTION_SNR_EDGES[0])
    if not pick.any():
        return ErrorCorrection(np.zeros(0), np.zeros(0), np.zeros(0, int))
    ratio = res["frame_chi2"][pick] / chi2.median(df[pick])
    b = np.digitize(snr[pick], CORRECTION_SNR_EDGES) - 1
    groups: list[list[int]] = [[]]
    for i in range(len(CORRECTION_SNR_EDGES) - 1):
        groups[-1].append(i)
        if np.isin(b, groups[-1]).sum() >= CORRECTION_MIN_SOURCES:
            groups.append([])
    if len(groups) > 1:
        tail = groups.pop()
        groups[-1] += tail
    centres, factors, counts = [], [], []
    for group in groups:
        inbin = np.isin(b, group)
        if inbin.sum() >= CORRECTION_MIN_SOURCES:
            centres.append(float(np.median(snr[pick][inbin])))
            per_df = res["frame_chi2"][pick][inbin] / df[pick][inbin]
            clip = CORRECTION_CLIP * np.median(ratio[inbin])
            factors.append(float(np.sqrt(np.mean(np.minimum(per_df, clip)))))
            counts.append(int(inbin.sum()))
    return ErrorCorrection(np.array(centres), np.array(factors), np.array(counts, int))


def aperture_comparison(fit: ProfileFit, images: list[atlas.AtlasImage]
                        ) -> tuple[float, float, float]:
    """The curve-of-growth corrected 4" aperture flux on the Atlas Images
    (``photometry.aperture_photometry``) against the profile-fit flux, over isolated,
    unsaturated, well-fitted stars of S/N > ``NORMALISE_MIN_SNR``: (scale, floor,
    scale_err).

    scale: their median ratio (1 with fewer than ``NORMALISE_MIN_STARS``); scale_err: its
    fractional error, sqrt(pi / 2) times the log ratios' robust scatter over sqrt(n) (0
    with fewer): a 20-frame scan normalises on 5-10 stars, 1-2 %, a whole scan on
    hundreds, 0.1-0.2 %. floor: the
    fractional error the profile fit has beyond ``cmsig``, common to a source's frames:
    the robust scatter of the log ratios (1.4826 MAD) in quadrature less the median of
    their predicted variances (aperture and corrected profile-fit errors); 0 with fewer
    than ``FLOOR_MIN_STARS``. A 4" aperture holds the light whatever the PSF's shape
    (to 1 % for a 0.15" wider core), so the scatter is the profile fit's PSF mismatch."""
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = fit.flux / fit.flux_err
    pick = fit.ok & (fit.ncomp == 1) & ~fit.saturated & (snr > NORMALISE_MIN_SNR) \
        & (fit.psfchi < 3.0)
    idx = np.flatnonzero(pick)
    ratios, variances = [], []
    for image in images:
        flux, err, ok = aperture_photometry(image, fit.ra[idx], fit.dec[idx])
        good = ok & (flux > NORMALISE_MIN_SNR * err)
        ratios += list(flux[good] / fit.flux[idx][good])
        variances += list((err[good] / flux[good]) ** 2
                          + (fit.cmsig[idx][good] / MAG_PER_LN_FLUX) ** 2)
    if len(ratios) < NORMALISE_MIN_STARS:
        return 1.0, 0.0, 0.0
    scale = float(np.median(ratios))
    scatter = robust_sigma(np.log(ratios))
    scale_err = 1.2533 * scatter / np.sqrt(len(ratios))
    if len(ratios) < FLOOR_MIN_STARS:
        return scale, 0.0, scale_err
    floor2 = scatter**2 - np.median(variances)
    return scale, float(np.sqrt(np.clip(floor2, 0.0, FLOOR_MAX**2))), scale_err
