"""The release registry, ``twomass_meta.release``: one row per built release.

Also the names every release module shares: a release's schema, its errors, and the
advisory lock that serializes builds, publishes and drops on one database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from twomass.core import locks
from twomass.core.database import Database
from twomass.core.errors import TwomassError

#: Release names: lower case, so that ``rel_<name>`` needs no quoting and is unambiguous.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

#: Serializes release builds and publishes on one database.
_RELEASE_LOCK = 0x2_4D_41_53_53 + 6


class ReleaseError(TwomassError):
    """A release cannot be built, found or published as asked."""


@dataclass(frozen=True)
class ReleaseRecord:
    """One row of the release registry.

    Attributes
    ----------
    name, schema_name
        Release name and the schema holding its tables.
    spec
        The release spec used, field name -> value.
    code_version
        twomass version plus a digest of the release SQL files.
    wdb_checksum, content_checksum
        Order-independent checksums of the working database read and of the release.
    counts
        Rows per release table, working rows read, rejects per reason.
    build_seconds
        Build duration [s].
    built_at, published_at
        When it was built and last published (None if never).
    is_published
        True for the release the public views show now.
    """

    name: str
    schema_name: str
    spec: dict[str, Any]
    code_version: str
    wdb_checksum: str
    content_checksum: str
    counts: dict[str, Any]
    build_seconds: float
    built_at: datetime
    published_at: datetime | None
    is_published: bool


def schema_for(name: str) -> str:
    """Schema of release ``name``; raises ``ReleaseError`` for an invalid name."""
    if not NAME_PATTERN.match(name):
        raise ReleaseError(
            f"invalid release name {name!r}: use 1-40 lower-case letters, digits and _, "
            "starting with a letter"
        )
    return f"rel_{name}"


def list_releases(db: Database) -> list[ReleaseRecord]:
    """Every release in the registry, oldest first."""
    with db.connection() as conn:
        rows = conn.execute(_SELECT + " ORDER BY built_at, name").fetchall()
    return [_record(r) for r in rows]


def show(db: Database, name: str) -> ReleaseRecord:
    """The registry row of release ``name``."""
    schema_for(name)
    with db.connection() as conn:
        row = conn.execute(_SELECT + " WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise ReleaseError(f"no release {name!r}: `twomass release list` shows the releases")
    return _record(row)


def drop(db: Database, name: str) -> None:
    """Remove an unpublished release: its schema and registry row."""
    record = show(db, name)
    if record.is_published:
        raise ReleaseError(f"release {name!r} is published; publish another one first")
    with db.connection() as conn:
        _lock(conn, f"drop {name}")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(record.schema_name)))
        conn.execute("DELETE FROM twomass_meta.release WHERE name = %s", (name,))


_SELECT = (
    "SELECT name, schema_name, spec, code_version, wdb_checksum, content_checksum, counts, "
    "build_seconds, built_at, published_at, "
    "published_at IS NOT NULL AND published_at = "
    "(SELECT max(published_at) FROM twomass_meta.release) AS is_published "
    "FROM twomass_meta.release"
)


def _record(row: tuple) -> ReleaseRecord:
    return ReleaseRecord(*row)


def _lock(conn: psycopg.Connection, action: str) -> None:
    """Take the release lock for ``action`` (``build dr2``), saying whom it waits for.

    The session is named ``twomass release <action>`` for those who wait in turn, and
    the server stops it if its client dies, so a killed command never keeps the lock.
    """
    locks.name_session(conn, f"release {action}")
    locks.end_with_client(conn)
    locks.advisory_xact_lock(conn, _RELEASE_LOCK, "the release lock")


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT to_regnamespace(%s) IS NOT NULL",
                        (sql.Identifier(schema).as_string(conn),)).fetchone()[0]


def _registry_row(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM twomass_meta.release WHERE name = %s",
                        (name,)).fetchone() is not None


def summary(record: ReleaseRecord) -> str:
    """One line with the main counts of a release."""
    c = record.counts
    return (f"release {record.name}: {c.get('psc', 0):,d} psc + {c.get('psc_reject', 0):,d} "
            f"rejected of {c.get('wdb_pts', 0):,d} point rows; {c.get('xsc', 0):,d} xsc + "
            f"{c.get('xsc_reject', 0):,d} rejected; {c.get('scan_info', 0):,d} scans; "
            f"content {record.content_checksum[:12]}")
