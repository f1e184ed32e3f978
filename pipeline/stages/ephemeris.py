"""Known minor planets on a scan: the sources at the positions their ephemerides predict
for the time the scan saw them (spec §1.13; ``mp_flg``, catalog rules §4.7).

The ephemeris list (``ref/minor_planets.parquet``) gives each object's position at
``epoch_jd`` and its rates [deg/day], linear over a night. The time that matters is the
one at which the scan crossed the object: the frame times interpolated along the scan's
track at the predicted position (``ScanGeometry.place``), the position then moved to
that time and the time taken again (the scan runs at 57"/s, an asteroid at most
~0.02"/s: one step converges).

2MASS screened within 30" of each prediction (``SCREEN_ARCSEC``). Inside that, a
source is consistent with an object when its distance is within ``N_SIGMA`` times the
ephemeris uncertainty (the list's ``sigma_arcsec``, combined with the source's position
error; the whole screen when the list gives none) and each of its measured magnitudes,
taken to Ks with an asteroid's colours, is within ``MAG_TOLERANCE`` of the predicted Ks
(the prediction from absolute magnitudes and the rotational light curve are each good
to a few tenths). Pairs are then taken nearest first, each object and each source once: an
object takes its nearest consistent source, and a star near an object that the scan
saw separately is not flagged. Association is not identification: an object too faint
to be seen may still take a consistent star within its ephemeris errors.
"""

from __future__ import annotations

import numpy as np

from twomass.core import sphere
from twomass.pipeline.stages.rawio import RawInputError

LIST_FILE = "minor_planets.parquet"
COLUMNS = ("id", "epoch_jd", "ra", "dec", "ra_rate", "dec_rate", "k_m")
#: 2MASS's first screen around each predicted position [arcsec].
SCREEN_ARCSEC = 30.0
#: A source farther than this many combined sigmas from the prediction is not the object.
N_SIGMA = 5.0
#: Predicted against measured Ks [mag]: absolute-magnitude predictions and light curves.
MAG_TOLERANCE = 1.0
#: Typical asteroid colours J - Ks and H - Ks (S and C types: 0.4-0.6 and 0.1-0.2) [mag].
COLOUR_TO_KS = np.array([0.5, 0.15, 0.0])
#: ``rd_flg`` digits of a measured band.
MEASURED = "1234"


def check_list(cols: dict) -> None:
    """Refuse an ephemeris list without the columns the association needs."""
    missing = [c for c in COLUMNS if c not in cols]
    if missing:
        raise RawInputError(f"ref/{LIST_FILE}: no column {', '.join(missing)}")


def predicted_positions(ephemerides: dict, geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each object's (ra, dec) [deg] and time [JD] when the scan saw its position."""
    ra0, dec0 = np.asarray(ephemerides["ra"], float), np.asarray(ephemerides["dec"], float)
    ra_rate = np.asarray(ephemerides["ra_rate"], float)
    dec_rate = np.asarray(ephemerides["dec_rate"], float)
    epoch = np.asarray(ephemerides["epoch_jd"], float)
    ra, dec = ra0, dec0
    jd = epoch
    for _ in range(2):
        jd = geometry.place(ra, dec)[2]
        ra = (ra0 + ra_rate * (jd - epoch)) % 360.0
        dec = np.clip(dec0 + dec_rate * (jd - epoch), -90.0, 90.0)
    return ra, dec, jd


def flag_minor_planets(pts: dict[str, np.ndarray], geometry, ephemerides: dict) -> np.ndarray:
    """Set ``pts["mp_flg"]`` of a scan's sources (see the module docstring); returns, per
    object of the list, the row it took (-1: none)."""
    check_list(ephemerides)
    n_obj = len(ephemerides["id"])
    taken = np.full(n_obj, -1, np.int64)
    flag = np.zeros(len(pts["ra"]), np.int16)
    if n_obj and len(flag):
        ra, dec, _ = predicted_positions(ephemerides, geometry)
        src = sphere.unit_vectors(np.asarray(pts["ra"], float), np.asarray(pts["dec"], float))
        i, j, sep = sphere.pairs_within(sphere.unit_vectors(ra, dec), src, SCREEN_ARCSEC)
        ok = _close_enough(sep, i, j, pts, ephemerides) & _bright_alike(i, j, pts, ephemerides)
        i, j, sep = i[ok], j[ok], sep[ok]
        used = np.zeros(len(flag), bool)
        for k in np.lexsort((j, i, sep)):  # nearest first; ties in a fixed order
            if taken[i[k]] < 0 and not used[j[k]]:
                taken[i[k]], used[j[k]] = j[k], True
        flag[used] = 1
    pts["mp_flg"] = flag
    return taken


def _close_enough(sep, i, j, pts, ephemerides) -> np.ndarray:
    """Distance within ``N_SIGMA`` of the ephemeris and position errors combined."""
    if "sigma_arcsec" not in ephemerides:
        return np.ones(len(sep), bool)
    sigma = np.hypot(np.asarray(ephemerides["sigma_arcsec"], float)[i],
                     np.asarray(pts["err_maj"], float)[j])
    return sep <= N_SIGMA * sigma


def _bright_alike(i, j, pts, ephemerides) -> np.ndarray:
    """Every measured band of the source, taken to Ks with ``COLOUR_TO_KS``, within
    ``MAG_TOLERANCE`` (plus twice its error) of the predicted Ks."""
    k_pred = np.asarray(ephemerides["k_m"], float)[i]
    rd = np.asarray(pts["rd_flg"])[j]
    ok = np.ones(len(i), bool)
    for b, band in enumerate("jhk"):
        measured = np.array([r[b] in MEASURED for r in rd], bool)
        m = np.asarray(pts[f"{band}_m"], float)[j] - COLOUR_TO_KS[b]
        err = np.nan_to_num(np.asarray(pts[f"{band}_msigcom"], float)[j], nan=0.0)
        ok &= ~measured | (np.abs(m - k_pred) <= MAG_TOLERANCE + 2.0 * err)
    return ok
