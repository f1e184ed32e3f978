"""The release report's figures, each from the aggregates of ``sql/qa/release.sql``.

Every function returns a ``Figure`` whose ``numbers`` hold what the plot shows, so that
the JSON carries the same values as the pictures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from twomass import release
from twomass.qa.bins import DEPTH_BINS, Bins
from twomass.qa.coverage import Coverage
from twomass.qa.plots import (
    BAND_COLOURS,
    BAND_NAMES,
    BANDS,
    BandPanel,
    Series,
    band_panels,
    bars,
    depth_histograms,
    stacked_counts,
    time_panels,
)
from twomass.qa.queries import Session
from twomass.qa.report import Figure
from twomass.qa.skyplots import coverage_figure, density_maps, pixel_area_deg2

#: Magnitude bins of the overlap figures [mag].
MAG_BINS = Bins(4.0, 17.0, 26)
#: Ks bins of the overlap position differences [mag].
KS_BINS = Bins(4.0, 17.0, 13)
#: Legend names of the two observatories.
SITES = {"n": "north", "s": "south"}
#: The order of the outcomes in the scan-choice figure.
OUTCOMES = ("chosen", "another scan of its tile chosen", "below min_scan_qual",
            "loaded after the build")


def coverage(cov: Coverage, corners: np.ndarray) -> Figure:
    """The coverage MOC of the chosen scans (``corners``: one row of 8 per scan)."""
    return Figure("coverage", "Sky coverage (MOC)",
                  "The union of the chosen scans' 3-band areas as a Multi-Order Coverage map "
                  "(IVOA MOC, written beside this report as a FITS file for Aladin or TOPCAT), "
                  "with each scan's outline for small regions.",
                  coverage_figure(cov, corners),
                  {"area_deg2": cov.area_deg2, "scans": cov.scans, "moc_order": cov.depth})


def density(pixels: np.ndarray, counts: np.ndarray, order: int, zoom: bool,
            area_deg2: float) -> Figure:
    """Sources per deg² from per-pixel counts at ``order`` (statement ``density``)."""
    per_deg2 = counts / pixel_area_deg2(order)
    numbers = {"order": order, "pixels": len(pixels), "sources": int(counts.sum()),
               "median_per_deg2": float(np.median(per_deg2)) if len(pixels) else math.nan,
               "max_per_deg2": float(per_deg2.max()) if len(pixels) else math.nan,
               "mean_per_deg2": float(counts.sum() / area_deg2) if area_deg2 else math.nan}
    return Figure("density", "Point source density",
                  f"Point Source Catalog sources per deg² in HEALPix pixels (order {order} "
                  f"for the zoom); pixels at the region's edge are partly covered.",
                  density_maps(pixels, counts, order, label="point sources", zoom=zoom),
                  numbers)


def depth(q: Session, required_mag: Mapping[str, float]) -> Figure:
    """Fig. 16: the chosen scans' S/N = 10 magnitudes against the requirement."""
    counts: dict[tuple[str, str], np.ndarray] = {}
    for hemis, band, bucket, n in q.rows("depth_histogram", **DEPTH_BINS.params()):
        if 1 <= bucket <= DEPTH_BINS.count:
            counts.setdefault((hemis, band), np.zeros(DEPTH_BINS.count, np.int64))[bucket - 1] = n
    summary = {band: {"scans": 0, "median_mag": math.nan, "deep_enough": 0,
                      "deep_enough_fraction": math.nan} for band in BANDS}
    for band, scans, median, deep in q.rows(
            "depth_summary", **{f"{b}_required": m for b, m in required_mag.items()}):
        summary[band] = {"scans": scans, "median_mag": median, "deep_enough": deep,
                         "deep_enough_fraction": deep / scans if scans else math.nan}
    numbers = {"bins": DEPTH_BINS.params(), "required_mag": dict(required_mag),
               "bands": summary,
               "histogram": {f"{h}_{b}": c.tolist() for (h, b), c in counts.items()}}
    return Figure("depth", "Scan sensitivity: S/N = 10 magnitudes (Fig. 16)",
                  "S/N = 10 magnitude of every chosen scan per band and hemisphere (north "
                  "solid, south dashed); the black line is the survey's requirement "
                  "(J 15.8, H 15.1, Ks 14.3 mag): a scan right of it is deep enough.",
                  depth_histograms(DEPTH_BINS.edges, counts, required_mag), numbers)


