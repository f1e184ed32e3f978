"""A scan's ``scans.parquet`` row, measured from its pixels and sources (spec §1.15).

Measured: the geometry (``scansources.scan_geometry``), the zero point in use and its
error (the night's calibration, ``photcal``, at the scan's time: ``zp_ap``, ``zperr_ap``),
the offset of the photometric standards on the scan from it, the seeing shape (measured
FWHM over the nominal 2.5"), the background, the S/N = 10 magnitude per band (2MASS's
sensitivity: where the sources' photometric uncertainty, ``cmsig`` -- the error the
scan's own repeat measurements show, ``SNR = 1.0857 / cmsig`` (spec 4.10) -- is 0.1086
mag; mostly the profile fit's), the counts of S/N > 10
sources and the QA score from the scan's measured tracking, noise, photometry,
seeing, background, astrometry, transients and depth (``qascore``); ``xph`` 1 when the
standards on the scan disagree with the zero point by more than
``PHOTOMETRIC_TOLERANCE``.

Not measured (NULL): the seeing shape's RMS and 2nd-moment ratio, zenith distance,
hour angle, weather, focus, hardware and calibration-strategy flags (the raw data do
not carry them); clouds are not told from other photometric problems (``cld`` 0,
``xph`` 1); ``hgl``/``anom`` 0.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from twomass.pipeline.sim import quality, scanframe
from twomass.pipeline.sim.nightwriter import SNR10_CUTS
from twomass.pipeline.stages import qascore
from twomass.pipeline.stages.photometry import MAG_PER_LN_FLUX

#: Seeing whose shape is 1 [arcsec FWHM].
NOMINAL_SEEING_ARCSEC = 2.5
#: Sources used for the S/N = 10 magnitude: measured S/N in this range.
MSNR10_SNR = (5.0, 30.0)
MSNR10_MIN_SOURCES = 8
STANDARD_MATCH_ARCSEC = 1.0
STANDARD_MIN_SNR = 20.0
PHOTOMETRIC_TOLERANCE = 0.05


def msnr10(mag: np.ndarray, snr: np.ndarray) -> float:
    """Magnitude where the measured S/N is 10: log10(S/N) fitted linearly in magnitude
    over the sources with S/N in ``MSNR10_SNR`` (NaN with too few)."""
    ok = np.isfinite(mag) & np.isfinite(snr) & (snr > MSNR10_SNR[0]) & (snr < MSNR10_SNR[1])
    if ok.sum() < MSNR10_MIN_SOURCES:
        return float("nan")
    slope, icpt = np.polyfit(mag[ok], np.log10(snr[ok]), 1)
    return float((1.0 - icpt) / slope) if slope < 0 else float("nan")


def band_depth(src) -> float:
    """A band's S/N = 10 magnitude from its sources (``bandmerge.BandSources``): the S/N
    of each is ``MAG_PER_LN_FLUX / cmsig``, the corrected error's, not the fit's own
    ``msig`` (which the scan's repeat scatter shows to be 8-10 % small near S/N 10)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return msnr10(src.mag, MAG_PER_LN_FLUX / src.cmsig)


def standards_offset(ra, dec, mag, snr, std: dict, band: str, ra0: float
                     ) -> tuple[float, float, int]:
    """Median and rms of (listed - measured) magnitude of the standards on the scan."""
    good = np.isfinite(mag) & (np.nan_to_num(snr) > STANDARD_MIN_SNR)
    if not good.any() or not len(std["ra"]):
        return float("nan"), float("nan"), 0
    xy = np.column_stack(scanframe.to_scan(ra0, ra[good], dec[good])) * 3600.0
    sxy = np.column_stack(scanframe.to_scan(ra0, np.asarray(std["ra"]),
                                            np.asarray(std["dec"]))) * 3600.0
    dist, j = cKDTree(xy).query(sxy, distance_upper_bound=STANDARD_MATCH_ARCSEC)
    found = np.isfinite(dist)
    if found.sum() < 3:
        return float("nan"), float("nan"), int(found.sum())
    diff = np.asarray(std[f"{band}_m"])[found] - mag[good][j[found]]
    med = float(np.median(diff))
    return med, float(np.sqrt(np.mean((diff - med) ** 2))), int(found.sum())


def scan_row(entry, geometry, pts: dict, bands, results, std: dict, depth: np.ndarray,
             zero_point_error: np.ndarray | None = None,
             overlap_rms_mag: float | None = None) -> dict:
    """The scan's row (NaN or -1 = NULL); ``bands`` are the band-merge inputs,
    ``results`` the stages' ``BandResult`` per band and ``depth`` their ``band_depth``;
    the night solution's zero-point error per band and the scan's overlap rms enter the
    QA score when given."""
    ra, dec = geometry.centre()
    jd0 = float(geometry.frame_jd.min())
    row: dict = {"scan": entry.scan, "tile": entry.tile, "ra": ra, "dec": dec,
                 **geometry.corners(), "sd": entry.sd, "hgl": 0, "anom": 0,
                 "ut": ((jd0 + 0.5) % 1.0) * 24.0, "jdate": jd0, "airm": entry.airmass,
                 "zd": np.nan, "ha": np.nan, "rh": np.nan, "air_temp": np.nan,
                 "tel_temp": np.nan, "focus": np.nan, "hry": -1, "c_strat": -1, "n_ext": 0}
    photometric = True
    standards = []
    for i, (band, src, r) in enumerate(zip("jhk", bands, results, strict=True)):
        offset, rms, n_std = standards_offset(src.ra, src.dec, src.mag, src.snr, std, band,
                                              geometry.ra0)
        standards.append((offset, rms, n_std))
        photometric &= not abs(offset) > PHOTOMETRIC_TOLERANCE
        shape = r.seeing / NOMINAL_SEEING_ARCSEC
        back = float(np.median(r.cal.sky))
        m, snr = pts[f"{band}_m"], pts[f"{band}_snr"]
        row[f"{band}_zp_ap"] = r.magzp
        row[f"{band}_zperr_ap"] = r.zp_err
        row[f"{band}_n_snr10"] = int(np.sum((np.nan_to_num(snr) > 10.0)
                                            & (np.nan_to_num(m, nan=99.0) <= SNR10_CUTS[band])))
        row[f"{band}_shape_avg"] = shape
        row[f"{band}_shape_rms"] = np.nan
        row[f"{band}_2mrat"] = np.nan
        row[f"{band}_psp"] = shape * (back / quality.BACKGROUND_DN[i]) ** 0.29
        row[f"{band}_back"] = back
        row[f"{band}_pts_noise"] = float(np.log10(np.median(r.cal.noise)))
        row[f"{band}_msnr10"] = depth[i]
    row["cld"], row["xph"] = 0, int(not photometric)
    measures = qascore.measure(results, depth, standards, zero_point_error, overlap_rms_mag)
    row["qual"] = qascore.score(measures).qual
    return row
