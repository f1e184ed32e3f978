"""A release built from a working database partitioned by sky is the release built from
plain tables: the same content checksum, and catalogs that take the working database's
layout."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from twomass import release
from twomass.core import database
from twomass.core.database import Database
from twomass.core.settings import DEFAULT_PARTITION_ORDER
from twomass.migrations import revision

from .conftest import WdbBuilder
from .test_build import _region

CATALOG_TABLES = ("psc", "psc_reject_row", "xsc", "xsc_reject_row")


def _layout(url: str, schema: str) -> dict[str, tuple[str, int]]:
    """relkind and partition count of the catalog tables of ``schema``."""
    with psycopg.connect(url) as conn:
        return {t: conn.execute(
            "SELECT c.relkind, (SELECT count(*) FROM pg_inherits WHERE inhparent = c.oid) "
            "FROM pg_class AS c WHERE c.oid = %s::regclass", (f"{schema}.{t}",)).fetchone()
            for t in CATALOG_TABLES}


@pytest.fixture
def plain(admin_url: str) -> Any:
    """A working database of plain tables (partition order none) and its builder."""
    url = database.create_database(admin_url, "twomass_test")
    with Database(url, partition_order=None) as db:
        revision.init(db)
        yield WdbBuilder(db)
    database.drop_database(admin_url, url)


def test_partitioned_and_plain_working_databases_give_the_same_release(
        wdb: Any, plain: Any) -> None:
    assert revision.status(wdb.db).partition_order == DEFAULT_PARTITION_ORDER
    assert revision.status(plain.db).partition_order is None
    records = {}
    for builder in (wdb, plain):
        _region(builder, n_sources=150, seed=5)
        records[builder] = release.build(builder.db, "r", progress=False)
    parted, flat = records[wdb], records[plain]
    assert parted.counts["psc"] > 100 and parted.counts["psc_reject"] > 10
    assert (parted.content_checksum, parted.wdb_checksum, parted.counts) == (
        flat.content_checksum, flat.wdb_checksum, flat.counts)
    parts = 12 * 4 ** DEFAULT_PARTITION_ORDER
    assert _layout(wdb.url, "rel_r") == dict.fromkeys(CATALOG_TABLES, ("p", parts))
    assert _layout(plain.url, "rel_r") == dict.fromkeys(CATALOG_TABLES, ("r", 0))
    # The published view, the cone search and the key lookups read both alike.
    for builder in (wdb, plain):
        with psycopg.connect(builder.url) as conn:
            records[builder] = conn.execute(
                "SELECT count(*), sum(pts_key), (SELECT count(*) FROM psc_cone(10.1, 0.4, 900)),"
                " (SELECT count(*) FROM psc WHERE pts_key = 7) FROM psc").fetchone()
    assert records[wdb] == records[plain] and records[wdb][2] > 0
