"""The nights in the working database: listing them, and dropping one loaded by mistake.

A night is its hemisphere and date, named as its product directory is (``2000-05-01n``).
Dropping one removes, in one transaction, its extractions, its scans, the tiles no other
night's scan observed, the night row and its provenance (every ``ingest_log`` row of
the night, including versions it replaced). It takes the advisory lock ingest takes for
the night, so it never interleaves with an ingest of the same night, and it refuses at
once, naming the session, while a release build reads the working tables: the build
holds them in SHARE mode until it commits, and a drop waiting behind it would hold up
every ingest queued behind the drop.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import psycopg

from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.ingest import provenance
from twomass.ingest.provenance import statements

NIGHT_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})([ns])$")


class NightError(TwomassError):
    """A night cannot be found or dropped as asked."""


@dataclass(frozen=True)
class LoadedNight:
    """One night of ``wdb.night`` and what its last ingest wrote.

    Attributes
    ----------
    rows
        Working table -> rows its last ingest wrote (``tile`` counts only tiles that
        ingest added); empty when the night has no ingest record.
    directory
        Night product directory of its last ingest, None without a record.
    """

    hemis: str
    date: dt.date
    pipeline_version: str
    ingested_at: dt.datetime
    rows: dict[str, int]
    directory: str | None

    @property
    def label(self) -> str:
        """The night's name, ``YYYY-MM-DD`` followed by the hemisphere."""
        return f"{self.date.isoformat()}{self.hemis}"


@dataclass(frozen=True)
class DroppedNight:
    """What ``drop_night`` removed: working table (and ``ingest_log``) -> rows deleted."""

    label: str
    rows: dict[str, int]

    def line(self) -> str:
        """One line for the user."""
        counts = ", ".join(f"{n:,d} {table}" for table, n in self.rows.items())
        return f"nights drop: removed {self.label}: {counts}"


def parse_night(text: str) -> tuple[str, dt.date]:
    """``(hemis, date)`` of a night name such as ``2000-05-01n``."""
    match = NIGHT_PATTERN.match(text)
    date = None
    if match:
        try:
            date = dt.date.fromisoformat(match[1])
        except ValueError:
            pass
    if date is None:
        raise NightError(f"night {text!r}: expected YYYY-MM-DD followed by n or s, as the "
                         "night directories are named (e.g. 2000-05-01n)")
    return match[2], date


def list_nights(db: Database) -> list[LoadedNight]:
    """Every loaded night, by date then hemisphere."""
    with db.connection() as conn:
        rows = conn.execute(statements()["list_nights"]).fetchall()
    return [LoadedNight(hemis, date, version, at, loaded or {}, directory)
            for hemis, date, version, at, loaded, directory in rows]


def _busy(conn: psycopg.Connection, label: str) -> NightError:
    """Why the working tables are locked: a release build or an ingest, and its session."""
    holders = conn.execute(statements()["lock_holders"]).fetchall()
    builds = [h for h in holders if h[1] == "ShareLock"]
    what = "a release build is reading" if builds else "another session is writing"
    who = ""
    if builds or holders:
        pid, _, since, app = (builds or holders)[0]
        started = f", since {since:%Y-%m-%d %H:%M:%S %Z}" if since else ""
        who = f" (pid {pid}{started}{', ' + app if app else ''})"
    return NightError(f"cannot drop night {label}: {what} the working tables{who}; "
                      "try again when it has finished")


def drop_night(db: Database, night: str) -> DroppedNight:
    """Remove one night and everything only it brought, atomically.

    Raises
    ------
    NightError
        The name is malformed, the night is not loaded, or a release build or an ingest
        holds the working tables.
    """
    hemis, date = parse_night(night)
    label = f"{date.isoformat()}{hemis}"
    lock = {"namespace": provenance.LOCK_NAMESPACE,
            "night_lock": provenance.night_lock_key(hemis, date)}
    with db.connection() as conn, conn.cursor() as cur:
        if not cur.execute(statements()["lock_night_try"], lock).fetchone()[0]:
            raise NightError(f"cannot drop night {label}: another session is ingesting it; "
                             "try again when it has finished")
        try:
            cur.execute(statements()["lock_tables_for_drop"])
        except psycopg.errors.LockNotAvailable:
            conn.rollback()
            raise _busy(conn, label) from None
        found = cur.execute(statements()["find_night"], {"hemis": hemis, "date": date})
        row = found.fetchone()
        if row is None:
            raise NightError(f"night {label} is not loaded; `twomass nights list` shows the "
                             "loaded nights")
        key = {"night_key": row[0]}
        tiles = [t for (t,) in cur.execute(statements()["night_tiles"], key).fetchall()]
        # Extractions first: they find the night through its scans.
        pts, ext, scans = (cur.execute(statements()[name], key).rowcount for name in
                           ("delete_night_pts", "delete_night_ext", "delete_night_scans"))
        cur.execute(statements()["delete_night"], key)
        unused = cur.execute(statements()["delete_unused_tiles"], {"tiles": tiles}).rowcount
        logs = cur.execute(statements()["delete_night_log"],
                           {"hemis": hemis, "date": date}).rowcount
    return DroppedNight(label, {"scan": scans, "pts": pts, "ext": ext, "tile": unused,
                                "ingest_log": logs})
