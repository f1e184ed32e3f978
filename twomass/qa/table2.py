"""Validation against truth: the survey paper's Table 2 measured on a simulated sky.

``validate(url, name, truth_path)`` matches release ``name``'s Point Source Catalog to
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

Only chosen scans that the truth file lists are validated, so a working database
holding other data too can be checked against one simulated region. Memory grows with
the rows kept (about 100 bytes per catalog row and per true source covered by the
release), never with the columns of the tables; matching is a grid hash of unit
vectors processed in chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg import sql

from twomass import release
from twomass.core import sphere
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.core.sphere import nearest_within, pairs_within, unit_vectors

ARCSEC = math.pi / 180.0 / 3600.0  # radians
BANDS = "jhk"
#: Table 2 targets: completeness and reliability for S/N > 10 in any band, photometric
#: precision for bright stars [mag], astrometric accuracy for Ks < 14 [arcsec].
COMPLETENESS_TARGET = 0.99
RELIABILITY_TARGET = 0.9995
PHOTOMETRY_TARGET_MAG = 0.03
ASTROMETRY_TARGET_ARCSEC = 0.100
RAYLEIGH_MEDIAN = math.sqrt(2.0 * math.log(2.0))
MAD_TO_SIGMA = 1.4826
#: The survey's S/N = 10 requirement, J H Ks [mag] (Skrutskie et al. 2006, sec. 5.2.7):
#: a star no chosen scan covers counts as a coverage-gap star when brighter in one band.
REQUIRED_SNR10_MAG = np.array([15.8, 15.1, 14.3], np.float32)
TRUTH_BATCH_ROWS = 50_000
CATALOG_FETCH_ROWS = 20_000

STATIC_TYPES = ("star", "artifact_parent", "galaxy")
STAR_TYPES = ("star", "artifact_parent")


class ValidationError(TwomassError):
    """The truth file or the release cannot be compared."""


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
class ScanRef:
    """A chosen scan: its name and how far its centre lies from its planned tile's."""

    scan_key: int
    label: str  # YYMMDD + hemis + scan number, as 2MASS names scans
    off_tile_arcsec: float


@dataclass(frozen=True)
class CrossScanPair:
    """Two catalog sources from different scans closer than ``pair_arcsec``."""

    pts_keys: tuple[int, int]
    sep_arcsec: float
    scans: tuple[ScanRef, ScanRef]
    off_tile: bool  # one of the scans lies off its planned tile


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


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation (NaN when empty)."""
    if len(values) == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(values - np.median(values))))


# --- the release's scans ----------------------------------------------------------------

@dataclass
class _Scans:
    """Chosen scans, indexed 0..S-1 in ``scan_key`` order."""

    key: np.ndarray  # scan_key
    code: np.ndarray  # _scan_code of (hemis, date, scan)
    jdate: np.ndarray
    msnr10: np.ndarray  # (S, 3) J H Ks S/N = 10 magnitudes
    normals: np.ndarray  # (S, 4, 3) inward unit normals of the four edges
    refs: list[ScanRef]

    def index_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Scan index of each code, -1 for scans the release did not choose."""
        order = np.argsort(self.code)
        pos = np.minimum(np.searchsorted(self.code[order], codes), len(order) - 1)
        return np.where(self.code[order][pos] == codes, order[pos], -1)

    def inside_arcsec(self, scan: np.ndarray, xyz: np.ndarray) -> np.ndarray:
        """Distance [arcsec] inside the edges of ``scan`` (negative outside), per row."""
        dots = np.einsum("pkc,pc->pk", self.normals[scan], xyz)
        return np.degrees(np.arcsin(np.clip(dots.min(axis=1), -1, 1))) * 3600.0


def _scan_code(days: np.ndarray, south: np.ndarray, number: np.ndarray) -> np.ndarray:
    """One integer per (date [days since 1970], hemisphere, nightly scan number)."""
    return ((days.astype(np.int64) * 2 + south.astype(np.int64)) << 16) + number.astype(np.int64)


def _edge_normals(corners: np.ndarray) -> np.ndarray:
    """(S, 4, 3) inward normals of the great circles through the 3-band corners.

    Corners are 1 east/start, 2 west/start, 3 east/end, 4 west/end; the edges are the
    start (1-2), end (3-4), east (1-3) and west (2-4) sides.
    """
    c = [unit_vectors(corners[:, 2 * k], corners[:, 2 * k + 1]) for k in range(4)]
    centre = c[0] + c[1] + c[2] + c[3]
    normals = []
    for a, b in ((0, 1), (2, 3), (0, 2), (1, 3)):
        n = np.cross(c[a], c[b])
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        n *= np.sign(np.sum(n * centre, axis=1))[:, None]
        normals.append(n)
    return np.stack(normals, axis=1)