def repeatability(q: Session, sample: dict[str, Any], points: np.ndarray,
                  bright_mag_max: float) -> Figure:
    """Repeatability in tile overlaps; ``points`` are rows of ``overlap_points``."""
    per_bin: dict[str, list[dict[str, Any]]] = {b: [] for b in BANDS}
    for band, bucket, pairs, rms, robust, mean in q.rows("repeatability", **MAG_BINS.params()):
        if 1 <= bucket <= MAG_BINS.count:
            per_bin[band].append({"mag_lo": float(MAG_BINS.edges[bucket - 1]),
                                  "mag_hi": float(MAG_BINS.edges[bucket]), "pairs": pairs,
                                  "rms_mag": rms, "robust_sigma_mag": robust, "mean_mag": mean})
    bright = {b: {"pairs": 0, "rms_mag": math.nan, "robust_sigma_mag": math.nan}
              for b in BANDS}
    for band, pairs, rms, robust in q.rows("repeatability_bright", mag_max=bright_mag_max):
        bright[band] = {"pairs": pairs, "rms_mag": rms, "robust_sigma_mag": robust}
    for b in bright.values():
        b["per_measurement_sigma_mag"] = b["robust_sigma_mag"] / math.sqrt(2)
    panels = []
    for k, band in enumerate(BANDS):
        x, y = points[:, 2 * k], points[:, 2 * k + 1]
        keep = np.isfinite(x) & np.isfinite(y)
        panels.append(BandPanel(band, x[keep], y[keep],
                                np.array([(b["mag_lo"] + b["mag_hi"]) / 2 for b in per_bin[band]]),
                                np.array([b["robust_sigma_mag"] for b in per_bin[band]]),
                                label="robust sigma per bin", symmetric=True))
    numbers = {"sample": sample, "bins": MAG_BINS.params(), "per_bin": per_bin,
               "bright_mag_max": bright_mag_max, "bright": bright}
    return Figure("overlap_repeatability", "Photometric repeatability in tile overlaps",
                  "Magnitude of a duplicate apparition minus its catalog apparition, against "
                  "the catalog magnitude, where both measured the band; lines: the robust sigma "
                  f"(1.4826 x median absolute difference) per {MAG_BINS.width:g} mag bin (+-), "
                  "which blends and mismatched pairs do not inflate as they do the rms (in the "
                  "JSON). One measurement's scatter is the difference's / sqrt 2. "
                  f"{_sample_text(sample)}",
                  band_panels(panels, xlabel="{band} catalog magnitude [mag]",
                              ylabel="duplicate - catalog [mag]", ylim=(-0.5, 0.5), hline=0.0),
                  numbers)


def overlap_astrometry(q: Session, sample: dict[str, Any], points: np.ndarray,
                       ks_max: float) -> Figure:
    """Fig. 20's overlap curve: ``points`` are rows of statement ``overlap_points``."""
    per_bin = [{"ks_lo": float(KS_BINS.edges[b - 1]), "ks_hi": float(KS_BINS.edges[b]),
                "pairs": n, "ra_rms_arcsec": ra, "dec_rms_arcsec": dec}
               for b, n, ra, dec in q.rows("astrometric_overlaps", **KS_BINS.params())
               if 1 <= b <= KS_BINS.count]
    pairs, bright_pairs, ra_rms, dec_rms = q.rows("overlap_summary", ks_max=ks_max)[0]
    bright = {"ks_max": ks_max, "pairs": bright_pairs, "ra_rms_arcsec": _nan(ra_rms),
              "dec_rms_arcsec": _nan(dec_rms),
              "ra_per_apparition_arcsec": _nan(ra_rms) / math.sqrt(2),
              "dec_per_apparition_arcsec": _nan(dec_rms) / math.sqrt(2)}
    centres = np.array([(b["ks_lo"] + b["ks_hi"]) / 2 for b in per_bin])
    panels = [BandPanel("k", points[:, 6], points[:, 7 + i], centres,
                        np.array([b[key] for b in per_bin]), label="rms per bin",
                        symmetric=True, title=title)
              for i, (title, key) in enumerate((("RA x cos Dec", "ra_rms_arcsec"),
                                                ("Dec", "dec_rms_arcsec")))]
    return Figure("overlap_astrometry", "Position differences in tile overlaps (Fig. 20)",
                  "Position of a duplicate apparition minus its catalog apparition (RA x cos "
                  "Dec, Dec) against the catalog Ks, with the rms per 1 mag bin (+-); one "
                  f"apparition's scatter is the rms / sqrt 2. {_sample_text(sample)}",
                  band_panels(panels, xlabel="catalog {band} [mag]",
                              ylabel="duplicate - catalog [arcsec]", ylim=(-1.0, 1.0), hline=0.0),
                  {"sample": sample, "pairs": pairs, "bins": KS_BINS.params(),
                   "per_bin": per_bin, "bright": bright})


