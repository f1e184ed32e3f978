"""The release QA report: how a catalog release looks, in the survey paper's figures.

``release_report(db, name)`` measures release ``name`` with the aggregates of
``sql/qa/release.sql`` (no catalog table is read into Python) and draws: the coverage
MOC and its area, the source density, the scans' S/N = 10 depth (Fig. 16), photometric
repeatability and position differences in tile overlaps (Fig. 20), rejects by reason,
scans chosen or not, per-night zero points, depth and QA scores (Figs. 6, 7), and, with a
simulator truth file, Table 2 as figures. ``write_release_report`` writes it as HTML,
JSON, MOC FITS and optionally PNG files.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twomass import release
from twomass.core.database import Database
from twomass.qa import release_figures as figures
from twomass.qa.coverage import Coverage, scan_coverage
from twomass.qa.plots import BAND_NAMES
from twomass.qa.queries import Session, session
from twomass.qa.report import Figure, Report, ReportFiles, SummaryRow, steps
from twomass.qa.skyplots import MOLLWEIDE_ORDER, SMALL_REGION_DEG2, region_box, zoom_order
from twomass.qa.table2 import ASTROMETRY_TARGET_ARCSEC, PHOTOMETRY_TARGET_MAG
from twomass.qa.truth import REQUIRED_MAG
from twomass.qa.truth_figures import truth_section

BANDS = "jhk"


@dataclass(frozen=True)
class ReleaseReportParams:
    """What the report samples and where it draws the line.

    Attributes
    ----------
    overlap_pairs
        About this many duplicate apparitions are sampled for the overlap figures (all of
        them when the release has fewer).
    scatter_points
        Points drawn in each overlap scatter plot.
    bright_mag_max
        Repeatability is summarized for pairs brighter than this [mag].
    astrometry_ks_max
        Overlap position differences are summarized for Ks below this [mag].
    """

    overlap_pairs: int = 200_000
    scatter_points: int = 20_000
    bright_mag_max: float = 13.0
    astrometry_ks_max: float = 14.0


def release_report(db: Database, name: str, truth_path: Path | None = None, *,
                   params: ReleaseReportParams | None = None, progress: bool = True
                   ) -> tuple[Report, Coverage]:
    """Measure and draw release ``name``; returns the report and its coverage MOC.

    Raises
    ------
    ReleaseError
        No release of that name.
    ValidationError
        The truth file cannot be read or shares no scan with the release.
    """
    params = params or ReleaseReportParams()
    record = release.show(db, name)
    report = Report("release", name, f"twomass release {name}: quality report")
    figs = report.figures
    total = 7 + (truth_path is not None)
    with steps(f"qa release {name}", total, progress) as step, \
            session(db, "release", record.schema_name) as q:
        step("coverage")
        corners = np.array(q.rows("scan_corners"), float).reshape(-1, 8)
        coverage = scan_coverage(corners)
        figs.append(figures.coverage(coverage, corners))
        step("density")
        figs.append(_density(q, corners, coverage))
        step("depth")
        figs.append(figures.depth(q, REQUIRED_MAG))
        step("overlaps")
        figs += _overlaps(q, record, params)
        step("rejects")
        figs.append(figures.rejects(record.counts))
        step("scans")
        figs.append(figures.scan_choice(q, record))
        step("nights")
        figs.append(figures.nights(q, REQUIRED_MAG))
        _summarize(report, record, coverage, params)
        if truth_path is not None:
            step("truth")
            rows, report.numbers["truth"], truth_figs = truth_section(db, name, truth_path)
            report.summary += rows
            figs += truth_figs
    return report, coverage


def write_release_report(db: Database, name: str, html_path: Path, *,
                         truth_path: Path | None = None, png_dir: Path | None = None,
                         params: ReleaseReportParams | None = None,
                         progress: bool = True) -> ReportFiles:
    """Write the report of release ``name`` at ``html_path``, its JSON and its coverage MOC
    (``<stem>.moc.fits``) beside it, and its figures in ``png_dir`` when given."""
    start = time.perf_counter()
    html_path = Path(html_path)
    report, coverage = release_report(db, name, truth_path, params=params, progress=progress)
    moc_path = coverage.write(html_path.with_suffix(".moc.fits"))
    report.files["moc"] = str(moc_path)
    json_path = report.write(html_path, png_dir)
    return ReportFiles(html_path, json_path, moc_path, report, time.perf_counter() - start)


def _density(q: Session, corners: np.ndarray, coverage: Coverage) -> Figure:
    """Density at a zoom order fitted to the region (small regions) or the whole-sky order."""
    zoom = 0 < coverage.area_deg2 < SMALL_REGION_DEG2
    if zoom:
        *_, width = region_box(corners[:, 0::2].ravel(), corners[:, 1::2].ravel())
        order = zoom_order(width)
    else:
        order = MOLLWEIDE_ORDER
    rows = np.array(q.rows("density", order=order), np.int64).reshape(-1, 2)
    return figures.density(rows[:, 0], rows[:, 1], order, zoom, coverage.area_deg2)


def _overlaps(q: Session, record: release.ReleaseRecord, params: ReleaseReportParams
              ) -> list[Figure]:
    duplicates = int(record.counts.get("psc_reject_reasons", {}).get("duplicate", 0))
    percent = 100.0 if duplicates <= params.overlap_pairs else (
        100.0 * params.overlap_pairs / duplicates)
    match_arcsec = float(record.spec.get("psc_match_arcsec", 2.0))
    q.rows("overlap_pairs", percent=percent, match_arcsec=match_arcsec)
    sample = {"duplicates": duplicates, "sampled_percent": percent,
              "match_arcsec": match_arcsec}
    points = np.array(q.rows("overlap_points", limit=params.scatter_points), float
                      ).reshape(-1, 9)
    return [figures.repeatability(q, sample, points, params.bright_mag_max),
            figures.overlap_astrometry(q, sample, points, params.astrometry_ks_max)]


def _summarize(report: Report, record: release.ReleaseRecord, coverage: Coverage,
               params: ReleaseReportParams) -> None:
    """The summary table and its numbers, from the registry and the figures' numbers."""
    c = record.counts
    fig = {f.name: f.numbers for f in report.figures}
    area = coverage.area_deg2
    n = report.numbers
    n.update(psc=int(c.get("psc", 0)), xsc=int(c.get("xsc", 0)),
             psc_reject=int(c.get("psc_reject", 0)), xsc_reject=int(c.get("xsc_reject", 0)),
             scans=int(c.get("scan_info", 0)), area_deg2=area,
             psc_per_deg2=c.get("psc", 0) / area if area else math.nan,
             content_checksum=record.content_checksum, built_at=record.built_at.isoformat())
    rows = [
        SummaryRow("release", f"{record.name} (built {record.built_at:%Y-%m-%d %H:%M}, "
                   f"content {record.content_checksum[:12]})"),
        SummaryRow("Point / Extended Source Catalog sources", f"{n['psc']:,d} / {n['xsc']:,d}"),
        SummaryRow("chosen scans", f"{n['scans']:,d}"),
        SummaryRow("area covered (MOC)", f"{area:,.2f} deg²"),
        SummaryRow("point sources per deg²", f"{n['psc_per_deg2']:,.0f}"),
    ]
    depth = fig["depth"]["bands"]
    for band in BANDS:
        d = depth[band]
        rows.append(SummaryRow(
            f"median {BAND_NAMES[band]} S/N = 10 depth of the chosen scans "
            f"({100 * d['deep_enough_fraction']:.1f}% at least as deep as required)",
            _fmt(d["median_mag"], "mag", 2), f">= {REQUIRED_MAG[band]} mag",
            d["median_mag"] >= REQUIRED_MAG[band] if d["scans"] else None, f"depth_{band}"))
    n["depth_median_mag"] = {b: depth[b]["median_mag"] for b in BANDS}
    rep = fig["overlap_repeatability"]["bright"]
    n["repeatability_sigma_mag"] = {}
    for band in BANDS:
        sigma = rep[band]["per_measurement_sigma_mag"]
        n["repeatability_sigma_mag"][band] = sigma
        rows.append(SummaryRow(
            f"{BAND_NAMES[band]} repeatability in overlaps, one measurement, robust "
            f"(< {params.bright_mag_max:g} mag, {rep[band]['pairs']:,d} pairs)",
            _fmt(sigma, "mag", 3), f"< {PHOTOMETRY_TARGET_MAG} mag",
            sigma < PHOTOMETRY_TARGET_MAG if rep[band]["pairs"] else None,
            f"repeatability_{band}"))
    ast = fig["overlap_astrometry"]["bright"]
    worst = max(ast["ra_per_apparition_arcsec"], ast["dec_per_apparition_arcsec"])
    n["overlap_position_sigma_arcsec"] = worst
    rows.append(SummaryRow(
        f"position scatter in overlaps, one apparition, worse coordinate "
        f"(Ks < {params.astrometry_ks_max:g}, {ast['pairs']:,d} pairs)",
        _fmt(1000 * worst, "mas", 0), f"<= {1000 * ASTROMETRY_TARGET_ARCSEC:.0f} mas",
        worst <= ASTROMETRY_TARGET_ARCSEC if ast["pairs"] else None, "overlap_position"))
    rows.append(SummaryRow("point rows rejected", f"{n['psc_reject']:,d}"))
    report.summary[:0] = rows
    report.headline = (f"{n['psc']:,d} psc sources over {area:,.2f} deg² in "
                       f"{n['scans']:,d} scans")


def _fmt(value: float, unit: str, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f} {unit}"
