"""What a release holds for validation: its chosen scans and their catalog rows.

Rows are read in chunks through a server-side cursor and kept as NumPy columns, so
memory grows with the rows (about 100 bytes each), not with the table's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from twomass.core.sphere import edge_normals
from twomass.qa import ValidationError

CATALOG_FETCH_ROWS = 20_000
#: The Point Source Catalog columns the comparison needs.
CATALOG_COLUMNS = ("pts_key", "scan_key", "ra", "dec", "j_m", "h_m", "k_m", "j_snr", "h_snr",
                   "k_snr", "err_maj", "jdate", "rd_flg")


@dataclass(frozen=True)
class ScanRef:
    """A chosen scan: its name and how far its centre lies from its planned tile's."""

    scan_key: int
    label: str  # YYMMDD + hemis + scan number, as 2MASS names scans
    off_tile_arcsec: float


@dataclass
class Scans:
    """A release's chosen scans, indexed 0..S-1 in ``scan_key`` order."""

    key: np.ndarray  # scan_key
    code: np.ndarray  # scan_code of (date, hemis, scan)
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


def scan_code(days: np.ndarray, south: np.ndarray, number: np.ndarray) -> np.ndarray:
    """One integer per (date [days since 1970], hemisphere, nightly scan number)."""
    return ((days.astype(np.int64) * 2 + south.astype(np.int64)) << 16) + number.astype(np.int64)


def read_scans(conn: psycopg.Connection, schema: str) -> Scans:
    """The chosen scans of the release in ``schema``, with their distance off their tile."""
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
    code = scan_code(np.array([r[2] for r in rows]), np.array([r[1] == "s" for r in rows]),
                     np.array([r[3] for r in rows]))
    offset = np.array([np.nan if r[8] is None else r[8] for r in rows], float)
    refs = [ScanRef(int(r[0]), f"{r[9]}{r[1]} scan {r[3]}", float(off))
            for r, off in zip(rows, offset, strict=True)]
    corner_deg = np.array([r[10:18] for r in rows], float)
    return Scans(key, code, np.array([r[4] for r in rows], float),
                 np.array([r[5:8] for r in rows], float),
                 edge_normals(corner_deg[:, 0::2], corner_deg[:, 1::2]), refs)


def read_catalog(conn: psycopg.Connection, schema: str, scan_keys: np.ndarray
                 ) -> dict[str, np.ndarray]:
    """``CATALOG_COLUMNS`` of the catalog rows of ``scan_keys``.

    ``rd_flg`` becomes one read-flag character per band, shape (n, 3).
    """
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
    cat["rd_flg"] = np.asarray(cat["rd_flg"], "U3").view("U1").reshape(-1, 3)
    return cat
