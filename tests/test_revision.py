"""Schema revisions: migrations create exactly the metadata, and mismatches are refused."""

from __future__ import annotations

import dataclasses
import re

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from twomass import demo
from twomass.core import database
from twomass.core.database import Database
from twomass.core.errors import DatabaseNotReady
from twomass.migrations import revision
from twomass.schema import metadata


def test_upgrade_head_on_empty_database_matches_metadata(empty_db: Database) -> None:
    before, after = revision.init(empty_db)
    assert before.revision is None
    assert after.revision == revision.head_revision()
    with database.engine(empty_db.url).connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                # (the sky partitions of wdb.pts and wdb.ext are no tables of the metadata)
                "include_object": lambda obj, name, type_, *_: not (
                    type_ == "table" and (obj.schema not in {"wdb", "twomass_meta"}
                                          or name == "alembic_version"
                                          or re.fullmatch(r"(pts|ext)_p\d+", name))
                ),
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_frozen_settings_recorded(db: Database) -> None:
    status = revision.status(db)
    assert (status.healpix_order, status.healpix_scheme) == (29, "NESTED")
    assert status.problem is None


def test_init_is_idempotent(db: Database) -> None:
    before, after = revision.init(db)
    assert before == after


def test_empty_database_names_init(empty_db: Database) -> None:
    status = revision.status(empty_db)
    assert status.revision is None
    assert "twomass db init" in status.problem
    with pytest.raises(DatabaseNotReady, match="twomass db init"):
        revision.require_current(empty_db)


def test_upgrade_refuses_uninitialized_database(empty_db: Database) -> None:
    with pytest.raises(DatabaseNotReady, match="twomass db init"):
        revision.upgrade(empty_db)
    assert revision.status(empty_db).revision is None


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def test_other_healpix_order_refused_and_nothing_written(db: Database) -> None:
    _execute(db.url, "UPDATE twomass_meta.database SET healpix_order = 12")
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12.*twomass db init"):
        revision.require_current(db)
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12"):
        revision.upgrade(db)
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12"):
        demo.run(db)
    with psycopg.connect(db.url) as conn:
        assert conn.execute("SELECT code_version, healpix_order FROM twomass_meta.database"
                            ).fetchone()[1] == 12


def test_older_revision_names_upgrade(db: Database) -> None:
    current = revision.status(db)
    behind = dataclasses.replace(current, head="9999")  # as seen by a newer code version
    assert "run `twomass db upgrade`" in behind.problem


def test_downgrade_to_base_then_init(db: Database) -> None:
    with database.engine(db.url).begin() as conn:
        command.downgrade(revision.alembic_config(conn), "base")
    assert revision.status(db).revision is None
    with psycopg.connect(db.url) as conn:
        assert conn.execute("SELECT to_regnamespace('wdb')").fetchone()[0] is None
    revision.init(db)
    assert revision.status(db).problem is None


def test_unknown_revision_refused(db: Database) -> None:
    _execute(db.url, "UPDATE twomass_meta.alembic_version SET version_num = 'ffff'")
    with pytest.raises(DatabaseNotReady, match="unknown to twomass"):
        revision.require_current(db)
    with pytest.raises(DatabaseNotReady, match="unknown to twomass"):
        revision.upgrade(db)


def test_partition_order_recorded_and_another_setting_refused(db: Database) -> None:
    from twomass.core.settings import DEFAULT_PARTITION_ORDER, Settings

    assert revision.status(db).partition_order == DEFAULT_PARTITION_ORDER
    other = (DEFAULT_PARTITION_ORDER + 1) % 5
    with Database(db.url, partition_order=other) as wrong:
        with pytest.raises(DatabaseNotReady, match=(
                f"partitioned by sky at HEALPix order {DEFAULT_PARTITION_ORDER}, this "
                f"program is set to partitioned by sky at HEALPix order {other}.*"
                f"set TWOMASS_PARTITION_ORDER={DEFAULT_PARTITION_ORDER}")):
            revision.require_current(wrong)
        with pytest.raises(DatabaseNotReady, match="TWOMASS_PARTITION_ORDER"):
            revision.upgrade(wrong)
    with Database(db.url, partition_order=None) as plain:
        with pytest.raises(DatabaseNotReady, match="this program is set to with plain tables"):
            revision.require_current(plain)
    with Database(db.url, partition_order=DEFAULT_PARTITION_ORDER) as same:
        assert revision.require_current(same).problem is None
    assert Settings(partition_order="none").partition_order is None
    assert Settings(partition_order="3").partition_order == 3
    with pytest.raises(ValueError, match="'none' or an order from 0 to 4"):
        Settings(partition_order="9")


@pytest.mark.parametrize("order", [None, 0, 2])
def test_upgrade_partitions_an_existing_database_and_keeps_its_rows(
        empty_db_url: str, order: int | None) -> None:
    """A database at the revision before the partitions, with rows, upgraded to head:
    the same rows, now in the partitions of their pixels (healpy the oracle)."""
    import healpy as hp
    import numpy as np

    from twomass.core.healpix import ang2hpx

    with Database(empty_db_url) as db, database.engine(db.url).begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS twomass_meta")
        command.upgrade(revision.alembic_config(conn), "20261215")
    rng = np.random.default_rng(3)
    ra, dec = rng.uniform(0, 360, 500), np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    with psycopg.connect(empty_db_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO twomass_meta.database (healpix_order, healpix_scheme, "
                    "created_by_version, code_version) VALUES (29, 'NESTED', 'x', 'x') "
                    "ON CONFLICT DO NOTHING")
        with cur.copy("COPY wdb.ext (scan_key, id, coadd, ra, dec, hpx, jdate, e_score, "
                      "g_score, cc_flg, dist_edge_ns, dist_edge_ew, dist_edge_flg) "
                      "FROM STDIN") as copy:
            for i, h in enumerate(ang2hpx(ra, dec)):
                copy.write_row([1, i, 1, ra[i], dec[i], int(h), 2451000.5, 1.5, 1.5, "0",
                                5, 5, "ne"])
        before = cur.execute("SELECT count(*), sum(hash_record_extended(t, 0)) "
                             "FROM wdb.ext AS t").fetchone()
    with Database(empty_db_url, partition_order=order) as db:
        _, after = revision.upgrade(db)
    assert (after.revision, after.partition_order, after.problem) == (
        revision.head_revision(), order, None)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*), sum(hash_record_extended(t, 0)) "
                            "FROM wdb.ext AS t").fetchone() == before
        rows = conn.execute("SELECT tableoid::regclass::text, ra, dec FROM wdb.ext").fetchall()
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'wdb' "
                               "AND tablename = 'ext'").fetchall()
    assert sorted(indexes) == [("ix_ext_hpx",), ("ix_ext_scan_key",)]
    names = [r[0] for r in rows]
    if order is None:
        assert set(names) == {"wdb.ext"}
    else:
        pixel = hp.ang2pix(1 << order, [r[1] for r in rows], [r[2] for r in rows],
                           nest=True, lonlat=True)
        assert names == [f"wdb.ext_p{p}" for p in pixel]
