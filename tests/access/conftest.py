"""A hand-built published catalog: ``public.psc`` and ``public.xsc`` as tables of the
release layout (the column types the cone functions return), filled with random rows
with random NULLs in a disc around (10, 20), a patch across RA 0 and the one real 2MASS
row of ``tests/data/access/psc_aaa_line1.psv``, so each test knows every row."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from twomass.core import database, healpix
from twomass.core.database import Database

DATA = Path(__file__).parent.parent / "data" / "access"
REAL_LINE = (DATA / "psc_aaa_line1.psv").read_text().rstrip("\n")
#: Columns never NULL in the scene (positions, keys, names).
ALPHABET = string.ascii_lowercase + string.digits
NOT_NULL = {"ra", "dec", "hpx", "pts_key", "ext_key", "designation"}


@dataclass
class Scene:
    url: str
    db: Database
    columns: dict[str, list[tuple[str, str]]]  # catalog -> [(name, type)]


def layout(function: str) -> list[tuple[str, str]]:
    """(name, SQL type) of the rows a cone function returns, less dist_arcsec, as
    ``sql/cone.sql`` declares them (the catalog keeps no char(n) width of a result)."""
    text = resources.files("twomass.sql").joinpath("cone.sql").read_text()
    start = text.index(f"FUNCTION public.{function}(")
    start = text.index("RETURNS TABLE (", start) + len("RETURNS TABLE (")
    inner = " ".join(text[start:text.index(")\nLANGUAGE", start)].split())
    pairs = [item.strip().split(" ", 1) for item in inner.split(", ")]
    return [(name.strip('"'), kind) for name, kind in pairs if name != "dist_arcsec"]


def random_positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two thirds in a 1-deg disc around (10, 20), a third in a patch across RA 0."""
    k = 2 * n // 3
    r = np.degrees(np.arccos(rng.uniform(np.cos(np.radians(1.0)), 1, k)))
    pa = rng.uniform(0, 2 * np.pi, k)
    dec1 = 20 + r * np.cos(pa)
    ra1 = 10 + r * np.sin(pa) / np.cos(np.radians(dec1))
    ra2 = rng.uniform(-1.0, 1.5, n - k) % 360
    dec2 = rng.uniform(-31, -29, n - k)
    return np.concatenate([ra1, ra2]), np.concatenate([dec1, dec2])


def random_value(rng: np.random.Generator, name: str, kind: str) -> object:
    if name not in NOT_NULL and rng.random() < 0.15:
        return None
    if kind == "double precision":
        return float(rng.uniform(2451000, 2452000)) if name == "jdate" else float(
            rng.uniform(0, 360))
    if kind == "real":
        return float(np.float32(rng.normal(10, 5)))
    if kind == "smallint":
        return int(rng.integers(-5, 360))
    if kind == "integer":
        return int(rng.integers(-1000, 10**6))
    if kind == "bigint":
        return int(rng.integers(0, 2**40))
    if kind == "date":
        return dt.date(1997, 6, 1) + dt.timedelta(days=int(rng.integers(0, 1500)))
    if kind.startswith("character"):
        width = int(kind[kind.index("(") + 1:-1])
        return "".join(ALPHABET[i] for i in rng.integers(0, len(ALPHABET), width))
    raise AssertionError(f"no generator for {kind}")


def fill(conn: psycopg.Connection, table: str, columns: list[tuple[str, str]], key: str,
         rng: np.random.Generator, n: int, first_key: int) -> None:
    ra, dec = random_positions(rng, n)
    hpx = healpix.ang2hpx(ra, dec)
    names = [c for c, _ in columns]
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier("public", table),
            sql.SQL(", ").join(map(sql.Identifier, names)))) as copy:
        for i in range(n):
            row = {name: random_value(rng, name, kind) for name, kind in columns}
            row |= {"ra": float(ra[i]), "dec": float(dec[i]), "hpx": int(hpx[i]),
                    key: first_key + i}
            copy.write_row([row[c] for c in names])


def create(conn: psycopg.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
        sql.Identifier("public", table),
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k))
                           for n, k in columns)))


@pytest.fixture(scope="session")
def scene(admin_url: str, template_db: str) -> Iterator[Scene]:
    url = database.create_database(admin_url, "twomass_access", template_db)
    rng = np.random.default_rng(18)
    with psycopg.connect(url) as conn:
        columns = {"psc": layout("psc_cone"), "xsc": layout("xsc_cone")}
        for table in columns:
            create(conn, table, columns[table])
        # The real row as the bulk file has it (60 columns), with its hpx.
        real = REAL_LINE.split("|")
        real_hpx = int(healpix.ang2hpx(float(real[0]), float(real[1])))
        with conn.cursor() as cur, cur.copy(
                "COPY public.psc FROM STDIN (FORMAT text, DELIMITER '|')") as copy:
            copy.write(f"{REAL_LINE}|{real_hpx}\n")
        fill(conn, "psc", columns["psc"], "pts_key", rng, 3000, 1)
        fill(conn, "xsc", columns["xsc"], "ext_key", rng, 600, 1)
        for table in columns:
            conn.execute(sql.SQL("CREATE INDEX ON {} (hpx)").format(
                sql.Identifier("public", table)))
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("public", table)))
    with Database(url) as db:
        yield Scene(url, db, columns)
    database.drop_database(admin_url, url)


def rows_of(scene: Scene, query: str, params: tuple = ()) -> list[dict]:
    """The oracle: rows as psycopg reads them, as dicts."""
    with psycopg.connect(scene.url) as conn, conn.cursor(
            row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query, params).fetchall()
