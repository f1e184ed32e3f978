"""``observe``: what the telescopes recorded for a region of the simulated sky.

The scans, their nights and conditions come from the catalog simulator's schedule, the
sources from its truth sky (``pipeline/sim``), so ``truth.parquet`` is the one
``simulate`` writes for the same region and seed. The frames show the sky beyond the
region too (the scans that touch it, whole across the scan): every source rendered is
listed in ``sky.parquet`` (the region's truth plus that margin). Each survey scan is
clipped to the frames whose centres lie within the region's declinations plus half a
frame (the night.json says so: ``clipped``); ``max_frames`` clips further, around the
region's centre. Each group of eight survey slots is preceded by a calibration set (about
hourly): here two scans (``CAL_SCANS``) of ``cal_frames`` frames, alternating in direction,
over a standard field at the region's centre, from the group before the first survey scan
written to the group after the last (``cal_margin_sets``), so the sets bracket the scans.
Each scan's sky in each band is the level that gives it the S/N = 10 magnitude the
schedule set (``depth.sky_for_depth``), not its ``back`` column.

The PSF (``psf_shape``, rendered by ``render.psf_components``) varies over the focal plane
and in time in ways the pipeline's model (a round core growing towards the corners, its
width per frame, one wing per scan, a mean width gradient) follows only in part: the core
elongated by astigmatism growing away from an optical axis half an array off the centre
(d / sigma 0.06 at the centre, 0.5 at the +x edge, 0.7 at its corners), a focal-plane tilt
(4 % wider at the +x edge, plus 1 % per scan and 8 % rms wandering from frame to frame),
and a wing whose fraction wanders by 0.01 about 8 %. That mismatch sets the bright-star
floor of the profile fit (0.017-0.023 mag on the test fields; 2MASS: 0.02-0.03, spec §2);
``sim/true_frames.parquet`` lists each frame's tilt and wing.

Bright stars throw diffraction spikes, a readout stripe along their row and a filter glint
(``_bright_star_effects``) and leave latent images (the detector).

The night's zero points drift linearly (``night_zero_point``, ~0.02 mag/day) with the
monthly extinction ``EXTINCTION`` per airmass; J's also wanders hour to hour
(``j_zero_point_wander``: 0.008 mag rms correlated over 1.5 h), so the pipeline's J solution
must interpolate between the sets (spec §1.12). Each scan's zero point is the one at its
start, held over its frames (a scan lasts 7 minutes); ``sim/true_frames.parquet`` lists it.

Each band's array has its own pixel scale (``instrument.BAND_PIXEL_ARCSEC``, 1.980-1.999")
and the optics a field distortion (``instrument.distortion_px``: 0.3-0.5" at the corners);
the camera's calibration knows the scales exactly and the distortion to
``DISTORTION_TRUE_FACTOR``: the frames show ``DISTORTION_TRUE_FACTOR`` times the calibrated
distortion, the small remainder the pipeline does not know.

Not modelled (see docs/pixel-pipeline.md): colour terms, hour-to-hour zero-point changes
in H and Ks, extinction changing within a month.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from tqdm import tqdm

import twomass
from twomass.pipeline.sim import minorplanets, quality, scanframe, sky, tiling
from twomass.pipeline.sim.footprint import Footprint
from twomass.pipeline.sim.products import WRITE_OPTIONS
from twomass.pipeline.sim.region import Region, SimulationError
from twomass.pipeline.sim.schedule import (
    CAL_EVERY,
    JD_UNIX_EPOCH,
    SITES,
    Night,
    Scan,
    plan,
    slot_minutes,
    slot_of,
)
from twomass.pipeline.sim.simulate import SkyCache, scan_cells, simulate
from twomass.pipeline.sim.truth import type_names
from twomass.pipeline.stages import depth, rawio, render, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.detector import Detector
from twomass.schema.truth import FILE_NAME as TRUTH_FILE

CAL_SCANS = 2
#: Extinction [mag/airmass] per band, the monthly averages the pipeline also uses.
EXTINCTION = np.array([0.10, 0.05, 0.07])
SEEING_ARCSEC = 2.5
#: The seeing wanders along a scan by the scan's ``[jhk]_shape_rms`` (relative to its
#: ``shape_avg``), correlated over this many frames (half a minute).
SEEING_WANDER_FRAMES = 20.0
#: The PSF's variation over the focal plane and in time, which the pipeline's model
#: (a round core growing towards the corners, per-frame width, one wing) follows only in
#: part (spec §1.6, §2). Astigmatism: the optical axis lies ``ASTIGMATISM_AXIS`` half
#: array widths off the array centre along -x, and the core's halves separate by
#: d / sigma = ``ASTIGMATISM`` q^2 radially from it (q: distance from the axis in half
#: array widths). Focus: the core's width varies by ``FOCUS_TILT`` from the array centre
#: to its +x edge (a tilted focal plane), plus ``FOCUS_TILT_SCAN`` rms per scan and axis
#: and ``FOCUS_TILT_WANDER`` rms wandering along the scan; the wing's fraction wanders by
#: ``WING_WANDER`` rms about ``render.WING_FRACTION``. Both wanderings are correlated over
#: ``PSF_WANDER_FRAMES`` frames: each 1.3 s exposure sees its own seeing across the
#: array (turbulence over 8.5'), focus and telescope changes add to it.
ASTIGMATISM = 0.22
ASTIGMATISM_AXIS = 0.5
FOCUS_TILT = 0.04
FOCUS_TILT_SCAN = 0.01
FOCUS_TILT_WANDER = 0.08
WING_WANDER = 0.01
PSF_WANDER_FRAMES = 1.5
#: The J zero point wanders hour to hour (water vapour in the J band's wings) by this
#: rms [mag], correlated over ``J_WANDER_HOURS``; H and Ks drift linearly only.
J_WANDER_MAG = 0.008
J_WANDER_HOURS = 1.5
J_WANDER_STEP_MIN = 6.0
#: Reported-pointing error per scan [arcsec] and frame-to-frame jitter [arcsec].
POINTING_ERROR = 1.5
FRAME_JITTER = 0.25
#: The optics' true field distortion over the calibrated one (``instrument.DISTORTION_PX``).
DISTORTION_TRUE_FACTOR = 1.05
COSMIC_RAYS_PER_FRAME = 3.0
METEOR_PROBABILITY = 0.05
ASTROMETRIC_J = 12.0
ASTROMETRIC_ERROR_ARCSEC = 0.07
STANDARD_KS = (9.0, 13.0)
#: Error per coordinate of the minor-planet ephemerides [arcsec on the sky]: predictions
#: for numbered asteroids from the MPC elements of the 2MASS years were good to 1-2"
#: (their "current ephemeris uncertainty"); the list carries it per object.
EPHEMERIS_ERROR_ARCSEC = 2.0
#: Filter glints (2MASS: reflections in the filters and dichroics, 6.5-7.5 mag below
#: their parent at a fixed place in each band's array, 10-15" from it): array offset
#: [px] (x west, y north) per band, magnitudes below the parent, width over the core's.
GLINT_OFFSET_PX = ((-3.5, 6.5), (-4.5, -4.0), (5.0, 4.5))
GLINT_DM = 6.8
GLINT_BLUR = 1.6
#: The sky rendered beyond the region [deg on the sky]: a scan touching the region
#: spans up to its 8.5' width beyond it, a clipped scan's end frames 510" beyond.
FRAME_SKY_MARGIN_DEG = 0.16
SKY_FILE = "sky.parquet"


@dataclass(frozen=True)
class Injection:
    """An event put into a scan on purpose (tests).

    ``cosmic``: ``value`` ADU in pixel (x, y) of one frame (index within the cube);
    ``meteor``: a trail through (x, y) at ``angle_deg``, ``value`` ADU peak, one frame;
    ``star``: a star of magnitude ``value`` in every band at (ra, dec), on every frame
    (not in the truth table).
    """

    scan: int
    kind: str
    frame: int = 0
    x: float = 128.0
    y: float = 128.0
    value: float = 3000.0
    angle_deg: float = 30.0
    ra: float = 0.0
    dec: float = 0.0


@dataclass(frozen=True)
class ObserveSummary:
    out_dir: Path
    nights: int
    scans: int
    cal_scans: int
    band_frames: int
    truth_rows: int
    seconds: float


@dataclass
class FramePlan:
    """Frame centres of one scan: true and reported (xi, phi) [deg], times [JD]."""

    index: np.ndarray
    jd: np.ndarray
    phi: np.ndarray
    true_dxi: np.ndarray  # true - nominal cross-scan position [deg]
    true_dphi: np.ndarray
    rep_dxi: np.ndarray
    rep_dphi: np.ndarray
    fwhm: np.ndarray  # (frames, 3) seeing [arcsec]
    tilt: np.ndarray  # (frames, 3, 2) core width gradient across the array (x, y)
    wing: np.ndarray  # (frames, 3) the PSF wing's fraction of the flux


def observe(out_dir, ra_range, dec_range, seed: int = 0, *, min_qual: int = 4,
            max_frames: int | None = None, cal_frames: int = 10, cal_margin_sets: int = 1,
            progress: bool = False, injections: tuple[Injection, ...] = (),
            minor_planet_density: float = minorplanets.ECLIPTIC_DENSITY) -> ObserveSummary:
    """Write raw nights for every scan touching an RA/Dec region, then ``truth.parquet``;
    calibration sets from ``cal_margin_sets`` before the first survey scan's to as many
    after the last's (``_cal_scans``); ``minor_planet_density``: minor planets per deg^2 on
    the ecliptic (see ``minorplanets.for_night``)."""
    start = time.perf_counter()
    region = Region.from_ranges(ra_range, dec_range)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SimulationError(f"{out}: output path exists and is not an empty directory")
    work = out / ".truth"
    simulate(work, region.ra_range, region.dec_range, seed=seed, min_qual=min_qual)
    geometry = tiling.SurveyGeometry()
    tiles = tiling.full_sky(geometry)
    wanted = tiling.in_box(tiles, region.ra_range, region.dec_range, margin_deg=0.05)
    nights = []
    for night in plan(tiles, wanted, seed, geometry.n_bands):
        scans = [s for s in night.scans if s.columns["qual"] >= min_qual
                 and _touches(Footprint(s, tiles.half_width), region)]
        if scans:
            nights.append(Night(night.hemis, night.date, scans))
    cache = SkyCache(seed, region, FRAME_SKY_MARGIN_DEG)
    counts = {"scans": 0, "cal": 0, "frames": 0}
    rendered = []
    for night in tqdm(nights, desc="nights", unit="night", file=sys.stderr,
                      disable=not progress):
        rendered.append(_write_night(out, night, tiles, region, cache, seed, max_frames,
                                     cal_frames, cal_margin_sets, injections, counts,
                                     progress, minor_planet_density))
    _write_sky(out / SKY_FILE, sky.Sources.concat(rendered))
    shutil.move(str(work / TRUTH_FILE), str(out / TRUTH_FILE))
    shutil.rmtree(work)
    rows = pq.ParquetFile(out / TRUTH_FILE).metadata.num_rows
    return ObserveSummary(out, len(nights), counts["scans"], counts["cal"], counts["frames"],
                          rows, time.perf_counter() - start)


def _touches(fp: Footprint, region: Region) -> bool:
    ra, dec = fp.samples(0.025, 0.0)
    return bool(region.contains(ra, dec).any() or fp.place(*region.grid(9))[2].any())


def night_zero_point(seed: int, night: Night) -> tuple[np.ndarray, np.ndarray]:
    """The night's photometric zero points [mag at 1 ADU/s] and their drift [mag/day]."""
    rng = np.random.default_rng([seed, 8, night.date.toordinal(), int(night.hemis == "s")])
    return quality.ZERO_POINT + rng.normal(0.0, 0.05, 3), rng.normal(0.0, 0.02, 3)


