"""Loading night product directories into ``wdb``: one transaction per night.

Each night is read and validated completely before the database is touched. Then, in
one transaction: an advisory lock on (hemisphere, date) serializes ingests of the same
night; the tiles are staged and merged; the night, its scans, and every extraction are
written with binary ``COPY``; the ``ingest_log`` row is added; commit. A crash at any
point before the commit leaves nothing behind (PostgreSQL discards the transaction),
and replacing a night deletes and re-inserts inside the same transaction, so readers
see the old night or the new one, never a mix.

The big tables are copied straight into ``wdb.pts``/``wdb.ext`` rather than through a
staging table: the transaction already isolates the rows, and a staging copy would
double the work. Rows go in ``hpx`` order: each insert into the ``hpx`` B-tree lands
next to the previous one (a few hot leaf pages instead of random ones all over an index
that, at survey scale, no longer fits in memory), and the night's heap pages come out
clustered on the sky. The other index, a BRIN on ``scan_key``, is indifferent to order
within a night, since nights get increasing keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from tqdm import tqdm

from twomass.core import locks
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.core.healpix import HPX_ORDER, ang2hpx
from twomass.ingest import payload, provenance
from twomass.ingest.products import NightProducts, night_directories, printable, read_night
from twomass.ingest.provenance import statements
from twomass.ingest.validate import DEFAULT_LIMITS, Limits, ProductWarning, validate
from twomass.schema import wdb

#: ANALYZE a table after a night added at least this many rows to it.
ANALYZE_MIN_ROWS = 100_000
#: Columns analyzed right after a large load: the keys and position every query selects
#: or joins on. Statistics of the other columns follow from autovacuum's own ANALYZE,
#: which a load of this size triggers; analyzing all 50 columns here would add half the
#: COPY time again.
ANALYZE_COLUMNS = ("scan_key", "id", "hpx", "ra", "dec")
#: A table partitioned by sky is analyzed as a whole (every partition, and the statistics
#: of the whole) only when a night adds this fraction of its rows; otherwise only the
#: partitions the night wrote to are, as the whole would cost a sample of every partition
#: for every night.
ANALYZE_WHOLE_FRACTION = 0.1
#: HEALPix order of the pixels whose first rows find the partitions a night wrote to (the
#: finest partition order allowed, so one per partition at least).
_ANALYZE_PIXEL_ORDER = 4


class NightAlreadyLoaded(TwomassError):
    """The night is loaded from different files and ``replace`` was not asked for."""


class TileConflict(TwomassError):
    """A tile of the night differs from the tile of the same id already loaded."""


@dataclass(frozen=True)
class NightResult:
    """What ingest did with one night directory.

    Attributes
    ----------
    status
        ``loaded`` (new night), ``replaced`` (new files for a loaded night) or
        ``unchanged`` (identical files already loaded: nothing written).
    rows
        Working table -> rows written (zero everywhere when unchanged).
    phases
        Seconds spent reading, validating, writing (lock to COPY end), committing and
        analyzing: where the time of ``seconds`` went.
    """

    directory: Path
    night: str
    status: str
    rows: dict[str, int]
    warnings: list[ProductWarning]
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        """One line for the user."""
        directory = printable(self.directory)
        if self.status == "unchanged":
            return f"{self.night}: unchanged, identical files already ingested ({directory})"
        counts = ", ".join(f"{n:,d} {t}" for t, n in self.rows.items())
        return f"{self.night}: {self.status} {counts} from {directory}"


@dataclass(frozen=True)
class IngestSummary:
    """Every night of one ingest run."""

    nights: list[NightResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Rows written over all nights and tables."""
        return sum(sum(n.rows.values()) for n in self.nights)

    def line(self) -> str:
        """The closing one-line summary: nights, rows, seconds, rows per second."""
        by_status = {s: sum(n.status == s for n in self.nights)
                     for s in ("loaded", "replaced", "unchanged")}
        states = ", ".join(f"{v} {k}" for k, v in by_status.items())
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return (f"ingest: {len(self.nights)} nights ({states}), {self.rows:,d} rows in "
                f"{self.seconds:.1f} s ({rate:,.0f} rows/s)")


