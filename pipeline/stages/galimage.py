"""Atlas Images made ready for the extended-source measurements (``galworks``).

Per band: a low-order 2-D background (a quadratic through block medians, blocks far off
it clipped), the scan's point sources subtracted at their catalog magnitudes with the
image's PSF (``galphot.psf_core_sigma``, from its curve of growth), the sky rms; and the
cutouts a measurement takes, with the point sources a detection owns put back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twomass.core.stats import robust_sigma
from twomass.pipeline.stages import atlas, galphot, render, tan
from twomass.pipeline.stages import instrument as inst

#: Half-size [px] of a subtracted point source's stamp.
STAR_STAMP_PX = 15
#: Background: block size [px], polynomial order, clipping.
BLOCK_PX = 32
BACKGROUND_ORDER = 2
CLIP_SIGMA = 3.0
#: Pixels with fewer frames than this are not measured.
MIN_COVERAGE = 2


@dataclass
class BandImage:
    """One band of one Atlas Image ready for measurement."""

    image: atlas.AtlasImage
    magzp: float
    clean: np.ndarray  # background and point sources subtracted [ADU / arcsec^2]
    good: np.ndarray  # pixels measured
    sigma: float  # sky rms per pixel [ADU]
    psf_sigma: float  # PSF core sigma [arcsec]
    star_x: np.ndarray  # subtracted point sources (0-based pixels) and their fluxes
    star_y: np.ndarray
    star_flux: np.ndarray
    frames: float  # median coverage
    #: The image's stars' minor-axis excess and concentration (``galclass``) in bins
    #: across the image (``galworks.stellar_locus``).
    locus: np.ndarray = field(default_factory=lambda: np.array([[0.0], [1.0]]))

    def locus_at(self, x: float) -> tuple[float, float]:
        """The stellar locus (minor excess, concentration) at column ``x``."""
        bins = self.locus.shape[1]
        k = int(np.clip(x / self.clean.shape[1] * bins, 0, bins - 1))
        return float(self.locus[0, k]), float(self.locus[1, k])


def psf_sigma_of(image: atlas.AtlasImage, seeing_arcsec: float) -> float:
    """The image's PSF core sigma from its curve of growth, or (not measured) from the
    frame seeing with the 2" pixel and the drizzle kernel (two 2" boxes) added."""
    if 0.3 < image.apcor < 0.999:
        return galphot.psf_core_sigma(image.apcor)
    seeing = seeing_arcsec if np.isfinite(seeing_arcsec) else 2.7
    return float(np.sqrt((seeing / 2.3548) ** 2 + 2 * inst.PIXEL_ARCSEC**2 / 12.0))


def background(data: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, float]:
    """A quadratic surface through the medians of ``BLOCK_PX`` blocks (blocks far off
    the fit clipped), and the sky rms per pixel about it."""
    ny, nx = data.shape
    by, bx = ny // BLOCK_PX, nx // BLOCK_PX
    blocks = data[:by * BLOCK_PX, :bx * BLOCK_PX].reshape(by, BLOCK_PX, bx, BLOCK_PX)
    ok = good[:by * BLOCK_PX, :bx * BLOCK_PX].reshape(by, BLOCK_PX, bx, BLOCK_PX)
    vals = blocks.transpose(0, 2, 1, 3).reshape(by, bx, -1)
    used = ok.transpose(0, 2, 1, 3).reshape(by, bx, -1)
    med = np.full((by, bx), np.nan)
    full = used.all(axis=2)
    if full.any():
        med[full] = np.median(vals[full], axis=1)
    for i, j in zip(*np.nonzero(~full & (used.mean(axis=2) > 0.5)), strict=True):
        med[i, j] = np.median(vals[i, j][used[i, j]])
    cy, cx = np.mgrid[0:by, 0:bx]
    cx = (cx + 0.5) * BLOCK_PX - 0.5
    cy = (cy + 0.5) * BLOCK_PX - 0.5
    use = np.isfinite(med)
    coef = np.zeros(len(_POWERS))
    for _ in range(3):
        if use.sum() < 2 * len(coef):
            break
        design = _terms(cx[use], cy[use], nx, ny)
        coef, *_ = np.linalg.lstsq(design, med[use], rcond=None)
        resid = med - (_terms(cx.ravel(), cy.ravel(), nx, ny) @ coef).reshape(med.shape)
        spread = robust_sigma(resid[use]) or 1e-9
        use = np.isfinite(med) & (np.abs(resid) < CLIP_SIGMA * spread)
    u, v = 2 * np.arange(nx) / nx - 1, 2 * np.arange(ny) / ny - 1
    surface = np.zeros((ny, nx))
    for c, (i, j) in zip(coef, _POWERS, strict=True):
        surface += c * np.outer(v**j, u**i)
    sky = (data - surface)[good]
    return surface, robust_sigma(sky[::7]) if len(sky) else 1.0


_POWERS = [(i, j) for i in range(BACKGROUND_ORDER + 1) for j in range(BACKGROUND_ORDER + 1 - i)]


def _terms(x: np.ndarray, y: np.ndarray, nx: int, ny: int) -> np.ndarray:
    u, v = 2 * x / nx - 1, 2 * y / ny - 1
    return np.column_stack([u**i * v**j for i, j in _POWERS])


def point_models(shape: tuple[int, int], x: np.ndarray, y: np.ndarray, flux: np.ndarray,
                 psf_sigma: float) -> np.ndarray:
    """Point sources of total ``flux`` at 0-based (x, y) rendered with the Atlas PSF."""
    model = np.zeros(shape)
    comps = galphot.psf_components(psf_sigma, len(x))
    render.add_mixtures(model, x, y, [(flux * w, s) for w, s in comps], STAR_STAMP_PX)
    return model


def prepare(image: atlas.AtlasImage, magzp: float, seeing: float, ra: np.ndarray,
            dec: np.ndarray, mag: np.ndarray) -> BandImage:
    """Background and the point sources at (ra, dec) with magnitudes ``mag`` (NaN: not
    subtracted) removed from one Atlas Image."""
    data = image.image.astype(np.float64)
    good = image.coverage >= MIN_COVERAGE
    surface, sigma = background(data, good)
    psf_sigma = psf_sigma_of(image, seeing)
    x, y = tan.world_to_pix(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, ra, dec)
    ny, nx = data.shape
    on = (np.isfinite(mag) & (x > -STAR_STAMP_PX) & (x < nx + STAR_STAMP_PX)
          & (y > -STAR_STAMP_PX) & (y < ny + STAR_STAMP_PX))
    x, y = x[on], y[on]
    flux = 10 ** (-0.4 * (mag[on] - magzp))
    clean = np.where(good, data - surface - point_models(data.shape, x, y, flux, psf_sigma),
                     0.0)
    frames = float(np.median(image.coverage[good])) if good.any() else 0.0
    return BandImage(image, magzp, clean, good, sigma, psf_sigma, x, y, flux, frames)


def cutout(bi: BandImage, x: float, y: float, own: np.ndarray, half: int) -> np.ndarray:
    """The clean image around (x, y), (2 half + 1)^2 pixels, with the point sources
    ``own`` (indices into the subtracted ones) put back; zero off the image."""
    ix, iy = int(round(x)), int(round(y))
    out = _box(bi.clean, ix, iy, half, float)
    if len(own):
        out += point_models(out.shape, bi.star_x[own] - ix + half, bi.star_y[own] - iy + half,
                            bi.star_flux[own], bi.psf_sigma)
    return out


def own_sources(bi: BandImage, x: float, y: float, radius: float) -> np.ndarray:
    """Indices of the subtracted point sources within ``radius`` [arcsec] of (x, y)."""
    d2 = (bi.star_x - x) ** 2 + (bi.star_y - y) ** 2
    return np.flatnonzero(d2 <= (radius / inst.ATLAS_ARCSEC) ** 2)


def aperture_snr(cut: np.ndarray, bi: BandImage, radius: float = 7.0) -> tuple[float, float]:
    """Flux and S/N in a circular aperture at the cutout's centre."""
    half = cut.shape[0] // 2
    yy, xx = np.mgrid[0:cut.shape[0], 0:cut.shape[1]]
    inside = (xx - half) ** 2 + (yy - half) ** 2 <= radius**2
    flux = float(cut[inside].sum())
    err = galphot.flux_error(flux, float(inside.sum()), bi.sigma, bi.frames, inst.GAIN)
    return flux, flux / err


def good_cutout(bi: BandImage, x: float, y: float, half: int) -> np.ndarray:
    return _box(bi.good, int(round(x)), int(round(y)), half, bool)


def _box(image: np.ndarray, ix: int, iy: int, half: int, dtype) -> np.ndarray:
    """The (2 half + 1)^2 pixels of ``image`` centred on pixel (ix, iy) as ``dtype``, zero
    (False) off the image."""
    out = np.zeros((2 * half + 1, 2 * half + 1), dtype)
    ny, nx = image.shape
    x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
    y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
    if x0 < x1 and y0 < y1:
        out[y0 - iy + half:y1 - iy + half, x0 - ix + half:x1 - ix + half] = image[y0:y1, x0:x1]
    return out
