"""The demonstration path: initialize the database and report what it holds."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from twomass import database, revision
from twomass.schema import metadata


@dataclass(frozen=True)
class DemoReport:
    """Outcome of ``run``.

    Attributes
    ----------
    status
        Database status after initialization.
    table_rows
        Row count of every working-database table, by qualified name.
    """

    status: revision.DatabaseStatus
    table_rows: dict[str, int]


def table_rows(url: str) -> dict[str, int]:
    """Row count of every ``wdb`` table."""
    counts = {}
    with database.connection(url) as conn:
        for table in metadata.sorted_tables:
            if table.schema != "wdb":
                continue
            query = sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(table.schema, table.name)
            )
            counts[table.fullname] = conn.execute(query).fetchone()[0]
    return counts


def run(url: str) -> DemoReport:
    """Bring the database to the head revision and count its working rows."""
    revision.init(url)
    status = revision.require_current(url)
    return DemoReport(status=status, table_rows=table_rows(url))
