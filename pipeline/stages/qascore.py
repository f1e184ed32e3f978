"""The QA score of a scan (spec §1.15): 0 (worst) ... 10 (best), the ``qual`` of
``scans.parquet`` that the release's scan selection reads (the best scan of each tile,
from ``min_scan_qual`` on; 2MASS's working database loaded scans with Q > 3).

Every aspect 2MASS reviewed is measured on the scan itself and mapped to a factor from
0 to 1 (its sub-score is 10 x the factor):

    aspect       measured (worst band)                        factor 1 to   0 from
    sensitivity  S/N = 10 magnitude past the Level-1 need     2MASS's steps (``quality``)
    tracking     frame-to-frame tie residual [px]             0.15          0.5
                 largest change of the frame offset [arcsec]  2.0           8.0
    noise        frame background rms / photon + read noise   1.3           2.0
    photometry   rms of the standards on the scan [mag]       0.06          0.12
                 their median offset from the zero point      0.05          0.15
                 the night solution's zero-point error [mag]  0.02          0.10
    overlaps     rms of overlap differences [mag]             2MASS's steps (0.05/0.075/0.1)
    seeing       FWHM / 2.5"                                  1.3           2.0
    background   sky / the band's nominal sky                 3.0           6.0
                 its spread along the scan (5-95 %) / median  0.10          0.50
    astrometry   rms of reference stars after registration    0.3"          1.0"
    transients   fraction of good pixels masked               0.02          0.10

Between its two limits a factor falls linearly; an aspect with several measures takes
the worst. The standards' rms and the overlap steps are 2MASS's (catalog rules §2.1:
factor 2 - rms / 0.06; 1.0 / 0.7 / 0.4 / 0); a seeing shape of 1.3 was a 2MASS
downgrade; the other limits sit above what normal scans of the simulator show (tie
residual ~0.01 px, jumps ~1" from the 0.25" tracking jitter, noise ratio ~1, sky
1-2 x nominal, reference rms ~0.06", under 1 % masked: benchmarks/README.md) and at
what visibly spoils the products (a 0.5 px tie error smears the 2.5" image; frame pairs
are matched within 4", so a larger jump is tied through the reference stars alone;
twice the expected noise costs 0.75 mag of depth). Aspects not measured (no standards
on the scan, no overlap figure or zero-point error given) count as 1.

The factors multiply, as 2MASS's rule does (10 x photometric x sensitivity): each is
1 over the normal range, so the product is 10 for a normal scan, falls with the worst
problem, and two marginal problems compound rather than hide behind each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from twomass.pipeline.sim import quality
from twomass.pipeline.stages import instrument as inst

NOMINAL_SEEING_ARCSEC = 2.5
#: (full, zero): the factor is 1 up to ``full`` and 0 from ``zero`` on.
LIMITS: dict[str, tuple[float, float]] = {
    "registration_px": (0.15, 0.5),
    "largest_jump_arcsec": (2.0, 8.0),
    "noise_ratio": (1.3, 2.0),
    "standards_rms_mag": (0.06, 0.12),
    "standards_offset_mag": (0.05, 0.15),
    "zero_point_error_mag": (0.02, 0.10),
    "seeing_shape": (1.3, 2.0),
    "background_ratio": (3.0, 6.0),
    "background_spread": (0.10, 0.50),
    "astrometry_rms_arcsec": (0.3, 1.0),
    "masked_fraction": (0.02, 0.10),
}
#: Overlap differences' rms [mag] -> factor (2MASS's mult4).
OVERLAP_STEPS = ((0.050, 1.0), (0.075, 0.7), (0.100, 0.4))
ASPECTS: dict[str, tuple[str, ...]] = {
    "tracking": ("registration_px", "largest_jump_arcsec"),
    "noise": ("noise_ratio",),
    "photometry": ("standards_rms_mag", "standards_offset_mag", "zero_point_error_mag"),
    "seeing": ("seeing_shape",),
    "background": ("background_ratio", "background_spread"),
    "astrometry": ("astrometry_rms_arcsec",),
    "transients": ("masked_fraction",),
}


@dataclass(frozen=True)
class ScanMeasures:
    """What the QA score reads of a scan, each the worst band's (NaN: not measured)."""

    depth_margin_mag: float  # shallowest band's S/N = 10 magnitude - the requirement
    registration_px: float  # rms of the frame-to-frame ties after the adjustment
    largest_jump_arcsec: float  # largest change of the frame offset between frames
    noise_ratio: float  # median frame background rms / sqrt(sky / gain + read^2)
    standards_rms_mag: float
    standards_offset_mag: float  # |median(listed - measured)| of the standards
    zero_point_error_mag: float  # of the night's photometric solution, when given
    overlap_rms_mag: float  # of differences with overlapping scans, when given
    seeing_shape: float  # FWHM / NOMINAL_SEEING_ARCSEC
    background_ratio: float  # median sky / the band's nominal sky
    background_spread: float  # (95 % - 5 %) of the frames' sky / its median
    astrometry_rms_arcsec: float  # reference stars against their positions
    masked_fraction: float  # good pixels the transient masks removed


