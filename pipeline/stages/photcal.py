"""``photcal``: a night's photometric calibration from its calibration scans (spec §1.12).

The night's calibration scans come in sets, about hourly (calibration scans a few minutes
apart). On each scan's Atlas Images the photometric standards
(``ref/standards.parquet``) are measured in the 4" aperture where the image shows them,
corrected to total flux by the night's curve of growth as a function of the cross-scan
position (``photometry.pooled_cross_scan_apcor``: the 4" share follows the PSF across the
array, and every calibration scan puts a standard at the same array column), and kept
at S/N > ``STANDARD_MIN_SNR`` when no other detection lies within
``STANDARD_ISOLATION_ARCSEC``. Each set gives one zero point per band,
``c1 = M_std - m_inst + c2 (X - 1)`` over its standards (a weighted mean after a
``CLIP_SIGMA`` clip; its error from their scatter), at the mean JD of its frames. A band
of a set with fewer than ``MIN_STANDARDS`` standards is dropped.

The nightly solution, as 2MASS had it: H and Ks linear in time (weighted least squares
over the sets; one set gives a constant), J interpolated linearly from set to set (hour to
hour; constant before the first set and after the last). A scan at time t and airmass X
gets ``magzp = c1(t) - c2 (X - 1)``, ``c2`` the monthly extinction
(``observe.EXTINCTION``), and the solution's error at t. Used sets further apart than
``MAX_SET_GAP_HOURS`` (a set missing or dropped) are reported: the solution interpolates
across the gap. A band with no set keeps the camera's nominal zero point, with the
night-to-night scatter as its error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twomass.core.stats import robust_sigma
from twomass.pipeline.stages import atlas
from twomass.pipeline.stages.calibrate import APERTURE_ARCSEC
from twomass.pipeline.stages.instrument import BANDS
from twomass.pipeline.stages.observe import EXTINCTION
from twomass.pipeline.stages.photometry import (
    MAG_PER_LN_FLUX,
    CrossScanApcor,
    aperture_fluxes,
    cross_scan_offset,
    neighbour_distance,
    recentre,
)

STANDARD_MIN_SNR = 20.0
#: A standard with another detection (3 sigma) this close [arcsec] is not used: the
#: neighbour's light in the 4" aperture is the standard's error on every scan.
STANDARD_ISOLATION_ARCSEC = 10.0
#: Standards a set needs in a band; with fewer the band's set is dropped.
MIN_STANDARDS = 5
CLIP_SIGMA = 3.0
#: A set's scans follow each other within this [minutes] (a set of 6 1-degree scans
#: takes 7 minutes); the next set is about an hour later.
SET_MINUTES = 15.0
#: Sets are observed about hourly; a longer interval means one is missing.
MAX_SET_GAP_HOURS = 1.5
#: Bands whose solution is linear in time; the others are interpolated set to set.
LINEAR_BANDS = ("h", "k")
#: The night-to-night scatter of the camera's zero points [mag]: the error of the nominal
#: zero point, used when a band has no calibration set.
NOMINAL_ZP_ERR = 0.05


class CalibrationWarning(UserWarning):
    """A night's calibration lacks a set (dropped or missing): the solution spans the gap."""


@dataclass(frozen=True)
class StandardFluxes:
    """The standards on one calibration scan's Atlas Images in one band, before the
    curve of growth: ``standard_fluxes``."""

    row: np.ndarray  # index into the standards list
    flux: np.ndarray  # 4" aperture flux [ADU per frame]
    err: np.ndarray
    xi: np.ndarray  # cross-scan offset [arcsec] (``photometry.cross_scan_offset``)


@dataclass(frozen=True)
class StandardPhotometry:
    """The standards measured on one calibration scan in one band."""

    scan: int
    band: int
    jd: float  # mean frame JD of the scan
    airmass: float
    row: np.ndarray  # index into the standards list
    m_inst: np.ndarray  # -2.5 log10(total flux [ADU per frame])
    m_err: np.ndarray
    m_std: np.ndarray  # the listed magnitude


@dataclass(frozen=True)
class SetMeasurement:
    """One calibration set's zero points c1 [mag at airmass 1] per band (NaN: dropped)."""

    scans: tuple[int, ...]
    jd: float  # mean frame JD of its scans
    zp: tuple[float, float, float]
    err: tuple[float, float, float]
    n: tuple[int, int, int]  # standards used per band


