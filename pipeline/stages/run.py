"""``pipeline``: raw nights to night products (Atlas Images and point sources).

A night is three steps, which ``nights`` runs as tasks (on Dask or in this process):
``night_inputs`` (calibration), ``night_scan`` for each survey scan, ``finish_night``
(the night-level products from the scans' outputs in scan order).

Per night: every input file is checked first (nothing is written if one is bad); the
night calibration (bias, dark, flat, bad pixels) is built; the calibration scans are
processed first and their Atlas Images measured against the photometric standards,
giving the night's zero-point solution ``M = m_inst + c1(t) - c2 (X - 1)`` with the monthly
extinction ``c2`` (``photcal``; a dropped or missing calibration set is warned about and
recorded in night.json); then every survey scan, at its time and airmass, band by band:
frame calibration, detection, registration, transient masks, co-adding, then the scan's
point sources (detection on the Atlas Images, photometry, band merging: ``scansources``,
``bandmerge``), the artifacts around its bright stars (``mapcor``) and its measured
metadata (``scanmeta``). Outputs per night (``<night>/``): the Atlas Images and their coverage
maps as FITS under ``atlas/``, their inventory ``atlas.parquet``, and the night products
``twomass ingest`` loads (``night.json``, ``tiles.parquet``, ``scans.parquet``,
``pts.parquet``, ``ext.parquet``: docs/night-products.md); the extended sources
(``galworks``) are measured on each scan's Atlas Images after its point sources. Raw
cubes are read once; intermediate products stay in memory.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from scipy.optimize import least_squares
from scipy.special import erf

import twomass
from twomass.pipeline.sim import products, scanframe, tiling
from twomass.pipeline.sim.nightwriter import tile_columns
from twomass.pipeline.sim.products import WRITE_OPTIONS
from twomass.pipeline.sim.quality import ZERO_POINT
from twomass.pipeline.stages import (
    astrocal,
    atlas,
    bandmerge,
    calibrate,
    ephemeris,
    galworks,
    mapcor,
    photcal,
    rawio,
    register,
    scanmeta,
    scansources,
    tan,
)
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.observe import EXTINCTION
from twomass.pipeline.stages.photometry import (
    aperture_corrections,
    growth_ratios,
    night_band_levels,
    point_sources,
    pooled_cross_scan_apcor,
)
from twomass.schema.atlas import SCHEMA as ATLAS_SCHEMA

ATLAS_FILE = "atlas.parquet"
#: The ``pipeline`` of the night products' ``night.json``.
PIPELINE = "twomass-2mapps"
#: The camera's nominal zero points [mag for 1 ADU per 1.3 s R2-R1 frame], used until the
#: night's calibration scans give the measured ones.
NOMINAL_ZP = ZERO_POINT + 2.5 * np.log10(inst.EXPOSURE_SECONDS)
#: Stars fitted per scan and band for the SEEING header.
SEEING_STARS = 40


@dataclass
class BandResult:
    """One band of one scan after the stages: what the benchmark and tests inspect."""

    cal: calibrate.CalibratedScan
    reg: register.Registration
    images: list[atlas.AtlasImage]
    magzp: float
    frames: dict[str, np.ndarray]
    weight: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage
    zp_err: float = 0.0  # the zero point's error [mag] (the night's solution at the scan)
    seeing: float = float("nan")  # FWHM [arcsec]
    sources: bandmerge.BandSources | None = None  # the band's sources (band-merge input)


@dataclass
class PipelineSummary:
    nights: int
    scans: int
    band_frames: int
    atlas_images: int
    pts_rows: int
    seconds: float
    #: CPU seconds per stage over every survey scan (the three bands summed).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: Nights left as they were: their products in ``out`` came from the same inputs.
    skipped: int = 0


def check_output(out: Path) -> Path:
    """The output directory may hold nights of earlier runs (``nights``: which are kept,
    redone or refused)."""
    if out.exists() and not out.is_dir():
        raise rawio.RawInputError(f"{out}: exists and is not a directory")
    return out


def run_pipeline(raw_nights: list[Path], out: Path, progress: bool = False,
                 keep: dict | None = None, jobs: int = 1, scheduler: str | None = None,
                 force: bool = False, astrometric_calibration: bool = True
                 ) -> PipelineSummary:
    """Process raw nights into ``out`` (see the module docstring and ``nights``): with
    ``jobs`` > 1 or a Dask ``scheduler`` address, every night's scans are tasks on a Dask
    cluster; nights already in ``out`` from the same inputs are skipped, and with
    ``force`` nights whose products came from other inputs are redone.
    ``astrometric_calibration`` False skips the night's astrometric adjustment (for
    comparisons).

    ``keep``, if given, receives every survey scan's in-memory results by
    (night name, scan, band), for benchmarks and tests (the scans then run in this
    process).
    """
    from twomass.pipeline.stages import nights  # the night driver, which uses this module

    start = time.perf_counter()
    out = check_output(Path(out))
    checked = [(d, *rawio.read_night(d)) for d in rawio.night_directories(raw_nights)]
    names = [d.name for d, _, _ in checked]
    if len(set(names)) != len(names):
        raise rawio.RawInputError(f"{checked[0][0]}: the same night is given twice")
    totals = {"nights": 0, "skipped": 0, "scans": 0, "frames": 0, "images": 0, "pts": 0}
    stages: dict[str, float] = {}
    nights.run_nights(checked, out, totals, stages, progress=progress, keep=keep,
                      jobs=jobs, scheduler=scheduler, force=force,
                      astrometric_calibration=astrometric_calibration)
    return PipelineSummary(totals["nights"], totals["scans"], totals["frames"],
                           totals["images"], totals["pts"], time.perf_counter() - start,
                           stages, totals["skipped"])


@dataclass
class NightFrames:
    """The night calibration frames (bias, dark, flat, bad pixels per band) and the
    reference lists: what every scan of the night is processed with."""

    calib: dict
    ref: dict


@dataclass
class NightInputs(NightFrames):
    """What every survey scan of a night needs besides its own cubes: the night frames
    and the zero-point solution from the calibration scans, with the standards'
    photometry it used and the bands' curve-of-growth levels there
    (``photometry.night_band_levels``)."""

    solution: photcal.NightSolution
    photometry: list[photcal.StandardPhotometry]
    band_levels: tuple[float, float, float] | None = None


@dataclass
class CalibrationMeasurements:
    """What a calibration scan's Atlas Images give the night's zero points, per band: the
    curve-of-growth stars (``photometry.growth_ratios``: 4"/12" ratios, cross-scan
    offsets) and the standards' 4" fluxes (``photcal.standard_fluxes``); and the mean
    time of its frames [JD]. Measured in the scan's own task: the night's zero-point
    step only pools them."""

    growth: list[tuple[np.ndarray, np.ndarray]]
    standards: list[photcal.StandardFluxes]
    jd: float


def night_frames(directory: Path) -> NightFrames:
    return NightFrames({b: calibrate.night_calibration(directory, b) for b in inst.BANDS},
                       {n: pq.read_table(directory / "ref" / n).to_pydict()
                        for n in rawio.REF_FILES})


def calibration_scan(frames: NightFrames, directory: Path,
                     entry: rawio.ScanEntry) -> CalibrationMeasurements:
    """A calibration scan's Atlas Images per band, at the nominal zero points, and what
    they give the zero points (a task of its own: the calibration scans of a night run
    side by side)."""
    magzp = [float(NOMINAL_ZP[b] - EXTINCTION[b] * (entry.airmass - 1.0)) for b in range(3)]
    results = process_scan(directory, entry, frames.calib, frames.ref, magzp)
    std = frames.ref["standards.parquet"]
    return CalibrationMeasurements([growth_ratios(r.images) for r in results],
                                   [photcal.standard_fluxes(r.images, std) for r in results],
                                   scan_mean_jd(directory, entry))


def night_solution(frames: NightFrames, scans: list[rawio.ScanEntry],
                   cal: list[CalibrationMeasurements]) -> NightInputs:
    """The night inputs from its frames and its calibration scans' measurements (in the
    order of ``scans``' calibration scans)."""
    solution, photometry, levels = night_zero_points([s for s in scans if s.kind == "cal"],
                                                     cal, frames.ref)
    return NightInputs(frames.calib, frames.ref, solution, photometry, levels)


