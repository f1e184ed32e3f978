"""Partitioning by sky: every row lies in the partition of its order-k pixel (healpy is
the oracle), and a small cone reads one partition: pruned when planned for constant
ranges (hpx_radial_query), when run for the ranges of hpx_cone_ranges (psc_cone,
wdb_cone: generic plans). The rows found are the brute-force ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import healpy as hp
import numpy as np
import psycopg
import pytest
from psycopg import sql

from twomass import release
from twomass.core import database, healpix
from twomass.core.database import Database
from twomass.core.settings import DEFAULT_PARTITION_ORDER

from .conftest import random_sky

K = DEFAULT_PARTITION_ORDER
N = 30_000
PARTITIONED = ("wdb.pts", "wdb.ext", "rel_p.psc", "rel_p.psc_reject_row", "rel_p.xsc",
               "rel_p.xsc_reject_row")
#: NOT NULL columns of wdb.pts other than the position, with values.
PTS_REQUIRED = {"scan_key": 1, "err_maj": 0.1, "err_min": 0.1, "err_ang": 0, "rd_flg": "222",
                "bl_flg": "111", "cc_flg": "000", "ndet": "666666", "cnf_flg": "000000",
                "x_scan": 0.0, "y_scan": 0.0, "jdate": 2451000.5, "dist_edge_ns": 10,
                "dist_edge_ew": 10, "dist_edge_flg": "ne", "coadd": 1}


@dataclass
class Sky:
    url: str
    ra: np.ndarray
    dec: np.ndarray


@pytest.fixture(scope="module")
def sky(admin_url: str, template_db: str) -> Iterator[Sky]:
    """The same N random points in wdb.pts and in the published psc of release p."""
    url = database.create_database(admin_url, "twomass_spatial", template_db)
    ra, dec = random_sky(np.random.default_rng(20), N)
    hpx = healpix.ang2hpx(ra, dec)
    with Database(url) as db:
        release.build(db, "p", progress=False)  # empty, published: the catalog layout
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        names = ["id", "ra", "dec", "hpx", *PTS_REQUIRED]
        with cur.copy(f"COPY wdb.pts ({', '.join(names)}) FROM STDIN") as copy:
            for i in range(N):
                copy.write_row([i, ra[i], dec[i], int(hpx[i]), *PTS_REQUIRED.values()])
        with cur.copy("COPY rel_p.psc (pts_key, ra, dec, hpx) FROM STDIN") as copy:
            for i in range(N):
                copy.write_row([i, ra[i], dec[i], int(hpx[i])])
        cur.execute("ANALYZE wdb.pts")
        cur.execute("ANALYZE rel_p.psc")
    yield Sky(url, ra, dec)
    database.drop_database(admin_url, url)


def brute_force(sky: Sky, ra0: float, dec0: float, radius_deg: float) -> int:
    a, d, a0, d0 = map(np.radians, (sky.ra, sky.dec, ra0, dec0))
    hav = np.sin((d - d0) / 2) ** 2 + np.cos(d) * np.cos(d0) * np.sin((a - a0) / 2) ** 2
    return int(np.sum(hav < np.sin(np.radians(radius_deg) / 2) ** 2))


def pixel_centre(pixel: int) -> tuple[float, float]:
    ra, dec = hp.pix2ang(1 << K, pixel, nest=True, lonlat=True)
    return float(ra), float(dec)


def test_every_table_has_one_partition_per_pixel_and_rows_in_their_pixel(sky: Sky) -> None:
    with psycopg.connect(sky.url) as conn:
        for table in PARTITIONED:
            parts = conn.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass",
                (table,)).fetchone()[0]
            assert parts == 12 * 4 ** K, table
        for table in ("wdb.pts", "rel_p.psc"):
            rows = conn.execute(f"SELECT tableoid::regclass::text, ra, dec FROM {table}"
                                ).fetchall()
            where = np.array([r[0].rsplit("_p", 1)[1] for r in rows], dtype=np.int64)
            pixel = hp.ang2pix(1 << K, np.array([r[1] for r in rows]),
                               np.array([r[2] for r in rows]), nest=True, lonlat=True)
            assert len(rows) == N and np.array_equal(where, pixel), table



def test_a_partitioned_table_is_repartitioned_at_another_order_and_back(sky: Sky) -> None:
    """_hpx_repartition from one order to another, to plain tables and back: the rows
    kept, each in its healpy pixel's partition, the partitions' names reused."""
    with psycopg.connect(sky.url) as conn:
        conn.execute("CREATE TABLE public.moved AS SELECT id, ra, dec, hpx FROM wdb.pts")
        conn.execute("CREATE INDEX moved_hpx ON public.moved (hpx)")
        for k in (K, K + 1, None, K):
            conn.execute("CALL public._hpx_repartition('public.moved', %s)", (k,))
            rows = conn.execute("SELECT tableoid::regclass::text, ra, dec FROM public.moved"
                                ).fetchall()
            assert len(rows) == N, k
            names = {r[0] for r in rows}
            if k is None:
                assert names == {"moved"}
                continue
            where = np.array([r[0].rsplit("_p", 1)[1] for r in rows], dtype=np.int64)
            pixel = hp.ang2pix(1 << k, np.array([r[1] for r in rows]),
                               np.array([r[2] for r in rows]), nest=True, lonlat=True)
            assert np.array_equal(where, pixel), k
            assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                "'public.moved'::regclass").fetchone()[0] == 12 * 4 ** k
            assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE "
                                "'moved%%old'").fetchone()[0] == 0
        conn.rollback()


def _relations(plan: dict) -> set[str]:
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= _relations(child)
    return found


@pytest.mark.parametrize("radius_arcsec", [2.0, 60.0, 600.0, 3600.0])
@pytest.mark.parametrize("table, parent", [("wdb.pts", "pts"), ("public.psc", "psc")])
def test_a_constant_cone_is_planned_on_one_partition(sky: Sky, table: str, parent: str,
                                                     radius_arcsec: float) -> None:
    pixel = 12 * 4 ** K // 3 + 1
    ra0, dec0 = pixel_centre(pixel)
    query = (f"SELECT count(*) FROM {table} "
             "WHERE hpx_radial_query(hpx, ra, dec, %s, %s, %s)")
    params = (ra0, dec0, radius_arcsec / 3600)
    with psycopg.connect(sky.url) as conn:
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()[0]
        count = conn.execute(query, params).fetchone()[0]
    assert _relations(plan[0]["Plan"]) == {f"{parent}_p{pixel}"}
    assert count == brute_force(sky, ra0, dec0, radius_arcsec / 3600)


def _index_scans(conn: psycopg.Connection, index: str) -> dict[str, int]:
    """idx_scan of each partition's index of the partitioned index ``index``."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return dict(conn.execute(
        "SELECT s.relname, s.idx_scan FROM pg_inherits AS i "
        "JOIN pg_stat_user_indexes AS s ON s.indexrelid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass", (index,)).fetchall())