@dataclass(frozen=True)
class BandSolution:
    """One band's c1(t): ``model`` is "linear" (``coeffs`` = c1 at ``jd_ref``, slope
    [mag/day], covariance ``cov``), "constant" (one set), "interpolated" (through the
    used sets' ``jd``/``zp``/``err``) or "nominal" (no set)."""

    band: str
    model: str
    used: tuple[int, ...]  # indices of the sets used
    dropped: tuple[int, ...]  # sets without enough standards in this band
    jd: tuple[float, ...]
    zp: tuple[float, ...]
    err: tuple[float, ...]
    jd_ref: float = 0.0
    coeffs: tuple[float, float] = (0.0, 0.0)
    cov: tuple[float, float, float] = (0.0, 0.0, 0.0)  # var c1, cov, var slope
    rms: float = float("nan")  # of the used sets about the straight line

    def c1(self, jd: float) -> tuple[float, float]:
        """The zero point at airmass 1 at ``jd`` and its error [mag]."""
        if self.model in ("linear", "constant", "nominal"):
            dt = jd - self.jd_ref
            var = self.cov[0] + 2.0 * dt * self.cov[1] + dt * dt * self.cov[2]
            return self.coeffs[0] + self.coeffs[1] * dt, float(np.sqrt(max(var, 0.0)))
        t, z, e = (np.asarray(a) for a in (self.jd, self.zp, self.err))
        k = int(np.clip(np.searchsorted(t, jd), 1, len(t) - 1))
        w = float(np.clip((jd - t[k - 1]) / (t[k] - t[k - 1]), 0.0, 1.0))
        return (float((1.0 - w) * z[k - 1] + w * z[k]),
                float(np.hypot((1.0 - w) * e[k - 1], w * e[k])))


@dataclass(frozen=True)
class NightSolution:
    """The night's zero points: per band ``BandSolution``, the sets they come from and
    the gaps between used sets. Small and picklable: survey scans take it as an argument."""

    sets: tuple[SetMeasurement, ...]
    bands: tuple[BandSolution, BandSolution, BandSolution]
    gaps: tuple[tuple[float, float], ...] = field(default=())  # (from, to) JD

    def zero_point(self, band: int, jd: float, airmass: float) -> tuple[float, float]:
        """``magzp`` [mag for 1 ADU per frame, total flux] at ``jd`` and ``airmass``, and
        its error [mag]."""
        c1, err = self.bands[band].c1(jd)
        return float(c1 - EXTINCTION[band] * (airmass - 1.0)), err

    def problems(self) -> list[str]:
        """What the solution had to do without: dropped sets, gaps, nominal bands."""
        out = []
        for b in self.bands:
            for i in b.dropped:
                s = self.sets[i]
                out.append(f"{b.band}: calibration set of scans {_scans(s)} dropped "
                           f"({s.n[BANDS.index(b.band)]} standards, {MIN_STANDARDS} needed)")
            if b.model == "nominal":
                out.append(f"{b.band}: no calibration set; the nominal zero point is used")
        for lo, hi in self.gaps:
            out.append(f"no calibration set for {24.0 * (hi - lo):.1f} h (JD {lo:.4f} to "
                       f"{hi:.4f}); the solution interpolates across the gap")
        return out

    def summary(self) -> dict:
        """The solution as ``night.json`` records it."""
        out: dict = {}
        for b in self.bands:
            d: dict = {"model": b.model, "sets_used": [_scans(self.sets[i]) for i in b.used],
                       "sets_dropped": [_scans(self.sets[i]) for i in b.dropped],
                       "rms_mag": _round(b.rms)}
            if b.model == "interpolated":
                d["knots"] = [{"jd": round(t, 6), "c1": _round(z), "err": _round(e)}
                              for t, z, e in zip(b.jd, b.zp, b.err, strict=True)]
            else:
                d.update({"jd_ref": round(b.jd_ref, 6), "c1": _round(b.coeffs[0]),
                          "c1_err": _round(float(np.sqrt(b.cov[0]))),
                          "slope_mag_per_day": _round(b.coeffs[1])})
            out[b.band] = d
        out["extinction_mag_per_airmass"] = {band: float(EXTINCTION[i])
                                             for i, band in enumerate(BANDS)}
        out["sets"] = [{"scans": list(s.scans), "jd": round(s.jd, 6),
                        "n_standards": dict(zip(BANDS, s.n, strict=True))} for s in self.sets]
        out["gaps_hours"] = [round(24.0 * (hi - lo), 2) for lo, hi in self.gaps]
        return out


