"""Release builds: run the release rules (``sql/release/NN_*.sql``) into ``rel_<name>``.

The rules are SQL; this module only drives them. A build runs in ONE transaction: it
creates the schema, writes the spec as a one-row table ``spec`` the SQL reads its
thresholds from, runs the steps in file-name order with ``search_path`` set to the new
schema, and records the release in ``twomass_meta.release``. A build that fails or is
interrupted therefore leaves no schema behind and the published release untouched.
Publishing points the public views at a release, again in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

import psycopg
from psycopg import sql
from tqdm import tqdm

import twomass
import twomass.sql as sql_files
from twomass import database
from twomass.errors import TwomassError
from twomass.release_spec import ReleaseSpec

#: Public views that show the published release, one per release table.
PUBLIC_VIEWS = ("psc", "xsc", "scan_info", "psc_reject", "xsc_reject")

#: Release names: lower case, so that ``rel_<name>`` needs no quoting and is unambiguous.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

#: Serializes release builds and publishes on one database.
_RELEASE_LOCK = 0x2_4D_41_53_53 + 6

#: Memory for the sorts and hashes of a build (per operation, session-local).
BUILD_WORK_MEM = "1GB"


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


def steps() -> list[tuple[str, str]]:
    """``(file name, SQL text)`` of every release step, in execution order."""
    folder = files("twomass.sql").joinpath("release")
    names = sorted(p.name for p in folder.iterdir() if re.match(r"^\d\d_\w+\.sql$", p.name))
    return [(n, folder.joinpath(n).read_text(encoding="utf-8")) for n in names]


def code_version() -> str:
    """twomass version plus a digest of the release and flag SQL the build runs."""
    digest = hashlib.sha256()
    for name, text in steps() + [("flags.sql", sql_files.read("flags.sql"))]:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return f"{twomass.__version__}+sql.{digest.hexdigest()[:12]}"


def build(url: str, name: str, spec: ReleaseSpec | None = None, *, publish_after: bool = True,
          progress: bool = True, step_seconds: dict[str, float] | None = None) -> ReleaseRecord:
    """Build release ``name`` from the working database; publish it unless told not to.

    ``step_seconds``, when given, receives the duration of every step by file name.

    Raises
    ------
    ReleaseError
        If the name is invalid or a release of that name exists.
    """
    spec = spec or ReleaseSpec()
    schema = schema_for(name)
    start = time.perf_counter()
    with database.connection(url) as conn:
        _lock(conn)
        if _schema_exists(conn, schema) or _registry_row(conn, name):
            raise ReleaseError(f"release {name!r} exists (schema {schema}); choose another name")
        # Ingest must not change the working database while the build reads it.
        conn.execute("LOCK TABLE wdb.scan, wdb.pts, wdb.ext IN SHARE MODE")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(BUILD_WORK_MEM)))
        # The index-driven joins run with sequential scans disabled, which inflates cost
        # estimates past the JIT thresholds; compiling those plans costs more than it saves.
        conn.execute("SET LOCAL jit = off")
        # Every join of the build is an equality join of unsorted tables: hash joins (in
        # parallel) beat the merge joins the planner otherwise picks for the bigger ones,
        # which sort both sides in every worker.
        conn.execute("SET LOCAL enable_mergejoin = off")
        # The rules and flag functions cost far more per row than the planner estimates:
        # passing rows back from parallel workers pays even when most rows come back.
        conn.execute("SET LOCAL parallel_tuple_cost = 0.01")
        _write_spec(conn, spec)
        for step, text in _progress(steps(), progress):
            step_start = time.perf_counter()
            try:
                conn.execute(text)
            except psycopg.Error as exc:
                reason = " ".join(str(exc).split())
                raise ReleaseError(f"release step {step} failed: {reason}; "
                                   f"nothing was written") from None
            if step_seconds is not None:
                step_seconds[step] = time.perf_counter() - step_start
        counts, wdb_checksum, content_checksum = conn.execute(
            "SELECT counts, wdb_checksum, content_checksum FROM meta").fetchone()
        conn.execute(
            "INSERT INTO twomass_meta.release (name, schema_name, spec, code_version, "
            "wdb_checksum, content_checksum, counts, build_seconds) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (name, schema, json.dumps(spec.as_dict()), code_version(), wdb_checksum,
             content_checksum, json.dumps(counts), time.perf_counter() - start),
        )
    if publish_after:
        publish(url, name)
    return show(url, name)


def _progress(items: list[tuple[str, str]], enabled: bool) -> Iterator[tuple[str, str]]:
    bar = tqdm(items, desc="release", unit="step", file=sys.stderr, disable=not enabled)
    for item in bar:
        bar.set_postfix_str(item[0])
        yield item


def _write_spec(conn: psycopg.Connection, spec: ReleaseSpec) -> None:
    """Create the one-row view ``spec`` (one typed constant per field) in the new schema.

    A view of constants rather than a table: the planner substitutes the values into the
    release queries, so that they filter on constants and run in parallel workers.
    """
    conn.execute(sql.SQL("CREATE VIEW spec AS SELECT {}").format(sql.SQL(", ").join(
        sql.SQL("{}::{} AS {}").format(sql.Literal(value), sql.SQL(kind), sql.Identifier(name))
        for name, kind, value in spec.sql_columns())))


def publish(url: str, name: str) -> ReleaseRecord:
    """Point the public views at release ``name`` in one transaction.

    The views are dropped (with whatever depends on their row types, such as the cone
    functions) and recreated, then ``sql/cone.sql`` is re-run when the package has it,
    so the cone-search functions follow the new tables.
    """
    schema = schema_for(name)
    with database.connection(url) as conn:
        _lock(conn)
        if not _registry_row(conn, name) or not _schema_exists(conn, schema):
            raise ReleaseError(f"no release {name!r}: build it with `twomass release build {name}`")
        for view in PUBLIC_VIEWS:
            kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)",
                                (f"public.{view}",)).fetchone()
            if kind and kind[0] != "v":
                raise ReleaseError(f"public.{view} exists and is not a view; cannot publish")
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {} CASCADE").format(
                sql.Identifier("public", view)))
            conn.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier("public", view), sql.Identifier(schema, view)))
            conn.execute(sql.SQL("COMMENT ON VIEW {} IS {}").format(
                sql.Identifier("public", view),
                sql.Literal(f"Published release {name}: {schema}.{view}.")))
        cone = _cone_sql()
        if cone is not None:
            conn.execute(cone)
        conn.execute("UPDATE twomass_meta.release SET published_at = clock_timestamp() "
                     "WHERE name = %s", (name,))
    return show(url, name)


def _cone_sql() -> str | None:
    path = files("twomass.sql").joinpath("cone.sql")
    return path.read_text(encoding="utf-8") if path.is_file() else None


def list_releases(url: str) -> list[ReleaseRecord]:
    """Every release in the registry, oldest first."""
    with database.connection(url) as conn:
        rows = conn.execute(_SELECT + " ORDER BY built_at, name").fetchall()
    return [_record(r) for r in rows]


def show(url: str, name: str) -> ReleaseRecord:
    """The registry row of release ``name``."""
    schema_for(name)
    with database.connection(url) as conn:
        row = conn.execute(_SELECT + " WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise ReleaseError(f"no release {name!r}: `twomass release list` shows the releases")
    return _record(row)


def drop(url: str, name: str) -> None:
    """Remove an unpublished release: its schema and registry row."""
    record = show(url, name)
    if record.is_published:
        raise ReleaseError(f"release {name!r} is published; publish another one first")
    with database.connection(url) as conn:
        _lock(conn)
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


def _lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_RELEASE_LOCK,))


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
