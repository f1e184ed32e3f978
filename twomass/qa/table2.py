"""Validation against truth: the survey paper's Table 2 measured on a simulated sky.

``validate(db, name, truth_path)`` matches release ``name``'s Point Source Catalog to
the simulator's ``truth.parquet`` (true positions and magnitudes, and the scans that
covered each source) and measures what Skrutskie et al. (2006) Table 2 and sec. 5.2
state for the real catalog:

- completeness: the fraction of true stars with expected S/N > 10 in any band that
  have a catalog source within ``match_arcsec``. Expected S/N comes from the true
  magnitude and the S/N = 10 magnitude (``[jhk]_msnr10``) of the chosen scan that
  would contribute the source (the one it lies farthest inside). Stars in coverage gaps
  (not ``psc_edge_arcsec + edge_margin_arcsec`` inside any chosen scan, or covered by
  none and brighter than the survey's S/N = 10 requirement) and in bright-star
  avoidance areas are left out and counted separately;
- reliability: the fraction of catalog sources with S/N > 10 in any band that lie
  within ``max(match_arcsec, match_sigmas * err_maj)`` of a true star, galaxy or minor
  planet (a minor planet anywhere on its path during the scan);
- photometric scatter: robust sigma of measured - true magnitude per band for stars
  brighter than ``bright_mag_max`` measured by profile fit (``rd_flg`` 2, unsaturated);
- astrometric scatter: robust 1-sigma per coordinate of the offsets of stars with
  Ks < ``astrometry_ks_max``, from the median separation (Rayleigh: median = 1.1774 sigma);
- cross-scan pairs: catalog sources from different scans closer than ``pair_arcsec``,
  each attributed to a scan off its planned tile (scan centre farther than
  ``off_tile_arcsec`` from the tile centre) or not. 2MASS found 19 such pairs, all
  from two mispointed scans.

``compare`` gives the same figures with the matches behind them, which the release QA
report plots against magnitude (``twomass.qa.truth_figures``).

Only chosen scans that the truth file lists are validated, so a working database
holding other data too can be checked against one simulated region. Memory grows with
the rows kept (about 100 bytes per catalog row and per true source covered by the
release), never with the columns of the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twomass import release
from twomass.core.database import Database
from twomass.core.sphere import nearest_within, unit_vectors
from twomass.core.stats import robust_sigma
from twomass.qa import ValidationError
from twomass.qa.catalog import ScanRef, read_catalog, read_scans
from twomass.qa.matching import (
    CrossScanPair,
    cross_scan_pairs,
    in_avoidance,
    minor_planet_matches,
)
from twomass.qa.truth import BANDS, read_truth

__all__ = ["Comparison", "CrossScanPair", "ScanRef", "ValidationError", "ValidationParams",
           "ValidationReport", "compare", "robust_sigma", "validate"]

#: Table 2 targets: completeness and reliability for S/N > 10 in any band, photometric
#: precision for bright stars [mag], astrometric accuracy for Ks < 14 [arcsec].
COMPLETENESS_TARGET = 0.99
RELIABILITY_TARGET = 0.9995
PHOTOMETRY_TARGET_MAG = 0.03
ASTROMETRY_TARGET_ARCSEC = 0.100
RAYLEIGH_MEDIAN = math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class ValidationParams:
    """Radii and cuts of the comparison; defaults follow the survey paper's Table 2.

    Attributes
    ----------
    match_arcsec, match_sigmas
        A catalog source and a true source match within ``match_arcsec``, or within
        ``match_sigmas`` times the source's error-ellipse semi-major axis if larger.
    snr_min
        The S/N threshold of completeness and reliability (Table 2: 10).
    avoid_ks, avoid_radius_arcsec, avoid_radius_per_mag
        Bright-star avoidance areas: around every true star with Ks < ``avoid_ks``, a
        disc of radius ``avoid_radius_arcsec * 10**(avoid_radius_per_mag * (avoid_ks -
        Ks))``; 0.2 per mag makes the radius grow as the square root of the flux
        (30" at Ks = 8, 120" at Ks = 5, 300" at Ks = 3).
    edge_margin_arcsec
        Completeness counts only stars this far beyond the release's tile-edge border
        inside some chosen scan (the scans' tracking wanders by a few arcsec).
    bright_mag_max
        Photometric scatter uses stars brighter than this (true magnitude, per band).
    astrometry_ks_max
        Astrometric scatter uses stars with true Ks below this.
    pair_arcsec, off_tile_arcsec
        Cross-scan pairs are closer than ``pair_arcsec``; a scan whose centre lies more
        than ``off_tile_arcsec`` from its tile's centre is off its planned tile.
    """

    match_arcsec: float = 2.0
    match_sigmas: float = 3.0
    snr_min: float = 10.0
    avoid_ks: float = 8.0
    avoid_radius_arcsec: float = 30.0
    avoid_radius_per_mag: float = 0.2
    edge_margin_arcsec: float = 5.0
    bright_mag_max: float = 13.0
    astrometry_ks_max: float = 14.0
    pair_arcsec: float = 2.0
    off_tile_arcsec: float = 60.0

    def avoid_radius(self, ks: np.ndarray) -> np.ndarray:
        """Avoidance radius [arcsec] around stars of true magnitude ``ks``."""
        return self.avoid_radius_arcsec * 10.0 ** (self.avoid_radius_per_mag
                                                   * (self.avoid_ks - ks))


@dataclass(frozen=True)
class ValidationReport:
    """Table 2 measured on a simulated sky.

    Counts are of true stars (completeness) or catalog sources (reliability);
    ``photometry_sigma_mag`` maps band -> (robust sigma [mag], stars used).
    """

    name: str
    params: ValidationParams
    scans: int
    truth_rows: int
    truth_covered: int
    catalog_rows: int
    expected: int
    found: int
    in_avoidance: int
    in_gaps: int
    catalog_snr: int
    reliable: int
    reliable_minor_planets: int
    photometry_sigma_mag: dict[str, tuple[float, int]]
    astrometry_sigma_arcsec: float
    astrometry_stars: int
    pairs: list[CrossScanPair] = field(default_factory=list)
    off_tile_scans: list[ScanRef] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        return self.found / self.expected if self.expected else float("nan")

    @property
    def reliability(self) -> float:
        return self.reliable / self.catalog_snr if self.catalog_snr else float("nan")

    def targets(self) -> dict[str, bool]:
        """Each Table 2 figure -> whether the release meets it."""
        phot = [s for s, n in self.photometry_sigma_mag.values() if n]
        return {
            "completeness": self.completeness >= COMPLETENESS_TARGET,
            "reliability": self.reliability >= RELIABILITY_TARGET,
            "photometry": all(s < PHOTOMETRY_TARGET_MAG for s in phot),
            "astrometry": not self.astrometry_stars
            or self.astrometry_sigma_arcsec <= ASTROMETRY_TARGET_ARCSEC,
            "pairs": all(p.off_tile for p in self.pairs),
        }

    def lines(self) -> list[str]:
        """The report, one printable line each: measured values next to the targets."""
        ok = {k: "ok" if v else "MISSED" for k, v in self.targets().items()}
        p = self.params
        snr = f"S/N > {p.snr_min:g} in any band"

        def row(figure: str, measured: str, target: str, verdict: str, note: str = "") -> str:
            return f"  {figure:<36} {measured:>10}  {target:<14} {verdict:<7} {note}".rstrip()

        out = [
            f"validation of release {self.name}: {self.scans} chosen scans, "
            f"{self.truth_covered:,d} of {self.truth_rows:,d} true sources covered, "
            f"{self.catalog_rows:,d} catalog sources",
            row("figure", "measured", "target", ""),
            row(f"completeness ({snr})", _pct(self.completeness, 2), ">= 99%",
                ok["completeness"]),
            f"    {self.found:,d} of {self.expected:,d} true stars found within "
            f"{p.match_arcsec:g} arcsec; left out: {self.in_avoidance:,d} in bright-star "
            f"areas, {self.in_gaps:,d} in coverage gaps",
            row(f"reliability ({snr})", _pct(self.reliability, 3), ">= 99.95%",
                ok["reliability"]),
            f"    {self.reliable:,d} of {self.catalog_snr:,d} catalog sources match a true "
            f"source ({self.reliable_minor_planets:,d} of them minor planets)",
        ]
        for band in BANDS:
            sigma, n = self.photometry_sigma_mag[band]
            out.append(row(f"photometric scatter {band} (< {p.bright_mag_max:g} mag)",
                           _num(sigma, 3, " mag"), "< 0.03 mag",
                           ok["photometry"] if n else "-", f"({n:,d} stars)"))
        out.append(row(f"astrometric scatter (Ks < {p.astrometry_ks_max:g})",
                       _num(self.astrometry_sigma_arcsec * 1000, 0, " mas"), "<= 100 mas",
                       ok["astrometry"] if self.astrometry_stars else "-",
                       f"({self.astrometry_stars:,d} stars, 1 sigma per coordinate)"))
        attributed = sum(pair.off_tile for pair in self.pairs)
        out.append(row(f"cross-scan pairs < {p.pair_arcsec:g} arcsec", f"{len(self.pairs):,d}",
                       "off-tile only", ok["pairs"], f"({attributed} from off-tile scans)"))
        for pair in self.pairs:
            a, b = pair.scans
            why = "off-tile scan" if pair.off_tile else "NOT explained"
            out.append(f"    pts_key {pair.pts_keys[0]} ({a.label}, {a.off_tile_arcsec:.0f}"
                       f" arcsec off tile) - {pair.pts_keys[1]} ({b.label}, "
                       f"{b.off_tile_arcsec:.0f} arcsec off tile): {pair.sep_arcsec:.2f} "
                       f"arcsec, {why}")
        for scan in self.off_tile_scans:
            out.append(f"  chosen scan {scan.label} lies {scan.off_tile_arcsec:.0f} arcsec "
                       f"off its planned tile")
        return out

    def summary(self) -> str:
        """One line: the main figures and every missed target."""
        missed = [k for k, v in self.targets().items() if not v]
        verdict = "all targets met" if not missed else "MISSED: " + ", ".join(missed)
        return (f"release validate {self.name}: completeness {_pct(self.completeness, 2)}, "
                f"reliability {_pct(self.reliability, 3)}, {len(self.pairs)} cross-scan "
                f"pairs; {verdict}")


def _pct(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.{digits}f}%"


def _num(value: float, digits: int, unit: str) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}{unit}"


@dataclass(frozen=True)
class Comparison:
    """A release and its truth matched row by row: what Table 2 counts, and what its
    figures (completeness and reliability against magnitude, offsets from the truth)
    plot.

    Attributes
    ----------
    report
        The Table 2 figures.
    expected_mag, found
        True J H Ks [mag] (n, 3) of the stars completeness expects, and whether each has
        a catalog source within ``match_arcsec``.
    strong_mag, reliable
        Catalog J H Ks [mag] (m, 3) of the sources with S/N > ``snr_min`` in some band,
        and whether each matches a true source or a minor planet's path.
    star_ks, star_offset_arcsec
        True Ks [mag] of the matched stars and their catalog - true position offsets
        (RA x cos Dec, Dec) [arcsec], shape (k, 2).
    """

    report: ValidationReport
    expected_mag: np.ndarray
    found: np.ndarray
    strong_mag: np.ndarray
    reliable: np.ndarray
    star_ks: np.ndarray
    star_offset_arcsec: np.ndarray


def validate(db: Database, name: str, truth_path: str | Path,
             params: ValidationParams | None = None) -> ValidationReport:
    """Measure Table 2 of release ``name`` against the simulator's truth table.

    Raises
    ------
    ReleaseError
        No release of that name.
    ValidationError
        The truth file cannot be read or shares no scan with the release.
    """
    return compare(db, name, truth_path, params).report


def compare(db: Database, name: str, truth_path: str | Path,
            params: ValidationParams | None = None) -> Comparison:
    """Match release ``name`` to the simulator's truth table: Table 2 and the matches
    behind it (raises as ``validate`` does)."""
    params = params or ValidationParams()
    record = release.show(db, name)
    schema = record.schema_name
    edge = float(record.spec.get("psc_edge_arcsec", 10.0))
    with db.connection() as conn:
        scans = read_scans(conn, schema)
        truth = read_truth(Path(truth_path), scans, params.avoid_ks)
        used = np.unique(np.concatenate([truth.scan, truth.mp[:, 5].astype(np.int64)]))
        if len(used) == 0:
            raise ValidationError(f"{truth_path}: no true source lies in a scan release "
                                  f"{name} chose; is it the truth of this working database?")
        cat = read_catalog(conn, schema, scans.key[used])
    cat_xyz = unit_vectors(cat["ra"], cat["dec"])
    scan_of_row = np.searchsorted(scans.key, cat["scan_key"])

    # Completeness: true stars the release should hold.
    snr = 10.0 * 10.0 ** (-0.4 * (truth.mag - scans.msnr10[truth.scan]))
    bright = truth.star & (snr > params.snr_min).any(axis=1)
    in_area = truth.inside >= edge + params.edge_margin_arcsec
    avoided = np.zeros(len(truth.xyz), bool)
    avoided[bright & in_area] = in_avoidance(truth.xyz[bright & in_area], truth.parents_xyz,
                                             params.avoid_radius(truth.parents_ks),
                                             params.avoid_radius_arcsec)
    expected = np.flatnonzero(bright & in_area & ~avoided)
    match, _ = nearest_within(truth.xyz[expected], cat_xyz, params.match_arcsec)
    found = int((match >= 0).sum())

    # Reliability: catalog sources with S/N > 10 that are real.
    with np.errstate(invalid="ignore"):
        cat_snr = np.column_stack([cat[f"{b}_snr"] for b in BANDS]) > params.snr_min
    strong = np.flatnonzero(cat_snr.any(axis=1))
    radius = np.maximum(params.match_arcsec, params.match_sigmas * np.nan_to_num(cat["err_maj"]))
    truth_of, sep = nearest_within(cat_xyz, truth.xyz,
                                   float(radius.max()) if len(radius) else params.match_arcsec)
    real = (truth_of >= 0) & (sep < radius)
    lost = strong[~real[strong]]
    moving = minor_planet_matches(cat["jdate"], lost, cat_xyz, scan_of_row, truth.mp,
                                  params.match_arcsec)
    reliable = int(real[strong].sum() + moving.sum())
    strong_reliable = real[strong].copy()
    strong_reliable[~real[strong]] = moving

    # Photometric and astrometric scatter of matched stars.
    star_row = np.flatnonzero(real & (sep < params.match_arcsec))
    star_row = star_row[truth.star[truth_of[star_row]]]
    true_mag = truth.mag[truth_of[star_row]].astype(float)
    photometry = {}
    for k, band in enumerate(BANDS):
        fitted = cat["rd_flg"][star_row, k] == "2"
        use = fitted & (true_mag[:, k] < params.bright_mag_max)
        diff = cat[f"{band}_m"][star_row[use]] - true_mag[use, k]
        photometry[band] = (robust_sigma(diff[np.isfinite(diff)]), int(use.sum()))
    astro = sep[star_row[true_mag[:, 2] < params.astrometry_ks_max]]
    true_xyz = truth.xyz[truth_of[star_row]]
    true_ra = np.degrees(np.arctan2(true_xyz[:, 1], true_xyz[:, 0]))
    true_dec = np.degrees(np.arcsin(np.clip(true_xyz[:, 2], -1, 1)))
    d_ra = (cat["ra"][star_row] - true_ra + 180.0) % 360.0 - 180.0
    offsets = np.column_stack([d_ra * np.cos(np.radians(true_dec)),
                               cat["dec"][star_row] - true_dec]) * 3600.0
    astro_sigma = float(np.median(astro) / RAYLEIGH_MEDIAN) if len(astro) else float("nan")

    # Catalog pairs from different scans.
    pairs = cross_scan_pairs(cat_xyz, cat["pts_key"], scan_of_row, scans.refs,
                             params.pair_arcsec, params.off_tile_arcsec)
    off_tile = [scans.refs[s] for s in used
                if scans.refs[s].off_tile_arcsec > params.off_tile_arcsec]

    report = ValidationReport(
        name=name, params=params, scans=len(used), truth_rows=truth.rows,
        truth_covered=len(truth.xyz) + len(np.unique(truth.mp[:, :3], axis=0)),
        catalog_rows=len(cat_xyz), expected=len(expected), found=found,
        in_avoidance=int((bright & in_area & avoided).sum()),
        in_gaps=int((bright & ~in_area).sum()) + truth.uncovered_bright,
        catalog_snr=len(strong), reliable=reliable,
        reliable_minor_planets=int(moving.sum()), photometry_sigma_mag=photometry,
        astrometry_sigma_arcsec=astro_sigma, astrometry_stars=len(astro), pairs=pairs,
        off_tile_scans=off_tile)
    return Comparison(
        report=report, expected_mag=truth.mag[expected].astype(float), found=match >= 0,
        strong_mag=np.column_stack([cat[f"{b}_m"] for b in BANDS])[strong],
        reliable=strong_reliable, star_ks=true_mag[:, 2], star_offset_arcsec=offsets)
