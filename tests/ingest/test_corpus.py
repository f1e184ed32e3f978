"""A corpus of malformed night products, generated here: each one is refused as documented.

Every case breaks one valid night in one way (a file missing, truncated, corrupted, of a
wrong type, a value out of range, a hostile string, a permission, a special file in a
product's place) and runs ``twomass ingest --on-warning error`` on it through the CLI
entry point: exit status 2, one line on stderr naming what is wrong, no traceback, and
every ``wdb`` table byte for byte as before.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from psycopg import sql

from twomass.cli import main
from twomass.core import database
from twomass.core.database import Database
from twomass.ingest.load import ingest_night

from .sample import write_night


@dataclass
class Night:
    """The night a case breaks, and what the case needs to break it."""

    directory: Path
    monkeypatch: pytest.MonkeyPatch
    locked: list[Path] = field(default_factory=list)

    def path(self, file: str) -> Path:
        return self.directory / file

    def edit(self, file: str, change: Callable[[pa.Table], pa.Table]) -> None:
        """Rewrite a product file through ``change`` (a writer ignoring the contract)."""
        path = self.path(file)
        pq.write_table(change(pq.read_table(path)), path, write_page_checksum=True)

    def set(self, file: str, column: str, row: int, value: object,
            type_: pa.DataType | None = None) -> None:
        """One cell replaced (nullable, and of ``type_`` if given)."""
        def change(table: pa.Table) -> pa.Table:
            values = table.column(column).to_pylist()
            values[row] = value
            i = table.schema.get_field_index(column)
            field = table.schema.field(i).with_nullable(True)
            field = field.with_type(type_) if type_ else field
            return table.set_column(i, field, pa.array(values, type=field.type))
        self.edit(file, change)

    def retype(self, file: str, column: str, type_: pa.DataType) -> None:
        self.edit(file, lambda t: t.set_column(t.schema.get_field_index(column),
                                               pa.field(column, type_),
                                               t.column(column).cast(type_)))

    def night_json(self, **fields: object) -> None:
        path = self.path("night.json")
        path.write_text(json.dumps(json.loads(path.read_text()) | fields))

    def write(self, file: str, data: bytes) -> None:
        self.path(file).write_bytes(data)

    def replace_file(self, file: str) -> Path:
        """Remove a product file so that something else can take its place."""
        path = self.path(file)
        path.unlink()
        return path

    def truncate(self, file: str) -> None:
        self.write(file, self.path(file).read_bytes()[:self.path(file).stat().st_size // 2])

    def overwrite(self, file: str, offset: int, data: bytes) -> None:
        blob = bytearray(self.path(file).read_bytes())
        blob[offset:offset + len(data)] = data
        self.path(file).write_bytes(bytes(blob))

    def invert(self, file: str, offset: int, n: int = 16) -> None:
        blob = self.path(file).read_bytes()[offset:offset + n]
        self.overwrite(file, offset, bytes(b ^ 0xFF for b in blob))

    def data_offset(self, file: str, percent: int) -> int:
        """``percent`` of the way through the pages, before the footer."""
        blob = self.path(file).read_bytes()
        footer = int.from_bytes(blob[-8:-4], "little") + 8
        return 4 + (len(blob) - footer - 4) * percent // 100

    def zero_middle_of(self, file: str, column: str, n: int = 64) -> None:
        """Zero ``n`` bytes in the middle of a column's data: past its page header."""
        meta = pq.ParquetFile(self.path(file)).metadata.row_group(0)
        chunk = next(meta.column(i) for i in range(meta.num_columns)
                     if meta.column(i).path_in_schema == column)
        start = chunk.dictionary_page_offset or chunk.data_page_offset
        middle = start + chunk.total_compressed_size // 2
        self.overwrite(file, middle - n // 2, bytes(n))

    def unreadable(self, path: Path) -> None:
        """Take read permission away; where it does not stop reads (root), fail the open.

        Root reads any file whatever its mode, so there the refusal the kernel would give
        an ordinary user is produced at ``os.open`` for that path instead.
        """
        path.chmod(0)
        self.locked.append(path)
        try:
            os.close(os.open(path / "night.json" if path.is_dir() else path, os.O_RDONLY))
        except PermissionError:
            return  # an ordinary user: the kernel refuses
        real_open = os.open

        def refusing_open(file, flags, *args, **kw):
            if Path(file) == path or path in Path(file).parents:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
            return real_open(file, flags, *args, **kw)

        self.monkeypatch.setattr(os, "open", refusing_open)


def _nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _without_scan_3(n: Night) -> None:
    for file in ("pts.parquet", "ext.parquet"):
        n.edit(file, lambda t: t.filter(pc.not_equal(t["scan"], 3)))


def _fifo(n: Night) -> None:
    os.mkfifo(n.replace_file("pts.parquet"))


def _symlink_loop(n: Night, file: str) -> None:
    n.replace_file(file).symlink_to(file)


def _odd_directory(n: Night) -> Path:
    """A directory name that is not UTF-8 (with a missing file, to be refused)."""
    odd = n.directory.with_name(os.fsdecode(b"night-\xff"))
    n.directory.rename(odd)
    (odd / "ext.parquet").unlink()
    return odd


PARQUET = r"not a readable Parquet file \("
CRC = r"corrupted: a page's checksum does not match its data \("
DAMAGED = rf"({PARQUET}|{CRC})"

#: (case, what it does to the night -> the path to ingest or None, expected message).
CASES: list[tuple[str, Callable[[Night], Path | None], str]] = [
    # Missing.
    *[(f"missing {f}", lambda n, f=f: n.path(f).unlink(), rf"{re.escape(f)}: file is missing")
      for f in ("night.json", "tiles.parquet", "scans.parquet", "pts.parquet", "ext.parquet")],
    ("missing directory", lambda n: n.directory / "nope", r"nope: not a directory"),
    # Empty or truncated.
    *[(f"truncated {f}", lambda n, f=f: n.truncate(f), rf"{re.escape(f)}: {PARQUET}")
      for f in ("tiles.parquet", "scans.parquet", "pts.parquet", "ext.parquet")],
    ("empty pts.parquet", lambda n: n.write("pts.parquet", b""), PARQUET),
    ("pts.parquet only its magic", lambda n: n.write("pts.parquet", b"PAR1"), PARQUET),
    ("pts.parquet without footer", lambda n: n.write(
        "pts.parquet", n.path("pts.parquet").read_bytes()[:-8]), PARQUET),
    ("empty night.json", lambda n: n.write("night.json", b""), r"night\.json: not valid JSON"),
    # Corrupted bytes: zeros in a column's data are caught by the page checksums.
    *[(f"zeroed bytes in pts.{c}", lambda n, c=c: n.zero_middle_of("pts.parquet", c),
       rf"pts\.parquet: {CRC}")
      for c in ("ra", "dec", "err_maj", "j_m_stdap", "jdate", "x_scan")],
    ("zeroed bytes in ext.ra", lambda n: n.zero_middle_of("ext.parquet", "ra", 16),
     rf"ext\.parquet: {CRC}"),
    *[(f"zeroed bytes {p}% into the pages of pts.parquet",
       lambda n, p=p: n.overwrite("pts.parquet", n.data_offset("pts.parquet", p), bytes(64)),
       rf"pts\.parquet: {DAMAGED}") for p in (25, 50, 75)],
    ("inverted bytes in scans.parquet",
     lambda n: n.invert("scans.parquet", n.data_offset("scans.parquet", 50)),
     rf"scans\.parquet: {DAMAGED}"),
    ("magic overwritten", lambda n: n.overwrite("tiles.parquet", 0, b"XXXX"), PARQUET),
    ("footer garbage", lambda n: n.overwrite(
        "ext.parquet", n.path("ext.parquet").stat().st_size - 40, b"\x17" * 32), DAMAGED),
    # Wrong type or shape.
    ("id as int64", lambda n: n.retype("pts.parquet", "id", pa.int64()),
     r"pts\.parquet column id: wrong type int64, expected int32"),
    ("ra as text", lambda n: n.retype("pts.parquet", "ra", pa.string()),
     r"pts\.parquet column ra: wrong type string, expected double"),
    ("qual as float", lambda n: n.retype("scans.parquet", "qual", pa.float64()),
     r"scans\.parquet column qual: wrong type double, expected int16"),
    ("scan as int32", lambda n: n.retype("pts.parquet", "scan", pa.int32()),
     r"pts\.parquet column scan: wrong type int32, expected int16"),
    ("rd_flg as binary", lambda n: n.retype("pts.parquet", "rd_flg", pa.binary()),
     r"pts\.parquet column rd_flg: wrong type binary, expected string"),
    ("missing column", lambda n: n.edit("pts.parquet", lambda t: t.drop_columns(["j_m"])),
     r"pts\.parquet column j_m: column is missing"),
    ("unexpected column", lambda n: n.edit("ext.parquet", lambda t: t.append_column(
        "extra", pa.array([1] * t.num_rows))), r"ext\.parquet column extra: unexpected column"),
    ("night.json a list", lambda n: n.write("night.json", b"[1, 2]"),
     r"night\.json: expected a JSON object"),
    ("date a number", lambda n: n.night_json(date=20000601),
     r"night\.json: field 'date' must be a string, got 20000601"),
    ("date in another format", lambda n: n.night_json(date="20000601"),
     r"night\.json: field 'date' must be YYYY-MM-DD, got '20000601'"),
    ("hemis x", lambda n: n.night_json(hemis="x"), r"field 'hemis' must be 'n' or 's'"),
    # Values outside what their definition allows.
    ("dec 91", lambda n: n.set("pts.parquet", "dec", 5, 91.0),
     r"pts\.parquet row 5 column dec: declination 91\.0 outside \[-90, 90\]"),
    ("ra 360", lambda n: n.set("ext.parquet", "ra", 2, 360.0), r"right ascension 360\.0"),
    ("ra -1", lambda n: n.set("tiles.parquet", "ra_3", 1, -1.0), r"right ascension -1\.0"),
    ("NaN position", lambda n: n.set("pts.parquet", "ra", 7, float("nan")),
     r"row 7 column ra: value nan is not finite"),
    ("infinite jdate", lambda n: n.set("scans.parquet", "jdate", 0, float("inf")),
     r"scans\.parquet row 0 column jdate: value inf is not finite"),
    ("negative error", lambda n: n.set("pts.parquet", "h_cmsig", 9, -0.1),
     r"column h_cmsig: uncertainty -0\.1\d* is negative"),
    ("NULL required", lambda n: n.set("pts.parquet", "err_maj", 6, None),
     r"row 6 column err_maj: value is NULL, the column is required"),
    ("QA score 11", lambda n: n.set("scans.parquet", "qual", 0, 11), r"QA score 11 outside"),
    ("scan number -1", lambda n: n.set("scans.parquet", "scan", 0, -1),
     r"scans\.parquet row 0 column scan: scan number -1 below 1"),
    ("id -5", lambda n: n.set("pts.parquet", "id", 4, -5), r"row 4 column id: source id -5"),
    ("ext id 0", lambda n: n.set("ext.parquet", "id", 1, 0), r"row 1 column id: source id 0"),
    ("err_ang 400", lambda n: n.set("pts.parquet", "err_ang", 2, 400),
     r"row 2 column err_ang: position angle 400 outside \[0, 180\]"),
    ("err_ang -1", lambda n: n.set("pts.parquet", "err_ang", 3, -1), r"position angle -1"),
    ("mp_flg 7", lambda n: n.set("pts.parquet", "mp_flg", 1, 7), r"0/1 flag 7 outside"),
    ("cld 2", lambda n: n.set("scans.parquet", "cld", 2, 2), r"column cld: 0/1 flag 2"),
    ("dangling pts_id", lambda n: n.set("ext.parquet", "pts_id", 0, 999),
     r"row 0 column pts_id: point extraction \(scan, id\) = \(1, 999\) is not in pts"),
    ("duplicate scan number", lambda n: n.set("scans.parquet", "scan", 1, 1),
     r"duplicate scan number 1"),
    ("extraction of an unknown scan", lambda n: n.set("pts.parquet", "scan", 2, 99),
     r"scan number 99 is not in scans\.parquet"),
    ("scan of an unknown tile", lambda n: n.set("scans.parquet", "tile", 2, 7),
     r"tile 7 is not in tiles\.parquet"),
    ("duplicate (scan, id)", lambda n: n.set("pts.parquet", "id", 11, 1),
     r"duplicate \(scan, id\) = \(1, 1\)"),
    ("flag of length 2", lambda n: n.set("pts.parquet", "rd_flg", 3, "22"),
     r"flag '22' must have 3 characters"),
    ("flag alphabet", lambda n: n.set("pts.parquet", "cc_flg", 4, "0#0"),
     r"flag '0#0' does not match"),
    ("a year off", lambda n: n.night_json(date="2001-06-01"),
     r"night\.json: field 'date' is 2001-06-01 but its scans were observed -36\d\.\d days"),
    # Implausible values: warnings, refused by --on-warning error.
    ("W01 S/N", lambda n: n.set("pts.parquet", "j_snr", 3, 2e9), r"W01: .*S/N 2e\+09"),
    ("W02 magnitude", lambda n: n.set("pts.parquet", "k_m", 8, 31.0), r"W02: .*magnitude 31"),
    ("W03 QA score", lambda n: n.set("scans.parquet", "qual", 1, 2), r"W03: .*QA score 2"),
    ("W04 jdate", lambda n: n.set("pts.parquet", "jdate", 12, 1e300),
     r"W04: .*Julian Date 1e\+300 outside the night"),
    ("W05 empty scan", _without_scan_3,
     r"W05: scans\.parquet row 2 column scan: scan 3 has no point extraction"),
    ("W06 err_maj", lambda n: n.set("pts.parquet", "err_maj", 14, 3e38),
     r"W06: .*position error 3e\+38 arcsec"),
    ("W07 far from its scan", lambda n: n.set("pts.parquet", "dec", 20, -80.0),
     r"W07: pts\.parquet row 20 column ra: extraction \d+ arcsec outside scan"),
    # Hostile strings.
    ("NUL in pipeline_version", lambda n: n.night_json(pipeline_version="1.0\x00"),
     r"field 'pipeline_version' contains a control character \(U\+0000 at character 3\)"),
    ("NUL in pipeline", lambda n: n.night_json(pipeline="\x00"), r"U\+0000"),
    ("terminal escape", lambda n: n.night_json(pipeline="\x1b[2J"), r"U\+001B"),
    ("unpaired surrogate", lambda n: n.write("night.json", n.path("night.json").read_bytes()
                                             .replace(b'"1.0"', b'"\\ud800"')),
     r"pipeline_version' contains an unpaired surrogate"),
    ("long pipeline_version", lambda n: n.night_json(pipeline_version="v" * 500),
     r"field 'pipeline_version' has 500 characters, more than 200"),
    ("huge night.json", lambda n: n.night_json(padding="x" * 100_000), r"more than 65,536"),
    ("deeply nested night.json", lambda n: n.write("night.json", _nested_json(30_000)),
     r"night\.json: not valid JSON"),
    ("invalid UTF-8 in night.json", lambda n: n.write("night.json", b'{"date": "\xff"}'),
     r"night\.json: not valid JSON: 'utf-8' codec can't decode"),
    ("full-width hemis", lambda n: n.night_json(hemis="\uff4e"),
     r"field 'hemis' must be 'n' or 's', got '\uff4e'"),
    ("NUL in a flag", lambda n: n.set("pts.parquet", "rd_flg", 1, "2\x002"),
     r"row 1 column rd_flg: flag '2\\x002' does not match"),
    ("huge flag", lambda n: n.set("pts.parquet", "cc_flg", 0, "0" * 1_000_000),
     r"row 0 column cc_flg: flag '0+\.\.\.0+' must have 3 characters"),
    ("non-ASCII flag", lambda n: n.set("ext.parquet", "dist_edge_flg", 0, "n\u00e9"),
     r"flag 'n\u00e9' does not match"),
    ("directory not UTF-8", _odd_directory, r"night-\\xff/ext\.parquet: file is missing"),
    # Permissions.
    ("unreadable pts.parquet", lambda n: n.unreadable(n.path("pts.parquet")),
     r"pts\.parquet: cannot be read: permission denied"),
    ("unreadable night.json", lambda n: n.unreadable(n.path("night.json")),
     r"night\.json: cannot be read: permission denied"),
    ("unreadable directory", lambda n: n.unreadable(n.directory),
     r"night\.json: cannot be read: permission denied"),
    # Something other than a file in a product's place.
    ("FIFO", _fifo, r"pts\.parquet: is a FIFO \(named pipe\), not a regular file"),
    ("directory", lambda n: n.replace_file("ext.parquet").mkdir(),
     r"ext\.parquet: is a directory, not a regular file"),
    ("symlink loop", lambda n: _symlink_loop(n, "scans.parquet"),
     r"scans\.parquet: cannot be read: a symbolic link loop"),
    ("dangling symlink", lambda n: n.replace_file("tiles.parquet").symlink_to("gone"),
     r"tiles\.parquet: is a symbolic link to a missing file"),
    ("character device", lambda n: n.replace_file("pts.parquet").symlink_to(os.devnull),
     r"pts\.parquet: is a character device, not a regular file"),
    ("night is a file", lambda n: n.write("night.json", b"{}") or n.path("night.json"),
     r"night\.json: not a directory"),
    ("night is a symlink loop", lambda n: (n.directory.parent / "loop").symlink_to("loop")
     or n.directory.parent / "loop", r"loop: cannot be read: a symbolic link loop"),
]


def _checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of the rows of every ``wdb`` table."""
    with psycopg.connect(url) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'wdb' "
            "ORDER BY table_name")]
        return {t: conn.execute(sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(md5(r::text), '' ORDER BY "
            "md5(r::text))), '') FROM {} AS r").format(sql.Identifier("wdb", t))).fetchone()
            for t in tables}


@pytest.fixture(scope="module")
def loaded_url(admin_url: str, template_db: str, tmp_path_factory) -> Iterator[str]:
    """A database holding one night: every case compares it before and after."""
    url = database.create_database(admin_url, "twomass_test", template_db)
    base = write_night(tmp_path_factory.mktemp("base") / "2000-05-01n", n_pts=300,
                       date=dt.date(2000, 5, 1))
    with Database(url) as db:
        ingest_night(db, base.directory, progress=False)
    yield url
    database.drop_database(admin_url, url)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 60
    assert len({case for case, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("case, damage, message", CASES, ids=[c[0] for c in CASES])
def test_malformed_night_is_refused_and_nothing_changes(
        case, damage, message, loaded_url, tmp_path, monkeypatch, capsys):
    sample = write_night(tmp_path / "2000-06-01n", n_pts=200, n_ext=40, n_scans=4)
    night = Night(sample.directory, monkeypatch)
    target = damage(night) or sample.directory
    before = _checksums(loaded_url)
    try:
        status = main(["--db", loaded_url, "ingest", "--on-warning", "error", str(target)])
    finally:
        monkeypatch.undo()
        for path in night.locked:
            path.chmod(0o700)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == 2, captured.err
    assert captured.out == ""
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("twomass: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in captured.err and len(lines[0]) < 500
    assert _checksums(loaded_url) == before
