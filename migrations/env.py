"""Alembic environment: runs revisions on the connection twomass hands over.

The version table lives in ``twomass_meta`` beside the frozen settings, so one schema
says what the database is.
"""

from alembic import context

from twomass.schema import metadata

VERSION_TABLE_SCHEMA = "twomass_meta"


def include_object(obj, name, type_, reflected, compare_to):
    """Compare only the schemas twomass owns; releases are built, not migrated."""
    if type_ == "table":
        return obj.schema in {"wdb", "twomass_meta"} and name != "alembic_version"
    return True


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=VERSION_TABLE_SCHEMA,
        include_schemas=True,
        include_object=include_object,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("twomass migrations run online only: use `twomass db upgrade`")
run_migrations()