def night_inputs(directory: Path, scans: list[rawio.ScanEntry]) -> NightInputs:
    """The night-level calibration that precedes the survey scans, in this process."""
    frames = night_frames(directory)
    return night_solution(frames, scans, [calibration_scan(frames, directory, entry)
                                          for entry in scans if entry.kind == "cal"])


@dataclass
class ScanOutput:
    """What one survey scan gives its night."""

    columns: dict[str, np.ndarray]  # its pts rows
    scan_row: dict  # its scans row
    atlas_rows: list[dict]  # inventory rows of the Atlas Images it wrote
    frames: int  # band-frames
    seconds: dict[str, float]  # CPU seconds per stage, the bands summed
    results: list[BandResult] | None = None  # the in-memory results, when kept
    ext: dict[str, np.ndarray] = field(default_factory=dict)  # its ext rows
    astrometry: astrocal.ScanFrames | None = None  # its frames, for the night's adjustment


def survey_scan(directory: Path, doc: dict, entry: rawio.ScanEntry, calib: dict, ref: dict,
                solution: photcal.NightSolution, atlas_dir: Path, keep_results: bool = False,
                band_levels: tuple[float, float, float] | None = None) -> ScanOutput:
    """One survey scan through every stage, its zero points the night's ``solution`` at
    its mean frame time and airmass, its aperture corrections set with the night's
    ``band_levels``; its Atlas Images written to ``atlas_dir``.
    A function of its arguments alone, so scans can run in other processes."""
    jd = scan_mean_jd(directory, entry)
    zero_points = [solution.zero_point(b, jd, entry.airmass) for b in range(3)]
    results = process_scan(directory, entry, calib, ref, [zp for zp, _ in zero_points],
                           band_levels)
    for r, (_, err) in zip(results, zero_points, strict=True):
        r.zp_err = err
    columns, scan_row, seconds = scan_sources(entry, results, ref)
    t0 = time.process_time()
    ext = galworks.survey_scan_ext(entry, results, columns)
    seconds["galworks"] = time.process_time() - t0
    scan_row["n_ext"] = len(ext["id"])
    for r in results:
        for stage, value in r.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + value
    atlas_rows = [write_atlas_image(atlas_dir, doc, entry, band, image, result)
                  for band, result in zip(inst.BANDS, results, strict=True)
                  for image in result.images]
    return ScanOutput(columns, scan_row, atlas_rows, sum(len(r.cal.frames) for r in results),
                      seconds, results if keep_results else None, ext,
                      astrocal.ScanFrames.from_registrations(entry.scan, entry.ra0,
                                                             [r.reg for r in results]))


