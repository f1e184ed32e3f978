"""Observing schedule: which night and site observed each tile, and each scan's state.

The schedule is a pure function of the full-sky tiling and the seed, so a tile's
scans (night, scan number, pointing, conditions) are the same whatever region is
simulated. Tiles of one declination band are observed in blocks of consecutive RA
(one block per night, ``SCANS_PER_NIGHT`` survey scans, with calibration scans
interleaved in the nightly numbering). The north site starts at the 12-18 degree
band and moves north, the south site at 0 to -6 and moves south; the 0-12 degree
bands, reachable from both, come last and go to either site. A block is observed
near the date its RA transits at midnight; every (site, date) holds one block.

About 18% of tiles (``REOBSERVED_FRACTION``) are observed twice: their first visit
is marginal (worse seeing, often clouds) and a second visit follows about a year
later, in a night of re-observations of that band. As in 2MASS, whose re-observations
brought the coverage to 99.998%, a tile is re-observed until one of its scans passes
QA (score >= ``quality.PASS_QUAL``, the working database's load rule): a tile whose
first visit fails joins its block's re-observation night, and one whose re-observation
fails too is scanned again at the end of that night, repeatedly until it passes. Every
night lies within the survey's dates, ``SURVEY_START`` (first north
night) to ``SURVEY_END`` (last south night).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from twomass.pipeline.sim import quality
from twomass.pipeline.sim.tiling import Tiles

SCANS_PER_NIGHT = 48
REOBSERVED_FRACTION = 0.18
MISPOINTED_FRACTION = 0.004
#: Survey-scan cadence: minutes per scan, then one 6-scan calibration set per 8 scans.
SCAN_MINUTES = 7.0
CAL_EVERY = 8
SURVEY_START, SURVEY_END = dt.date(1997, 6, 7), dt.date(2001, 2, 15)
#: Blocks of a band whose re-observations share one night, and the slots each block
#: has there: its re-observations (at most 48) and then its repeats (a few in a
#: thousand re-observations fail QA again; 16 more slots are never all needed).
REOBS_BLOCKS = 3
REOBS_SLOTS = 64
SITES = {"n": {"start": SURVEY_START, "years": 3.5, "lat": 31.68, "ut0": 3.0},
         "s": {"start": dt.date(1998, 3, 18), "years": 2.9, "lat": -30.17, "ut0": 1.0}}
JD_UNIX_EPOCH = 2440587.5


@dataclass
class Scan:
    """One survey scan of a tile, with everything the extraction needs."""

    hemis: str
    date: dt.date
    scan: int
    tile: int
    visit: int
    ra0: float  # actual centre meridian [deg], pointing offset applied
    phi_start: float  # scan-frame latitude at start and end [deg]
    phi_end: float
    sd: str
    offset_arcsec: float  # cross-scan pointing offset from the tile
    track_amp_arcsec: float
    track_period_deg: float
    track_phase: float
    jdate: float
    ut: float
    seed: int
    columns: dict[str, object] = field(default_factory=dict)  # QA and conditions

    @property
    def msnr10(self) -> np.ndarray:
        return np.array([self.columns[f"{b}_msnr10"] for b in quality.BANDS])


@dataclass
class Night:
    """Scans observed by one site in one night, in scan-number order."""

    hemis: str
    date: dt.date
    scans: list[Scan]

    @property
    def name(self) -> str:
        return f"{self.date.isoformat()}{self.hemis}"


def _site_order(n_bands: int) -> dict[int, tuple[str, int]]:
    """Band -> (default site, rank of the band in that site's campaign)."""
    half = n_bands // 2
    north = list(range(half + 2, n_bands)) + [half, half + 1]
    south = list(range(half - 1, -1, -1))
    order = {b: ("n", i) for i, b in enumerate(north)}
    order.update({b: ("s", i) for i, b in enumerate(south)})
    return order


def _usable(site: str, day: dt.date, used: set) -> bool:
    return (site, day) not in used and not (site == "n" and day.month in (7, 8))


def _free_date(site: str, ideal: dt.date, used: set) -> dt.date:
    """The first free night of the site on or after ``ideal``, or, past the survey's
    end, the last free one before it."""
    ideal = min(max(ideal, SURVEY_START), SURVEY_END)
    day = ideal
    while day <= SURVEY_END and not _usable(site, day, used):
        day += dt.timedelta(days=1)
    if day > SURVEY_END:
        day = ideal
        while not _usable(site, day, used):
            day -= dt.timedelta(days=1)
    used.add((site, day))
    return day


def _block_date(site: str, rank: int, n_ranks: int, ra_deg: float, used: set) -> dt.date:
    info = SITES[site]
    when = info["start"] + dt.timedelta(days=int(365.25 * info["years"] * rank / n_ranks))
    # RA on the meridian at local midnight is 0h near 22 September.
    transit_doy = int(265 + ra_deg * 365.25 / 360.0) % 365
    ideal = dt.date(when.year, 1, 1) + dt.timedelta(days=transit_doy)
    if ideal < when:
        ideal = dt.date(when.year + 1, 1, 1) + dt.timedelta(days=transit_doy)
    if ideal > SURVEY_END:  # the transit a year earlier
        ideal = dt.date(ideal.year - 1, 1, 1) + dt.timedelta(days=transit_doy)
    return _free_date(site, ideal, used)


def plan(all_tiles: Tiles, wanted: np.ndarray, seed: int, n_bands: int) -> list[Night]:
    """Nights and scans that observed the tiles flagged in ``wanted``.

    Parameters
    ----------
    all_tiles
        The full-sky tiling (block boundaries and dates depend on all of it).
    wanted
        Boolean mask over ``all_tiles``: tiles whose scans are returned.
    seed
        Simulation seed; per-tile and per-block generators derive from it.
    """
    nights: dict[tuple[str, dt.date], list[Scan]] = {}
    for _band, block, site, dates, slot0, rng in _blocks(all_tiles, seed, n_bands):
        if not wanted[block].any():
            continue
        reobs = rng.random(len(block)) < REOBSERVED_FRACTION
        direction = "n" if rng.random() < 0.5 else "s"
        first = [_scan(all_tiles, int(t), 0, bool(m), site, dates[0], slot,
                       _direction(direction, slot), seed)
                 for slot, (t, m) in enumerate(zip(block, reobs, strict=True))]
        passed = np.array([sc.columns["qual"] >= quality.PASS_QUAL for sc in first])
        visits = [(block, first)]
        again = reobs | ~passed
        for visit in (1, 2):
            members = np.flatnonzero(again)
            scans = [_scan(all_tiles, int(block[i]), visit, False, site, dates[1], slot,
                           _direction(direction, slot), seed, until_pass=visit == 2)
                     for slot, i in enumerate(members, slot0)]
            slot0 += len(members)
            visits.append((block[members], scans))
            for i, sc in zip(members, scans, strict=True):
                passed[i] |= sc.columns["qual"] >= quality.PASS_QUAL
            again = ~passed
        for tiles, scans in visits:
            for t, sc in zip(tiles, scans, strict=True):
                if wanted[t]:
                    nights.setdefault((site, sc.date), []).append(sc)
    return [Night(h, d, sorted(s, key=lambda x: x.scan))
            for (h, d), s in sorted(nights.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def _blocks(all_tiles: Tiles, seed: int, n_bands: int):
    """Every block of the survey: (band, tile indices, site, its first and its
    re-observation night, the block's first re-observation slot, its generator).

    Re-observations of ``REOBS_BLOCKS`` consecutive blocks of a band and site share one
    night (each block its own range of ``REOBS_SLOTS`` slots), as the first visits alone
    fill most nights of the survey's span. Dates depend on every block before, so all
    are walked.
    """
    order = _site_order(n_bands)
    ranks = {s: 1 + max(r for site, r in order.values() if site == s) for s in SITES}
    used: set = set()
    for band in sorted(order, key=lambda b: (order[b][1], order[b][0])):
        idx = np.flatnonzero(all_tiles.dec_band == band)
        second: dict[str, list] = {}  # site -> [re-observation night, blocks using it]
        for k in range(0, len(idx), SCANS_PER_NIGHT):
            block = idx[k:k + SCANS_PER_NIGHT]
            rng = np.random.default_rng([seed, 1, band, k])
            site, rank = order[band]
            if band in (n_bands // 2, n_bands // 2 + 1) and rng.random() < 0.45:
                site = "s"
            ra_mid = float(np.median(all_tiles.ra0[block]))
            first = _block_date(site, rank, ranks[site], ra_mid, used)
            if site not in second or second[site][1] == REOBS_BLOCKS:
                later = first + dt.timedelta(days=350)
                if later > SURVEY_END:  # late blocks are re-observed within the survey
                    later = first + (SURVEY_END - first) // 2
                second[site] = [_free_date(site, later, used), 0]
            night, uses = second[site]
            second[site][1] += 1
            yield band, block, site, (first, night), uses * REOBS_SLOTS, rng


def night_dates(all_tiles: Tiles, seed: int, n_bands: int) -> list[tuple[str, dt.date]]:
    """(site, date) of every night the survey may use."""
    nights = {(site, d) for _, _, site, dates, _, _ in _blocks(all_tiles, seed, n_bands)
              for d in dates}
    return sorted(nights, key=lambda n: (n[1], n[0]))


def slot_minutes(slot: int) -> float:
    """Minutes from the night's start to survey slot ``slot``: the scans before it and a
    7-minute calibration set before each group of ``CAL_EVERY`` (its own group's too)."""
    return slot * SCAN_MINUTES + (1 + slot // CAL_EVERY) * 7.0


def slot_of(number: int) -> int:
    """The survey slot of scan ``number`` (slots 8g..8g+7 are numbers 14g+7..14g+14)."""
    group = (number - 7) // (CAL_EVERY + 6)
    return number - 1 - 6 * (1 + group)


def _direction(first: str, slot: int) -> str:
    """Scan directions alternate along a block."""
    return first if slot % 2 == 0 else ("s" if first == "n" else "n")


def _scan(tiles: Tiles, t: int, visit: int, marginal: bool, site: str, date: dt.date,
          slot: int, sd: str, seed: int, until_pass: bool = False) -> Scan:
    tile_id = int(tiles.tile[t])
    rng = np.random.default_rng([seed, 2, tile_id, visit])
    if rng.random() < MISPOINTED_FRACTION:
        offset = rng.uniform(100.0, 450.0) * rng.choice([-1.0, 1.0])
    else:
        offset = rng.normal(0.0, 0.8)
    rare = rng.random() < 0.03
    amp = rng.uniform(7.0, 8.0) if rare else min(abs(rng.normal(0.0, 1.2)), 3.0)
    lo, hi = float(tiles.phi_lo[t]), float(tiles.phi_hi[t])
    equatorward = lo if lo >= 0 else hi
    ra0 = (float(tiles.ra0[t]) + offset / 3600.0 / np.cos(np.radians(equatorward))) % 360.0
    dphi = rng.normal(0.0, 1.5) / 3600.0
    start, end = (lo + dphi, hi + dphi) if sd == "n" else (hi + dphi, lo + dphi)
    number = 1 + slot + 6 * (1 + slot // CAL_EVERY)
    info = SITES[site]
    minutes = slot_minutes(slot)
    ut = (info["ut0"] + minutes / 60.0) % 24.0
    jd = JD_UNIX_EPOCH + (date - dt.date(1970, 1, 1)).days + (info["ut0"] + minutes / 60.0) / 24.0
    columns = quality.conditions(rng, marginal)
    while until_pass and columns["qual"] < quality.PASS_QUAL:  # the scan is repeated
        columns = quality.conditions(rng, marginal)
    zd = abs(0.5 * (lo + hi) - info["lat"])
    columns.update({"ut": ut, "zd": zd, "ha": float(rng.normal(0.0, 0.4)),
                    "airm": float(1.0 / np.cos(np.radians(min(zd, 75.0)))),
                    "hry": int(site == "n" and date >= dt.date(1999, 3, 1))})
    return Scan(hemis=site, date=date, scan=number, tile=tile_id, visit=visit, ra0=ra0,
                phi_start=start, phi_end=end, sd=sd, offset_arcsec=float(offset),
                track_amp_arcsec=float(amp), track_period_deg=float(rng.uniform(0.8, 3.0)),
                track_phase=float(rng.uniform(0, 2 * np.pi)), jdate=float(jd), ut=float(ut),
                seed=int(rng.integers(2**62)), columns=columns)
