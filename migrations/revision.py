"""Schema revision and frozen settings: create, migrate, check, and guard a database.

A twomass database records its Alembic revision and the physical settings it was
built with (HEALPix order and scheme) in ``twomass_meta``. Every command that touches
the data calls ``require_current`` first and refuses a database that differs, naming
the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import twomass
import twomass.migrations
from twomass.core import database
from twomass.core.database import Database
from twomass.core.errors import DatabaseNotReady
from twomass.core.healpix import HPX_ORDER, HPX_SCHEME

#: Revisions of the schema history that the baseline revision consolidated.
LEGACY_REVISIONS = frozenset(f"{n:04d}" for n in range(1, 9))

#: Serializes concurrent ``db init`` / ``db upgrade`` runs on one database.
_MIGRATION_LOCK = 0x2_4D_41_53_53  # "2MASS"


@dataclass(frozen=True)
class DatabaseStatus:
    """What a database is, as far as twomass is concerned.

    Attributes
    ----------
    url
        The database URL with its password masked.
    server_version
        PostgreSQL server version string.
    revision
        Alembic revision the database is at; None if twomass never initialized it.
    head
        Revision this code expects.
    healpix_order, healpix_scheme
        Frozen settings recorded at creation; None if not initialized.
    code_version
        twomass version that last migrated the database.
    has_other_objects
        True when an uninitialized database already holds a ``wdb`` schema.
    """

    url: str
    server_version: str
    revision: str | None
    head: str
    healpix_order: int | None
    healpix_scheme: str | None
    code_version: str | None
    has_other_objects: bool = False

    @property
    def problem(self) -> str | None:
        """Why the code cannot use this database and which command fixes it; None if it can."""
        if self.revision is None:
            if self.has_other_objects:
                return (f"{self.url} has a wdb schema but no twomass revision: "
                        "point twomass at an empty database and run `twomass db init`")
            return f"{self.url} is not initialized: run `twomass db init`"
        if (self.healpix_order, self.healpix_scheme) != (HPX_ORDER, HPX_SCHEME):
            return (f"{self.url} was built with HEALPix order {self.healpix_order} "
                    f"{self.healpix_scheme}, this code uses order {HPX_ORDER} {HPX_SCHEME}: "
                    "create a new database with `twomass db init` on an empty database")
        if self.revision in LEGACY_REVISIONS:
            return (f"{self.url} was created by an earlier twomass at schema revision "
                    f"{self.revision}, from a history this version no longer carries: "
                    "re-create it with `twomass db init` on an empty database and "
                    "`twomass ingest` the nights again (releases rebuild identically)")
        if self.revision != self.head:
            if self.revision in _known_revisions():
                return (f"{self.url} is at schema revision {self.revision}, this code needs "
                        f"{self.head}: run `twomass db upgrade`")
            return (f"{self.url} is at schema revision {self.revision}, unknown to twomass "
                    f"{twomass.__version__}: install the twomass version that created it "
                    "(`pip install --upgrade twomass`)")
        return None


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(Path(twomass.migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this code's schema corresponds to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def read_status(conn: psycopg.Connection, url: str) -> DatabaseStatus:
    """Read the revision and frozen settings of the database behind ``conn``."""
    def value(query: str) -> object:
        row = conn.execute(query).fetchone()
        return row[0] if row else None

    server_version = value("SHOW server_version")
    revision = order = scheme = code_version = None
    if value("SELECT to_regclass('twomass_meta.alembic_version') IS NOT NULL"):
        revision = value("SELECT version_num FROM twomass_meta.alembic_version")
    if value("SELECT to_regclass('twomass_meta.database') IS NOT NULL"):
        row = conn.execute("SELECT healpix_order, healpix_scheme, code_version "
                           "FROM twomass_meta.database").fetchone()
        if row is not None:
            order, scheme, code_version = row
    other = value("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'wdb')")
    return DatabaseStatus(
        url=database.mask_url(url),
        server_version=str(server_version),
        revision=revision,
        head=head_revision(),
        healpix_order=order,
        healpix_scheme=scheme,
        code_version=code_version,
        has_other_objects=bool(other and not revision),
    )


def status(db: Database) -> DatabaseStatus:
    """Status of the database ``db``."""
    with db.connection() as conn:
        return read_status(conn, db.url)


def _migrate(db: Database, *, create: bool) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Upgrade to head in one transaction; return the status before and after."""
    db.status = None
    with db.engine().begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        before = read_status(raw, db.url)
        if create and before.revision is not None:  # already initialized
            if before.problem:
                raise DatabaseNotReady(before.problem)
            return before, before
        frozen_ok = (before.healpix_order, before.healpix_scheme) == (HPX_ORDER, HPX_SCHEME)
        if create and before.has_other_objects or not create and (
            before.revision not in _known_revisions() or not frozen_ok
        ):
            raise DatabaseNotReady(before.problem or f"{before.url}: cannot migrate")
        # Alembic writes its version table before the first revision runs.
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS twomass_meta")
        command.upgrade(alembic_config(conn), "head")
        conn.execute(
            sa.text("UPDATE twomass_meta.database SET code_version = :v"),
            {"v": twomass.__version__},
        )
        return before, read_status(raw, db.url)


def init(db: Database) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Create the twomass schemas in an empty database at the head revision.

    A database already at head is left as it is. Returns the status before and after.
    """
    return _migrate(db, create=True)


def upgrade(db: Database) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Migrate an initialized database to the head revision."""
    return _migrate(db, create=False)


def require_current(db: Database) -> DatabaseStatus:
    """Refuse (``DatabaseNotReady``) a database this code cannot use as it is.

    The check runs once per ``Database``: its result is kept in ``db.status``.
    """
    if isinstance(db.status, DatabaseStatus) and db.status.problem is None:
        return db.status
    current = status(db)
    if current.problem:
        raise DatabaseNotReady(current.problem)
    db.status = current
    return current
