"""Pipeline products measured against the simulation's truth (benchmarks and tests).

The truth is ``truth.parquet`` (true positions and magnitudes) and the raw night's
``sim/true_frames.parquet`` (true frame centres); the pipeline itself never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sep
from scipy.spatial import cKDTree

from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import atlas, tan
from twomass.pipeline.stages.photometry import aperture_photometry

BANDS = ("j", "h", "k")
#: Brighter than this the star is saturated in Read_2 (not an aperture-photometry test).
UNSATURATED = {"j": 9.5, "h": 9.0, "k": 9.0}


@dataclass
class Astrometry:
    n: int
    rms_mas: tuple[float, float]  # (RA cos Dec, Dec)
    mean_mas: tuple[float, float]


@dataclass
class Photometry:
    n: int
    median_ratio: float  # measured / true flux
    scatter_over_sigma: float  # rms of (measured - true) / predicted error


def frame_offsets_vs_truth(reg, true_ra, true_dec, ra0: float) -> np.ndarray:
    """Solved minus true frame centres (cross, along) [arcsec] per frame."""
    xs, ps = scanframe.to_scan(ra0, reg.ra, reg.dec)
    xt, pt = scanframe.to_scan(ra0, true_ra, true_dec)
    return np.column_stack([xs - xt, ps - pt]) * 3600.0


def atlas_astrometry(images: list[atlas.AtlasImage], truth: dict, band: str,
                     max_mag: float = 14.0) -> Astrometry:
    """Windowed centroids of Atlas Image detections against true positions (mag < max_mag)."""
    dra, ddec = [], []
    bright = (np.asarray(truth[f"{band}_m"]) < max_mag) & (np.asarray(truth[f"{band}_m"])
                                                         > UNSATURATED[band])
    alone = isolated(truth, band)
    t_ra, t_dec = np.asarray(truth["ra"])[bright & alone], np.asarray(truth["dec"])[
        bright & alone]
    for image in images:
        data = np.ascontiguousarray(image.image, dtype=np.float64)
        bkg = sep.Background(data, mask=image.coverage < 3)
        objs = sep.extract(data - bkg.back(), 5.0, err=bkg.globalrms, mask=image.coverage < 3,
                           minarea=5)
        if len(objs) == 0:
            continue
        x, y, _ = sep.winpos(data - bkg.back(), objs["x"], objs["y"], 1.2)
        ra, dec = tan.pix_to_world(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, x, y)
        tx, ty = tan.world_to_pix(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, t_ra, t_dec)
        inside = (tx > 30) & (tx < data.shape[1] - 30) & (ty > 30) & (ty < data.shape[0] - 30)
        if not inside.any():
            continue
        dist, j = cKDTree(np.column_stack([x, y])).query(
            np.column_stack([tx[inside], ty[inside]]), distance_upper_bound=1.5)
        ok = np.isfinite(dist)
        ti = np.flatnonzero(inside)[ok]
        dra += list((ra[j[ok]] - t_ra[ti]) * np.cos(np.radians(t_dec[ti])) * 3.6e6)
        ddec += list((dec[j[ok]] - t_dec[ti]) * 3.6e6)
    dra, ddec = np.asarray(dra), np.asarray(ddec)
    if len(dra) == 0:
        return Astrometry(0, (np.nan, np.nan), (np.nan, np.nan))
    return Astrometry(len(dra), (float(np.sqrt(np.mean(dra**2))), float(np.sqrt(np.mean(ddec**2)))),
                      (float(dra.mean()), float(ddec.mean())))


def atlas_photometry(images: list[atlas.AtlasImage], magzp: float, truth: dict, band: str,
                     min_snr: float = 10.0) -> Photometry:
    """4" aperture fluxes of isolated unsaturated true stars against their true fluxes."""
    m = np.asarray(truth[f"{band}_m"])
    star = np.isin(np.asarray(truth["type"]), ["star"])
    pick = star & (m > UNSATURATED[band]) & isolated(truth, band)
    ra, dec, m = np.asarray(truth["ra"])[pick], np.asarray(truth["dec"])[pick], m[pick]
    ratio, pull = [], []
    for image in images:
        flux, err, ok = aperture_photometry(image, ra, dec)
        true = 10 ** (-0.4 * (m - magzp))
        good = ok & (flux > min_snr * err)
        ratio += list(flux[good] / true[good])
        pull += list((flux[good] - true[good]) / err[good])
    if not ratio:
        return Photometry(0, np.nan, np.nan)
    return Photometry(len(ratio), float(np.median(ratio)), float(np.sqrt(np.mean(np.square(pull)))))


