"""Schema revisions: migrations create exactly the metadata, and mismatches are refused."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from twomass import database, demo, revision
from twomass.errors import DatabaseNotReady
from twomass.schema import metadata


def test_upgrade_head_on_empty_database_matches_metadata(empty_db_url: str) -> None:
    before, after = revision.init(empty_db_url)
    assert before.revision is None
    assert after.revision == revision.head_revision()
    with database.engine(empty_db_url).connect() as conn:
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


def test_frozen_settings_recorded(db_url: str) -> None:
    status = revision.status(db_url)
    assert (status.healpix_order, status.healpix_scheme) == (29, "NESTED")
    assert status.problem is None


def test_init_is_idempotent(db_url: str) -> None:
    before, after = revision.init(db_url)
    assert before == after


def test_empty_database_names_init(empty_db_url: str) -> None:
    status = revision.status(empty_db_url)
    assert status.revision is None
    assert "twomass db init" in status.problem
    with pytest.raises(DatabaseNotReady, match="twomass db init"):
        revision.require_current(empty_db_url)


def test_upgrade_refuses_uninitialized_database(empty_db_url: str) -> None:
    with pytest.raises(DatabaseNotReady, match="twomass db init"):
        revision.upgrade(empty_db_url)
    assert revision.status(empty_db_url).revision is None


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def test_other_healpix_order_refused_and_nothing_written(db_url: str) -> None:
    _execute(db_url, "UPDATE twomass_meta.database SET healpix_order = 12")
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12.*twomass db init"):
        revision.require_current(db_url)
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12"):
        revision.upgrade(db_url)
    with pytest.raises(DatabaseNotReady, match="HEALPix order 12"):
        demo.run(db_url)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT code_version, healpix_order FROM twomass_meta.database"
                            ).fetchone()[1] == 12


def test_older_revision_names_upgrade(db_url: str) -> None:
    current = revision.status(db_url)
    behind = dataclasses.replace(current, head="9999")  # as seen by a newer code version
    assert "run `twomass db upgrade`" in behind.problem


def test_downgrade_to_base_then_init(db_url: str) -> None:
    with database.engine(db_url).begin() as conn:
        command.downgrade(revision.alembic_config(conn), "base")
    assert revision.status(db_url).revision is None
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT to_regnamespace('wdb')").fetchone()[0] is None
    revision.init(db_url)
    assert revision.status(db_url).problem is None


def test_unknown_revision_refused(db_url: str) -> None:
    _execute(db_url, "UPDATE twomass_meta.alembic_version SET version_num = 'ffff'")
    with pytest.raises(DatabaseNotReady, match="unknown to twomass"):
        revision.require_current(db_url)
    with pytest.raises(DatabaseNotReady, match="unknown to twomass"):
        revision.upgrade(db_url)
