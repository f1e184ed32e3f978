"""Pipeline products measured against the simulation's truth (benchmarks and tests).

The truth is ``truth.parquet`` (true positions and magnitudes) and the raw night's
``sim/true_frames.parquet`` (true frame centres); the pipeline itself never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq
import sep
from scipy.spatial import cKDTree

from twomass.core import sphere
from twomass.pipeline.sim import scanframe, tiling
from twomass.pipeline.sim.minorplanets import MovingSources
from twomass.pipeline.sim.schedule import plan
from twomass.pipeline.stages import atlas, tan
from twomass.pipeline.stages.photometry import aperture_photometry
from twomass.schema import truth as truth_schema

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


@dataclass
class CatalogFidelity:
    """A released Point Source Catalog against every source the frames showed.

    Completeness: true stars with S/N >= ``snr_min`` in some band (true magnitude against
    the scan's measured S/N = 10 magnitude) lying ``inside_arcsec`` inside a scan and
    away from stars brighter than Ks 8 (their spikes and halos, 60"), found within
    ``match_arcsec``. Reliability: catalog sources with S/N >= ``snr_min`` in some band
    within ``match_arcsec`` of any rendered source, static or a minor planet where it
    was when the source was observed (``n_minor_planets`` of them). Offsets and
    magnitude pulls are of the found stars.
    """

    n_true: int
    n_found: int
    n_catalog: int
    n_real: int
    offset_rms_arcsec: tuple[float, float]  # (RA cos Dec, Dec)
    pull_median: tuple[float, float, float]  # per band, |measured - true| / msigcom
    max_offset_arcsec: float
    n_minor_planets: int = 0

    @property
    def completeness(self) -> float:
        return self.n_found / self.n_true if self.n_true else float("nan")

    @property
    def reliability(self) -> float:
        return self.n_real / self.n_catalog if self.n_catalog else float("nan")


@dataclass
class SkyOnScans:
    """Every rendered source as the scans saw it."""

    inside_arcsec: np.ndarray  # distance inside the scan it lies deepest in (< 0: outside)
    snr: np.ndarray  # (n, 3) true S/N: true magnitude against that scan's msnr10
    star: np.ndarray  # a star (not a galaxy)
    near_bright: np.ndarray  # within 60" of a star brighter than Ks 8 (spikes, halos)


def sky_on_scans(sky: dict, scans: list[dict]) -> SkyOnScans:
    """``sky``: ``sky.parquet`` columns; ``scans``: each scan's corners ``ra_1..dec_4``
    and ``[jhk]_msnr10``."""
    t_ra, t_dec = np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)
    t_m = np.column_stack([np.asarray(sky[f"{b}_m"], float) for b in BANDS])
    t_vec = sphere.unit_vectors(t_ra, t_dec)
    inside = np.full(len(t_ra), -np.inf)
    depth = np.full((len(t_ra), 3), np.nan)
    for s in scans:
        normals = sphere.edge_normals(np.array([s[f"ra_{i}"] for i in range(1, 5)]),
                                      np.array([s[f"dec_{i}"] for i in range(1, 5)]))
        d = np.degrees(np.arcsin(np.clip(t_vec @ normals.T, -1, 1))).min(axis=1) * 3600.0
        better = d > inside
        inside = np.where(better, d, inside)
        depth[better] = [s[f"{b}_msnr10"] for b in BANDS]
    bright = t_m[:, 2] < 8.0
    near_bright = np.zeros(len(t_ra), bool)
    if bright.any():
        near_bright = sphere.nearest_within(t_vec, t_vec[bright], 60.0).index >= 0
    return SkyOnScans(inside, 10.0 * 10.0 ** (-0.4 * (t_m - depth)),
                      np.asarray(sky["type"]) == "star", near_bright)


def catalog_vs_sky(cat: dict, sky: dict, scans: list[dict], snr_min: float = 10.0,
                   match_arcsec: float = 2.0, inside_arcsec: float = 15.0,
                   minor_planets: MovingSources | None = None) -> CatalogFidelity:
    """``cat``: catalog columns (ra, dec, jdate, [jhk]_m, [jhk]_snr, [jhk]_msigcom);
    ``sky``: ``sky.parquet`` columns (the static sources); ``scans``: as
    ``sky_on_scans``; ``minor_planets``: the truth's (``true_minor_planets``), matched
    where each was at the catalog row's time."""
    t_ra, t_dec = np.asarray(sky["ra"], float), np.asarray(sky["dec"], float)
    t_m = np.column_stack([np.asarray(sky[f"{b}_m"], float) for b in BANDS])
    t_vec = sphere.unit_vectors(t_ra, t_dec)
    seen = sky_on_scans(sky, scans)
    snr = seen.snr
    wanted = seen.star & (seen.inside_arcsec > inside_arcsec) & ~seen.near_bright \
        & (snr >= snr_min).any(axis=1)
    c_vec = sphere.unit_vectors(np.asarray(cat["ra"], float), np.asarray(cat["dec"], float))
    found = sphere.nearest_within(t_vec[wanted], c_vec, match_arcsec)
    w = np.flatnonzero(wanted)[found.index >= 0]
    c = found.index[found.index >= 0]
    dra = (np.asarray(cat["ra"])[c] - t_ra[w]) * np.cos(np.radians(t_dec[w])) * 3600.0
    ddec = (np.asarray(cat["dec"])[c] - t_dec[w]) * 3600.0
    pulls = []
    for i, b in enumerate(BANDS):
        m = np.asarray(cat[f"{b}_m"], float)[c]
        sig = np.asarray(cat[f"{b}_msigcom"], float)[c]
        ok = np.isfinite(sig) & (snr[w, i] >= snr_min)
        pulls.append(float(np.median(np.abs(m[ok] - t_m[w, i][ok]) / sig[ok]))
                     if ok.any() else float("nan"))
    c_snr = np.column_stack([np.asarray(cat[f"{b}_snr"], float) for b in BANDS])
    listed = (np.nan_to_num(c_snr) >= snr_min).any(axis=1)
    listed_vec = c_vec[listed]
    real = sphere.nearest_within(listed_vec, t_vec, match_arcsec).index >= 0
    moving = np.zeros(len(real), bool)
    if minor_planets is not None and len(minor_planets.id):
        jdate = np.asarray(cat["jdate"], float)[listed]
        # Few rows are on no static source: each is matched against the planets where
        # they were at its own time.
        for k in np.flatnonzero(~real & np.isfinite(jdate)):
            there = minor_planets.at(float(jdate[k]))
            moving[k] = (sphere.nearest_within(
                listed_vec[k:k + 1], sphere.unit_vectors(there.ra, there.dec),
                match_arcsec).index >= 0)[0]
    return CatalogFidelity(
        int(wanted.sum()), len(w), int(listed.sum()), int((real | moving).sum()),
        (float(np.sqrt(np.mean(dra**2))) if len(w) else np.nan,
         float(np.sqrt(np.mean(ddec**2))) if len(w) else np.nan),
        tuple(pulls), float(np.max(np.hypot(dra, ddec))) if len(w) else np.nan,
        int(moving.sum()))


def true_minor_planets(truth_file) -> MovingSources:
    """The minor planets of ``truth.parquet`` (each at its own epoch, moved linearly)."""
    t = pq.read_table(truth_file, columns=["id", "type", "ra", "dec", "k_m", "epoch_jd",
                                           "ra_rate", "dec_rate"]).to_pydict()
    mp = np.asarray(t["type"]) == truth_schema.MINOR_PLANET
    col = {n: np.asarray(v, float if n != "id" else np.int64)[mp] for n, v in t.items()
           if n != "type"}
    return MovingSources(col["id"], col["ra"], col["dec"], col["ra_rate"], col["dec_rate"],
                         col["k_m"], col["epoch_jd"])


def catalog_arrays(table) -> dict[str, np.ndarray]:
    """The columns ``catalog_vs_sky`` reads from a catalog table (astropy, masked =
    NaN)."""
    names = ["ra", "dec", "jdate"] + [f"{b}_{c}" for b in BANDS
                                      for c in ("m", "snr", "msigcom")]
    return {n: np.ma.filled(np.ma.asarray(table[n], dtype=float), np.nan) for n in names}


def set_depths(ra: tuple, dec: tuple, seed: int) -> dict[tuple, np.ndarray]:
    """The S/N = 10 magnitudes the simulator set, by (hemis, date, scan)."""
    geometry = tiling.SurveyGeometry()
    tiles = tiling.full_sky(geometry)
    wanted = tiling.in_box(tiles, ra, dec, margin_deg=0.05)
    return {(s.hemis, s.date.isoformat(), s.scan): np.asarray(s.msnr10, float)
            for night in plan(tiles, wanted, seed, geometry.n_bands) for s in night.scans}