def _read_scans(conn, schema: str) -> _Scans:
    corners = sql.SQL(", ").join(sql.Identifier("s", f"{c}_{k}")
                                 for k in range(1, 5) for c in ("ra", "dec"))
    rows = conn.execute(sql.SQL(
        "SELECT s.scan_key, s.hemis, s.date - DATE '1970-01-01', s.scan, s.jdate, "
        "s.j_msnr10, s.h_msnr10, s.k_msnr10, "
        "degrees(acos(least(1, sin(radians(s.dec)) * sin(radians(t.dec)) + "
        "cos(radians(s.dec)) * cos(radians(t.dec)) * cos(radians(s.ra - t.ra))))) * 3600, "
        "to_char(s.date, 'YYMMDD'), {corners} "
        "FROM {scan_info} AS s LEFT JOIN wdb.tile AS t ON t.tile = s.tile "
        "ORDER BY s.scan_key").format(
            corners=corners, scan_info=sql.Identifier(schema, "scan_info"))).fetchall()
    if not rows:
        raise ValidationError(f"release schema {schema} has no chosen scans")
    key = np.array([r[0] for r in rows], np.int64)
    code = _scan_code(np.array([r[2] for r in rows]), np.array([r[1] == "s" for r in rows]),
                      np.array([r[3] for r in rows]))
    offset = np.array([np.nan if r[8] is None else r[8] for r in rows], float)
    refs = [ScanRef(int(r[0]), f"{r[9]}{r[1]} scan {r[3]}", float(off))
            for r, off in zip(rows, offset, strict=True)]
    return _Scans(key, code, np.array([r[4] for r in rows], float),
                  np.array([r[5:8] for r in rows], float),
                  _edge_normals(np.array([r[10:18] for r in rows], float)), refs)


# --- the truth --------------------------------------------------------------------------

@dataclass
class _Truth:
    """True sources covered by chosen scans (static ones, minor planets) and bright stars."""

    rows: int = 0
    uncovered_bright: int = 0  # stars no chosen scan covers, brighter than the requirement
    xyz: list = field(default_factory=list)
    mag: list = field(default_factory=list)  # float32 (n, 3)
    star: list = field(default_factory=list)  # bool: star, not galaxy
    scan: list = field(default_factory=list)  # chosen scan the source lies farthest inside
    inside: list = field(default_factory=list)  # how far inside it [arcsec]
    parents_xyz: list = field(default_factory=list)
    parents_ks: list = field(default_factory=list)
    mp: list = field(default_factory=list)  # (ra, dec, epoch_jd, ra_rate, dec_rate, scan)

    def concat(self) -> None:
        for name in ("xyz", "mag", "star", "scan", "inside", "parents_xyz", "parents_ks", "mp"):
            parts = getattr(self, name)
            width = {"xyz": (0, 3), "mag": (0, 3), "parents_xyz": (0, 3), "mp": (0, 6)}
            setattr(self, name, np.concatenate(parts) if parts
                    else np.zeros(width.get(name, (0,))))


TRUTH_COLUMNS = ["type", "ra", "dec", "j_m", "h_m", "k_m", "epoch_jd", "ra_rate", "dec_rate",
                 "scans"]


