"""Migrations are history: head equals what the code defines, and downgrades undo it.

The oracle of the drift test is the code itself: ``schema/`` (``metadata.create_all``)
and the function files of ``sql/`` run on an empty database. A database migrated to head
must hold the same tables, columns, comments, constraints, indexes and function
definitions (``pg_get_functiondef``), so an edit of ``sql/`` or ``schema/`` without a
revision that carries it fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from alembic import command

from twomass import sql
from twomass.cli import main
from twomass.core.database import Database
from twomass.core.settings import DEFAULT_PARTITION_ORDER
from twomass.migrations import revision
from twomass.schema import metadata

OWNED = "('wdb', 'twomass_meta')"

CATALOG = {
    "relations": f"""
        SELECT n.nspname, c.relname, c.relkind, obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN {OWNED} AND c.relname NOT LIKE 'alembic_version%'
        ORDER BY 1, 2""",
    "columns": f"""
        SELECT table_schema, table_name, ordinal_position, column_name, data_type,
               character_maximum_length, is_nullable, column_default, is_identity,
               identity_generation,
               col_description(format('%I.%I', table_schema, table_name)::regclass,
                               ordinal_position)
        FROM information_schema.columns
        WHERE table_schema IN {OWNED} AND table_name <> 'alembic_version'
        ORDER BY 1, 2, 3""",
    "constraints": f"""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace::regnamespace::text IN {OWNED}
          AND conrelid::regclass::text NOT LIKE '%alembic_version%'
        ORDER BY 1, 2""",
    "indexes": f"""
        SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname IN {OWNED} AND tablename <> 'alembic_version'
        ORDER BY 1, 2, 3""",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid),
               obj_description(p.oid, 'pg_proc')
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        ORDER BY 1""",
}


def catalog(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in CATALOG.items()}


def create_from_code(db: Database) -> None:
    """What the code's ``schema/`` and ``sql/`` define, on an empty database."""
    with db.engine().begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA twomass_meta")
        conn.exec_driver_sql("CREATE SCHEMA wdb")
        metadata.create_all(conn)
        for name in sql.FUNCTION_FILES:
            sql.execute(conn, sql.read(name))
        for table in ("wdb.pts", "wdb.ext"):  # the layout db init gives by default
            conn.exec_driver_sql(
                f"CALL public._hpx_repartition('{table}', {DEFAULT_PARTITION_ORDER})")


def test_head_holds_exactly_what_the_code_defines(db: Database, empty_db: Database) -> None:
    create_from_code(empty_db)
    migrated, defined = catalog(db.url), catalog(empty_db.url)
    assert len(defined["functions"]) > 30 and len(defined["columns"]) > 200
    for part in CATALOG:
        only_migrated = sorted(set(migrated[part]) - set(defined[part]))
        only_defined = sorted(set(defined[part]) - set(migrated[part]))
        assert (only_migrated, only_defined) == ([], []), part


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(db: Database) -> None:
    head = catalog(db.url)
    with db.engine().begin() as conn:
        command.downgrade(revision.alembic_config(conn), "base")
    assert revision.status(db).revision is None
    after_downgrade = catalog(db.url)
    assert after_downgrade["functions"] == [] and after_downgrade["columns"] == []
    revision.init(db)
    assert revision.status(db).problem is None
    assert catalog(db.url) == head


def test_downgrade_also_removes_releases_and_public_views(db: Database) -> None:
    from twomass import release

    release.build(db, "empty", progress=False)
    with db.engine().begin() as conn:
        command.downgrade(revision.alembic_config(conn), "base")
    with psycopg.connect(db.url) as conn:
        left = conn.execute(
            "SELECT to_regnamespace('rel_empty'), to_regclass('public.psc'), "
            "to_regnamespace('wdb')").fetchone()
    assert left == (None, None, None)


@pytest.mark.parametrize("old", ["0001", "0008"])
def test_a_database_from_before_the_baseline_is_told_how_to_re_create_it(
        db: Database, old: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(db.url) as conn:
        conn.execute("UPDATE twomass_meta.alembic_version SET version_num = %s", (old,))
    assert main(["--db", db.url, "db", "check"]) == 1
    out = capsys.readouterr().out
    assert f"schema revision {old}" in out and "twomass db init" in out
    assert "twomass ingest" in out
    assert main(["--db", db.url, "db", "upgrade"]) == 2
    assert "twomass db init" in capsys.readouterr().err


def test_revisions_read_only_their_frozen_files() -> None:
    versions = Path(revision.alembic_config().get_main_option("script_location")) / "versions"
    revisions = sorted(versions.glob("*.py"))
    assert any(path.stem.endswith("_baseline") for path in revisions)
    for path in [*revisions, versions.parent / "frozen.py"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"twomass\.sql|from twomass import sql|twomass\.schema", text), \
            f"{path.name} reads today's sql/ or schema/"


def test_every_public_function_is_documented_and_declares_its_properties(db: Database) -> None:
    with psycopg.connect(db.url) as conn:
        rows = conn.execute(
            "SELECT proname, obj_description(oid, 'pg_proc'), provolatile, proparallel "
            "FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND proname NOT LIKE '\\_%'").fetchall()
    assert len(rows) >= 20
    for name, comment, volatility, parallel in rows:
        assert comment, f"{name} has no COMMENT"
        assert volatility in ("i", "s") and parallel == "s", name
