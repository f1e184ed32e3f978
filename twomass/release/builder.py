"""Release builds: run the release rules (``sql/release/NN_*.sql``) into ``rel_<name>``.

The rules are SQL; this module only drives them. The single-table build (the oracle of
the partition-wise one, ``twomass.release.partitioned``) runs in ONE transaction: it
creates the schema, writes the spec as a one-row view ``spec`` the SQL reads its
thresholds from and the views ``w_pts``, ``w_ext``, ``w_scan`` (the working tables) and
``part`` (the sky the build owns: all of it), runs the steps in file-name order with
``search_path`` set to the new schema, and records the release in
``twomass_meta.release``. A build that fails or is interrupted therefore leaves no
schema behind and the published release untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections.abc import Iterator
from importlib.resources import files

import psycopg
from psycopg import sql
from tqdm import tqdm

import twomass
from twomass import sql as sql_files
from twomass.core import locks
from twomass.core.database import Database
from twomass.release.metadata import describe_release
from twomass.release.publish import publish
from twomass.release.registry import (
    ReleaseError,
    ReleaseRecord,
    _lock,
    _schema_exists,
    schema_for,
    show,
)
from twomass.release.spec import ReleaseSpec

#: Memory for the sorts and hashes of a build (per operation, session-local).
BUILD_WORK_MEM = "1GB"

#: The last order-29 HEALPix index: ``part`` of a single-table build is [0, ALL_SKY_HI].
ALL_SKY_HI = 12 * 4 ** 29 - 1

#: The working tables a build reads; ingest must not change them meanwhile.
WDB_TABLES = ("wdb.scan", "wdb.pts", "wdb.ext", "wdb.bright_star")


def steps() -> list[tuple[str, str]]:
    """``(file name, SQL text)`` of every build step, in execution order.

    First the library (``lib/*.sql``: the functions and procedures the rules call, created
    in the release schema), then the release rules (``release/NN_*.sql``).
    """
    return (_sql_files("lib", r"^\w+\.sql$", prefix="lib/")
            + _sql_files("release", r"^\d\d_\w+\.sql$"))


def step_number(step: str) -> int | None:
    """The NN of a release step ``NN_name.sql``; None for the library (``lib/...``)."""
    match = re.match(r"^(\d\d)_", step)
    return int(match.group(1)) if match else None


def _sql_files(folder: str, pattern: str, prefix: str = "") -> list[tuple[str, str]]:
    """``(prefix + name, text)`` of the files of ``twomass.sql/folder`` matching
    ``pattern``, in name order."""
    path = files("twomass.sql").joinpath(folder)
    names = sorted(p.name for p in path.iterdir() if re.match(pattern, p.name))
    return [(prefix + n, path.joinpath(n).read_text(encoding="utf-8")) for n in names]


def code_version() -> str:
    """twomass version plus a digest of the library, release and flag SQL the build runs."""
    digest = hashlib.sha256()
    for name, text in steps() + [("flags.sql", sql_files.read("flags.sql"))]:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return f"{twomass.__version__}+sql.{digest.hexdigest()[:12]}"


def build(db: Database, name: str, spec: ReleaseSpec | None = None, *, publish_after: bool = True,
          progress: bool = True, step_seconds: dict[str, float] | None = None,
          jobs: int = 1, partitioned: bool | None = None, order: int | None = None,
          margin_arcsec: float | None = None,
          incremental_from: str | None = None) -> ReleaseRecord:
    """Build release ``name`` from the working database; publish it unless told not to.

    ``jobs`` > 1 (or ``partitioned``) builds partition-wise over ``jobs`` connections
    (``twomass.release.partitioned``: HEALPix pixels of ``order``, with a margin of
    ``margin_arcsec``); otherwise one transaction runs the rules over all of wdb.
    ``incremental_from`` (a release's name) builds partition-wise and runs the rules only
    where the sky changed since that release (``twomass.release.incremental``).
    ``step_seconds``, when given, receives the duration of every step (or phase).
    A build waits for the release lock and for ingests writing the working tables, and
    says on standard error whom it waits for; the server stops it if this process dies.

    Raises
    ------
    ReleaseError
        If the name is invalid or a release of that name exists.
    """
    spec = spec or ReleaseSpec()
    if incremental_from is not None or (partitioned if partitioned is not None else jobs > 1):
        from twomass.release import partitioned as by_pixel

        by_pixel.build(db, name, spec, jobs=jobs, order=order, margin_arcsec=margin_arcsec,
                       progress=progress, step_seconds=step_seconds,
                       incremental_from=incremental_from)
        if publish_after:
            publish(db, name)
        return show(db, name)
    schema = schema_for(name)
    start = time.perf_counter()
    with db.connection() as conn:
        _lock(conn, f"build {name}")
        refuse_existing(conn, name, schema)
        # Ingest must not change the working database while the build reads it.
        locks.lock_tables(conn, WDB_TABLES, "SHARE")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        set_build_session(conn, [schema])
        write_spec(conn, spec)
        write_sources(conn, "wdb.pts", "wdb.ext", "wdb.scan")
        write_part(conn, 0, ALL_SKY_HI)
        for step, text in progress_bar(steps(), progress):
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
        describe_release(conn, schema)
    if publish_after:
        publish(db, name)
    return show(db, name)


def set_build_session(conn: psycopg.Connection, schemas: list[str]) -> None:
    """The settings of a build's transaction: ``search_path`` = ``schemas``, public."""
    conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(
        sql.SQL(", ").join(sql.Identifier(s) for s in schemas)))
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


def write_sources(conn: psycopg.Connection, pts: str, ext: str, scan: str) -> None:
    """The views ``w_pts``, ``w_ext``, ``w_scan`` the rules read the working rows from."""
    for view, table in (("w_pts", pts), ("w_ext", ext), ("w_scan", scan)):
        conn.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
            sql.Identifier(view), sql.Identifier(*table.split("."))))


def write_part(conn: psycopg.Connection, hpx_lo: int, hpx_hi: int,
               psc_reject_key0: int | None = None, xsc_reject_key0: int | None = None) -> None:
    """The one-row view ``part``: the ``hpx`` range whose rows the build writes, and where
    the reject keys start (NULL: after the catalog rows the build numbered)."""
    conn.execute(sql.SQL(
        "CREATE OR REPLACE VIEW part AS SELECT {}::bigint AS hpx_lo, {}::bigint AS hpx_hi, "
        "{}::bigint AS psc_reject_key0, {}::bigint AS xsc_reject_key0").format(
            sql.Literal(hpx_lo), sql.Literal(hpx_hi), sql.Literal(psc_reject_key0),
            sql.Literal(xsc_reject_key0)))


def refuse_existing(conn: psycopg.Connection, name: str, schema: str) -> None:
    """Raise ``ReleaseError`` if release ``name`` exists, saying how to go on.

    A build whose command was killed between its commit and its publish leaves the
    release built and never published: rerunning the build cannot help, publishing can.
    """
    row = conn.execute("SELECT built_at, published_at FROM twomass_meta.release "
                       "WHERE name = %s", (name,)).fetchone()
    if row is not None and row[1] is None:
        raise ReleaseError(
            f"release {name!r} exists unpublished (built at {row[0]:%Y-%m-%d %H:%M:%S}): "
            f"`twomass release publish {name}` publishes it, `twomass release drop {name}` "
            "removes it")
    if row is not None or _schema_exists(conn, schema):
        raise ReleaseError(f"release {name!r} exists (schema {schema}); choose another name")


def progress_bar(items: list[tuple[str, str]], enabled: bool) -> Iterator[tuple[str, str]]:
    bar = tqdm(items, desc="release", unit="step", file=sys.stderr, disable=not enabled)
    for item in bar:
        bar.set_postfix_str(item[0])
        yield item


def write_spec(conn: psycopg.Connection, spec: ReleaseSpec) -> None:
    """Create the one-row view ``spec`` (one typed constant per field) in the new schema.

    A view of constants rather than a table: the planner substitutes the values into the
    release queries, so that they filter on constants and run in parallel workers.
    """
    conn.execute(sql.SQL("CREATE VIEW spec AS SELECT {}").format(sql.SQL(", ").join(
        sql.SQL("{}::{} AS {}").format(sql.Literal(value), sql.SQL(kind), sql.Identifier(name))
        for name, kind, value in spec.sql_columns())))


