"""Night product directories built by hand for ingest tests, and database snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .sample import SampleNight, write_night

WDB_TABLES = ("night", "tile", "scan", "pts", "ext", "bright_star", "ingest_log")


@pytest.fixture
def make_night(tmp_path: Path) -> Callable[..., SampleNight]:
    """Factory: a valid night directory under tmp_path (small by default)."""
    counter = iter(range(1000))

    def make(name: str | None = None, **kw) -> SampleNight:
        kw.setdefault("n_pts", 200)
        kw.setdefault("n_ext", 10)
        kw.setdefault("n_scans", 3)
        date = kw.setdefault("date", dt.date(2000, 6, 1))
        hemis = kw.setdefault("hemis", "n")
        directory = tmp_path / (name or f"{date.isoformat()}{hemis}-{next(counter)}")
        return write_night(directory, **kw)

    return make


def _edit_parquet(path: Path, edit: Callable[[pa.Table], pa.Table]) -> None:
    """Rewrite one product file through ``edit`` (keeping whatever schema it returns)."""
    pq.write_table(edit(pq.read_table(path)), path)


def _set_value(table: pa.Table, column: str, row: int, value) -> pa.Table:
    """``table`` with one cell replaced (type kept)."""
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    field = table.schema.field(index)
    if value is None:  # a writer that forgot the contract's nullability
        field = field.with_nullable(True)
    return table.set_column(index, field, pa.array(values, type=field.type))


def _snapshot(url: str) -> dict[str, object]:
    """Row counts of every wdb table plus a checksum of the extraction keys."""
    with psycopg.connect(url) as conn:
        state: dict[str, object] = {
            t: conn.execute(f"SELECT count(*) FROM wdb.{t}").fetchone()[0]  # noqa: S608
            for t in WDB_TABLES
        }
        state["pts_keys"] = conn.execute(
            "SELECT coalesce(sum(hpx % 1000003), 0), coalesce(sum(scan_key::bigint * id), 0) "
            "FROM wdb.pts").fetchone()
    return state


@pytest.fixture
def edit_parquet() -> Callable[[Path, Callable[[pa.Table], pa.Table]], None]:
    return _edit_parquet


@pytest.fixture
def set_value() -> Callable[..., pa.Table]:
    return _set_value


@pytest.fixture
def snapshot() -> Callable[[str], dict[str, object]]:
    return _snapshot
