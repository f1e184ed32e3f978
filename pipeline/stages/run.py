"""``pipeline``: raw nights to night products (Atlas Images and point sources), night
by night.

Per night: every input file is checked first (nothing is written if one is bad); the
night calibration (bias, dark, flat, bad pixels) is built; the calibration scans are
processed first and their Atlas Images measured against the photometric standards,
giving the night's zero point ``M = m_inst + c1 - c2 (X - 1)`` with the monthly
extinction ``c2``; then every survey scan, band by band: frame calibration, detection,
registration, transient masks, co-adding, then the scan's point sources (detection on
the Atlas Images, photometry, band merging: ``scansources``, ``bandmerge``), the
artifacts around its bright stars (``mapcor``) and its measured metadata
(``scanmeta``). Outputs per night (``<night>/``): the Atlas Images and their coverage
maps as FITS under ``atlas/``, their inventory ``atlas.parquet``, and the night products
``twomass ingest`` loads (``night.json``, ``tiles.parquet``, ``scans.parquet``,
``pts.parquet``, an empty ``ext.parquet``: docs/night-products.md). Raw cubes are read
once; intermediate products stay in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from scipy.optimize import least_squares
from scipy.special import erf
from tqdm import tqdm

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
    mapcor,
    rawio,
    register,
    scanmeta,
    scansources,
    tan,
)
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.observe import EXTINCTION
from twomass.pipeline.stages.photometry import aperture_corrections, aperture_photometry, recentre
from twomass.schema.atlas import SCHEMA as ATLAS_SCHEMA

ATLAS_FILE = "atlas.parquet"
#: The ``pipeline`` of the night products' ``night.json``.
PIPELINE = "twomass-2mapps"
#: The camera's nominal zero points [mag for 1 ADU per 1.3 s R2-R1 frame], used until the
#: night's calibration scans give the measured ones.
NOMINAL_ZP = ZERO_POINT + 2.5 * np.log10(inst.EXPOSURE_SECONDS)
STANDARD_MIN_SNR = 20.0
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


def check_output(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise rawio.RawInputError(f"{out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        raise rawio.RawInputError(f"{out}: output directory exists and is not empty")
    return out


def run_pipeline(raw_nights: list[Path], out: Path, progress: bool = False,
                 keep: dict | None = None, jobs: int = 1,
                 astrometric_calibration: bool = True) -> PipelineSummary:
    """Process raw nights into ``out`` (see the module docstring), a night's survey scans
    in ``jobs`` processes. ``astrometric_calibration`` False leaves the positions as the
    scans' own registrations gave them (for comparisons).

    ``keep``, if given, receives every survey scan's in-memory results by
    (night name, scan, band), for benchmarks and tests (the scans then run in this
    process).
    """
    start = time.perf_counter()
    out = check_output(Path(out))
    checked = [(d, *rawio.read_night(d)) for d in rawio.night_directories(raw_nights)]
    names = [d.name for d, _, _ in checked]
    if len(set(names)) != len(names):
        raise rawio.RawInputError(f"{checked[0][0]}: the same night is given twice")
    out.mkdir(parents=True, exist_ok=True)
    totals = {"scans": 0, "frames": 0, "images": 0, "pts": 0}
    stages: dict[str, float] = {}
    for directory, doc, scans in checked:
        process_night(directory, doc, scans, out, totals, progress, keep, stages,
                      jobs=1 if keep is not None else jobs,
                      astrometric_calibration=astrometric_calibration)
    return PipelineSummary(len(checked), totals["scans"], totals["frames"], totals["images"],
                           totals["pts"], time.perf_counter() - start, stages)


@dataclass
class ScanOutput:
    """What one survey scan gives its night."""

    columns: dict[str, np.ndarray]  # its pts rows
    scan_row: dict  # its scans row
    atlas_rows: list[dict]  # inventory rows of the Atlas Images it wrote
    frames: int  # band-frames
    seconds: dict[str, float]  # CPU seconds per stage, the bands summed
    results: list[BandResult] | None = None  # the in-memory results, when kept
    astrometry: astrocal.ScanFrames | None = None  # its frames, for the night's adjustment


def survey_scan(directory: Path, doc: dict, entry: rawio.ScanEntry, calib: dict, ref: dict,
                c1: np.ndarray, atlas_dir: Path, keep_results: bool = False) -> ScanOutput:
    """One survey scan through every stage; its Atlas Images written to ``atlas_dir``.
    A function of its arguments alone, so scans can run in other processes."""
    magzp = [float(c1[b] - EXTINCTION[b] * (entry.airmass - 1.0)) for b in range(3)]
    results = process_scan(directory, entry, calib, ref, magzp)
    columns, scan_row, seconds = scan_sources(entry, results, ref)
    for r in results:
        for stage, value in r.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + value
    atlas_rows = [write_atlas_image(atlas_dir, doc, entry, band, image, result)
                  for band, result in zip(inst.BANDS, results, strict=True)
                  for image in result.images]
    return ScanOutput(columns, scan_row, atlas_rows, sum(len(r.cal.frames) for r in results),
                      seconds, results if keep_results else None,
                      astrocal.ScanFrames.from_registrations(entry.scan, entry.ra0,
                                                             [r.reg for r in results]))


def process_night(directory: Path, doc: dict, scans: list[rawio.ScanEntry], out: Path,
                  totals: dict, progress: bool, keep: dict | None = None,
                  stages: dict | None = None, jobs: int = 1,
                  astrometric_calibration: bool = True) -> None:
    """One night into ``out/<night>``: written under ``<night>.partial`` and renamed when
    complete. With ``jobs`` > 1 the survey scans run in that many processes; their
    products are written in scan order, so the bytes do not depend on ``jobs``. The
    night's astrometric calibration (``astrocal``) needs every survey scan: their ``pts``
    rows are held until then."""
    name = directory.name
    tmp = out / f"{name}.partial"
    (tmp / "atlas").mkdir(parents=True)
    calib = {b: calibrate.night_calibration(directory, b) for b in inst.BANDS}
    ref = {n: pq.read_table(directory / "ref" / n).to_pydict() for n in rawio.REF_FILES}
    c1, n_std = night_zero_points(directory, scans, calib, ref, progress)
    rows: list[dict] = []
    scan_rows: list[dict] = []
    pts = products.RowGroupWriter(tmp / "pts.parquet", "pts.parquet")
    survey = [s for s in scans if s.kind == "survey"]
    night_pts = []
    args = [(directory, doc, entry, calib, ref, c1, tmp / "atlas", keep is not None)
            for entry in survey]
    with contextlib.ExitStack() as stack:
        if jobs > 1 and len(survey) > 1:
            pool = stack.enter_context(ProcessPoolExecutor(
                min(jobs, len(survey)), mp_context=multiprocessing.get_context("spawn")))
            outputs = pool.map(survey_scan, *zip(*args, strict=True))
        else:
            outputs = (survey_scan(*a) for a in args)
        for entry, output in tqdm(zip(survey, outputs, strict=True), total=len(survey),
                                  desc=f"{name} scans", unit="scan", file=sys.stderr,
                                  disable=not progress):
            night_pts.append((output.columns, output.astrometry))
            scan_rows.append(output.scan_row)
            rows += output.atlas_rows
            totals["pts"] += len(output.columns["id"])
            totals["frames"] += output.frames
            totals["images"] += len(output.atlas_rows)
            totals["scans"] += 1
            if stages is not None:
                for stage, value in output.seconds.items():
                    stages[stage] = stages.get(stage, 0.0) + value
            if keep is not None:
                for band, result in zip(inst.BANDS, output.results, strict=True):
                    keep[(name, entry.scan, band)] = result
    write_inventory(tmp / ATLAS_FILE, rows)
    astrometry = {}
    if night_pts and astrometric_calibration:
        adjusted, solution = astrocal.adjust_night([c for c, _ in night_pts],
                                                   [f for _, f in night_pts],
                                                   ref["astrometric.parquet"])
        night_pts = [(c, None) for c in adjusted]
        astrometry = {"astrometry": solution.summary()}
    for columns, _ in night_pts:
        pts.write(columns)
    pts.close()
    write_night_products(tmp, scan_rows)
    products.write_night_json(
        tmp, doc["date"], doc["hemis"], twomass.__version__, pipeline=PIPELINE,
        extra={"zero_points": {b: float(c1[i]) for i, b in enumerate(inst.BANDS)},
               "standards_used": {b: int(n_std[i]) for i, b in enumerate(inst.BANDS)},
               **astrometry})
    tmp.rename(out / name)


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
    columns = scansources.pts_columns(entry.scan, merged, bands, limits, geometry, depth)
    t1 = time.process_time()
    mapcor.flag_artifacts(columns, geometry.frame_step_arcsec())
    t2 = time.process_time()
    row = scanmeta.scan_row(entry, geometry, columns, bands, results, ref["standards.parquet"],
                           depth)
    return columns, row, {"bandmerge": t1 - t0 + time.process_time() - t2, "artifacts": t2 - t1}


def write_night_products(directory: Path, scan_rows: list[dict]) -> None:
    """``scans.parquet``, ``tiles.parquet`` (the planned tiles of the scans) and an empty
    ``ext.parquet`` (extended sources are not extracted yet)."""
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
    products.write_table(products.empty_table("ext.parquet"), directory / "ext.parquet")


def night_zero_points(directory, scans, calib, ref, progress) -> tuple[np.ndarray, np.ndarray]:
    """c1 per band from the calibration scans' Atlas Images and the standards.

    The calibration scans are short (a few frames) and their seeing is close: their
    aperture correction is measured from all of them together, per band.
    """
    std = ref["standards.parquet"]
    estimates: list[list[float]] = [[], [], []]
    cal_results = []
    for entry in (s for s in scans if s.kind == "cal"):
        magzp = [float(NOMINAL_ZP[b] - EXTINCTION[b] * (entry.airmass - 1.0)) for b in range(3)]
        cal_results.append((entry, process_scan(directory, entry, calib, ref, magzp)))
    apcor = aperture_corrections([[i for _, results in cal_results for i in results[b].images]
                                  for b in range(3)])
    for entry, results in cal_results:
        for b, (band, result) in enumerate(zip(inst.BANDS, results, strict=True)):
            m = np.asarray(std[f"{band}_m"])
            for image in result.images:
                image.apcor = apcor[b]
                ra, dec = recentre(image, np.asarray(std["ra"]), np.asarray(std["dec"]))
                flux, err, ok = aperture_photometry(image, ra, dec)
                good = ok & (flux > STANDARD_MIN_SNR * err)
                inst_m = -2.5 * np.log10(flux[good])
                estimates[b] += list(m[good] - inst_m + EXTINCTION[b] * (entry.airmass - 1.0))
    c1 = np.array([np.median(e) if len(e) >= 3 else NOMINAL_ZP[i]
                   for i, e in enumerate(estimates)])
    return c1, np.array([len(e) for e in estimates])


def process_scan(directory: Path, entry: rawio.ScanEntry, calib: dict, ref: dict,
                 magzp: list[float]) -> list[BandResult]:
    """Calibrate and detect the three bands of one scan, register them together (one
    pointing for the three arrays), then mask and co-add each band."""
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
    apcor = aperture_corrections([r.images for r in out])
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
