"""Table 2 as figures: completeness and reliability against magnitude per band, and the
catalog's positions against the truth, from ``twomass.qa.table2.compare``.

The truth is a simulated sky, so these figures exist only for releases of simulated
data; the rows compared are the ones Table 2 counts (S/N > 10 in some band).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from twomass.core.database import Database
from twomass.qa.bins import Bins
from twomass.qa.plots import BAND_NAMES, BANDS, BandPanel, band_panels
from twomass.qa.report import Figure, SummaryRow
from twomass.qa.table2 import (
    ASTROMETRY_TARGET_ARCSEC,
    COMPLETENESS_TARGET,
    PHOTOMETRY_TARGET_MAG,
    RELIABILITY_TARGET,
    Comparison,
    ValidationParams,
    compare,
)

#: Magnitude bins of the completeness and reliability curves [mag].
CURVE_BINS = Bins(4.0, 18.0, 28)
#: A bin's fraction is drawn when it holds at least this many sources.
MIN_BIN_COUNT = 5
#: Astrometric offsets per Ks bin [mag].
OFFSET_BINS = Bins(4.0, 17.0, 13)
#: Points drawn in the offset scatter.
SCATTER_POINTS = 20_000


def truth_section(db: Database, name: str, truth_path: Path,
                  params: ValidationParams | None = None
                  ) -> tuple[list[SummaryRow], dict[str, Any], list[Figure]]:
    """Summary rows, numbers and figures of release ``name`` against ``truth_path``."""
    comparison = compare(db, name, truth_path, params)
    report = comparison.report
    ok = report.targets()
    rows = [
        SummaryRow("completeness, S/N > 10 in any band", f"{100 * report.completeness:.2f}%",
                   f">= {100 * COMPLETENESS_TARGET:g}%", ok["completeness"], "truth_completeness"),
        SummaryRow("reliability, S/N > 10 in any band", f"{100 * report.reliability:.3f}%",
                   f">= {100 * RELIABILITY_TARGET:g}%", ok["reliability"], "truth_reliability"),
    ]
    for band in BANDS:
        sigma, n = report.photometry_sigma_mag[band]
        rows.append(SummaryRow(f"photometric scatter against truth {BAND_NAMES[band]} "
                               f"(< {report.params.bright_mag_max:g} mag, {n:,d} stars)",
                               f"{sigma:.3f} mag", f"< {PHOTOMETRY_TARGET_MAG} mag",
                               ok["photometry"] if n else None, f"truth_photometry_{band}"))
    rows.append(SummaryRow(f"astrometric scatter against truth (Ks < "
                           f"{report.params.astrometry_ks_max:g})",
                           f"{1000 * report.astrometry_sigma_arcsec:.0f} mas",
                           f"<= {1000 * ASTROMETRY_TARGET_ARCSEC:.0f} mas",
                           ok["astrometry"] if report.astrometry_stars else None,
                           "truth_astrometry"))
    rows.append(SummaryRow("cross-scan pairs", f"{len(report.pairs):,d}", "off-tile only",
                           ok["pairs"], "truth_pairs"))
    numbers = {
        "completeness": report.completeness, "reliability": report.reliability,
        "expected_stars": report.expected, "found_stars": report.found,
        "catalog_snr10": report.catalog_snr, "reliable": report.reliable,
        "photometry_sigma_mag": {b: s for b, (s, _) in report.photometry_sigma_mag.items()},
        "astrometry_sigma_arcsec": report.astrometry_sigma_arcsec,
        "cross_scan_pairs": len(report.pairs), "targets": ok,
    }
    return rows, numbers, [_curves(comparison), _offsets(comparison)]


def _curves(c: Comparison) -> Figure:
    numbers: dict[str, Any] = {"bins": CURVE_BINS.params(), "completeness": {},
                               "reliability": {}}
    panels = []
    for k, band in enumerate(BANDS):
        comp = CURVE_BINS.fractions(c.expected_mag[:, k], c.found, MIN_BIN_COUNT)
        rel = CURVE_BINS.fractions(c.strong_mag[:, k], c.reliable, MIN_BIN_COUNT)
        numbers["completeness"][band] = comp
        numbers["reliability"][band] = rel
        panels.append(BandPanel(
            band, x=np.array([(b["lo"] + b["hi"]) / 2 for b in rel]),
            y=np.array([100 * b["fraction"] for b in rel]),
            centres=np.array([(b["lo"] + b["hi"]) / 2 for b in comp]),
            values=np.array([100 * b["fraction"] for b in comp]), label="completeness",
            points_label="reliability", point_size=14))
    lowest = min([v for p in panels for v in (*p.values, *p.y)] or [100.0])
    png = band_panels(panels, xlabel="{band} (true: line; catalog: dots) [mag]",
                      ylabel="percent [%]", ylim=(max(0.0, min(lowest, 98.0) - 1.0), 100.5),
                      hline=100 * COMPLETENESS_TARGET)
    return Figure("truth_completeness_reliability",
                  "Completeness and reliability against magnitude (Table 2 as a figure)",
                  "Line: the fraction of true stars with S/N > 10 in some band (outside "
                  "bright-star areas and coverage gaps) that the catalog holds, by true "
                  "magnitude in each band. Dots: the fraction of catalog sources with S/N > 10 "
                  "in some band that match a true source, by catalog magnitude. Bins of "
                  f"{CURVE_BINS.width:g} mag with at least {MIN_BIN_COUNT} sources; the grey "
                  "line is the 99% completeness target.", png, numbers)


def _offsets(c: Comparison) -> Figure:
    bucket = OFFSET_BINS.bucket(c.star_ks)
    numbers: dict[str, Any] = {"bins": OFFSET_BINS.params(), "stars": len(c.star_ks),
                               "per_bin": []}
    centres, ra_rms, dec_rms = [], [], []
    for b in range(1, OFFSET_BINS.count + 1):
        sel = c.star_offset_arcsec[bucket == b]
        if len(sel) < MIN_BIN_COUNT:
            continue
        rms = np.sqrt((sel**2).mean(axis=0))
        centres.append(float(OFFSET_BINS.centre(b)))
        ra_rms.append(float(rms[0]))
        dec_rms.append(float(rms[1]))
        numbers["per_bin"].append({"ks_lo": float(OFFSET_BINS.edges[b - 1]),
                                   "ks_hi": float(OFFSET_BINS.edges[b]), "stars": len(sel),
                                   "ra_rms_arcsec": rms[0], "dec_rms_arcsec": rms[1]})
    step = max(1, len(c.star_ks) // SCATTER_POINTS)
    panels = [BandPanel("k", x=c.star_ks[::step], y=c.star_offset_arcsec[::step, i],
                        centres=np.array(centres), values=np.array(rms), label="rms per bin",
                        symmetric=True, title=title)
              for i, (title, rms) in enumerate((("RA x cos Dec", ra_rms), ("Dec", dec_rms)))]
    png = band_panels(panels, xlabel="true {band} [mag]", ylabel="catalog - true [arcsec]",
                      ylim=(-0.6, 0.6), hline=0.0)
    return Figure("truth_astrometry", "Positions against the truth",
                  "Catalog minus true position (RA x cos Dec, Dec) of matched stars against "
                  "true Ks, with the rms per coordinate in 1 mag bins (lines, +- rms).",
                  png, numbers)