def isolated(truth: dict, band: str, radius_arcsec: float = 12.0, dmag: float = 4.0
              ) -> np.ndarray:
    """No other true source within ``radius`` brighter than this one's mag + dmag."""
    ra, dec = np.asarray(truth["ra"]), np.asarray(truth["dec"])
    m = np.asarray(truth[f"{band}_m"])
    xy = np.column_stack([ra * np.cos(np.radians(dec)), dec]) * 3600.0
    tree = cKDTree(xy)
    out = np.ones(len(ra), bool)
    for i, js in enumerate(tree.query_ball_point(xy, radius_arcsec)):
        others = [j for j in js if j != i]
        if others and np.min(m[others]) < m[i] + dmag:
            out[i] = False
    # Nor within 30" of a galaxy, or near a star bright enough for wide wings, diffraction
    # spikes and a readout stripe (artifacts the catalog rules flag, spec §1.9).
    for far, radius in ((np.asarray(truth["type"]) == "galaxy", 30.0), (m < 9.0, 40.0),
                        (m < 7.0, 100.0)):
        if far.any():
            near = cKDTree(xy[far]).query_ball_point(xy, radius)
            out &= np.array([len(n) == 0 or (len(n) == 1 and far[i] and
                                             np.flatnonzero(far)[n[0]] == i)
                             for i, n in enumerate(near)])
    return out


@dataclass
class ProfilePhotometry:
    """Profile-fit magnitudes of isolated unsaturated true stars against the truth."""

    n: int  # stars at cmsig S/N 10-100
    rms_over_cmsig: float  # rms of (measured - true) / cmsig, S/N 10-100
    rms_over_msig: float
    median_dmag: float  # S/N 10-100
    n_bright: int  # stars brighter than BRIGHT_PROFILE (and unsaturated)
    bright_rms: float  # rms of measured - true about their median [mag]
    bright_median: float
    psfchi_median: float  # S/N 10-100


#: "Bright" for the profile-fit scatter: well above the S/N where photons dominate.
BRIGHT_PROFILE = {"j": 13.0, "h": 12.5, "k": 12.0}


def profile_photometry(fit, truth: dict, band: str, match_arcsec: float = 1.5
                       ) -> ProfilePhotometry:
    """``psffit.ProfileFit`` results matched to the nearest true source within
    ``match_arcsec``, for true stars that are ``isolated`` and unsaturated."""
    ra, dec = np.asarray(truth["ra"]), np.asarray(truth["dec"])
    m = np.asarray(truth[f"{band}_m"])
    star = np.asarray(truth["type"]) == "star"
    alone = isolated(truth, band)
    xy = np.column_stack([ra * np.cos(np.radians(dec)), dec]) * 3600.0
    fxy = np.column_stack([fit.ra * np.cos(np.radians(fit.dec)), fit.dec]) * 3600.0
    dist, j = cKDTree(xy).query(fxy, distance_upper_bound=match_arcsec)
    found = np.isfinite(dist) & fit.ok & np.isfinite(fit.mag) & ~fit.saturated
    j = np.where(found, j, 0)
    good = found & star[j] & alone[j] & (m[j] > UNSATURATED[band])
    dm = fit.mag - m[j]
    snr = 1.0857 / fit.cmsig
    mid = good & (snr >= 10.0) & (snr < 100.0)
    bright = good & (m[j] < BRIGHT_PROFILE[band])
    med_b = float(np.median(dm[bright])) if bright.any() else np.nan

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean(a**2))) if len(a) else np.nan

    return ProfilePhotometry(
        int(mid.sum()), rms((dm / fit.cmsig)[mid]), rms((dm / fit.msig)[mid]),
        float(np.median(dm[mid])) if mid.any() else np.nan, int(bright.sum()),
        rms(dm[bright] - med_b), med_b,
        float(np.median(fit.psfchi[mid])) if mid.any() else np.nan)
