"""Fixtures of the spatial tests: a database at head revision shared by a module,
and loaders for point tables (psycopg ``cursor.copy``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from psycopg import sql

from twomass.core import database, healpix


@pytest.fixture(scope="module")
def spatial_url(admin_url: str, template_db: str) -> Iterator[str]:
    """A database of this test module's own, copied from the head-revision template."""
    url = database.create_database(admin_url, "twomass_spatial", template_db)
    yield url
    database.drop_database(admin_url, url)


def load_points(conn: psycopg.Connection, table: str, ra: np.ndarray, dec: np.ndarray) -> None:
    """Create ``table (id, ra, dec, hpx)`` with a B-tree on hpx, rows in hpx order."""
    hpx = healpix.ang2hpx(ra, dec)
    conn.execute(sql.SQL(
        "CREATE TABLE {} (id integer PRIMARY KEY, ra float8 NOT NULL, dec float8 NOT NULL, "
        "hpx bigint NOT NULL)").format(sql.Identifier(table)))
    order = np.argsort(hpx, kind="stable")
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} (id, ra, dec, hpx) FROM STDIN").format(
            sql.Identifier(table))) as copy:
        for i in order:
            copy.write_row((int(i), float(ra[i]), float(dec[i]), int(hpx[i])))
    conn.execute(sql.SQL("CREATE INDEX ON {} (hpx)").format(sql.Identifier(table)))
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions uniform on the sphere [deg]."""
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def offsets(ra0: float, dec0: float, sep_deg: np.ndarray, pa_deg: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Positions at separations ``sep_deg`` and position angles ``pa_deg`` from a centre."""
    a, d = np.radians(ra0), np.radians(dec0)
    s, b = np.radians(sep_deg), np.radians(pa_deg)
    x = np.cos(d) * np.cos(a) * np.cos(s) + (-np.sin(d) * np.cos(a) * np.cos(b)
                                             - np.sin(a) * np.sin(b)) * np.sin(s)
    y = np.cos(d) * np.sin(a) * np.cos(s) + (-np.sin(d) * np.sin(a) * np.cos(b)
                                             + np.cos(a) * np.sin(b)) * np.sin(s)
    z = np.sin(d) * np.cos(s) + np.cos(d) * np.cos(b) * np.sin(s)
    return np.degrees(np.arctan2(y, x)) % 360, np.degrees(np.arctan2(z, np.hypot(x, y)))
