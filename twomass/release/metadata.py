"""Column metadata in the database: comments on the release tables and the public views.

``twomass.schema.catalogs`` is the one definition of every catalog column's unit, UCD
and description; this module writes it as ``COMMENT ON COLUMN`` (``\\d+ psc`` shows it),
so the documentation travels with the data. Comments are catalog metadata, not table
content, so the release checksums do not see them.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from twomass.release.registry import ReleaseError
from twomass.schema import catalogs

#: Tables that store the rows of a reject view, without the columns the view computes.
_STORED_ROWS = {"psc_reject_row": "psc_reject", "xsc_reject_row": "xsc_reject"}


def describe_release(conn: psycopg.Connection, schema: str) -> None:
    """Comment every release relation of ``schema`` and every column of it.

    Runs in the caller's transaction (the build's), so a release never exists without
    its comments.

    Raises
    ------
    ReleaseError
        A release column that ``twomass.schema.catalogs`` does not describe: its meaning
        must be written down before a release carries it.
    """
    relations = {name: name for name in catalogs.RELEASE_TABLES} | _STORED_ROWS
    statements = []
    for relation, definition in relations.items():
        described = {c.name: c for c in catalogs.RELEASE_TABLES[definition]}
        table_comment = catalogs.TABLE_DESCRIPTIONS[definition]
        if relation in _STORED_ROWS:
            table_comment = f"Stored rows of view {definition}. {table_comment}"
        statements.append(sql.SQL("COMMENT ON {} {} IS {}").format(
            sql.SQL("VIEW" if _is_view(conn, schema, relation) else "TABLE"),
            sql.Identifier(schema, relation), sql.Literal(table_comment)))
        for column, _ in _column_comments(conn, schema, relation):
            if column not in described:
                raise ReleaseError(f"column {relation}.{column} has no unit, UCD and "
                                   "description in twomass.schema.catalogs")
            statements.append(_comment_on_column(schema, relation, column,
                                                 described[column].comment))
    conn.execute(sql.SQL("; ").join(statements))


def copy_column_comments(conn: psycopg.Connection, source: tuple[str, str],
                         target: tuple[str, str]) -> None:
    """Give every column of relation ``target`` the comment of its namesake in ``source``.

    ``CREATE OR REPLACE VIEW`` keeps a view's old column comments; copying them from the
    release it now shows keeps them true (a column without a comment there loses its
    comment here).
    """
    conn.execute(sql.SQL("; ").join(
        _comment_on_column(*target, column, comment)
        for column, comment in _column_comments(conn, *source)))


def _comment_on_column(schema: str, relation: str, column: str,
                       comment: str | None) -> sql.Composed:
    return sql.SQL("COMMENT ON COLUMN {} IS {}").format(
        sql.Identifier(schema, relation, column), sql.Literal(comment))


def _column_comments(conn: psycopg.Connection, schema: str,
                     relation: str) -> list[tuple[str, str | None]]:
    """``(name, comment)`` of every column of ``schema.relation``, in column order."""
    return conn.execute(
        "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (sql.Identifier(schema, relation).as_string(conn),)).fetchall()


def _is_view(conn: psycopg.Connection, schema: str, relation: str) -> bool:
    row = conn.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass",
                       (sql.Identifier(schema, relation).as_string(conn),)).fetchone()
    return row[0] == "v"