def night_scan(night: NightInputs, directory: Path, doc: dict, entry: rawio.ScanEntry,
               atlas_dir: Path, keep_results: bool = False) -> ScanOutput:
    """One survey scan given its night's inputs (the task the night driver runs)."""
    return survey_scan(directory, doc, entry, night.calib, night.ref, night.solution,
                       atlas_dir, keep_results, night.band_levels)


def finish_night(directory: Path, doc: dict, night: NightInputs, outputs: list[ScanOutput],
                 astrometric_calibration: bool = True) -> None:
    """The night-level products from the survey scans' outputs, in scan order, into
    ``directory`` (the night's ``.partial`` directory, whose ``atlas/`` the scans wrote):
    first the night's astrometric calibration (``astrocal``, which needs every survey
    scan; ``astrometric_calibration`` False leaves the positions as the scans' own
    registrations gave them, for comparisons). A dropped or missing calibration set is
    warned about here, where the night is made."""
    for problem in night.solution.problems():
        warnings.warn(photcal.CalibrationWarning(f"{doc['date']}{doc['hemis']}: {problem}"),
                      stacklevel=2)
    columns = [o.columns for o in outputs]
    astrometry = {}
    if outputs and astrometric_calibration:
        columns, solution = astrocal.adjust_night(columns, [o.astrometry for o in outputs],
                                                  night.ref["astrometric.parquet"])
        astrometry = {"astrometry": solution.summary()}
    pts = products.RowGroupWriter(directory / "pts.parquet", "pts.parquet")
    for scan_columns in columns:
        pts.write(scan_columns)
    pts.close()
    write_inventory(directory / ATLAS_FILE, [r for o in outputs for r in o.atlas_rows])
    write_night_products(directory, [o.scan_row for o in outputs], [o.ext for o in outputs])
    products.write_night_json(
        directory, doc["date"], doc["hemis"], twomass.__version__, pipeline=PIPELINE,
        extra={"zero_points": night.solution.summary(),
               "standards_used": {b: sum(s.n[i] for s in night.solution.sets)
                                  for i, b in enumerate(inst.BANDS)},
               **astrometry})


