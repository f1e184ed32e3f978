"""Per-scan observing conditions and the QA quality score.

Sensitivity follows the 2MASS photometric sensitivity parameter: the S/N = 10
magnitude ``[jhk]_msnr10`` worsens with seeing shape times background^0.29. Medians
(J 16.4, H 15.5, Ks 14.85) and a scatter of ~0.2 mag put almost every scan deeper
than the 15.8/15.1/14.3 requirement, as in Fig. 16 of Skrutskie et al. (2006).

The score is the QA rule's product, 10 x photometric factor x sensitivity factor,
rounded. The sensitivity factor steps with the depth margin below the requirement
(a stand-in for "probability that the scan meets the Level-1 specification"; the
margin thresholds are this simulator's choice). Marginal visits, the ones a tile is
later re-observed to improve, have worse seeing and more often clouds.
"""

from __future__ import annotations

import numpy as np

BANDS = ("j", "h", "k")
#: Level-1 S/N = 10 requirement [mag].
REQUIREMENT = np.array([15.8, 15.1, 14.3])
#: Median S/N = 10 magnitude of survey scans [mag] at seeing shape 1, background 1.
MEDIAN_MSNR10 = np.array([16.4, 15.5, 14.85])
ZERO_POINT = np.array([20.95, 20.55, 19.95])
BACKGROUND_DN = np.array([300.0, 750.0, 1100.0])
#: Margin below requirement [mag] -> sensitivity factor.
SENSITIVITY_STEPS = ((0.30, 1.0), (0.10, 0.8), (0.0, 0.5), (-0.2, 0.3))
#: A scan passes QA with a score of at least this: the working database loads only
#: Q > 3 scans, and a tile without one is re-observed.
PASS_QUAL = 4


def sensitivity_factor(margin_mag: float) -> float:
    """The QA rule's sensitivity factor, stepping on the depth margin [mag] (the
    shallowest band's S/N = 10 magnitude below the requirement)."""
    for threshold, factor in SENSITIVITY_STEPS:
        if margin_mag > threshold:
            return factor
    return 0.1


def qa_score(msnr10: np.ndarray, photometric: float) -> int:
    """QA score 0-10: 10 x photometric factor x sensitivity factor."""
    sens = sensitivity_factor(float(np.min(np.asarray(msnr10) - REQUIREMENT)))
    return int(np.clip(np.round(10.0 * photometric * sens), 0, 10))


def conditions(rng: np.random.Generator, marginal: bool) -> dict[str, object]:
    """Draw one scan's conditions and QA columns (``wdb.scan`` names)."""
    shape = 1.0 + rng.normal(0.0, 0.07) + np.array([0.03, 0.0, -0.03])
    if marginal:
        shape += abs(rng.normal(0.35, 0.15))
    back_factor = np.exp(rng.normal(0.0, 0.22, 3))
    psp = shape * back_factor ** 0.29
    cloudy = rng.random() < (0.3 if marginal else 0.02)
    other = rng.random() < 0.03
    extinction = rng.uniform(0.05, 0.4) if cloudy else 0.0
    msnr10 = (MEDIAN_MSNR10 - 3.5 * np.log10(psp) + rng.normal(0.0, 0.06, 3)
              - extinction)
    phot = rng.uniform(0.0, 0.45) if cloudy else (0.7 if other else 1.0)
    qual = qa_score(msnr10, phot)
    out: dict[str, object] = {
        "qual": qual, "hgl": int(rng.random() < 0.01), "cld": int(cloudy),
        "xph": int(other), "anom": int(rng.random() < 0.01),
        "rh": float(rng.uniform(10.0, 80.0)), "air_temp": float(rng.normal(10.0, 6.0)),
        "tel_temp": float(rng.normal(9.0, 6.0)), "focus": float(rng.normal(0.0, 40.0)),
        "c_strat": int(rng.choice([1, 2])),
    }
    shape_rms = np.abs(rng.normal(0.04, 0.015, 3)) + (0.05 if marginal else 0.0)
    for i, b in enumerate(BANDS):
        out[f"{b}_zp_ap"] = float(ZERO_POINT[i] - extinction + rng.normal(0.0, 0.03))
        out[f"{b}_zperr_ap"] = float(abs(rng.normal(0.012, 0.004)) + 0.5 * extinction)
        out[f"{b}_shape_avg"] = float(shape[i])
        out[f"{b}_shape_rms"] = float(shape_rms[i])
        out[f"{b}_2mrat"] = float(1.0 + abs(rng.normal(0.05, 0.03)))
        out[f"{b}_psp"] = float(psp[i])
        out[f"{b}_back"] = float(BACKGROUND_DN[i] * back_factor[i])
        out[f"{b}_pts_noise"] = float(np.log10(3.0 * np.sqrt(back_factor[i])) + 0.2 * i)
        out[f"{b}_msnr10"] = float(msnr10[i])
    return out