def _columns(table: sa.Table, products: NightProducts, file: str,
             derived: dict[str, payload.Column]) -> list[payload.Column]:
    """COPY columns of a working table: derived values, else the product's column."""
    data = products.tables[file]
    return [
        derived[c.name] if c.name in derived
        else payload.column_from_arrow(c.name, c.type, data.column(c.name))
        for c in table.columns
        if c.name in derived or c.name in data.column_names
    ]


def _hpx(products: NightProducts, file: str) -> np.ndarray:
    data = products.tables[file]
    return ang2hpx(data.column("ra").to_numpy(), data.column("dec").to_numpy())


def _sky_order(hpx: np.ndarray) -> np.ndarray | None:
    """Row order by ``hpx``, or None when the file is already in it.

    Rows written in pixel order land in the ``hpx`` B-tree as runs of neighbouring
    leaves instead of scattered inserts, and leave each night's heap pages clustered on
    the sky, which is what cone searches over the working tables read.
    """
    if hpx.size < 2 or bool(np.all(hpx[1:] >= hpx[:-1])):
        return None
    return np.argsort(hpx, kind="stable")


def _copy(cur: psycopg.Cursor, table: sa.Table | str, columns: list[payload.Column],
          order: np.ndarray | None = None, bar: tqdm | None = None) -> int:
    target = (sql.Identifier(table.schema, table.name) if isinstance(table, sa.Table)
              else sql.Identifier(table))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    # The queued writer sends from a worker thread while this one encodes the next chunk.
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for piece in payload.chunks(columns, order, progress=bar.update if bar else None):
            copy.write(piece)
    return len(columns[0].values)


def _load_tiles(cur: psycopg.Cursor, products: NightProducts) -> int:
    """Stage the night's tiles, refuse changed definitions, insert the new ones."""
    n = products.tables["tiles.parquet"].num_rows
    hpx = payload.Column("hpx", np.dtype(">i8"), _hpx(products, "tiles.parquet"))
    cur.execute(statements()["stage_tiles"])
    _copy(cur, "ingest_tile", _columns(wdb.tile, products, "tiles.parquet", {"hpx": hpx}))
    conflict = cur.execute(statements()["tile_conflicts"]).fetchone()
    if conflict:
        staged, loaded = conflict
        column = next(k for k in staged if staged[k] != loaded[k])
        raise TileConflict(
            f"{printable(products.path('tiles.parquet'))} column {column}: tile "
            f"{staged['tile']} has {column} = {staged[column]!r} but the loaded tile has "
            f"{loaded[column]!r}; "
            "a tile's definition never changes")
    cur.execute(statements()["insert_tiles"])
    return cur.rowcount if n else 0


