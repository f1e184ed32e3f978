"""The night QA report: a night's scans, their QA inputs and scores, coverage and depth,
and what would keep each scan out of a release.

``write_night_report(night, out)`` reads a night product directory (no database needed)
or, given a ``Database``, a loaded night by name (``2000-05-01n``), and writes the HTML,
its JSON and the coverage MOC of the night's scans beside it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from twomass.core.database import Database
from twomass.qa.bins import DEPTH_BINS
from twomass.qa.coverage import Coverage, scan_coverage
from twomass.qa.night_data import BANDS, NightData, from_database, from_directory
from twomass.qa.plots import (
    BAND_COLOURS,
    BAND_NAMES,
    Series,
    depth_histograms,
    time_panels,
)
from twomass.qa.report import Figure, Report, ReportFiles, SummaryRow, Table, steps
from twomass.qa.skyplots import coverage_figure, density_maps, pixel_area_deg2
from twomass.qa.truth import REQUIRED_MAG
from twomass.release.spec import ReleaseSpec

#: A scan whose centre lies farther than this from its tile's centre is mispointed
#: (the validation's off-tile limit, ``ValidationParams.off_tile_arcsec``).
OFF_TILE_ARCSEC = 60.0
#: Warning flags of ``wdb.scan`` and what they mean.
FLAGS = {"cld": "clouds", "xph": "photometric problem", "hgl": "H-band glitch",
         "anom": "Atlas Image anomaly"}


def write_night_report(night: str | Path, html_path: Path, *, db: Database | None = None,
                       png_dir: Path | None = None, progress: bool = True) -> ReportFiles:
    """Write the report of ``night``: a product directory, or with ``db`` a loaded night's
    name; the JSON and ``<stem>.moc.fits`` go beside ``html_path``."""
    start = time.perf_counter()
    html_path = Path(html_path)
    with steps(f"qa night {Path(night).name}", 3, progress) as step:
        step("read")
        data = from_database(db, str(night)) if db is not None else from_directory(night)
        step("figures")
        report, coverage = night_report(data)
        step("write")
        moc_path = coverage.write(html_path.with_suffix(".moc.fits"))
        report.files["moc"] = str(moc_path)
        json_path = report.write(html_path, png_dir)
    return ReportFiles(html_path, json_path, moc_path, report, time.perf_counter() - start)


def night_report(data: NightData) -> tuple[Report, Coverage]:
    """The report of one night and the coverage MOC of its scans."""
    report = Report("night", data.label, f"twomass night {data.label}: quality report")
    coverage = scan_coverage(data.corners)
    hours = data.hours_ut
    s = data.scans
    report.figures += [
        Figure("coverage", "Sky coverage of the night's scans (MOC)",
               "The union of the night's scan areas as a Multi-Order Coverage map (written "
               "beside this report as a FITS file), with each scan's outline.",
               coverage_figure(coverage, data.corners),
               {"area_deg2": coverage.area_deg2, "scans": coverage.scans,
                "moc_order": coverage.depth}),
        _density(data),
        _depth_histogram(data),
        Figure("photometry", "Zero points, depth and QA scores per scan",
               "Per scan against its start time: aperture zero points with their rms, S/N = "
               "10 magnitudes with the survey's requirement (lines), and the QA score.",
               time_panels([("zero point [mag]", _per_band(hours, s, "zp_ap", "zperr_ap")),
                            ("S/N = 10 magnitude [mag]", _per_band(hours, s, "msnr10")),
                            ("QA score", [Series(hours, s["qual"].astype(float), "")])],
                           xlabel="scan start [h UT]",
                           hlines={1: {BAND_COLOURS[b]: REQUIRED_MAG[b] for b in BANDS}}),
               {"hours_ut": hours}),
        Figure("conditions", "Observing conditions per scan",
               "The QA inputs against time: seeing shape, photometric sensitivity parameter "
               "(shape x background^0.29, lower is better), background and air mass.",
               time_panels([("seeing shape", _per_band(hours, s, "shape_avg")),
                            ("PSP", _per_band(hours, s, "psp")),
                            ("background [DN]", _per_band(hours, s, "back")),
                            ("air mass", [Series(hours, s["airm"].astype(float), "")])],
                           xlabel="scan start [h UT]"),
               {}),
    ]
    table = _scan_table(data)
    report.tables.append(table)
    _summarize(report, data, coverage, table)
    return report, coverage


def _density(data: NightData) -> Figure:
    per_deg2 = data.counts / pixel_area_deg2(data.order)
    return Figure("density", "Point extraction density",
                  f"Point extractions of the night (every detection, noise included) per deg² "
                  f"in HEALPix order {data.order} pixels.",
                  density_maps(data.pixels, data.counts, data.order,
                               label="point extractions", zoom=True),
                  {"order": data.order, "pixels": len(data.pixels),
                   "extractions": int(data.counts.sum()),
                   "median_per_deg2": float(np.median(per_deg2)) if len(per_deg2) else math.nan})


def _depth_histogram(data: NightData) -> Figure:
    hemis = data.label[-1]
    counts = {(hemis, b): np.histogram(data.scans[f"{b}_msnr10"].astype(float),
                                       DEPTH_BINS.edges)[0] for b in BANDS}
    return Figure("depth", "Scan sensitivity: S/N = 10 magnitudes (Fig. 16)",
                  "S/N = 10 magnitude of every scan of the night per band; the black line is "
                  "the survey's requirement (J 15.8, H 15.1, Ks 14.3 mag).",
                  depth_histograms(DEPTH_BINS.edges, counts, REQUIRED_MAG),
                  {"bins": DEPTH_BINS.params(),
                   "histogram": {b: counts[(hemis, b)].tolist() for b in BANDS}})


def _per_band(hours: np.ndarray, scans: dict[str, np.ndarray], column: str,
              error: str | None = None) -> list[Series]:
    return [Series(hours, scans[f"{b}_{column}"].astype(float), BAND_NAMES[b], BAND_COLOURS[b],
                   yerr=scans[f"{b}_{error}"].astype(float) if error else None) for b in BANDS]


def kept_out(data: NightData, i: int) -> list[str]:
    """What keeps scan ``i`` out of a release built with the default spec."""
    reasons = []
    min_qual = ReleaseSpec().min_scan_qual
    if data.scans["qual"][i] < min_qual:
        reasons.append(f"QA score below min_scan_qual {min_qual}")
    if data.outranked_by[i]:
        reasons.append(f"its tile's choice is {data.outranked_by[i]}")
    return reasons


def warnings_of(data: NightData, i: int) -> list[str]:
    """What a reviewer should look at: shallow bands, flags, a mispointed scan."""
    out = [f"{BAND_NAMES[b]} shallower than {REQUIRED_MAG[b]} mag" for b in BANDS
           if data.scans[f"{b}_msnr10"][i] < REQUIRED_MAG[b]]
    out += [text for flag, text in FLAGS.items() if data.scans[flag][i]]
    if data.tile_offset_arcsec[i] > OFF_TILE_ARCSEC:
        out.append(f"{data.tile_offset_arcsec[i]:.0f} arcsec off its tile")
    return out


def _scan_table(data: NightData) -> Table:
    s = data.scans
    columns = ["scan", "tile", "direction", "start [h UT]", "air mass", "QA score",
               *(f"{BAND_NAMES[b]} S/N=10 [mag]" for b in BANDS),
               *(f"{BAND_NAMES[b]} zero point [mag]" for b in BANDS),
               "Ks seeing shape", "point extractions", "off tile [arcsec]",
               "kept out of a release by", "warnings"]
    rows: list[list[Any]] = []
    for i in range(len(s["scan"])):
        rows.append([int(s["scan"][i]), int(s["tile"][i]), str(s["sd"][i]),
                     float(data.hours_ut[i]), _float(s["airm"][i]), int(s["qual"][i]),
                     *(_float(s[f"{b}_msnr10"][i]) for b in BANDS),
                     *(_float(s[f"{b}_zp_ap"][i]) for b in BANDS),
                     _float(s["k_shape_avg"][i]), int(data.extractions[i]),
                     float(data.tile_offset_arcsec[i]), "; ".join(kept_out(data, i)),
                     "; ".join(warnings_of(data, i))])
    return Table("scans", "Scans, their QA inputs and scores", columns, rows)


def _summarize(report: Report, data: NightData, coverage: Coverage, table: Table) -> None:
    s = data.scans
    n_scans = len(s["scan"])
    kept = sum(1 for row in table.rows if row[-2])
    warned = sum(1 for row in table.rows if row[-1])
    n = report.numbers
    n.update(night=data.label, source=data.source, scans=n_scans,
             tiles=len(np.unique(s["tile"])), extractions=int(data.extractions.sum()),
             area_deg2=coverage.area_deg2, kept_out=kept, warned=warned,
             mean_qual=float(np.mean(s["qual"])) if n_scans else math.nan,
             depth_median_mag={b: _median(s[f"{b}_msnr10"]) for b in BANDS},
             shallow_scans={b: int((s[f"{b}_msnr10"] < REQUIRED_MAG[b]).sum()) for b in BANDS})
    report.summary += [
        SummaryRow("night", f"{data.label} ({data.source})"),
        SummaryRow("scans / tiles", f"{n_scans} / {n['tiles']}"),
        SummaryRow("point extractions", f"{n['extractions']:,d}"),
        SummaryRow("area covered (MOC)", f"{coverage.area_deg2:,.2f} deg²"),
        SummaryRow("mean QA score", f"{n['mean_qual']:.2f}"),
    ]
    for b in BANDS:
        median = n["depth_median_mag"][b]
        report.summary.append(SummaryRow(
            f"median {BAND_NAMES[b]} S/N = 10 depth ({n['shallow_scans'][b]} scans shallower "
            "than required)", f"{median:.2f} mag", f">= {REQUIRED_MAG[b]} mag",
            median >= REQUIRED_MAG[b] if n_scans else None, f"depth_{b}"))
    report.summary += [
        SummaryRow("scans a release would leave out (default spec)", f"{kept}"),
        SummaryRow("scans with warnings (shallow band, flags, off tile)", f"{warned}"),
    ]
    report.headline = (f"{n_scans} scans, {n['extractions']:,d} point extractions over "
                       f"{coverage.area_deg2:,.2f} deg², {kept} a release would leave out, "
                       f"{warned} with warnings")


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _median(values: np.ndarray) -> float:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else math.nan