def _read_truth(path: Path, scans: _Scans, params: ValidationParams) -> _Truth:
    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: cannot read the truth table: {exc}") from None
    missing = set(TRUTH_COLUMNS) - set(file.schema_arrow.names)
    if missing:
        raise ValidationError(f"{path}: not a truth table, no column {', '.join(sorted(missing))}")
    truth = _Truth()
    for batch in file.iter_batches(TRUTH_BATCH_ROWS, columns=TRUTH_COLUMNS):
        n = batch.num_rows
        truth.rows += n
        kind = batch.column("type").to_numpy(zero_copy_only=False)
        mag = np.column_stack([batch.column(f"{b}_m").to_numpy(zero_copy_only=False)
                               for b in BANDS]).astype(np.float32)
        xyz = unit_vectors(batch.column("ra").to_numpy(), batch.column("dec").to_numpy())
        is_star = np.isin(kind, STAR_TYPES)
        bright = is_star & (mag[:, 2] < params.avoid_ks)
        truth.parents_xyz.append(xyz[bright])
        truth.parents_ks.append(mag[bright, 2].astype(float))
        # (row, chosen scan) for every scan listed as covering the row.
        refs = batch.column("scans")
        parent = pc.list_parent_indices(refs).to_numpy()
        flat = pc.list_flatten(refs)
        codes = _scan_code(flat.field("date").cast("int32").to_numpy(zero_copy_only=False),
                           pc.equal(flat.field("hemis"), "s").to_numpy(zero_copy_only=False),
                           flat.field("scan").to_numpy(zero_copy_only=False))
        chosen = scans.index_of_codes(codes)
        row, scan = parent[chosen >= 0], chosen[chosen >= 0]
        uncovered = np.ones(n, bool)
        uncovered[row] = False
        truth.uncovered_bright += int((uncovered & is_star
                                       & (mag < REQUIRED_SNR10_MAG).any(axis=1)).sum())
        static = np.isin(kind, STATIC_TYPES)
        keep = static[row]
        r, s = row[keep], scan[keep]
        inside = scans.inside_arcsec(s, xyz[r])
        order = np.lexsort((-inside, r))
        first = np.ones(len(order), bool)
        first[1:] = r[order][1:] != r[order][:-1]
        best = order[first]
        rows = r[best]
        truth.xyz.append(xyz[rows])
        truth.mag.append(mag[rows])
        truth.star.append(is_star[rows])
        truth.scan.append(s[best])
        truth.inside.append(inside[best].astype(np.float32))
        moving = ~keep & (kind[row] == "minor_planet")
        if moving.any():
            m = row[moving]
            truth.mp.append(np.column_stack(
                [batch.column(c).to_numpy(zero_copy_only=False)[m].astype(float)
                 for c in ("ra", "dec", "epoch_jd", "ra_rate", "dec_rate")]
                + [scan[moving].astype(float)]))
    truth.concat()
    return truth


# --- the catalog ------------------------------------------------------------------------

CATALOG_COLUMNS = ("pts_key", "scan_key", "ra", "dec", "j_m", "h_m", "k_m", "j_snr", "h_snr",
                   "k_snr", "err_maj", "jdate", "rd_flg")


def _read_catalog(conn, schema: str, scan_keys: np.ndarray) -> dict[str, np.ndarray]:
    """The catalog columns the comparison needs, of the validated scans, in chunks."""
    parts: dict[str, list] = {c: [] for c in CATALOG_COLUMNS}
    query = sql.SQL("SELECT {} FROM {} WHERE scan_key = ANY(%s)").format(
        sql.SQL(", ").join(map(sql.Identifier, CATALOG_COLUMNS)),
        sql.Identifier(schema, "psc"))
    with conn.cursor(name="validate_psc") as cur:
        cur.execute(query, ([int(k) for k in scan_keys],))
        while rows := cur.fetchmany(CATALOG_FETCH_ROWS):
            for i, name in enumerate(CATALOG_COLUMNS):
                values = [r[i] for r in rows]
                parts[name].append(np.array(values, dtype="U3" if name == "rd_flg" else float))
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    cat["pts_key"] = cat["pts_key"].astype(np.int64)
    cat["scan_key"] = cat["scan_key"].astype(np.int64)
    # One read flag character per band: (n, 3).
    cat["rd_flg"] = np.asarray(cat["rd_flg"], "U3").view("U1").reshape(-1, 3)
    return cat


# --- the comparison ---------------------------------------------------------------------

def _in_avoidance(xyz: np.ndarray, parents_xyz: np.ndarray, parents_ks: np.ndarray,
                  params: ValidationParams) -> np.ndarray:
    """Rows of ``xyz`` inside some bright star's avoidance disc.

    Parents are matched in tiers of doubling radius, so that a few very bright stars do
    not make the grid cells of every other search huge.
    """
    hit = np.zeros(len(xyz), bool)
    if len(parents_xyz) == 0:
        return hit
    radius = params.avoid_radius(parents_ks)
    tier = np.floor(np.log2(np.maximum(radius / params.avoid_radius_arcsec, 1.0)))
    for t in np.unique(tier):
        group = np.flatnonzero(tier == t)
        i, j, sep = pairs_within(xyz, parents_xyz[group], float(radius[group].max()))
        hit[i[sep < radius[group][j]]] = True
    return hit