def j_zero_point_wander(seed: int, night: Night, jd: float) -> float:
    """The J zero point's hour-to-hour wander [mag] at ``jd``: ``J_WANDER_MAG`` rms,
    correlated over ``J_WANDER_HOURS``, on a ``J_WANDER_STEP_MIN`` grid from the site's
    start of the night (the same whatever region is observed), linearly interpolated."""
    rng = np.random.default_rng([seed, 14, night.date.toordinal(), int(night.hemis == "s")])
    steps = int(24 * 60 / J_WANDER_STEP_MIN)
    grid = _wander(rng, (steps,), J_WANDER_MAG, J_WANDER_HOURS * 60 / J_WANDER_STEP_MIN)
    start = JD_UNIX_EPOCH + (night.date - dt.date(1970, 1, 1)).days \
        + (SITES[night.hemis]["ut0"] - 1.0) / 24.0
    minutes = (jd - start) * 1440.0
    return float(np.interp(minutes, np.arange(steps) * J_WANDER_STEP_MIN, grid))


def _cal_scans(night: Night, region: Region, step: float, cal_frames: int,
               margin_sets: int) -> list[Scan]:
    """Calibration sets (numbers 14g+1, 14g+2) before each group g of eight survey slots,
    from ``margin_sets`` groups before the first written survey scan's group to as many
    after the last's: the sets bracket the survey scans in time, about hourly. A set
    before a group's first survey scan takes its seed from that scan's."""
    out: list[Scan] = []
    ra_c, dec_c = region.centre()
    half = 0.5 * (cal_frames - 1) * step / 3600.0 + 255.0 / 3600.0
    group = {s.scan: (s.scan - 7) // 14 for s in night.scans}
    first, last = min(group.values()), max(group.values())
    for g in range(max(first - margin_sets, 0), last + margin_sets + 1):
        near = min(night.scans, key=lambda s: (abs(group[s.scan] - g), s.scan))
        jd = near.jdate + (slot_minutes(CAL_EVERY * g) - slot_minutes(slot_of(near.scan))) \
            / 1440.0
        for k in range(CAL_SCANS):
            sd = "n" if k % 2 == 0 else "s"
            lo, hi = dec_c - half, dec_c + half
            out.append(dataclasses.replace(
                near, scan=14 * g + 1 + k, tile=0, visit=0, ra0=ra_c, sd=sd,
                phi_start=lo if sd == "n" else hi, phi_end=hi if sd == "n" else lo,
                offset_arcsec=0.0, jdate=jd - (CAL_SCANS - k) * 3.0 / 1440.0,
                seed=near.seed + 1000 + k if group[near.scan] == g
                else int(np.random.default_rng([near.seed, 15, g, k]).integers(2**62)),
                columns=dict(near.columns)))
    return out


def _frame_plan(scan: Scan, fp: Footprint, region: Region, step: float,
                max_frames: int | None, is_cal: bool) -> FramePlan:
    length = abs(scan.phi_end - scan.phi_start) * 3600.0
    n_total = int(np.floor((length - 510.0) / step + 1e-6)) + 1
    sign = 1.0 if scan.sd == "n" else -1.0
    k = np.arange(n_total)
    phi = scan.phi_start + sign * (255.0 + k * step) / 3600.0
    if not is_cal:
        keep = (phi >= region.dec_min - 255 / 3600) & (phi <= region.dec_max + 255 / 3600)
        k, phi = k[keep], phi[keep]
        if max_frames is not None and len(k) > max_frames:
            centre = np.argmin(np.abs(phi - 0.5 * (region.dec_min + region.dec_max)))
            a = int(np.clip(centre - max_frames // 2, 0, len(k) - max_frames))
            k, phi = k[a:a + max_frames], phi[a:a + max_frames]
    rng = np.random.default_rng([scan.seed, 9])
    n = len(k)
    err = rng.normal(0.0, POINTING_ERROR, 2) / 3600.0
    jit = rng.normal(0.0, FRAME_JITTER, (2, n_total))[:, k] / 3600.0
    shape = np.array([scan.columns[f"{b}_shape_avg"] for b in quality.BANDS])
    spread = np.mean([scan.columns[f"{b}_shape_rms"] for b in quality.BANDS]) / shape.mean()
    wander = _wander(rng, (n_total,), spread, SEEING_WANDER_FRAMES)[k]
    centre = wander.mean() if n else 0.0
    fwhm = SEEING_ARCSEC * shape[None, :] * np.exp(wander - centre)[:, None]
    tilt, wing = _psf_drift(scan, n_total, k)
    return FramePlan(index=k, jd=scan.jdate + k * inst.FRAME_SECONDS / 86400.0, phi=phi,
                     true_dxi=fp.track(phi) + jit[0], true_dphi=jit[1],
                     rep_dxi=np.full(n, err[0]), rep_dphi=np.full(n, err[1]), fwhm=fwhm,
                     tilt=tilt, wing=wing)


def _psf_drift(scan: Scan, n_total: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and band: the focal plane's width gradient (x, y) and the wing's
    fraction, wandering along the scan (focus and telescope changes)."""
    rng = np.random.default_rng([scan.seed, 13])
    tilt = np.array([FOCUS_TILT, 0.0]) + rng.normal(0.0, FOCUS_TILT_SCAN, (1, 3, 2)) \
        + _wander(rng, (n_total, 3, 2), FOCUS_TILT_WANDER)
    wing = render.WING_FRACTION + _wander(rng, (n_total, 3), WING_WANDER)
    return tilt[k], np.clip(wing[k], 0.02, 0.2)


def _wander(rng, shape: tuple[int, ...], rms: float,
            frames: float = PSF_WANDER_FRAMES) -> np.ndarray:
    """A stationary first-order autoregressive series along the first axis: ``rms``
    about 0, correlated over ``frames`` frames."""
    rho = np.exp(-1.0 / frames)
    step = rng.normal(0.0, rms * np.sqrt(1.0 - rho**2), shape)
    out = np.empty(shape)
    out[0] = rng.normal(0.0, rms, shape[1:])
    for i in range(1, shape[0]):
        out[i] = rho * out[i - 1] + step[i]
    return out


def _write_night(out: Path, night: Night, tiles, region: Region, cache: SkyCache, seed: int,
                 max_frames, cal_frames: int, cal_margin_sets: int, injections, counts,
                 progress: bool, minor_planet_density: float = minorplanets.ECLIPTIC_DENSITY
                 ) -> sky.Sources:
    """Write one raw night; return the sources rendered into its frames."""
    final = out / night.name
    tmp = out / f"{night.name}.partial"
    for sub in ("raw", "cal", "ref"):
        (tmp / sub).mkdir(parents=True)
    step = inst.STEP_ARCSEC[night.hemis]
    detectors = [Detector.draw(seed, night.hemis, b) for b in range(3)]
    zp0, drift = night_zero_point(seed, night)
    jd_start = night.scans[0].jdate
    moving = minorplanets.for_night(seed, night.hemis, night.date, jd_start, region,
                                    minor_planet_density)
    entries = []
    all_src = []
    truth: list[dict] = []
    cal = _cal_scans(night, region, step, cal_frames, cal_margin_sets)
    jobs = sorted([(s, False) for s in night.scans] + [(s, True) for s in cal],
                  key=lambda j: j[0].scan)
    for scan, is_cal in tqdm(jobs, desc=f"{night.name} scans", unit="scan", file=sys.stderr,
                             disable=not progress, leave=False):
        fp = Footprint(scan, tiles.half_width)
        frames = _frame_plan(scan, fp, region, step, max_frames, is_cal)
        if len(frames.index) == 0:
            continue
        src = cache.sources(scan_cells(fp, region))
        all_src.append(src)
        src = sky.Sources.concat([src] + [_injected_star(i) for i in injections
                                          if i.scan == scan.scan and i.kind == "star"])
        zp = zp0 + drift * (scan.jdate - jd_start) - EXTINCTION * (scan.columns["airm"] - 1.0)
        zp[0] += j_zero_point_wander(seed, night, scan.jdate)
        mine = tuple(i for i in injections if i.scan == scan.scan)
        _write_scan(tmp / "raw", night, scan, frames, src, moving, zp, detectors, mine, truth)
        entries.append({"scan": scan.scan, "kind": "cal" if is_cal else "survey",
                        "tile": scan.tile, "sd": scan.sd, "ra0": scan.ra0,
                        "airmass": float(scan.columns["airm"]), "nframes": len(frames.index)})
        counts["cal" if is_cal else "scans"] += 1
        counts["frames"] += 3 * len(frames.index)
    _write_calibration(tmp / "cal", night, seed, detectors)
    (tmp / "sim").mkdir()
    _parquet(tmp / "sim" / "true_frames.parquet",
             {k: np.concatenate([t[k] for t in truth]) for k in truth[0]} if truth else {})
    src = sky.Sources.concat(all_src)
    _, first = np.unique(src.id, return_index=True)
    _write_references(tmp / "ref", night, src.take(np.sort(first)), moving, region, seed)
    doc = {"date": night.date.isoformat(), "hemis": night.hemis, "kind": "raw",
           "pipeline_version": twomass.__version__, "seed": seed,
           "region": {"ra": list(region.ra_range), "dec": list(region.dec_range)},
           "clipped": True, "scans": entries}
    (tmp / "night.json").write_text(json.dumps(doc, indent=2) + "\n")
    tmp.rename(final)
    return src.take(np.sort(first))


def _write_sky(path: Path, src: sky.Sources) -> None:
    """``sky.parquet``: every source rendered into the frames (id, type, ra, dec, J, H, Ks),
    the truth the frames beyond the region are measured against."""
    _, first = np.unique(src.id, return_index=True)
    src = src.take(np.sort(first))
    _parquet(path, {"id": src.id, "type": np.asarray(type_names(src)), "ra": src.ra,
                    "dec": src.dec, "j_m": src.mag[:, 0], "h_m": src.mag[:, 1],
                    "k_m": src.mag[:, 2]})


def _write_scan(raw: Path, night: Night, scan: Scan, frames: FramePlan, src: sky.Sources,
                moving, zp: np.ndarray, detectors: list[Detector], injections,
                truth: list[dict]) -> None:
    n = len(frames.index)
    crpix = (0.5 * (inst.NPIX + 1), 0.5 * (inst.NPIX + 1))
    for b, band in enumerate(inst.BANDS):
        cd = inst.cd_matrix(inst.BAND_PIXEL_ARCSEC[b])
        distortion = tuple(DISTORTION_TRUE_FACTOR * c for c in inst.DISTORTION_PX[b])
        rng = np.random.default_rng([scan.seed, 10, b])
        det = detectors[b]
        cube1 = np.empty((n, inst.NPIX, inst.NPIX), np.int16)
        cube2 = np.empty_like(cube1)
        xi0 = inst.BAND_XI_ARCSEC[b] / 3600.0
        rep_ra, rep_dec = scanframe.to_radec(scan.ra0, xi0 + frames.rep_dxi,
                                             frames.phi + frames.rep_dphi)
        true_ra, true_dec = scanframe.to_radec(scan.ra0, xi0 + frames.true_dxi,
                                               frames.phi + frames.true_dphi)
        # The sky that gives the scan its set depth (not its ``back`` column).
        back = depth.sky_for_depth(float(scan.columns[f"{band}_msnr10"]),
                                   float(np.median(frames.fwhm[:, b])), float(zp[b]),
                                   night.hemis)
        truth.append({"scan": np.full(n, scan.scan, np.int16), "band": np.full(n, band),
                      "frame": frames.index.astype(np.int32), "ra": np.asarray(true_ra, float),
                      "dec": np.asarray(true_dec, float), "fwhm": frames.fwhm[:, b],
                      "tilt_x": frames.tilt[:, b, 0], "tilt_y": frames.tilt[:, b, 1],
                      "wing": frames.wing[:, b], "zp": np.full(n, zp[b])})
        latent = np.zeros((inst.NPIX, inst.NPIX))
        yy, xx = np.mgrid[0:inst.NPIX, 0:inst.NPIX] / inst.NPIX - 0.5
        for f in range(n):
            t = (frames.jd[f] - scan.jdate) * 86400.0
            level = back * (1.0 + 0.03 * np.sin(2 * np.pi * (frames.jd[f] % 1.0) * 6.0))
            tilt = 0.01 * np.sin(t / 200.0)
            image = level * (1.0 + tilt * xx + 0.005 * yy)
            mp = moving.at(frames.jd[f])
            frame_src = sky.Sources.concat([src, mp])
            injected = [i for i in injections if i.frame == f and i.kind != "star"]
            x, y = tan.world_to_pix((true_ra[f], true_dec[f]), cd, crpix,
                                    frame_src.ra, frame_src.dec)
            dx, dy = inst.distortion_px(b, x, y, distortion)
            x, y = x + dx, y + dy
            flux = inst.EXPOSURE_SECONDS * 10 ** (-0.4 * (frame_src.mag[:, b] - zp[b]))
            star = frame_src.kind != sky.KIND_GALAXY
            sig, elong, angle = psf_shape(frames.fwhm[f, b], frames.tilt[f, b], x, y)
            noise = float(np.sqrt(level / inst.GAIN) + 5.0)
            render.add_psf_sources(image, x[star], y[star], flux[star], sig[star], noise,
                                   elong[star], angle[star], frames.wing[f, b])
            gal = ~star
            if gal.any():
                scale = frame_src.radius_arcsec[gal] / 4.0 / inst.PIXEL_ARCSEC
                render.add_galaxies(image, x[gal], y[gal], flux[gal], scale, sig[gal])
            _bright_star_effects(image, x[star], y[star], flux[star], sig[star], zp[b], b)
            extra = _cosmic_rays(rng, injected)
            for i in (i for i in injected if i.kind == "meteor"):
                _add_trail(image, i.x, i.y, i.angle_deg, i.value, sig.mean() if len(sig) else 1.)
            if not injected and rng.random() < METEOR_PROBABILITY / max(n, 1):
                _add_trail(image, *rng.uniform(0, inst.NPIX, 2), rng.uniform(0, 180),
                           rng.uniform(100, 600), 1.0)
            cube1[f], cube2[f] = det.reads(rng, image, latent, extra)
            charge = image * det.response
            latent = 0.002 * np.where(charge > 0.5 * inst.FULL_WELL_ADU,
                                      np.minimum(charge, 4 * inst.FULL_WELL_ADU), 0.0)
        header = fits.Header()
        header["TELESCOP"] = ("2MASS " + ("North" if night.hemis == "n" else "South"))
        header["ORDATE"] = (night.date.strftime("%y%m%d"), "UT date of the night")
        header["HEMISPHE"], header["SCANNO"] = night.hemis.upper(), scan.scan
        header["SCANDIR"], header["BAND"] = scan.sd.upper(), band.upper().replace("K", "Ks")
        header["TILE"], header["FRAME0"] = scan.tile, int(frames.index[0])
        header["RA0"] = (scan.ra0, "reported scan meridian [deg]")
        header["JD0"] = (float(frames.jd[0]), "JD of the first frame's reset")
        header["FRAMEDT"] = (inst.FRAME_SECONDS, "seconds between frames")
        header["AIRMASS"] = float(scan.columns["airm"])
        header["CLIPPED"] = (True, "frames outside the region were not written")
        for read, cube in ((1, cube1), (2, cube2)):
            header["READ"] = read
            header["EXPTIME"] = inst.READ1_SECONDS if read == 1 else inst.READ2_SECONDS
            table = {"FRAME": frames.index.astype(np.int32), "JD": frames.jd,
                     "RA": np.asarray(rep_ra, float), "DEC": np.asarray(rep_dec, float)}
            rawio.write_cube(raw / rawio.cube_name(scan.scan, band, read), cube, header, table)


def _injected_star(i: Injection) -> sky.Sources:
    return sky.Sources(np.array([-1]), np.array([sky.KIND_STAR], np.int8), np.array([i.ra]),
                       np.array([i.dec]), np.full((1, 3), i.value), np.zeros(1), np.ones(1),
                       np.zeros(1))


def psf_shape(fwhm_arcsec: float, tilt: np.ndarray, x: np.ndarray, y: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The PSF core at pixels (x, y) of a frame: sigma [px] (``depth.core_sigma_px``: the
    frame's seeing, wider at the array's corners; times 1 + ``tilt`` . (u, v) for (u, v)
    the position in half array widths from the centre), the astigmatic elongation
    d / sigma and its angle [rad] (see ``ASTIGMATISM``)."""
    half = 0.5 * inst.NPIX
    u, v = (x - (half - 0.5)) / half, (y - (half - 0.5)) / half
    tilted = np.clip(1.0 + tilt[0] * u + tilt[1] * v, 0.7, 1.3)
    qx = u + ASTIGMATISM_AXIS
    return (depth.core_sigma_px(fwhm_arcsec, x, y) * tilted,
            ASTIGMATISM * (qx**2 + v**2), np.arctan2(v, qx))


def _bright_star_effects(image, x, y, flux, sigma, zp_b, band: int) -> None:
    """Diffraction spikes (4 along the array axes), a readout stripe and a filter glint
    (``add_glints``) for bright stars."""
    parent = flux > inst.EXPOSURE_SECONDS * 10 ** (-0.4 * (9.0 - zp_b))
    add_glints(image, x[parent], y[parent], flux[parent], sigma[parent], band)
    for k in np.flatnonzero(parent):
        length = 10.0 * np.log10(flux[k] / 1e4) + 10.0
        t = np.linspace(-length, length, 41)
        t = t[np.abs(t) > 2]
        sx = np.concatenate([x[k] + t, np.full(len(t), x[k])])
        sy = np.concatenate([np.full(len(t), y[k]), y[k] + t])
        f = np.full(len(sx), 0.004 * flux[k] / len(sx))
        render.add_gaussians(image, sx, sy, f, np.full(len(sx), sigma[k]), 3)
        row = int(round(y[k]))
        if 0 <= row < image.shape[0]:
            image[row] += 2e-6 * flux[k]


def add_glints(image, x, y, flux, sigma, band: int) -> None:
    """Filter glints: a defocused ghost of each star, ``GLINT_DM`` fainter, at a fixed
    offset in the band's array (``GLINT_OFFSET_PX``), ``GLINT_BLUR`` times the core wide."""
    dx, dy = GLINT_OFFSET_PX[band]
    render.add_gaussians(image, x + dx, y + dy, flux * 10 ** (-0.4 * GLINT_DM),
                         GLINT_BLUR * sigma, 5)


def _cosmic_rays(rng, injected) -> np.ndarray:
    """Charge from cosmic rays arriving between the reads [ADU]."""
    extra = np.zeros((inst.NPIX, inst.NPIX))
    n = rng.poisson(COSMIC_RAYS_PER_FRAME)
    ix, iy = rng.integers(0, inst.NPIX, (2, n))
    extra[iy, ix] += rng.uniform(100, 3000, n)
    for i in (i for i in injected if i.kind == "cosmic"):
        extra[int(i.y), int(i.x)] += i.value
    return extra


def _add_trail(image, x0, y0, angle_deg, peak, sigma) -> None:
    """A meteor trail: a straight streak of Gaussian profile across the frame."""
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    t = np.radians(angle_deg)
    d = -(xx - x0) * np.sin(t) + (yy - y0) * np.cos(t)
    image += peak * np.exp(-0.5 * (d / max(sigma, 0.7)) ** 2)


def _write_calibration(cal: Path, night: Night, seed: int, detectors) -> None:
    """Darks (shutter closed) and twilight flats at rising illumination."""
    rng = np.random.default_rng([seed, 11, night.date.toordinal(), int(night.hemis == "s")])
    yy, xx = np.mgrid[0:inst.NPIX, 0:inst.NPIX] / inst.NPIX - 0.5
    header = fits.Header()
    header["ORDATE"], header["HEMISPHE"] = night.date.strftime("%y%m%d"), night.hemis.upper()
    for b, band in enumerate(inst.BANDS):
        det = detectors[b]
        zero = np.zeros((inst.NPIX, inst.NPIX))
        darks = [det.reads(rng, zero, zero) for _ in range(8)]
        gradient = 1.0 + 0.012 * xx - 0.008 * yy  # twilight sky is not flat
        flats = [det.reads(rng, level * gradient, zero) for level in np.linspace(2e3, 6e3, 6)]
        header["BAND"] = band
        for kind, pairs in (("dark", darks), ("flat", flats)):
            header["IMAGETYP"] = kind
            for read in (1, 2):
                cube = np.stack([p[read - 1] for p in pairs])
                rawio.write_cube(cal / f"{kind}_{band}_r{read}.fits", cube, header)


def _write_references(ref: Path, night: Night, src: sky.Sources, moving, region: Region,
                      seed: int) -> None:
    """The night's reference lists, drawn from the truth with their errors."""
    rng = np.random.default_rng([seed, 12, night.date.toordinal(), int(night.hemis == "s")])
    star = src.kind == sky.KIND_STAR
    astro = star & (src.mag[:, 0] < ASTROMETRIC_J)
    e = rng.normal(0.0, ASTROMETRIC_ERROR_ARCSEC, (2, int(astro.sum()))) / 3600.0
    dec = src.dec[astro] + e[1]
    _parquet(ref / "astrometric.parquet", {
        "id": src.id[astro], "ra": src.ra[astro] + e[0] / np.cos(np.radians(dec)), "dec": dec,
        "j_m": src.mag[astro, 0], "sigma_arcsec": np.full(int(astro.sum()),
                                                          ASTROMETRIC_ERROR_ARCSEC)})
    std = star & (src.mag[:, 2] > STANDARD_KS[0]) & (src.mag[:, 2] < STANDARD_KS[1])
    m = src.mag[std] + rng.normal(0.0, 0.01, (int(std.sum()), 3))
    _parquet(ref / "standards.parquet", {"id": src.id[std], "ra": src.ra[std],
                                         "dec": src.dec[std], "j_m": m[:, 0], "h_m": m[:, 1],
                                         "k_m": m[:, 2]})
    bright = star & (src.mag[:, 2] < 8.0)
    _parquet(ref / "bright_stars.parquet", {"id": src.id[bright], "ra": src.ra[bright],
                                            "dec": src.dec[bright], "k_m": src.mag[bright, 2]})
    n = len(moving.id)
    err = rng.normal(0.0, EPHEMERIS_ERROR_ARCSEC, (2, n)) / 3600.0
    _parquet(ref / "minor_planets.parquet", {
        "id": moving.id, "epoch_jd": np.full(n, moving.jd0),
        "ra": (moving.ra + err[0] / np.cos(np.radians(moving.dec))) % 360.0,
        "dec": moving.dec + err[1], "ra_rate": moving.ra_rate, "dec_rate": moving.dec_rate,
        "k_m": moving.mag[:, 2], "sigma_arcsec": np.full(n, EPHEMERIS_ERROR_ARCSEC)})


def _parquet(path: Path, cols: dict[str, np.ndarray]) -> None:
    pq.write_table(pa.table({k: np.asarray(v) for k, v in cols.items()}), path,
                   **WRITE_OPTIONS)
