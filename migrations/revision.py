"""Schema revision and frozen settings: create, migrate, check, and guard a database.

A twomass database records its Alembic revision and the physical settings it was
built with (HEALPix order and scheme, the order of its sky partitions) in
``twomass_meta``. Every command that touches
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
from twomass.core.database import ANY_PARTITIONS, Database
from twomass.core.errors import DatabaseNotReady
from twomass.core.healpix import HPX_ORDER, HPX_SCHEME
from twomass.core.settings import DEFAULT_PARTITION_ORDER

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
    partition_order
        HEALPix order of the sky partitions of wdb.pts, wdb.ext and the catalogs, frozen
        at creation; None for plain tables (or before the revision that records it).
    expected_partition_order
        The program's setting (``Database.partition_order``); ``ANY_PARTITIONS``
        accepts any.
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
    partition_order: int | None = None
    expected_partition_order: int | None | str = ANY_PARTITIONS

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
        if not self.partitions_ok:
            have, want = (_layout(self.partition_order),
                          _layout(self.expected_partition_order))
            setting = "none" if self.partition_order is None else self.partition_order
            return (f"{self.url} was built {have}, this program is set to {want} "
                    f"(TWOMASS_PARTITION_ORDER): set TWOMASS_PARTITION_ORDER={setting} "
                    "to use it, or create a new database with `twomass db init` on an "
                    "empty database and ingest the nights again")
        return None

    @property
    def partitions_ok(self) -> bool:
        """True when the sky partitions are what the program is set to."""
        return self.expected_partition_order in (ANY_PARTITIONS, self.partition_order)


def _layout(order: int | None) -> str:
    return ("with plain tables, not partitioned by sky" if order is None
            else f"partitioned by sky at HEALPix order {order}")


def alembic_config(connection: sa.Connection | None = None,
                   partition_order: int | None = DEFAULT_PARTITION_ORDER) -> Config:
    """Alembic configuration pointing at the migrations shipped in the package.

    ``partition_order`` is the layout the revision that partitions the big tables by sky
    gives them (None: plain tables).
    """
    config = Config()
    config.set_main_option("script_location", str(Path(twomass.migrations.__file__).parent))
    config.attributes["connection"] = connection
    config.attributes["partition_order"] = partition_order
    return config


def head_revision() -> str:
    """The revision this code's schema corresponds to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def read_status(conn: psycopg.Connection, url: str,
                expected_partition_order: int | None | str = ANY_PARTITIONS) -> DatabaseStatus:
    """Read the revision and frozen settings of the database behind ``conn``."""
    def value(query: str) -> object:
        row = conn.execute(query).fetchone()
        return row[0] if row else None

    server_version = value("SHOW server_version")
    revision = order = scheme = code_version = partitions = None
    if value("SELECT to_regclass('twomass_meta.alembic_version') IS NOT NULL"):
        revision = value("SELECT version_num FROM twomass_meta.alembic_version")
    if value("SELECT to_regclass('twomass_meta.database') IS NOT NULL"):
        # (partition_order as JSON: the column exists from revision 20261216 on)
        row = conn.execute("SELECT healpix_order, healpix_scheme, code_version, "
                           "(to_jsonb(d) ->> 'partition_order')::int "
                           "FROM twomass_meta.database AS d").fetchone()
        if row is not None:
            order, scheme, code_version, partitions = row
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
        partition_order=partitions,
        expected_partition_order=expected_partition_order,
    )


def status(db: Database) -> DatabaseStatus:
    """Status of the database ``db``."""
    with db.connection() as conn:
        return read_status(conn, db.url, db.partition_order)


def _migrate(db: Database, *, create: bool) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Upgrade to head in one transaction; return the status before and after."""
    db.status = None
    with db.engine().begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        before = read_status(raw, db.url, db.partition_order)
        if create and before.revision is not None:  # already initialized
            if before.problem:
                raise DatabaseNotReady(before.problem)
            return before, before
        frozen_ok = ((before.healpix_order, before.healpix_scheme) == (HPX_ORDER, HPX_SCHEME)
                     and (before.revision != before.head or before.partitions_ok))
        if create and before.has_other_objects or not create and (
            before.revision not in _known_revisions() or not frozen_ok
        ):
            raise DatabaseNotReady(before.problem or f"{before.url}: cannot migrate")
        # Alembic writes its version table before the first revision runs.
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS twomass_meta")
        partitions = (DEFAULT_PARTITION_ORDER if db.partition_order == ANY_PARTITIONS
                      else db.partition_order)
        command.upgrade(alembic_config(conn, partitions), "head")
        conn.execute(
            sa.text("UPDATE twomass_meta.database SET code_version = :v"),
            {"v": twomass.__version__},
        )
        return before, read_status(raw, db.url, db.partition_order)


def init(db: Database) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Create the twomass schemas in an empty database at the head revision.

    The big tables are partitioned by sky at ``db.partition_order`` (the default order
    when the caller gave none; None: plain tables).

    A database already at head is left as it is. Returns the status before and after.
    """
    return _migrate(db, create=True)


def upgrade(db: Database) -> tuple[DatabaseStatus, DatabaseStatus]:
    """Migrate an initialized database to the head revision.

    A database from before the sky partitions gets them at ``db.partition_order`` (the
    rows of wdb.pts and wdb.ext move, in the migration's one transaction).
    """
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
