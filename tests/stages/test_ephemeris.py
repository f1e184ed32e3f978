"""Minor-planet association (``ephemeris.flag_minor_planets``) on hand-built scans: a fast
object crossing two overlapping scans twenty minutes apart, with decoys where a
careless association would land."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.pipeline.sim import scanframe
from twomass.pipeline.stages import ephemeris, instrument, scansources
from twomass.pipeline.stages.rawio import RawInputError

JD0 = 2451500.5
DEC_START, DEC_END = 6.0, 12.0
STEP_DEG = 82.6 / 3600.0
#: An object at 1 deg/day (a near-Earth asteroid) moves 2.5" a minute: the scan's
#: time where it crosses matters, not only the scan's start.
RA_RATE, DEC_RATE = -1.0, 0.2  # [deg/day]
K_M = 14.0


def _scan(ra0: float, sd: str, jd_start: float) -> scansources.ScanGeometry:
    """A 6 deg scan (6.6 minutes) along the meridian ``ra0``, frames every 82.6" from
    ``jd_start``."""
    phi = np.arange(DEC_START, DEC_END, STEP_DEG)
    k = np.arange(len(phi)) if sd == "n" else np.arange(len(phi))[::-1]
    half = 0.5 * instrument.NPIX * instrument.PIXEL_ARCSEC / 3600.0
    return scansources.ScanGeometry(
        ra0, sd, DEC_START if sd == "n" else DEC_END, DEC_END if sd == "n" else DEC_START,
        half, -half, phi, np.zeros(len(phi)), jd_start + k * instrument.FRAME_SECONDS / 86400.0)


def _truth(jd: float, ra0: float = 100.05, dec0: float = 10.5) -> tuple[float, float]:
    dt = jd - JD0
    return ra0 + RA_RATE * dt, dec0 + DEC_RATE * dt


def _crossing_time(geometry: scansources.ScanGeometry) -> float:
    """Brute force: the frame time at which the true object lies nearest a frame centre
    along the scan (independent of ``ScanGeometry.place``)."""
    best = np.inf, 0.0
    for phi, jd in zip(geometry.track_phi, geometry.frame_jd, strict=True):
        ra, dec = _truth(jd)
        d = abs(scanframe.to_scan(geometry.ra0, ra, dec)[1] - phi)
        best = min(best, (d, jd))
    return best[1]


def _pts(ra, dec, k_m) -> dict[str, np.ndarray]:
    ra, dec, k = (np.atleast_1d(np.asarray(v, float)) for v in (ra, dec, k_m))
    n = len(ra)
    return {"ra": ra, "dec": dec,
            "err_maj": np.full(n, 0.3), "rd_flg": np.full(n, "222"),
            "j_m": k + 0.45, "h_m": k + 0.1, "k_m": k, "j_msigcom": np.full(n, 0.05),
            "h_msigcom": np.full(n, 0.05), "k_msigcom": np.full(n, 0.05),
            "mp_flg": np.zeros(n, np.int16)}


def _offset(ra, dec, east_arcsec, north_arcsec):
    return (ra + east_arcsec / 3600.0 / np.cos(np.radians(dec)), dec + north_arcsec / 3600.0)


def _ephemerides(error=(1.5, -1.0), sigma: float | None = 2.0) -> dict:
    ra, dec = _offset(*_truth(JD0), *error)  # the prediction is off by ~2"
    eph = {"id": [7], "epoch_jd": [JD0], "ra": [ra], "dec": [dec], "ra_rate": [RA_RATE],
           "dec_rate": [DEC_RATE], "k_m": [K_M]}
    if sigma is not None:
        eph["sigma_arcsec"] = [sigma]
    return eph


def test_object_flagged_in_each_overlapping_scan_at_its_own_time() -> None:
    """Scan A (north-going, starting 5 minutes before the epoch) and scan B (south-going,
    20 minutes later, 6' east: the object lies in their overlap) each detect the object
    where it was when they crossed it (50"/min apart). Each scan also holds a decoy of the
    same brightness where the object was at the other scan's time and one at the
    object's position at the scan's *start*, and a field star 12" from the prediction:
    only each scan's own apparition is flagged."""
    scans = {"A": _scan(100.0, "n", JD0 - 5 / 1440), "B": _scan(100.1, "s", JD0 + 20 / 1440)}
    times = {name: _crossing_time(g) for name, g in scans.items()}
    assert abs(times["A"] - scans["A"].frame_jd.min()) > 3 / 1440  # crossed mid-scan
    for name, geometry in scans.items():
        other = times["B" if name == "A" else "A"]
        here = _truth(times[name])
        ra, dec = zip(here, _truth(other), _truth(float(geometry.frame_jd.min())),
                      _offset(*here, 0.0, 12.0), strict=True)
        pts = _pts(ra, dec, [K_M + 0.1, K_M, K_M, K_M])
        taken = ephemeris.flag_minor_planets(pts, geometry, _ephemerides())
        assert pts["mp_flg"].tolist() == [1, 0, 0, 0], name
        assert taken.tolist() == [0], name
        # The time the association used is the crossing (within a frame).
        jd = ephemeris.predicted_positions(_ephemerides(), geometry)[2]
        assert abs(jd[0] - times[name]) < 2 * instrument.FRAME_SECONDS / 86400.0, name


def test_nearest_consistent_source_only() -> None:
    """Truth table of the consistency rules (one scan, object at its crossing):
    - a star nearer to the prediction than the object but 3 mag brighter is skipped, and
      a source whose J and Ks disagree with an asteroid's colours;
    - with the object undetected, a star of its brightness 6" away (3 sigma) is taken
      (association is not identification), one 14" away (7 sigma) is not;
    - without ``sigma_arcsec`` in the list the whole 30" screen applies;
    - two objects predicted at the same source: the nearer takes it, the other none."""
    geometry = _scan(100.0, "n", JD0 - 5 / 1440)
    here = _truth(_crossing_time(geometry))
    pred = _offset(*here, 1.5, -1.0)  # where _ephemerides() predicts it
    ra, dec = zip(here, _offset(*pred, 0.5, 0.0), strict=True)
    pts = _pts(ra, dec, [K_M, K_M - 3.0])
    ephemeris.flag_minor_planets(pts, geometry, _ephemerides())
    assert pts["mp_flg"].tolist() == [1, 0]
    # Ks alike but J 2 mag fainter than an asteroid's colours allow: not the object;
    # a band not measured (rd_flg 0, an upper limit) does not count against it.
    pts = _pts(*here, [K_M])
    pts["j_m"] += 2.0
    ephemeris.flag_minor_planets(pts, geometry, _ephemerides())
    assert pts["mp_flg"].tolist() == [0]
    pts["rd_flg"][:] = "022"
    ephemeris.flag_minor_planets(pts, geometry, _ephemerides())
    assert pts["mp_flg"].tolist() == [1]

    for north, sigma, expected in ((6.0, 2.0, 1), (14.0, 2.0, 0), (14.0, None, 1),
                                   (31.0, None, 0)):
        pts = _pts(*_offset(*pred, 0.0, north), [K_M + 0.3])
        ephemeris.flag_minor_planets(pts, geometry, _ephemerides(sigma=sigma))
        assert pts["mp_flg"].tolist() == [expected], (north, sigma)

    eph = _ephemerides()
    second = _ephemerides(error=(4.0, 3.0))
    eph = {k: eph[k] + second[k] for k in eph}
    eph["id"] = [7, 8]
    pts = _pts(*here, [K_M])
    taken = ephemeris.flag_minor_planets(pts, geometry, eph)
    assert taken.tolist() == [0, -1]
    assert pts["mp_flg"].tolist() == [1]


def test_list_without_a_needed_column_is_refused() -> None:
    eph = _ephemerides()
    del eph["k_m"]
    with pytest.raises(RawInputError, match="minor_planets.parquet: no column k_m"):
        ephemeris.flag_minor_planets(_pts([100.0], [9.5], [K_M]), _scan(100.0, "n", JD0), eph)


def test_object_on_the_simulated_scan(processed) -> None:
    """On the shared scan's own sources and frame times: an object whose ephemeris
    (epoch an hour before the scan, 0.5 deg/day, 1.5" off) puts it on a real S/N > 10
    source of an asteroid's colours when the scan crossed it flags that source alone;
    one predicted where the scan has no source within 30" flags nothing."""
    table = pq.read_table(processed.products / "pts.parquet").to_pandas()
    pts = {k: table[k].to_numpy() for k in table.columns}  # NULL as NaN
    entry = next(s for s in processed.scans if s.scan == processed.survey_scan)
    results = [processed.results[b] for b in instrument.BANDS]
    geometry = scansources.scan_geometry([r.reg for r in results],
                                         [r.frames for r in results], entry.ra0, entry.sd)
    snr = np.nan_to_num(pts["k_snr"])
    j_k, h_k = pts["j_m"] - pts["k_m"], pts["h_m"] - pts["k_m"]
    candidates = np.flatnonzero((snr > 10) & (snr < 50) & (pts["rd_flg"] == "222")
                                & (np.abs(j_k - 0.5) < 0.2) & (np.abs(h_k - 0.15) < 0.2))
    pick = int(candidates[len(candidates) // 2])
    jd = float(pts["jdate"][pick])  # when the scan saw that source
    epoch = jd - 1.0 / 24.0
    rates = np.array([-0.5, 0.1])
    ra, dec = _offset(pts["ra"][pick], pts["dec"][pick], 1.5, -1.0)
    far_ra, far_dec = pts["ra"][pick] + 0.2, pts["dec"][pick]  # beyond the scan's width
    eph = {"id": [1, 2], "epoch_jd": [epoch, epoch],
           "ra": [ra - rates[0] / 24.0, far_ra], "dec": [dec - rates[1] / 24.0, far_dec],
           "ra_rate": [rates[0]] * 2, "dec_rate": [rates[1]] * 2,
           "k_m": [pts["k_m"][pick], 14.0], "sigma_arcsec": [2.0, 2.0]}
    taken = ephemeris.flag_minor_planets(pts, geometry, eph)
    assert taken.tolist() == [pick, -1]
    assert np.flatnonzero(pts["mp_flg"]).tolist() == [pick]
