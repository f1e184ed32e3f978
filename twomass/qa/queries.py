"""The QA reports' SQL: named statements of ``sql/qa/*.sql`` and how they are run.

Each file holds sections that start with ``-- name: NAME``; parameters are psycopg's
``%(name)s`` placeholders, so values are bound, never pasted into the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from twomass.core.database import Database
from twomass.sql import statements as sql_statements


def statements(file: str) -> dict[str, str]:
    """Named statements of ``sql/qa/<file>.sql``."""
    return sql_statements(f"qa/{file}.sql")


class Session:
    """One transaction of report queries over the statements of one file."""

    def __init__(self, conn: psycopg.Connection, file: str) -> None:
        self.conn = conn
        self.file = file

    def rows(self, name: str, **params: Any) -> list[tuple]:
        """All rows of statement ``name`` run with ``params``."""
        cur = self.conn.execute(statements(self.file)[name], params or None)
        return cur.fetchall() if cur.description else []

    def records(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of statement ``name`` as column -> value dictionaries."""
        cur = self.conn.execute(statements(self.file)[name], params or None)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@contextmanager
def session(db: Database, file: str, schema: str | None = None) -> Iterator[Session]:
    """A read transaction whose unqualified table names are those of ``schema`` (a
    release's ``rel_<name>``) when given; rolled back at the end, as it writes only
    temporary tables."""
    with db.connection() as conn:
        try:
            if schema is not None:
                conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(
                    sql.Identifier(schema)))
            yield Session(conn, file)
        finally:
            conn.rollback()