def scan_sources(entry: rawio.ScanEntry, results: list[BandResult], ref: dict
                 ) -> tuple[dict[str, np.ndarray], dict, dict[str, float]]:
    """A survey scan's ``pts`` columns, its ``scans`` row and the CPU seconds of the
    band merge (extraction, profile fitting and bright stars per band are added to each
    ``BandResult.seconds``)."""
    ra0 = entry.ra0
    for r in results:
        r.sources = scansources.measure_band(r.images, r.magzp, r.seeing, r.cal, r.reg, ra0,
                                             r.weight, seconds=r.seconds)
    t0 = time.process_time()
    bands = [r.sources for r in results]
    merged = bandmerge.merge_bands(bands, ra0)
    missing = [merged.index[:, b] < 0 for b in range(len(results))]
    limits = [scansources.upper_limits(r.images, r.magzp, merged.ra[m], merged.dec[m], ra0)
              for r, m in zip(results, missing, strict=True)]
    geometry = scansources.scan_geometry([r.reg for r in results], [r.frames for r in results],
                                         ra0, entry.sd)
    depth = np.array([scanmeta.band_depth(b) for b in bands])
    columns = scansources.pts_columns(entry.scan, merged, bands, limits, geometry, depth,
                                      np.array([r.zp_err for r in results]))
    ephemeris.flag_minor_planets(columns, geometry, ref[ephemeris.LIST_FILE])
    t1 = time.process_time()
    mapcor.flag_artifacts(columns, geometry.frame_step_arcsec(), entry.sd)
    t2 = time.process_time()
    row = scanmeta.scan_row(entry, geometry, columns, bands, results, ref["standards.parquet"],
                           depth, zero_point_error=np.array([r.zp_err for r in results]))
    return columns, row, {"bandmerge": t1 - t0 + time.process_time() - t2, "artifacts": t2 - t1}


def write_night_products(directory: Path, scan_rows: list[dict],
                         ext_parts: list[dict[str, np.ndarray]] | None = None) -> None:
    """``scans.parquet``, ``tiles.parquet`` (the planned tiles of the scans) and
    ``ext.parquet`` (the scans' extended sources, in scan order)."""
    if scan_rows:
        scans = {k: np.array([r[k] for r in scan_rows]) for k in scan_rows[0]}
        table = products.to_table(scans, "scans.parquet")
        tiles = products.to_table(tile_columns(tiling.full_sky(tiling.SurveyGeometry()),
                                               scans["tile"]), "tiles.parquet")
    else:
        table, tiles = products.empty_table("scans.parquet"), products.empty_table(
            "tiles.parquet")
    products.write_table(table, directory / "scans.parquet")
    products.write_table(tiles, directory / "tiles.parquet")
    parts = [p for p in ext_parts or [] if p and len(p["id"])]
    ext = (products.to_table({k: np.concatenate([p[k] for p in parts]) for k in parts[0]},
                             "ext.parquet") if parts else products.empty_table("ext.parquet"))
    products.write_table(ext, directory / "ext.parquet")


def night_zero_points(cal_scans: list[rawio.ScanEntry], cal: list[CalibrationMeasurements],
                      ref: dict
                      ) -> tuple[photcal.NightSolution, list[photcal.StandardPhotometry],
                                 tuple[float, float, float] | None]:
    """The night's zero-point solution (``photcal``) from the calibration scans'
    measurements (``calibration_scan``) and the standards, the standards' photometry it
    used, and the bands' curve-of-growth levels (``photometry.night_band_levels``).

    The calibration scans are short (a few frames) and their seeing is close: their
    aperture correction, a function of the cross-scan position, is measured from all of
    them together (galaxies and blends dropped from all of them at once,
    ``photometry.point_sources``): each band's level, one shape for the three bands
    (``photometry.pooled_cross_scan_apcor``).
    """
    measured = list(zip(cal_scans, cal, strict=True))
    curves = [point_sources(np.concatenate([m.growth[b][0] for _, m in measured] or [[]]),
                            np.concatenate([m.growth[b][1] for _, m in measured] or [[]]))
              for b in range(3)]
    apcor = pooled_cross_scan_apcor(curves)
    photometry = [photcal.measure_standards(entry.scan, b, m.jd, entry.airmass, fluxes,
                                            ref["standards.parquet"], apcor[b])
                  for entry, m in measured for b, fluxes in enumerate(m.standards)]
    return (photcal.solve_night(photcal.measure_sets(photometry), NOMINAL_ZP), photometry,
            night_band_levels(curves))


