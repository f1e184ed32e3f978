"""Publishing: point the public views at one release, in one transaction.

The views are replaced in place (``CREATE OR REPLACE VIEW``), never dropped, so the
cone-search functions and any view a user made on ``psc`` keep working across
publishes. That needs every release to have the same column layout, which releases
built by one code version have; a release of another layout is refused by name.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from twomass.core.database import Database
from twomass.release.metadata import copy_column_comments
from twomass.release.registry import (
    ReleaseError,
    ReleaseRecord,
    _lock,
    _registry_row,
    _schema_exists,
    schema_for,
    show,
)

#: Public views that show the published release, one per release table.
PUBLIC_VIEWS = ("psc", "xsc", "scan_info", "psc_reject", "xsc_reject")


def publish(db: Database, name: str) -> ReleaseRecord:
    """Point the public views at release ``name`` in one transaction.

    The views take the column comments (unit, UCD, description) of the release tables.

    Raises
    ------
    ReleaseError
        No such release, a public relation of that name that is not a view, or a release
        whose tables have another column layout than the views show now.
    """
    schema = schema_for(name)
    with db.connection() as conn:
        _lock(conn, f"publish {name}")
        if not _registry_row(conn, name) or not _schema_exists(conn, schema):
            raise ReleaseError(f"no release {name!r}: build it with `twomass release build {name}`")
        for view in PUBLIC_VIEWS:
            kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)",
                                (f"public.{view}",)).fetchone()
            if kind and kind[0] != "v":
                raise ReleaseError(f"public.{view} exists and is not a view; cannot publish")
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT * FROM {}").format(
                        sql.Identifier("public", view), sql.Identifier(schema, view)))
            except psycopg.errors.InvalidTableDefinition as exc:
                reason = " ".join(str(exc).split())
                raise ReleaseError(
                    f"cannot publish {name}: {schema}.{view} has another column layout than "
                    f"public.{view} shows now ({reason}); publish a release built by this "
                    "code version") from None
            conn.execute(sql.SQL("COMMENT ON VIEW {} IS {}").format(
                sql.Identifier("public", view),
                sql.Literal(f"Published release {name}: {schema}.{view}.")))
            copy_column_comments(conn, (schema, view), ("public", view))
        conn.execute("UPDATE twomass_meta.release SET published_at = clock_timestamp() "
                     "WHERE name = %s", (name,))
    return show(db, name)