def _minor_planet_matches(cat: dict[str, np.ndarray], rows: np.ndarray, xyz: np.ndarray,
                          scan_of_row: np.ndarray, mp: np.ndarray,
                          params: ValidationParams) -> np.ndarray:
    """Catalog ``rows`` within the match radius of a minor planet's path during the scan.

    The path runs from the scan's start (its first catalog row's time) to its end.
    """
    hit = np.zeros(len(rows), bool)
    by_scan: dict[int, np.ndarray] = {}
    for s in np.unique(scan_of_row[rows]):
        by_scan[int(s)] = np.flatnonzero(scan_of_row[rows] == s)
    jd = cat["jdate"]
    for ra, dec, epoch, ra_rate, dec_rate, s in mp:
        mine = by_scan.get(int(s))
        if mine is None:
            continue
        in_scan = scan_of_row == int(s)
        t0, t1 = float(np.nanmin(jd[in_scan])), float(np.nanmax(jd[in_scan]))
        ends = unit_vectors(ra + ra_rate * (np.array([t0, t1]) - epoch),
                            dec + dec_rate * (np.array([t0, t1]) - epoch))
        q = xyz[rows[mine]]
        step = ends[1] - ends[0]
        u = np.clip((q - ends[0]) @ step / max(float(step @ step), 1e-300), 0.0, 1.0)
        chord = np.linalg.norm(q - (ends[0] + u[:, None] * step), axis=1)
        hit[mine[chord < sphere.chord_length(params.match_arcsec)]] = True
    return hit


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
    params = params or ValidationParams()
    record = release.show(db, name)
    schema = record.schema_name
    edge = float(record.spec.get("psc_edge_arcsec", 10.0))
    with db.connection() as conn:
        scans = _read_scans(conn, schema)
        truth = _read_truth(Path(truth_path), scans, params)
        used = np.unique(np.concatenate([truth.scan, truth.mp[:, 5].astype(np.int64)]))
        if len(used) == 0:
            raise ValidationError(f"{truth_path}: no true source lies in a scan release "
                                  f"{name} chose; is it the truth of this working database?")
        cat = _read_catalog(conn, schema, scans.key[used])
    cat_xyz = unit_vectors(cat["ra"], cat["dec"])
    scan_of_row = np.searchsorted(scans.key, cat["scan_key"])

    # Completeness: true stars the release should hold.
    snr = 10.0 * 10.0 ** (-0.4 * (truth.mag - scans.msnr10[truth.scan]))
    bright = truth.star & (snr > params.snr_min).any(axis=1)
    in_area = truth.inside >= edge + params.edge_margin_arcsec
    avoided = np.zeros(len(truth.xyz), bool)
    avoided[bright & in_area] = _in_avoidance(truth.xyz[bright & in_area], truth.parents_xyz,
                                              truth.parents_ks, params)
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
    moving = _minor_planet_matches(cat, lost, cat_xyz, scan_of_row, truth.mp, params)
    reliable = int(real[strong].sum() + moving.sum())

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
    astro_sigma = float(np.median(astro) / RAYLEIGH_MEDIAN) if len(astro) else float("nan")

    # Catalog pairs from different scans.
    i, j, pair_sep = pairs_within(cat_xyz, cat_xyz, params.pair_arcsec)
    cross = (i < j) & (cat["scan_key"][i] != cat["scan_key"][j])
    first = np.where(cat["pts_key"][i] < cat["pts_key"][j], i, j)[cross]
    second = np.where(cat["pts_key"][i] < cat["pts_key"][j], j, i)[cross]
    pairs = []
    for a, b, s in sorted(zip(first, second, pair_sep[cross], strict=True),
                          key=lambda p: (cat["pts_key"][p[0]], cat["pts_key"][p[1]])):
        ref_a, ref_b = scans.refs[scan_of_row[a]], scans.refs[scan_of_row[b]]
        off = any(r.off_tile_arcsec > params.off_tile_arcsec for r in (ref_a, ref_b))
        pairs.append(CrossScanPair((int(cat["pts_key"][a]), int(cat["pts_key"][b])), float(s),
                                   (ref_a, ref_b), off))
    off_tile = [scans.refs[s] for s in used
                if scans.refs[s].off_tile_arcsec > params.off_tile_arcsec]

    return ValidationReport(
        name=name, params=params, scans=len(used), truth_rows=truth.rows,
        truth_covered=len(truth.xyz) + len(np.unique(truth.mp[:, :3], axis=0)),
        catalog_rows=len(cat_xyz), expected=len(expected), found=found,
        in_avoidance=int((bright & in_area & avoided).sum()),
        in_gaps=int((bright & ~in_area).sum()) + truth.uncovered_bright,
        catalog_snr=len(strong), reliable=reliable,
        reliable_minor_planets=int(moving.sum()), photometry_sigma_mag=photometry,
        astrometry_sigma_arcsec=astro_sigma, astrometry_stars=len(astro), pairs=pairs,
        off_tile_scans=off_tile)