def scan_mean_jd(directory: Path, entry: rawio.ScanEntry) -> float:
    """Mean JD of a scan's frames, from its cube header (frames are evenly spaced)."""
    header = fits.getheader(directory / "raw" / rawio.cube_name(entry.scan, inst.BANDS[0], 2))
    return float(header["JD0"]) + 0.5 * (entry.nframes - 1) * float(header["FRAMEDT"]) / 86400.0


def process_scan(directory: Path, entry: rawio.ScanEntry, calib: dict, ref: dict,
                 magzp: list[float], band_levels: tuple[float, float, float] | None = None
                 ) -> list[BandResult]:
    """Calibrate and detect the three bands of one scan, register them together (one
    pointing for the three arrays), then mask and co-add each band; the aperture
    corrections with the night's ``band_levels`` (``photometry.aperture_corrections``)."""
    times: list[dict[str, float]] = []
    cals, headers, tables = [], [], []
    for band in inst.BANDS:
        t0 = time.process_time()
        r1, _, _ = rawio.read_cube(directory / "raw" / rawio.cube_name(entry.scan, band, 1))
        r2, header, frames = rawio.read_cube(directory / "raw"
                                             / rawio.cube_name(entry.scan, band, 2))
        t1 = time.process_time()
        cals.append(calibrate.calibrate_scan(r1, r2, calib[band]))
        times.append({"read": t1 - t0, "calibrate": time.process_time() - t1})
        headers.append(header)
        tables.append(frames)
    ra0 = float(headers[0]["RA0"])
    t0 = time.process_time()
    astro = ref["astrometric.parquet"]
    regs = register.register_bands([c.detections for c in cals], [f["RA"] for f in tables],
                                   [f["DEC"] for f in tables], ra0, np.asarray(astro["ra"]),
                                   np.asarray(astro["dec"]),
                                   float(np.median(astro["sigma_arcsec"])) if astro["ra"]
                                   else 0.1, bands=(0, 1, 2))
    t_reg = (time.process_time() - t0) / len(inst.BANDS)
    out = []
    for b, band in enumerate(inst.BANDS):
        times[b]["register"] = t_reg
        t0 = time.process_time()
        weight = atlas.transient_masks(cals[b], regs[b], magzp[b], band, ra0)
        _, phi = scanframe.to_scan(ra0, tables[b]["RA"], tables[b]["DEC"])
        images = atlas.coadd(cals[b], regs[b], weight, ra0, phi, entry.sd)
        times[b]["coadd"] = time.process_time() - t0
        out.append(BandResult(cals[b], regs[b], images, magzp[b], tables[b], weight, times[b]))
    t0 = time.process_time()
    apcor = aperture_corrections([r.images for r in out], band_levels)
    t_apcor = (time.process_time() - t0) / len(out)
    for r, value in zip(out, apcor, strict=True):
        for image in r.images:
            image.apcor = value
        r.seconds["coadd"] += t_apcor
        t0 = time.process_time()
        r.seeing = seeing_fwhm(r.cal)  # a frame measurement: part of the calibration
        r.seconds["calibrate"] += time.process_time() - t0
    return out


def seeing_fwhm(cal: calibrate.CalibratedScan) -> float:
    """Median FWHM [arcsec] of pixel-integrated circular Gaussians fitted to the
    ``SEEING_STARS`` brightest usable frame detections (5 x 5 pixel stamps).

    The detections' second moments on 2" pixels include the pixel and the PSF wing and
    read ~1.5 times the seeing; the fitted core does not.
    """
    stars = [(k, d) for k, dets in enumerate(cal.detections)
             for d in dets[register.usable(dets)
                           & (dets["peak"] < atlas.SHARP * dets["iso"])]]
    stars.sort(key=lambda s: -s[1]["flux"])
    fwhm = []
    for k, d in stars[:SEEING_STARS]:
        ix, iy = int(round(d["x"])), int(round(d["y"]))
        if not (2 <= ix < inst.NPIX - 2 and 2 <= iy < inst.NPIX - 2):
            continue
        stamp = cal.frames[k, iy - 2:iy + 3, ix - 2:ix + 3].astype(float)
        if not cal.good[k, iy - 2:iy + 3, ix - 2:ix + 3].all():
            continue
        p0 = [d["x"] - ix, d["y"] - iy, np.log(0.6), float(stamp.sum()), 0.0]
        fit = least_squares(_stamp_residual, p0, args=(stamp,), method="lm")
        x, y, log_sigma = fit.x[:3]
        if fit.success and abs(x) < 1.5 and abs(y) < 1.5 and 0.2 < np.exp(log_sigma) < 3.0:
            fwhm.append(2.3548 * np.exp(log_sigma) * inst.PIXEL_ARCSEC)
    return float(np.median(fwhm)) if fwhm else float("nan")


