"""Migration 0002 installs and removes the spatial functions and provisional views."""

from __future__ import annotations

import psycopg
from alembic import command

from twomass import database, revision

SPATIAL = ("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
           "AND (proname LIKE 'hpx\\_%' OR proname LIKE '\\_hpx\\_%' "
           "OR proname IN ('psc_cone', 'xsc_cone', 'wdb_cone', 'psc_nearest'))")


def test_every_function_is_documented_and_declares_its_properties(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT proname, obj_description(oid, 'pg_proc'), provolatile, proparallel "
            "FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND (proname LIKE '%hpx%' OR proname LIKE '%cone' OR proname = 'psc_nearest')"
        ).fetchall()
    assert len(rows) >= 20
    for name, comment, volatility, parallel in rows:
        assert comment, f"{name} has no COMMENT"
        assert volatility in ("i", "s") and parallel == "s", name


def test_downgrade_removes_and_upgrade_restores_the_spatial_api(db_url: str) -> None:
    with database.engine(db_url).begin() as conn:
        command.downgrade(revision.alembic_config(conn), "0001")
    with psycopg.connect(db_url) as conn:
        assert conn.execute(SPATIAL).fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('public.psc')").fetchone()[0] is None
    with database.engine(db_url).begin() as conn:
        command.upgrade(revision.alembic_config(conn), "head")
    with psycopg.connect(db_url) as conn:
        assert conn.execute(SPATIAL).fetchone()[0] >= 20
        assert conn.execute("SELECT count(*) FROM psc_cone(0, 0, 1)").fetchone()[0] == 0
