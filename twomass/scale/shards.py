"""Shards: partitions of an hpx-partitioned table held on other PostgreSQL servers.

A table partitioned by ``RANGE (hpx)`` at the boundaries of HEALPix order k (pixel p is
hpx in [p << 2(29-k), (p+1) << 2(29-k))) keeps its name and its queries while some of its
partitions live elsewhere: each moved partition becomes a ``postgres_fdw`` foreign table
attached for the same bounds. The planner prunes partitions on the constant ranges a
cone folds to, and ships the remaining conditions to the shard when they are made of
built-in operators only, which the inlined ``hpx_*`` predicates are (docs/scale-out.md).

Server mode only: ``postgres_fdw`` is a contrib module, which the embedded server lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

from twomass.core import database
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.core.healpix import HPX_ORDER, pixel_range
from twomass.sql import read, statements

#: The files of the spatial functions every shard holds (the cone and cross-match
#: statements run on the coordinator; a shard evaluates the conditions sent to it).
HPX_FILES = ("hpx/pixels.sql", "hpx/cover.sql", "hpx/queries.sql")

#: postgres_fdw options of a shard server: rows fetched and inserted per round trip, and
#: remote estimates, without which postgres_fdw makes no parameterized paths: the cone
#: functions' statement (cover ranges joined with the table, planned once) then reads a
#: foreign partition whole at every call instead of sending it the ranges (a 1 deg cone
#: on 300,000 rows, one partition of 192 remote: 990 ms against 15 ms).
SERVER_OPTIONS = {"fetch_size": "10000", "batch_size": "1000", "use_remote_estimate": "true"}


class ShardError(TwomassError):
    """A shard cannot be declared or a partition cannot be moved; the message says why."""


@dataclass(frozen=True)
class Partition:
    """One partition: its name, hpx bounds [lo, hi) and server (None: local)."""

    schema: str
    name: str
    lo: int
    hi: int
    server: str | None

    @property
    def qualified(self) -> sql.Composed:
        return sql.Identifier(self.schema, self.name)


def _q(name: str) -> str:
    return statements("shards.sql")[name]


def require_fdw(conn: psycopg.Connection) -> None:
    """Fail in one line where postgres_fdw cannot be installed (the embedded server)."""
    if not conn.execute(_q("fdw_available")).fetchone()[0]:
        raise ShardError(
            "this PostgreSQL server has no postgres_fdw (a contrib module; the embedded server "
            "ships none): shards need a PostgreSQL server with contrib, given with --db URL")


def _split_url(url: str) -> dict[str, str]:
    parts = urlsplit(database.normalize_url(url))
    if not parts.hostname or not parts.path.strip("/"):
        raise ShardError(f"{database.mask_url(url)}: a shard URL needs a host and a database "
                         "name (postgresql://user:password@host:port/dbname)")
    return {"host": parts.hostname, "port": str(parts.port or 5432),
            "dbname": unquote(parts.path.lstrip("/")),
            "user": unquote(parts.username or ""), "password": unquote(parts.password or "")}


def install_functions(conn: psycopg.Connection) -> None:
    """Install the hpx_* functions on a node (every statement is CREATE OR REPLACE)."""
    for name in HPX_FILES:
        conn.execute(read(name))


def add_shard(db: Database, name: str, url: str) -> str:
    """Declare the PostgreSQL database at ``url`` as shard ``name`` and install the hpx_*
    functions there; returns a one-line summary."""
    parts = _split_url(url)
    with db.connection() as conn:
        require_fdw(conn)
    with database.connection(url) as remote:  # fails early, in one line, if unreachable
        install_functions(remote)
    options = {"host": parts["host"], "port": parts["port"], "dbname": parts["dbname"],
               **SERVER_OPTIONS}
    mapping = {k: parts[k] for k in ("user", "password") if parts[k]}
    with db.connection() as conn:
        require_fdw(conn)
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        conn.execute(sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({})")
                     .format(sql.Identifier(name), _options(options)))
        conn.execute(sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} OPTIONS ({})")
                     .format(sql.Identifier(name), _options(mapping)))
    return f"shard {name}: {database.mask_url(url)}, hpx functions installed"


def _options(options: dict[str, str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                              for k, v in options.items())


def shard_url(conn: psycopg.Connection, name: str) -> str:
    """The URL of shard ``name``, from its server options and the user mapping."""
    for srvname, srvoptions, umoptions in conn.execute(_q("servers")).fetchall():
        if srvname == name:
            opts = dict(o.split("=", 1) for o in (srvoptions or []) + (umoptions or []))
            auth = quote(opts.get("user", ""), safe="")
            if opts.get("password"):
                auth += ":" + quote(opts["password"], safe="")
            return (f"postgresql://{auth}{'@' if auth else ''}{opts.get('host', '')}:"
                    f"{opts.get('port', 5432)}/{quote(opts.get('dbname', ''), safe='')}")
    raise ShardError(f"no shard named {name}: declare it with 'twomass shard add {name} URL'")


def partitions(conn: psycopg.Connection, table: str) -> list[Partition]:
    """The partitions of ``table`` (partitioned by RANGE (hpx)), in name order."""
    key = conn.execute(_q("partition_key"), {"table": table}).fetchone()[0]
    if key != "RANGE (hpx)":
        raise ShardError(f"{table} is not partitioned by RANGE (hpx) (its key: {key})")
    result = []
    for schema, name, bound, server in conn.execute(_q("partitions"), {"table": table}):
        found = re.fullmatch(r"FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)", bound)
        if not found:
            raise ShardError(f"partition {schema}.{name} of {table} has bounds {bound}, "
                             "not FROM (lo) TO (hi)")
        result.append(Partition(schema, name, int(found[1]), int(found[2]), server))
    return result


def partition_of(parts: list[Partition], pixel: int, order: int) -> Partition:
    """The partition that is exactly ``pixel`` of HEALPix ``order``."""
    lo, hi = pixel_range(pixel, order)
    for part in parts:
        if (part.lo, part.hi) == (lo, hi + 1):
            return part
    raise ShardError(f"no partition holds exactly pixel {pixel} of order {order} "
                     f"(hpx [{lo}, {hi + 1}))")


def partition_order(parts: list[Partition]) -> int:
    """The HEALPix order k of the partitions (each one pixel of order k: 4^(29-k) wide)."""
    widths = {p.hi - p.lo for p in parts}
    if len(widths) == 1:
        shift = (width := widths.pop()).bit_length() - 1
        if width == 1 << shift and shift % 2 == 0:
            return HPX_ORDER - shift // 2
    raise ShardError("the partitions are not the pixels of one HEALPix order")


def move(db: Database, table: str, pixels: list[int], shard: str) -> str:
    """Move the partitions of ``table`` that are ``pixels`` (of the table's partition
    order) to shard ``shard``; returns a one-line summary.

    Each partition moves in one transaction: its rows are copied into a table of the
    same name on the shard through a foreign table, counted there, then the local
    partition is detached and dropped and the foreign table attached for the same
    bounds. Readers see the local partition until the commit and the foreign one after
    it; writers wait. A failure rolls back: the local partition stays, and the shard's
    copy, uncommitted or never attached, is never read.
    """
    moved = rows = 0
    with db.connection() as conn:
        require_fdw(conn)
        remote_url = shard_url(conn, shard)
        if conn.execute(_q("unique_indexes"), {"table": table}).fetchall():
            raise ShardError(f"{table} has a unique index; PostgreSQL does not attach a "
                             "foreign partition under one")
        parts = partitions(conn, table)
        order = partition_order(parts)
    for pixel in pixels:
        part = partition_of(parts, pixel, order)
        if part.server is not None:
            raise ShardError(f"pixel {pixel} ({part.schema}.{part.name}) is on shard "
                             f"{part.server} already")
        rows += _move_one(db, table, part, shard, remote_url)
        moved += 1
    return (f"shard {shard}: {moved} partitions of {table} (order {order}) moved, "
            f"{rows} rows")


def _move_one(db: Database, table: str, part: Partition, shard: str, remote_url: str) -> int:
    staging = sql.Identifier(part.schema, f"{part.name}_to_{shard}"[:63])
    with db.connection() as conn:
        name = part.qualified.as_string(conn)
        columns = conn.execute(_q("columns"), {"table": name}).fetchall()
        indexes = conn.execute(_q("indexes"), {"table": name}).fetchall()
    _create_remote_table(remote_url, part, columns, indexes)
    column_list = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(n), sql.SQL(t),
                                  sql.SQL(" NOT NULL") if notnull else sql.SQL(""))
        for n, t, notnull in columns)
    try:
        with db.connection() as conn:
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(part.qualified))
            conn.execute(sql.SQL("CREATE FOREIGN TABLE {} ({}) SERVER {} OPTIONS "
                                 "(schema_name {}, table_name {})").format(
                staging, column_list, sql.Identifier(shard), sql.Literal(part.schema),
                sql.Literal(part.name)))
            copied = conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                staging, part.qualified)).rowcount
            local = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                part.qualified)).fetchone()[0]
            remote = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                staging)).fetchone()[0]
            if not copied == local == remote:
                raise ShardError(f"{part.schema}.{part.name}: {local} rows here, {remote} on "
                                 f"shard {shard}; nothing moved")
            conn.execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.SQL(table), part.qualified))
            conn.execute(sql.SQL("DROP TABLE {}").format(part.qualified))
            conn.execute(sql.SQL("ALTER FOREIGN TABLE {} RENAME TO {}").format(
                staging, sql.Identifier(part.name)))
            conn.execute(sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) "
                                 "TO ({})").format(sql.SQL(table), part.qualified,
                                                   sql.Literal(part.lo), sql.Literal(part.hi)))
    except BaseException as exc:
        _drop_remote_table(remote_url, part)
        if isinstance(exc, psycopg.Error):
            reason = " ".join(str(exc).split())
            raise ShardError(f"{part.schema}.{part.name} not moved to shard {shard} (it stays "
                             f"here, whole): {reason}") from None
        raise
    with database.connection(remote_url, autocommit=True) as remote:
        remote.execute(sql.SQL("ANALYZE {}").format(part.qualified))
    with db.connection(autocommit=True) as conn:
        conn.execute(sql.SQL("ANALYZE {}").format(part.qualified))
    return local


def _create_remote_table(url: str, part: Partition, columns: list, indexes: list) -> None:
    """The partition's table on the shard, empty, with the partition's indexes."""
    with database.connection(url) as remote:
        remote.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(part.schema)))
        remote.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(part.qualified))
        remote.execute(sql.SQL("CREATE TABLE {} ({})").format(part.qualified, sql.SQL(", ").join(
            sql.SQL("{} {}{}").format(sql.Identifier(n), sql.SQL(t),
                                      sql.SQL(" NOT NULL") if notnull else sql.SQL(""))
            for n, t, notnull in columns)))
        for _, definition in indexes:
            remote.execute(definition)


def _drop_remote_table(url: str, part: Partition) -> None:
    with database.connection(url) as remote:
        remote.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(part.qualified))