def rejects(counts: Mapping[str, Any]) -> Figure:
    """Rejects per reason, from the registry's counts (the build counted them)."""
    by_reason = {kind: dict(sorted(counts.get(f"{kind}_reject_reasons", {}).items(),
                                   key=lambda kv: -kv[1])) for kind in ("psc", "xsc")}
    labels = [r for kind in by_reason for r in by_reason[kind]]
    groups = [kind.upper() for kind in by_reason for _ in by_reason[kind]]
    values = [n for kind in by_reason for n in by_reason[kind].values()]
    return Figure("rejects", "Rejected working rows by reason",
                  "Working-database rows that did not enter the catalogs, by the first release "
                  "rule each failed (psc_reject and xsc_reject, column reject_reason).",
                  bars(labels, values, xlabel="rows (log scale)", groups=groups), by_reason)


def scan_choice(q: Session, record: release.ReleaseRecord) -> Figure:
    """Every working-database scan by QA score and what the release did with it."""
    rows = q.rows("scan_choice", built_at=record.built_at,
                  min_scan_qual=int(record.spec.get("min_scan_qual", 0)))
    quals = list(range(0, 11))
    series = {o: [0] * len(quals) for o in OUTCOMES}
    for qual, outcome, n in rows:
        series[outcome][qual] += n
    series = {o: v for o, v in series.items() if any(v)}
    totals = {o: sum(v) for o, v in series.items()}
    return Figure("scan_choice", "Scans chosen and not chosen, by QA score",
                  "Every scan of the working database by its QA score (0-10) and whether this "
                  "release chose it: one scan per tile, the highest score first "
                  "(sql/release/10_scan_selection.sql).",
                  stacked_counts(quals, series, xlabel="QA score (qual)", ylabel="scans"),
                  {"by_outcome": totals, "by_qual": series})


def nights(q: Session, required_mag: Mapping[str, float]) -> Figure:
    """Figs. 6 and 7: per-night means of the chosen scans against date."""
    records = q.records("nights")
    series: dict[str, list] = {"zp": [], "depth": [], "qual": []}
    for hemis, marker in (("n", "o"), ("s", "s")):
        mine = [r for r in records if r["hemis"] == hemis]
        if not mine:
            continue
        dates = np.array([r["date"] for r in mine])
        for band in BANDS:
            for key, column in (("zp", f"{band}_zp_ap"), ("depth", f"{band}_msnr10")):
                series[key].append(Series(dates, np.array([_nan(r[column]) for r in mine]),
                                          f"{BAND_NAMES[band]} {SITES[hemis]}",
                                          BAND_COLOURS[band], marker))
        series["qual"].append(Series(dates, np.array([float(r["qual"]) for r in mine]),
                                     SITES[hemis], "k", marker))
    png = time_panels([("zero point [mag]", series["zp"]),
                       ("S/N = 10 magnitude [mag]", series["depth"]),
                       ("mean QA score", series["qual"])], xlabel="night (date)",
                      hlines={1: {BAND_COLOURS[b]: m for b, m in required_mag.items()}})
    table = [{"hemis": r["hemis"], "date": r["date"].isoformat(), "scans": r["scans"],
              "qual": _nan(r["qual"]), **{k: _nan(r[k]) for k in r
                                          if k.endswith(("_zp_ap", "_msnr10"))}}
             for r in records]
    return Figure("nights", "Per-night zero points, depth and QA scores (Figs. 6, 7)",
                  "Means over each night's chosen scans, north (circles) and south (squares): "
                  "aperture zero points, S/N = 10 magnitudes with the survey's requirement "
                  "(lines), and QA scores.", png, {"nights": table})


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _sample_text(sample: Mapping[str, Any]) -> str:
    if sample["sampled_percent"] >= 100:
        return f"Every one of the {sample['duplicates']:,d} duplicate apparitions."
    return (f"A {sample['sampled_percent']:.2g}% block sample of the "
            f"{sample['duplicates']:,d} duplicate apparitions.")
