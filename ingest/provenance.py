"""What was loaded from where: the ``wdb.ingest_log`` row of a night and its comparison.

A night is identified by (hemisphere, date). Its files are identified by SHA-256: the
same night with byte-identical files is already loaded (a no-op); different files are a
new version of the night, loaded only on request (``replace``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

import twomass
from twomass import sql as sql_files
from twomass.ingest.products import NightProducts, printable

#: First key of the advisory locks ingest takes: "2M" (0x324D), distinct from other users.
LOCK_NAMESPACE = 0x324D


def statements() -> dict[str, str]:
    """Named statements of ``sql/ingest.sql`` (sections start with ``-- name: NAME``)."""
    return sql_files.statements("ingest.sql")


def night_lock_key(hemis: str, date: dt.date) -> int:
    """Second advisory-lock key of a night: unique per (hemisphere, date), fits int4."""
    return date.toordinal() * 2 + (hemis == "s")


@dataclass(frozen=True)
class LoadedNight:
    """A night already in ``wdb.night`` and the files its last ingest read."""

    night_key: int
    files: dict[str, str] | None


def find_loaded(cur: psycopg.Cursor, products: NightProducts) -> LoadedNight | None:
    """The loaded version of the products' night, or None."""
    params = {"hemis": products.night.hemis, "date": products.night.date}
    row = cur.execute(statements()["find_night"], params).fetchone()
    if row is None:
        return None
    files = cur.execute(statements()["last_files"], {"night_key": row[0]}).fetchone()
    return LoadedNight(row[0], files[0] if files else None)


def changed_files(loaded: LoadedNight, products: NightProducts) -> list[str]:
    """Files whose SHA-256 differs from the loaded version (all, if it has no log)."""
    before = loaded.files or {}
    return [f for f, digest in products.sha256.items() if before.get(f) != digest]


def write_log(cur: psycopg.Cursor, products: NightProducts, night_key: int,
              rows_loaded: dict[str, int], started_at: dt.datetime) -> None:
    """Insert the night's ``ingest_log`` row (inside the night's transaction)."""
    cur.execute(statements()["insert_log"], {
        "night_key": night_key,
        "hemis": products.night.hemis,
        "date": products.night.date,
        "directory": printable(products.directory),
        "files": Jsonb(products.sha256),
        "rows_read": Jsonb(products.rows),
        "rows_loaded": Jsonb(rows_loaded),
        "code_version": twomass.__version__,
        "started_at": started_at,
    })