def _stamp_residual(p, stamp: np.ndarray) -> np.ndarray:
    return (_gaussian_stamp(p) - stamp).ravel()


def _gaussian_stamp(p) -> np.ndarray:
    """5 x 5 pixel integrals of a Gaussian (x, y offset from the centre pixel, log sigma,
    flux) on a constant background."""
    x, y, log_sigma, flux, back = p
    sigma = np.exp(log_sigma)
    edges = np.arange(-2.5, 3.0)
    s = np.sqrt(2.0) * sigma
    gx = np.diff(erf((edges - x) / s)) / 2.0
    gy = np.diff(erf((edges - y) / s)) / 2.0
    return flux * gy[:, None] * gx[None, :] + back



def write_atlas_image(directory: Path, doc: dict, entry: rawio.ScanEntry, band: str,
                      image: atlas.AtlasImage, result: BandResult) -> dict:
    """Write one Atlas Image with its coverage map; return its inventory row."""
    date = dt.date.fromisoformat(doc["date"])
    file_name = f"a{band}_{date.strftime('%y%m%d')}{doc['hemis']}{entry.scan:03d}" \
                f"{image.number:04d}.fits"
    wcs = tan.header(image.crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX)
    seeing = result.seeing
    header = fits.Header()
    header["TELESCOP"] = "2MASS " + ("North" if doc["hemis"] == "n" else "South")
    header["ORDATE"] = (date.strftime("%y%m%d"), "UT date of the night")
    header["HEMISPHE"] = doc["hemis"].upper()
    header["SCANNO"], header["SCANDIR"] = entry.scan, entry.sd.upper()
    header["FILTER"] = {"j": "J", "h": "H", "k": "Ks"}[band]
    header["IMAGENO"] = (image.number, "Atlas Image number along the scan")
    header["BUNIT"] = ("ADU", "per R2-R1 frame (1.3 s) per 1 arcsec pixel")
    header["MAGZP"] = (round(result.magzp, 4), "mag = MAGZP - 2.5 log10(ADU / APCOR)")
    header["APCOR"] = (round(image.apcor, 4), "4 arcsec aperture flux / total flux")
    header["SEEING"] = (round(seeing, 3), "median FWHM of Gaussian fits [arcsec]")
    header["SKYVAL"] = (round(float(np.median(result.cal.sky)), 2),
                        "sky, ADU per frame per 2 arcsec pixel")
    header["SKYSIG"] = (round(float(np.median(result.cal.noise)), 3),
                        "frame background rms [ADU]")
    header["AIRMASS"] = round(entry.airmass, 4)
    header["NFRAMES"] = (int(image.coverage.max()), "largest coverage")
    header["REGRMS"] = (round(result.reg.pair_residual_px, 4), "frame-to-frame residual [px]")
    header["KERNEL"] = (atlas.KERNEL, "drizzle kernel, pixfrac 1")
    hdus = fits.HDUList([fits.PrimaryHDU(image.image, header=header + wcs),
                         fits.ImageHDU(image.coverage, header=wcs, name="COVERAGE")])
    hdus.writeto(directory / file_name, output_verify="exception")
    row = {"date": date, "hemis": doc["hemis"], "scan": entry.scan, "band": band,
           "image": image.number, "file": f"atlas/{file_name}", **atlas.footprint(image.crval),
           "seeing": seeing, "magzp": result.magzp, "sky": float(np.median(result.cal.sky)),
           "n_frames": int(image.coverage.max()),
           "cov_median": float(np.median(image.coverage[image.coverage > 0]))
           if (image.coverage > 0).any() else 0.0}
    return row


def write_inventory(path: Path, rows: list[dict]) -> None:
    """``atlas.parquet``: one row per Atlas Image (columns: ``twomass.schema.atlas``)."""
    cols = {f.name: [r[f.name] for r in rows] for f in ATLAS_SCHEMA}
    pq.write_table(pa.Table.from_pydict(cols, schema=ATLAS_SCHEMA), path, **WRITE_OPTIONS)
