"""Hand-built working databases for the release-rule tests.

``WdbBuilder`` inserts nights, tiles, scans and extractions straight into ``wdb.*`` with
known geometry: scans are rectangles given by centre and size, and the distances of a
source to the scan edges are computed here with numpy (independently of the SQL), so a
test states each scenario in sky coordinates and knows the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
import pytest

from twomass.core.database import Database
from twomass.core.healpix import ang2hpx

ARCSEC = 1 / 3600.0


def unit(ra: float, dec: float) -> np.ndarray:
    r, d = np.radians(ra), np.radians(dec)
    return np.array([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])


@dataclass
class Scan:
    """A scan rectangle: corners 1 = east/start, 2 = west/start, 3 = east/end, 4 = west/end."""

    scan_key: int
    tile: int
    ra: float
    dec: float
    width: float
    height: float
    corners: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        half_ra = self.width / 2 / np.cos(np.radians(self.dec))
        south, north = self.dec - self.height / 2, self.dec + self.height / 2
        east, west = self.ra + half_ra, self.ra - half_ra
        self.corners = [(east, south), (west, south), (east, north), (west, north)]

    def edge_distance(self, ra: float, dec: float) -> tuple[float, float, str]:
        """(dist_ns, dist_ew) [arcsec] to the great-circle edges and dist_edge_flg."""
        p = unit(ra, dec)
        c = [unit(*xy) for xy in self.corners]
        centre = sum(c)

        def signed(a: np.ndarray, b: np.ndarray) -> float:
            n = np.cross(a, b)
            n /= np.linalg.norm(n)
            return float(np.sign(n @ centre) * np.degrees(np.arcsin(n @ p)) * 3600)

        south, north = signed(c[0], c[1]), signed(c[2], c[3])
        east, west = signed(c[0], c[2]), signed(c[1], c[3])
        flag = ("s" if south <= north else "n") + ("e" if east <= west else "w")
        return min(south, north), min(east, west), flag


GOOD_SOURCE: dict[str, Any] = {
    "err_maj": 0.1, "err_min": 0.08, "err_ang": 45,
    "j_m": 14.0, "j_cmsig": 0.03, "j_msigcom": 0.035, "j_snr": 60.0,
    "h_m": 13.5, "h_cmsig": 0.03, "h_msigcom": 0.035, "h_snr": 60.0,
    "k_m": 13.2, "k_cmsig": 0.04, "k_msigcom": 0.045, "k_snr": 40.0,
    "rd_flg": "222", "bl_flg": "111", "cc_flg": "000", "ndet": "666666", "cnf_flg": "000000",
    "mp_flg": 0, "x_scan": 0.0, "y_scan": 0.0, "jdate": 2451000.5,
    "j_psfchi": 1.0, "h_psfchi": 1.0, "k_psfchi": 1.0, "coadd": 1, "a": "0", "nopt_mchs": 0,
}


class WdbBuilder:
    """Collects working-database rows of a scenario and inserts them in one go."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.url = db.url
        self.scans: dict[int, Scan] = {}
        self._scan_rows: list[dict[str, Any]] = []
        self._pts: list[dict[str, Any]] = []
        self._ext: list[dict[str, Any]] = []
        self._stars: list[dict[str, Any]] = []
        self._next_id: dict[int, int] = {}
        self._date = dt.date(1999, 1, 1)

    def scan(self, tile: int, ra: float, dec: float, *, width: float = 8.5 / 60,
             height: float = 1.0, qual: int = 10, number: int | None = None,
             **columns: Any) -> Scan:
        """Add a scan of ``tile`` centred at (ra, dec) [deg], width x height [deg]."""
        key = len(self.scans) + 1
        scan = Scan(key, tile, ra, dec, width, height)
        self.scans[key] = scan
        row = {"scan_key": key, "hemis": "n", "date": self._date, "scan": number or key,
               "tile": tile, "ra": ra, "dec": dec, "hpx": int(ang2hpx(ra, dec)),
               "sd": "n", "qual": qual, "jdate": 2451179.5 + key / 100,
               "j_msnr10": 15.8, "h_msnr10": 15.1, "k_msnr10": 14.3,
               "j_zp_ap": 20.0, "h_zp_ap": 20.0, "k_zp_ap": 19.5,
               "j_psp": 1.0, "h_psp": 1.0, "k_psp": 1.0}
        for i, (cra, cdec) in enumerate(scan.corners, start=1):
            row[f"ra_{i}"], row[f"dec_{i}"] = cra, cdec
        row.update(columns)
        self._scan_rows.append(row)
        return scan

    def pts(self, scan: Scan, ra: float, dec: float, **columns: Any) -> tuple[int, int]:
        """Add a point extraction of ``scan``; returns its (scan_key, id)."""
        ident = self._next_id.get(scan.scan_key, 0) + 1
        self._next_id[scan.scan_key] = ident
        ns, ew, flag = scan.edge_distance(ra, dec)
        row = dict(GOOD_SOURCE, scan_key=scan.scan_key, id=ident, ra=ra % 360, dec=dec,
                   hpx=int(ang2hpx(ra % 360, dec)), dist_edge_ns=int(ns), dist_edge_ew=int(ew),
                   dist_edge_flg=flag)
        row.update(columns)
        self._pts.append(row)
        return scan.scan_key, ident

    def ext(self, scan: Scan, ra: float, dec: float, **columns: Any) -> tuple[int, int]:
        """Add an extended extraction of ``scan``; returns its (scan_key, id)."""
        ident = 1 + sum(1 for r in self._ext if r["scan_key"] == scan.scan_key)
        ns, ew, flag = scan.edge_distance(ra, dec)
        row = {"scan_key": scan.scan_key, "id": ident, "coadd": 1, "ra": ra, "dec": dec,
               "hpx": int(ang2hpx(ra, dec)), "jdate": 2451000.5, "r_k20fe": 8.0,
               "k_msig_k20fe": 0.05, "e_score": 1.1, "g_score": 1.2, "cc_flg": "0",
               "dist_edge_ns": int(ns), "dist_edge_ew": int(ew), "dist_edge_flg": flag,
               "mp_flg": 0}
        row.update(columns)
        self._ext.append(row)
        return scan.scan_key, ident

    def bright_star(self, ident: int, ra: float, dec: float, ks: float) -> None:
        """Add a star of the bright-star list (J and H 0.2 and 0.1 mag fainter)."""
        self._stars.append({"id": ident, "ra": ra % 360, "dec": dec,
                            "hpx": int(ang2hpx(ra % 360, dec)), "j_m": ks + 0.2,
                            "h_m": ks + 0.1, "k_m": ks})

    def commit(self) -> None:
        """Insert everything collected (tiles and a night are made up from the scans)."""
        with psycopg.connect(self.url) as conn:
            night_key = conn.execute(
                "INSERT INTO wdb.night (hemis, date, pipeline_version) VALUES ('n', %s, 'test') "
                "RETURNING night_key", (self._date,)).fetchone()[0]
            tiles = {}
            for row in self._scan_rows:
                tiles.setdefault(row["tile"], row)
            known = {t for (t,) in conn.execute("SELECT tile FROM wdb.tile").fetchall()}
            for tile, row in tiles.items():
                if tile in known:  # (a later night's scan of a tile)
                    continue
                _insert(conn, "wdb.tile", {
                    "tile": tile, "dec_band": 0, "ra": row["ra"], "dec": row["dec"],
                    "hpx": row["hpx"],
                    **{k: row[k] for k in row if k[:3] in ("ra_", "dec")
                       and k not in ("dec",)}})
            for row in self._scan_rows:
                _insert(conn, "wdb.scan", {"night_key": night_key, **row}, overriding=True)
            for row in self._pts:
                _insert(conn, "wdb.pts", row)
            for row in self._ext:
                _insert(conn, "wdb.ext", row)
            for row in self._stars:
                _insert(conn, "wdb.bright_star", {"night_key": night_key, **row})


def _insert(conn: psycopg.Connection, table: str, row: dict[str, Any],
            overriding: bool = False) -> None:
    from psycopg import sql

    schema, name = table.split(".")
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) {} VALUES ({})").format(
            sql.Identifier(schema, name),
            sql.SQL(", ").join(sql.Identifier(k) for k in row),
            sql.SQL("OVERRIDING SYSTEM VALUE" if overriding else ""),
            sql.SQL(", ").join(sql.Placeholder() for _ in row)),
        list(row.values()))


@pytest.fixture
def wdb(db: Database) -> Iterator[WdbBuilder]:
    """An empty working database at head revision and a builder for it."""
    yield WdbBuilder(db)