def _load_night(cur: psycopg.Cursor, products: NightProducts, bar: tqdm,
                started_at: dt.datetime, where: dict[str, np.ndarray]) -> dict[str, int]:
    """Every write of one night, inside the caller's transaction; ``where`` receives, per
    extraction table, an ``hpx`` of the night's rows in each pixel of order 4."""
    night = products.night
    rows = {"tile": _load_tiles(cur, products)}
    night_key = cur.execute(statements()["insert_night"], {
        "hemis": night.hemis, "date": night.date,
        "pipeline_version": night.pipeline_version}).fetchone()[0]
    n_scans = products.tables["scans.parquet"].num_rows
    cols = wdb.scan.columns
    derived = {
        "night_key": payload.constant_column("night_key", cols.night_key.type, night_key,
                                             n_scans),
        "hemis": payload.constant_column("hemis", cols.hemis.type, night.hemis, n_scans),
        "date": payload.constant_column("date", cols.date.type, night.date, n_scans),
        "hpx": payload.Column("hpx", np.dtype(">i8"), _hpx(products, "scans.parquet")),
    }
    rows["scan"] = _copy(cur, wdb.scan, _columns(wdb.scan, products, "scans.parquet",
                                                 derived), bar=bar)
    pairs = cur.execute(statements()["scan_keys"], {"night_key": night_key}).fetchall()
    numbers = np.array([p[0] for p in pairs], dtype=np.int64)  # sorted by the query
    keys = np.array([p[1] for p in pairs], dtype=np.int32)
    for file, table in (("ext.parquet", wdb.ext), ("pts.parquet", wdb.pts)):
        data = products.tables[file]
        scan = data.column("scan").to_numpy()
        hpx = _hpx(products, file)
        derived = {
            "scan_key": payload.Column("scan_key", np.dtype(">i4"),
                                       keys[np.searchsorted(numbers, scan)]),
            "hpx": payload.Column("hpx", np.dtype(">i8"), hpx),
        }
        order = _sky_order(hpx)
        where[table.name] = np.unique(hpx >> 2 * (HPX_ORDER - _ANALYZE_PIXEL_ORDER)) << (
            2 * (HPX_ORDER - _ANALYZE_PIXEL_ORDER))
        rows[table.name] = _copy(cur, table, _columns(table, products, file, derived),
                                 order, bar)
    # The optional bright-star list (counted only when the night has one).
    n_stars = products.tables["bright_stars.parquet"].num_rows
    if n_stars:
        derived = {
            "night_key": payload.constant_column("night_key", wdb.bright_star.c.night_key.type,
                                                 night_key, n_stars),
            "hpx": payload.Column("hpx", np.dtype(">i8"),
                                  _hpx(products, "bright_stars.parquet")),
        }
        rows["bright_star"] = _copy(cur, wdb.bright_star,
                                    _columns(wdb.bright_star, products, "bright_stars.parquet",
                                             derived), bar=bar)
    provenance.write_log(cur, products, night_key, rows, started_at)
    return rows


def _analyze_targets(cur: psycopg.Cursor, table: sa.Table, rows: int,
                     pixel_starts: np.ndarray) -> list[str]:
    """What to ANALYZE after a night wrote ``rows`` rows to ``table``: the table, or, when
    it is partitioned by sky and the night adds less than ANALYZE_WHOLE_FRACTION of its
    rows, the partitions that hold the night's rows (found from the index: one row of
    each order-4 pixel the night wrote to, ``pixel_starts`` its first hpx)."""
    name = sql.Identifier(table.schema, table.name).as_string(cur)
    kind, before = cur.execute(statements()["table_kind"], {"table": name}).fetchone()
    if kind != "p" or before <= 0 or rows >= ANALYZE_WHOLE_FRACTION * before:
        return [name]
    return [t for (t,) in cur.execute(sql.SQL(statements()["night_partitions"]).format(
        table=sql.Identifier(table.schema, table.name)),
        {"starts": pixel_starts.tolist(), "steps": 1 << 2 * (HPX_ORDER - _ANALYZE_PIXEL_ORDER)})]


def _lock(cur: psycopg.Cursor, products: NightProducts, progress: bool) -> None:
    """Take the night's lock, then the working tables'; say whom a wait is for.

    The session is named after the night, so that whoever waits for it is told, and
    stops on the server when its client dies, so that it never holds the locks of a
    killed ingest. A release build holds the extraction tables in SHARE mode while it
    reads them: the wait for it is announced with the build's name and pid.
    """
    conn = cur.connection
    locks.name_session(conn, f"ingest {products.night.label}")
    locks.end_with_client(conn)
    params = {"namespace": provenance.LOCK_NAMESPACE,
              "night_lock": provenance.night_lock_key(products.night.hemis,
                                                      products.night.date)}
    if not cur.execute(statements()["lock_night_try"], params).fetchone()[0]:
        if progress:
            tqdm.write(f"{products.night.label}: another session is ingesting this night; "
                       "waiting for it to finish", file=sys.stderr)
        cur.execute(statements()["lock_night_wait"], params)
    notify = ((lambda message: tqdm.write(f"twomass: {message}", file=sys.stderr))
              if progress else (lambda message: None))
    locks.lock_tables(conn, ("wdb.scan", "wdb.pts", "wdb.ext"), "ROW EXCLUSIVE", notify)


@contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends.

    A night's commit and its report to ``on_night`` happen together, so that whoever
    reports an interruption knows exactly which nights were committed. Only the main
    thread receives signals, and only Python's own handler raises ``KeyboardInterrupt``:
    elsewhere, or under another handler (SIGINT ignored, say), this does nothing.
    """
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread()
            or previous is not signal.default_int_handler):
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


def ingest_night(db: Database, directory: Path | str, *, replace: bool = False,
                 on_warning: str = "warn", limits: Limits = DEFAULT_LIMITS,
                 progress: bool = True,
                 on_night: Callable[[NightResult], None] | None = None) -> NightResult:
    """Validate one night product directory and load it in one transaction.

    ``on_night``, when given, receives the result as soon as it is final: right after
    the commit (before the statistics are refreshed), or once the night is found
    unchanged. A Ctrl-C arriving during the commit waits until ``on_night`` returns.

    Raises
    ------
    ProductError, InvalidWarning
        Bad input; nothing was written.
    NightAlreadyLoaded
        The night is loaded from different files and ``replace`` is False.
    """
    start = last = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name], last = now - last, now

    products = read_night(directory)
    phase("read")
    found = validate(products, on_warning, limits)
    phase("validate")
    label = products.night.label
    with db.connection() as conn, conn.cursor() as cur:
        _lock(cur, products, progress)
        loaded = provenance.find_loaded(cur, products)
        status = "loaded"
        if loaded is not None:
            changed = provenance.changed_files(loaded, products)
            if not changed:
                conn.rollback()
                result = NightResult(Path(directory), label, "unchanged",
                                     dict.fromkeys(("tile", "scan", "ext", "pts"), 0), found,
                                     time.perf_counter() - start, phases)
                if on_night:
                    on_night(result)
                return result
            if not replace:
                raise NightAlreadyLoaded(
                    f"night {label} is already loaded from different files "
                    f"({', '.join(changed)} differ); use --replace to swap it for "
                    f"{printable(products.directory)}")
            for name in ("delete_night_pts", "delete_night_ext", "delete_night"):
                cur.execute(statements()[name], {"night_key": loaded.night_key})
            status = "replaced"
        total = sum(n for table, n in products.rows.items() if table != "tile")
        with tqdm(total=total, desc=label, unit="rows", unit_scale=True, file=sys.stderr,
                  disable=not progress, leave=False) as bar:
            where: dict[str, np.ndarray] = {}
            try:
                rows = _load_night(cur, products, bar, started_at, where)
            except psycopg.errors.UniqueViolation as exc:
                # Only a writer that bypasses the advisory lock can get here.
                raise NightAlreadyLoaded(f"night {label} was loaded by another session "
                                         f"meanwhile: {exc.diag.message_primary}") from None
        phase("write")
        with _interrupt_held():
            conn.commit()
            phase("commit")
            result = NightResult(Path(directory), label, status, rows, found,
                                 time.perf_counter() - start, phases)
            if on_night:
                on_night(result)
        big = [t for t in (wdb.pts, wdb.ext) if rows[t.name] >= ANALYZE_MIN_ROWS]
        for table in big:
            for target in _analyze_targets(cur, table, rows[table.name], where[table.name]):
                cur.execute(sql.SQL("ANALYZE {} ({})").format(
                    sql.SQL(target), sql.SQL(", ").join(map(sql.Identifier, ANALYZE_COLUMNS))))
        conn.commit()
        phase("analyze")
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


def ingest_nights(db: Database, directories: Sequence[Path | str], *, replace: bool = False,
                  on_warning: str = "warn", limits: Limits = DEFAULT_LIMITS,
                  progress: bool = True,
                  on_night: Callable[[NightResult], None] | None = None) -> IngestSummary:
    """Ingest night product directories in order, each in its own transaction.

    A directory of night directories (``twomass simulate``'s output) stands for its
    nights in name order (``night_directories``). A bad night stops the run with its
    error; nights before it stay loaded (each is complete), nights after it are not
    attempted. ``on_night`` receives each night's result as soon as it is committed (see
    ``ingest_night``), so a caller can report progress truthfully when a later night
    fails or the run is interrupted.
    """
    start = time.perf_counter()
    results = []
    for directory in night_directories(directories):
        result = ingest_night(db, directory, replace=replace, on_warning=on_warning,
                              limits=limits, progress=progress, on_night=on_night)
        results.append(result)
    return IngestSummary(results, time.perf_counter() - start)