@dataclass(frozen=True)
class QAScore:
    qual: int  # 0-10
    factors: dict[str, float]  # per aspect, 0-1 (sub-score = 10 x factor)


def measure(results, depth: np.ndarray, standards: list[tuple[float, float, int]],
            zero_point_error: np.ndarray | None = None,
            overlap_rms_mag: float | None = None) -> ScanMeasures:
    """A scan's measures from its stages' ``BandResult`` per band, its ``band_depth``
    per band and ``scanmeta.standards_offset`` per band; the night's zero-point errors
    per band and the overlap rms when known."""
    def worst(values) -> float:
        values = np.asarray(values, float)
        return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")

    noise, back, spread, masked, jumps = [], [], [], [], []
    for b, r in enumerate(results):
        sky = np.asarray(r.cal.sky, float)
        expected = np.sqrt(np.maximum(np.median(sky), 0.0) / inst.GAIN
                           + 2.0 * inst.READ_NOISE_ADU**2)
        noise.append(np.median(r.cal.noise) / expected)
        back.append(np.median(sky) / quality.BACKGROUND_DN[b])
        spread.append((np.percentile(sky, 95) - np.percentile(sky, 5)) / np.median(sky))
        good = r.cal.good.sum()
        masked.append(float(np.sum(r.cal.good & (r.weight == 0)) / good) if good else 1.0)
        off = np.asarray(r.reg.offset_arcsec, float)
        jumps.append(np.hypot(*np.diff(off, axis=0).T).max() if len(off) > 1 else 0.0)
    std_offset = [abs(s[0]) for s in standards]
    return ScanMeasures(
        depth_margin_mag=float(np.min(np.nan_to_num(depth, nan=0.0) - quality.REQUIREMENT)),
        registration_px=worst([r.reg.pair_residual_px for r in results]),
        largest_jump_arcsec=worst(jumps), noise_ratio=worst(noise),
        standards_rms_mag=worst([s[1] for s in standards]),
        standards_offset_mag=worst(std_offset),
        zero_point_error_mag=worst(zero_point_error) if zero_point_error is not None
        else float("nan"),
        overlap_rms_mag=float("nan") if overlap_rms_mag is None else float(overlap_rms_mag),
        seeing_shape=worst([r.seeing for r in results]) / NOMINAL_SEEING_ARCSEC,
        background_ratio=worst(back), background_spread=worst(spread),
        astrometry_rms_arcsec=worst([r.reg.reference_rms_arcsec for r in results]),
        masked_fraction=worst(masked))


def ramp(value: float, full: float, zero: float) -> float:
    """1 up to ``full``, 0 from ``zero`` on, linear between; 1 when not measured."""
    if not np.isfinite(value):
        return 1.0
    return float(np.clip((zero - value) / (zero - full), 0.0, 1.0))


def overlap_factor(rms_mag: float) -> float:
    """2MASS's overlap steps; 1 when not measured."""
    if not np.isfinite(rms_mag):
        return 1.0
    for limit, factor in OVERLAP_STEPS:
        if rms_mag < limit:
            return factor
    return 0.0


def score(m: ScanMeasures) -> QAScore:
    """The factors per aspect and their rounded product times 10."""
    values = asdict(m)
    factors = {"sensitivity": quality.sensitivity_factor(m.depth_margin_mag)}
    for aspect, names in ASPECTS.items():
        factors[aspect] = min(ramp(values[n], *LIMITS[n]) for n in names)
    factors["overlaps"] = overlap_factor(m.overlap_rms_mag)
    product = float(np.prod(list(factors.values())))
    return QAScore(int(np.clip(np.round(10.0 * product), 0, 10)), factors)