def _scans(s: SetMeasurement) -> str:
    return "+".join(map(str, s.scans))


def _round(x: float) -> float | None:
    return round(float(x), 5) if np.isfinite(x) else None


def standard_fluxes(images: list[atlas.AtlasImage], std: dict) -> StandardFluxes:
    """The standards on a calibration scan's Atlas Images of one band: the 4" aperture
    where the image shows each, S/N > ``STANDARD_MIN_SNR``, isolated within
    ``STANDARD_ISOLATION_ARCSEC``; a standard on two overlapping images is measured on
    each. A calibration scan's own task measures them; the night's curve of growth, from
    all its calibration scans, corrects them afterwards (``measure_standards``)."""
    rows, fluxes, errs, xis = [], [], [], []
    for image in images:
        ra, dec = recentre(image, np.asarray(std["ra"], float), np.asarray(std["dec"], float))
        flux, err, ok = (a[:, 0] for a in aperture_fluxes(image, ra, dec,
                                                           np.array([APERTURE_ARCSEC])))
        good = ok & (flux > STANDARD_MIN_SNR * err)
        good[good] = neighbour_distance(image, ra[good], dec[good]) > STANDARD_ISOLATION_ARCSEC
        rows.append(np.flatnonzero(good))
        fluxes.append(flux[good])
        errs.append(err[good])
        xis.append(cross_scan_offset(image, ra[good], dec[good]))
    if not rows:
        return StandardFluxes(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
    return StandardFluxes(*(np.concatenate(a) for a in (rows, fluxes, errs, xis)))


def measure_standards(scan: int, band: int, jd: float, airmass: float,
                      fluxes: StandardFluxes, std: dict,
                      apcor: CrossScanApcor) -> StandardPhotometry:
    """A calibration scan's standards in one band (``standard_fluxes``) corrected to
    total flux by the night's cross-scan curve of growth ``apcor`` at their cross-scan
    offsets."""
    m_std_all = np.asarray(std[f"{BANDS[band]}_m"], float)
    total = fluxes.flux / apcor(fluxes.xi)
    return StandardPhotometry(scan, band, jd, airmass, fluxes.row, -2.5 * np.log10(total),
                              MAG_PER_LN_FLUX * fluxes.err / fluxes.flux,
                              m_std_all[fluxes.row])


def set_zero_point(photometry: list[StandardPhotometry]) -> tuple[float, float, int]:
    """One set's c1 in one band from its scans' standards: the weighted mean of
    ``M_std - m_inst + c2 (X - 1)`` after a ``CLIP_SIGMA`` robust clip, its error from the
    scatter about it; NaN with fewer than ``MIN_STANDARDS``."""
    if not photometry:
        return float("nan"), float("nan"), 0
    c2 = EXTINCTION[photometry[0].band]
    r = np.concatenate([p.m_std - p.m_inst + c2 * (p.airmass - 1.0) for p in photometry])
    e = np.concatenate([p.m_err for p in photometry])
    if len(r) >= MIN_STANDARDS:
        keep = np.abs(r - np.median(r)) <= CLIP_SIGMA * max(robust_sigma(r), 1e-4)
        r, e = r[keep], e[keep]
    n = len(r)
    if n < MIN_STANDARDS:
        return float("nan"), float("nan"), n
    w = 1.0 / np.maximum(e, 1e-3) ** 2
    mean = float(np.sum(w * r) / np.sum(w))
    err = float(np.sqrt(np.sum(w * (r - mean) ** 2) / ((n - 1) * np.sum(w))))
    return mean, err, n


def measure_sets(photometry: list[StandardPhotometry]) -> list[SetMeasurement]:
    """The night's calibration sets (its calibration scans less than ``SET_MINUTES``
    apart in time, in order) and each set's zero points per band from its scans'
    standards."""
    times = sorted({(p.jd, p.scan) for p in photometry if p.band == 0})
    groups: list[list[tuple[float, int]]] = []
    for jd, scan in times:
        if not groups or (jd - groups[-1][-1][0]) * 1440.0 > SET_MINUTES:
            groups.append([])
        groups[-1].append((jd, scan))
    out = []
    for group in groups:
        scans = tuple(scan for _, scan in group)
        mine = [p for p in photometry if p.scan in scans]
        per = [set_zero_point([p for p in mine if p.band == b]) for b in range(len(BANDS))]
        out.append(SetMeasurement(scans, float(np.mean([jd for jd, _ in group])),
                                  *(tuple(x) for x in zip(*per, strict=True))))
    return out


def solve_night(sets: list[SetMeasurement], nominal: np.ndarray) -> NightSolution:
    """The nightly solution (module docstring) from the sets' measurements; ``nominal``:
    the camera's zero points per band, for a band no set measured."""
    sets = sorted(sets, key=lambda s: s.jd)
    bands = []
    for b, band in enumerate(BANDS):
        used = tuple(i for i, s in enumerate(sets) if np.isfinite(s.zp[b]))
        dropped = tuple(i for i, s in enumerate(sets) if not np.isfinite(s.zp[b]))
        t = np.array([sets[i].jd for i in used])
        z = np.array([sets[i].zp[b] for i in used])
        e = np.array([max(sets[i].err[b], 1e-4) for i in used])
        knots = (tuple(map(float, t)), tuple(map(float, z)), tuple(map(float, e)))
        if not used:
            bands.append(BandSolution(band, "nominal", used, dropped, *knots,
                                      coeffs=(float(nominal[b]), 0.0),
                                      cov=(NOMINAL_ZP_ERR**2, 0.0, 0.0)))
            continue
        jd_ref, coeffs, cov, rms = _linear_fit(t, z, e)
        model = "constant" if len(used) == 1 \
            else "linear" if band in LINEAR_BANDS else "interpolated"
        bands.append(BandSolution(band, model, used, dropped, *knots, jd_ref, coeffs, cov,
                                  rms))
    gaps = sorted({(lo, hi) for bs in bands
                   for lo, hi in zip(bs.jd[:-1], bs.jd[1:], strict=True)
                   if 24.0 * (hi - lo) > MAX_SET_GAP_HOURS})
    return NightSolution(tuple(sets), tuple(bands), tuple(gaps))


def _linear_fit(t: np.ndarray, z: np.ndarray, e: np.ndarray
                ) -> tuple[float, tuple[float, float], tuple[float, float, float], float]:
    """Weighted least squares z = a + b (t - t_ref), t_ref the weighted mean time (a and b
    uncorrelated there); one point: a constant. The covariance is scaled up by the
    reduced chi^2 when the sets scatter more than their errors say."""
    w = 1.0 / e**2
    t_ref = float(np.sum(w * t) / np.sum(w))
    if len(t) == 1:
        return t_ref, (float(z[0]), 0.0), (float(e[0] ** 2), 0.0, 0.0), 0.0
    dt = t - t_ref
    a = float(np.sum(w * z) / np.sum(w))
    b = float(np.sum(w * dt * (z - a)) / np.sum(w * dt * dt))
    resid = z - a - b * dt
    chi2 = float(np.sum(w * resid**2))
    scale = max(1.0, chi2 / (len(t) - 2)) if len(t) > 2 else 1.0
    cov = (scale / float(np.sum(w)), 0.0, scale / float(np.sum(w * dt * dt)))
    return t_ref, (a, b), cov, float(np.sqrt(np.mean(resid**2)))


def calibrated_residuals(solution: NightSolution, photometry: list[StandardPhotometry],
                         per_standard: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per band, (standard rows, ``m_inst + magzp(t, X) - M_std``) of every standard
    measurement on the calibration scans, calibrated with the night's solution at its
    scan's time and airmass; with ``per_standard``, each standard's mean over the night
    (2MASS's standards' residuals: a network observed many times)."""
    out = []
    for b in range(len(BANDS)):
        mine = [p for p in photometry if p.band == b]
        rows = np.concatenate([p.row for p in mine]) if mine else np.zeros(0, int)
        res = np.concatenate([p.m_inst + solution.zero_point(b, p.jd, p.airmass)[0] - p.m_std
                              for p in mine]) if mine else np.zeros(0)
        if per_standard and len(rows):
            rows, index = np.unique(rows, return_inverse=True)
            res = np.bincount(index, res) / np.bincount(index)
        out.append((rows, res))
    return out
