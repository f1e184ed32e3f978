"""Loading valid nights: contents, derived columns, provenance, idempotence, replace."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import healpy as hp
import numpy as np
import psycopg
import pyarrow.parquet as pq
import pytest

import twomass
from twomass.ingest.load import NightAlreadyLoaded, TileConflict, ingest_night, ingest_nights
from twomass.schema.products import product_schema


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_night_loads_every_row_with_derived_columns(db, db_url, make_night):
    night = make_night(n_pts=500, n_ext=12, n_scans=4)
    result = ingest_night(db, night.directory, progress=False)
    assert result.status == "loaded"
    assert result.rows == {"tile": 4, "scan": 4, "ext": 12, "pts": 500}

    (hemis, date, version), = fetch(db_url, "SELECT hemis, date, pipeline_version "
                                    "FROM wdb.night")
    assert (hemis, date, version) == ("n", dt.date(2000, 6, 1), "1.0")

    # Every product column round-trips exactly; hpx is healpy's own order-29 index.
    source = pq.read_table(night.directory / "pts.parquet").to_pandas()
    names = [n for n in product_schema("pts.parquet").names if n != "scan"]
    loaded = fetch(db_url, f"SELECT s.scan, p.hpx, {', '.join('p.' + n for n in names)} "
                   "FROM wdb.pts p JOIN wdb.scan s USING (scan_key) ORDER BY s.scan, p.id")
    source = source.sort_values(["scan", "id"]).reset_index(drop=True)
    assert [r[0] for r in loaded] == source["scan"].tolist()
    expected_hpx = hp.ang2pix(2**29, source["ra"].to_numpy(), source["dec"].to_numpy(),
                              nest=True, lonlat=True)
    assert [r[1] for r in loaded] == expected_hpx.tolist()
    for j, name in enumerate(names, start=2):
        got = [r[j] for r in loaded]
        want = source[name].tolist()
        if source[name].dtype.kind == "f":
            # Compare in the column's own precision: float4 text output is the shortest
            # decimal that reads back as the same float32.
            kind = source[name].dtype
            got = np.array([np.nan if v is None else v for v in got], dtype=float).astype(kind)
            want = source[name].to_numpy(dtype=kind)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
            np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)],
                                          err_msg=name)
        else:
            assert got == want, name

    scans = fetch(db_url, "SELECT scan, tile, hemis, date, hpx, ra, dec FROM wdb.scan "
                  "ORDER BY scan")
    assert [s[0] for s in scans] == [1, 2, 3, 4]
    for _, _, h, d, hpx, ra, dec in scans:
        assert (h, d) == ("n", dt.date(2000, 6, 1))
        assert hpx == hp.ang2pix(2**29, ra, dec, nest=True, lonlat=True)
    assert fetch(db_url, "SELECT count(*) FROM wdb.ext e JOIN wdb.scan s USING (scan_key)")[0][0] \
        == 12


def test_ingest_log_records_files_rows_version_and_times(db, db_url, make_night):
    night = make_night()
    ingest_night(db, night.directory, progress=False)
    (files, read, loaded, version, start, end, directory, key), = fetch(
        db_url, "SELECT files, rows_read, rows_loaded, code_version, started_at, "
        "finished_at, directory, night_key FROM wdb.ingest_log")
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in night.directory.iterdir()}
    assert files == expected
    assert read == loaded == {"tile": 3, "scan": 3, "pts": 200, "ext": 10}
    assert version == twomass.__version__
    assert start <= end
    assert directory == str(night.directory)
    assert key == fetch(db_url, "SELECT night_key FROM wdb.night")[0][0]


def test_identical_night_again_is_a_no_op(db, db_url, make_night, snapshot):
    night = make_night()
    ingest_night(db, night.directory, progress=False)
    before = snapshot(db_url)
    copy = make_night()  # same arguments: byte-identical files in another directory
    summary = ingest_nights(db, [night.directory, copy.directory], progress=False)
    assert [n.status for n in summary.nights] == ["unchanged", "unchanged"]
    assert "identical files already ingested" in summary.nights[0].line()
    assert summary.rows == 0
    assert snapshot(db_url) == before


def test_different_files_refused_unless_replace(db, db_url, make_night, snapshot):
    old = make_night(n_pts=300, seed=1)
    new = make_night(n_pts=450, seed=2)
    ingest_night(db, old.directory, progress=False)
    before = snapshot(db_url)
    with pytest.raises(NightAlreadyLoaded, match=r"2000-06-01n .*pts.parquet.*--replace"):
        ingest_night(db, new.directory, progress=False)
    assert snapshot(db_url) == before

    result = ingest_night(db, new.directory, replace=True, progress=False)
    assert result.status == "replaced"
    after = snapshot(db_url)
    assert (after["night"], after["scan"], after["pts"], after["ingest_log"]) == (1, 3, 450, 2)
    logs = fetch(db_url, "SELECT night_key IS NULL, directory FROM wdb.ingest_log "
                 "ORDER BY ingest_id")
    assert logs == [(True, str(old.directory)), (False, str(new.directory))]


def test_replace_is_atomic_for_readers(db, db_url, make_night):
    old = make_night(n_pts=3000, seed=1)
    new = make_night(n_pts=5000, seed=2)
    ingest_night(db, old.directory, progress=False)
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            while not done.is_set():
                seen.add(conn.execute(
                    "SELECT count(*) FROM wdb.pts JOIN wdb.scan USING (scan_key) "
                    "WHERE date = '2000-06-01'").fetchone()[0])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        ingest_night(db, new.directory, replace=True, progress=False)
    finally:
        done.set()
        reader.join()
    assert seen <= {3000, 5000}


def test_nights_share_tiles_and_conflicting_tile_is_refused(db, db_url, make_night, snapshot,
                                                             edit_parquet, set_value):
    first = make_night(n_scans=3, first_tile=1000)
    second = make_night(n_scans=3, first_tile=1000, date=dt.date(2000, 6, 2), seed=5)
    summary = ingest_nights(db, [first.directory, second.directory], progress=False)
    assert [n.rows["tile"] for n in summary.nights] == [3, 0]
    assert fetch(db_url, "SELECT count(*) FROM wdb.tile")[0][0] == 3

    third = make_night(n_scans=3, first_tile=1000, date=dt.date(2000, 6, 3))
    edit_parquet(third.directory / "tiles.parquet",
                 lambda t: set_value(t, "dec_band", 1, 17))
    before = snapshot(db_url)
    with pytest.raises(TileConflict, match=r"tiles.parquet column dec_band: tile 1001"):
        ingest_night(db, third.directory, progress=False)
    assert snapshot(db_url) == before


def test_empty_extraction_files_load(db, db_url, make_night):
    night = make_night(n_pts=0, n_ext=0, n_scans=2)
    result = ingest_night(db, night.directory, on_warning="ignore", progress=False)
    assert result.rows == {"tile": 2, "scan": 2, "ext": 0, "pts": 0}
