"""Schema revisions: migrations create exactly the metadata, and mismatches are refused."""

from __future__ import annotations

import dataclasses

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
                "include_object": lambda obj, name, type_, *_: not (
                    type_ == "table" and (obj.schema not in {"wdb", "twomass_meta"}
                                          or name == "alembic_version")
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