@pytest.mark.parametrize("function, index, parent", [
    ("wdb_cone", "wdb.ix_pts_hpx", "pts"), ("psc_cone", "rel_p.psc_hpx_idx", "psc")])
def test_a_cone_function_reads_one_partition(sky: Sky, function: str, index: str,
                                             parent: str) -> None:
    """Run-time pruning: the generic plan joins hpx_cone_ranges to every partition; the
    statistics show which partitions' indexes the cones scanned."""
    pixel = 12 * 4 ** K // 2 + 3
    ra0, dec0 = pixel_centre(pixel)
    with psycopg.connect(sky.url, autocommit=True) as conn, \
            psycopg.connect(sky.url, autocommit=True) as reader:
        before = _index_scans(reader, index)
        for radius_arcsec in (2.0, 60.0, 600.0, 3600.0):
            count = conn.execute(f"SELECT count(*) FROM {function}(%s, %s, %s)",
                                 (ra0, dec0, radius_arcsec)).fetchone()[0]
            assert count == brute_force(sky, ra0, dec0, radius_arcsec / 3600)
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT 1")  # (the flush comes when the session goes idle)
        after = _index_scans(reader, index)
    scanned = {name for name in after if after[name] > before[name]}
    assert scanned == {f"{parent}_p{pixel}"}


def test_the_cone_statement_starts_only_the_partitions_of_the_cover_span(sky: Sky) -> None:
    """The statement shape of the cone functions (sql/cone.sql), prepared with a generic
    plan: the cover's span, given as parameters, removes the other partitions before the
    executor starts them (initial pruning); only the cone's partition is in the plan."""
    pixel = 7
    ra0, dec0 = pixel_centre(pixel)
    with psycopg.connect(sky.url) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(
            "PREPARE cone(bigint[], bigint[], bigint, bigint) AS SELECT count(*) "
            "FROM unnest($1, $2) AS c (lo, hi) CROSS JOIN LATERAL ("
            "SELECT 1 FROM wdb.pts AS p WHERE _hpx_in_range(p.hpx, c.lo, c.hi) "
            "AND p.hpx BETWEEN $3 AND $4 OFFSET 0) AS t")
        lows, highs = zip(*conn.execute("SELECT lo, hi FROM hpx_cone_ranges(%s, %s, 0.05)",
                                        (ra0, dec0)).fetchall(), strict=True)
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE cone({}, {}, {}, {})")
                            .format(sql.Literal(list(lows)), sql.Literal(list(highs)),
                                    sql.Literal(min(lows)), sql.Literal(max(highs)))
                            ).fetchone()[0]
    scans: dict[str, int] = {}
    removed = []

    def walk(node: dict) -> None:
        if node.get("Relation Name", "").startswith("pts_p"):
            scans[node["Relation Name"]] = node["Actual Loops"]
        if "Subplans Removed" in node:
            removed.append(node["Subplans Removed"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    assert scans.keys() == {f"pts_p{pixel}"} and scans[f"pts_p{pixel}"] == len(lows)
    assert removed == [12 * 4 ** K - 1]
