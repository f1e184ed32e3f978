"""Partition-wise release builds against the single-table build, their oracle.

The sky of ``_region`` (four overlapping tiles) is cut into order-7 pixels (0.46 deg);
sources are added on the pixels' boundaries inside the tiles' overlap, where every
covering scan sees them, so that duplicates, split sources and neighbours straddle
pixel boundaries (counted explicitly below).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import healpy as hp
import numpy as np
import psycopg
import pytest

from tests.release.conftest import WdbBuilder
from tests.release.test_build import ARCSEC, _all, _region
from twomass import release
from twomass.cli import main
from twomass.core import locks
from twomass.core.healpix import ang2hpx
from twomass.release import builder, incremental, partitioned

ORDER = 7
TABLES = ("psc", "psc_reject_row", "xsc", "xsc_reject_row", "scan_info")


def _on_boundaries(wdb: Any, scans: list[Any], rng: np.random.Generator) -> None:
    """Sources on order-7 pixel boundaries in the Dec overlap of the tile rows (0.42-0.48
    deg), seen by every scan covering them; every third one split in two 1" apart
    across the boundary, every second with an extended source made from it."""
    seen = set()
    for pixel in np.unique(ang2hpx(np.linspace(10.0, 10.25, 60), np.full(60, 0.45)) >> 44):
        xyz = hp.boundaries(1 << ORDER, int(pixel), step=40, nest=True)
        ra, dec = hp.vec2ang(xyz.T, lonlat=True)
        for r, d in zip(ra, dec, strict=True):
            if 0.42 < d < 0.48 and (round(r, 4), round(d, 4)) not in seen:
                seen.add((round(r, 4), round(d, 4)))
                _observe(wdb, scans, rng, float(r), float(d), len(seen))


def _observe(wdb: Any, scans: list[Any], rng: np.random.Generator, ra: float, dec: float,
             i: int) -> None:
    for scan in scans:
        ns, ew, _ = scan.edge_distance(ra, dec)
        if min(ns, ew) <= 0:
            continue
        jr, jd = rng.normal(0, 0.15 * ARCSEC, 2)
        _, ident = wdb.pts(scan, ra + jr, dec + jd)
        if i % 3 == 0:
            wdb.pts(scan, ra + jr + 1.0 * ARCSEC, dec + jd)
        if i % 2 == 0:  # (made from the point source, its peak 0.4" off: across, at times)
            wdb.ext(scan, ra + jr + (-1) ** i * 0.4 * ARCSEC, dec + jd, pts_id=ident)


def _sky(wdb: Any, n_sources: int = 300, seed: int = 5) -> None:
    _region(wdb, n_sources=n_sources, seed=seed,
            extra=lambda scans, rng: _on_boundaries(wdb, scans, rng))


def _rows(url: str, schema: str, table: str) -> list[tuple]:
    return sorted(_all(url, f"SELECT t::text FROM {schema}.{table} AS t"))


def _same_release(url: str, one: str, two: str) -> None:
    for table in TABLES:
        a, b = _rows(url, f"rel_{one}", table), _rows(url, f"rel_{two}", table)
        assert len(a) == len(b), table
        assert a == b, table


def test_partition_wise_build_equals_the_single_table_build(wdb: Any) -> None:
    _sky(wdb)
    single = release.build(wdb.db, "one", progress=False)
    stats = partitioned.build(wdb.db, "two", release.ReleaseSpec(), jobs=2, order=ORDER,
                              progress=False)
    two = release.show(wdb.db, "two")
    assert stats["pixels"] >= 4
    assert two.content_checksum == single.content_checksum
    assert two.wdb_checksum == single.wdb_checksum
    assert two.counts == single.counts
    _same_release(wdb.url, "one", "two")
    # The sky has what the margins are for: duplicates whose apparitions lie in
    # different pixels, and nearest neighbours in another pixel.
    psc = np.array(_all(wdb.url, "SELECT ra, dec, scan_key, hpx >> 44, pts_key, pxcntr "
                                 "FROM rel_two.psc"))
    dup = np.array(_all(wdb.url, "SELECT ra, dec, scan_key, hpx >> 44 FROM rel_two.psc_reject "
                                 "WHERE reject_reason = 'duplicate'"))
    sep = _separation(dup[:, :2], psc[:, :2])
    across = ((sep < 2.0) & (dup[:, None, 2] != psc[None, :, 2])
              & (dup[:, None, 3] != psc[None, :, 3]))
    assert across.any(axis=1).sum() >= 5
    pixel_of_key = dict(zip(psc[:, 4].astype(int), psc[:, 3].astype(int), strict=True))
    neighbour_elsewhere = sum(pixel_of_key[int(c)] != int(p) for p, c in psc[:, [3, 5]])
    assert neighbour_elsewhere >= 10
    # A margin just wide enough for the matches: most neighbours are looked up globally.
    narrow = partitioned.build(wdb.db, "three", release.ReleaseSpec(), jobs=2, order=ORDER,
                               margin_arcsec=6.0, progress=False)
    assert narrow["far"] > 50
    assert release.show(wdb.db, "three").content_checksum == single.content_checksum
    _same_release(wdb.url, "one", "three")
    assert _all(wdb.url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s", (r"\_build\_%",)
                ) == [(0,)]


def _separation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise separations [arcsec] of (ra, dec) rows [deg]."""
    def xyz(p: np.ndarray) -> np.ndarray:
        ra, dec = np.radians(p[:, 0]), np.radians(p[:, 1])
        return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], 1)
    chord = np.linalg.norm(xyz(a)[:, None, :] - xyz(b)[None, :, :], axis=2)
    return np.degrees(2 * np.arcsin(np.minimum(chord / 2, 1))) * 3600


def test_ingest_commits_while_a_partition_wise_build_reads_its_snapshot(wdb: Any) -> None:
    _sky(wdb, n_sources=120, seed=6)
    before = release.build(wdb.db, "before", progress=False, publish_after=False)

    def ingest() -> None:
        # As ingest does: ROW EXCLUSIVE on the working tables, rows of a new night; a
        # build holding SHARE locks would make this time out.
        with psycopg.connect(wdb.url) as conn:
            conn.execute("SET LOCAL lock_timeout = '3s'")
            locks.lock_tables(conn, ("wdb.scan", "wdb.pts", "wdb.ext"), "ROW EXCLUSIVE")
            night = conn.execute("INSERT INTO wdb.night (hemis, date, pipeline_version) "
                                 "VALUES ('s', '2001-01-01', 'test') RETURNING night_key"
                                 ).fetchone()[0]
            conn.execute("UPDATE wdb.scan SET night_key = %s WHERE scan_key = 1", (night,))
            conn.execute("CREATE TEMP TABLE more ON COMMIT DROP AS SELECT * FROM wdb.pts "
                         "WHERE scan_key = 1 AND id <= 5")
            conn.execute("UPDATE more SET id = id + 100000")
            conn.execute("INSERT INTO wdb.pts SELECT * FROM more")
            conn.execute("DELETE FROM wdb.pts WHERE scan_key = 2 AND id <= 5")

    partitioned.build(wdb.db, "during", release.ReleaseSpec(), jobs=2, order=ORDER,
                      progress=False, on_snapshot=ingest)
    during = release.show(wdb.db, "during")
    assert during.wdb_checksum == before.wdb_checksum
    assert during.content_checksum == before.content_checksum
    after = release.build(wdb.db, "after", progress=False, publish_after=False)
    assert after.wdb_checksum != before.wdb_checksum


def test_a_failed_partition_wise_build_leaves_nothing(
        wdb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _sky(wdb, n_sources=60, seed=7)
    release.build(wdb.db, "ok", progress=False)
    good_steps = builder.steps()
    monkeypatch.setattr(builder, "steps", lambda: good_steps + [("55_fail.sql",
                                                                 "SELECT 1 / 0;")])
    with pytest.raises(release.ReleaseError, match=r"55_fail.sql failed \(pixel \d+\).*"
                                                   "nothing was written"):
        release.build(wdb.db, "bad", jobs=2, order=ORDER, progress=False)
    assert _all(wdb.url, "SELECT to_regnamespace('rel_bad')") == [(None,)]
    assert _all(wdb.url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s", (r"\_build\_%",)
                ) == [(0,)]
    assert [r.name for r in release.list_releases(wdb.db)] == ["ok"]
    assert release.show(wdb.db, "ok").is_published


def test_cli_jobs(wdb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _sky(wdb, n_sources=60, seed=8)
    assert main(["--db", wdb.url, "release", "build", "one", "--no-publish"]) == 0
    capsys.readouterr()
    assert main(["--db", wdb.url, "release", "build", "two", "--jobs", "2", "--order",
                 str(ORDER)]) == 0
    out = capsys.readouterr()
    assert "release two:" in out.out and "published" in out.out
    assert "release rules B" in out.err  # (progress: pixels done per phase)
    assert (release.show(wdb.db, "two").content_checksum
            == release.show(wdb.db, "one").content_checksum)


def _next_night(wdb: Any) -> None:
    """A later night: a better scan of tile 4 (chosen instead of the first one) seeing
    the sources there again plus new ones, and a new tile 5 at RA 12 with its sources;
    the south of the region is not observed again."""
    night = WdbBuilder(wdb.db)
    night.scans = dict(wdb.scans)  # (the new scans' keys follow the first night's)
    night._date = wdb._date + dt.timedelta(days=30)
    rng = np.random.default_rng(11)
    old4 = wdb.scans[4]
    better = night.scan(4, old4.ra, old4.dec, qual=10, j_msnr10=16.5, h_msnr10=15.8,
                        k_msnr10=15.0)
    far = night.scan(5, 12.0, 0.0)
    with psycopg.connect(wdb.url) as conn:
        seen = conn.execute("SELECT ra, dec, j_snr FROM wdb.pts WHERE scan_key = 4").fetchall()
    for ra, dec, snr in seen:
        night.pts(better, ra + rng.normal(0, 0.1 * ARCSEC), dec, j_snr=snr)
    for ra, dec in zip(rng.uniform(10.0, 10.28, 40), rng.uniform(0.5, 1.3, 40), strict=True):
        night.pts(better, float(ra), float(dec))
    for ra, dec in zip(rng.uniform(11.95, 12.05, 60), rng.uniform(-0.4, 0.4, 60), strict=True):
        night.pts(far, float(ra), float(dec))
        if ra > 12.03:
            night.ext(far, float(ra), float(dec))
    night.commit()


def test_incremental_build_equals_the_full_build_of_the_new_working_database(
        wdb: Any) -> None:
    _sky(wdb)
    partitioned.build(wdb.db, "old", release.ReleaseSpec(), jobs=2, order=ORDER,
                      progress=False)
    same = partitioned.build(wdb.db, "same", release.ReleaseSpec(), jobs=2, order=ORDER,
                             progress=False, incremental_from="old")
    assert same["rebuilt"] == 0 and same["pixels"] >= 4
    _same_release(wdb.url, "old", "same")
    _next_night(wdb)
    full = release.build(wdb.db, "full", progress=False)
    stats = partitioned.build(wdb.db, "inc", release.ReleaseSpec(), jobs=2, order=ORDER,
                              progress=False, incremental_from="old")
    assert 0 < stats["rebuilt"] < stats["pixels"]
    assert release.show(wdb.db, "inc").content_checksum == full.content_checksum
    assert release.show(wdb.db, "old").content_checksum != full.content_checksum
    _same_release(wdb.url, "full", "inc")
    # Rows of copied pixels kept their content under other keys.
    moved = _all(wdb.url, "SELECT count(*) FROM rel_inc.psc AS n JOIN rel_old.psc AS o "
                 "USING (ra, dec, scan_key) WHERE n.pts_key <> o.pts_key")[0][0]
    assert moved > 0


def test_incremental_build_refuses_what_it_cannot_start_from(
        wdb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _sky(wdb, n_sources=50)
    release.build(wdb.db, "old", progress=False)
    with pytest.raises(release.ReleaseError, match="no release named 'nope'"):
        release.build(wdb.db, "x", incremental_from="nope", progress=False)
    with pytest.raises(release.ReleaseError, match="another spec"):
        release.build(wdb.db, "x", release.ReleaseSpec(min_scan_qual=5),
                      incremental_from="old", progress=False)
    with psycopg.connect(wdb.url) as conn:
        conn.execute("DROP TABLE rel_old.wdb_cell_hash")
    assert main(["--db", wdb.url, "release", "build", "x", "--incremental-from", "old"]) == 2
    assert "does not record what it read" in capsys.readouterr().err
    assert [r.name for r in release.list_releases(wdb.db)] == ["old"]


def test_any_pixels_rebuilt_on_an_unchanged_database_give_the_same_release(
        wdb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other pixel rebuilt, the others copied: neighbours (pxcntr) and the point and
    extended sources made from one another (psc.ext_key, xsc.pts_key) cross the
    boundaries of the two kinds (counted), and the release is the one it started from."""
    _sky(wdb)
    partitioned.build(wdb.db, "old", release.ReleaseSpec(), jobs=2, order=ORDER,
                      progress=False)

    rebuilt: set[int] = set()

    def checkerboard(conn: Any, work: str, old: str, pixels: list, order: int,
                     margin: float) -> incremental.Plan:
        rebuilt.update(p.pixel for i, p in enumerate(pixels) if i % 2 == 0)
        return incremental.Plan(rebuilt, incremental.with_neighbours(rebuilt, pixels, order))

    monkeypatch.setattr(incremental, "plan", checkerboard)
    stats = partitioned.build(wdb.db, "again", release.ReleaseSpec(), jobs=2, order=ORDER,
                              progress=False, incremental_from="old")
    assert 0 < stats["rebuilt"] < stats["pixels"]
    _same_release(wdb.url, "old", "again")
    assert (release.show(wdb.db, "again").content_checksum
            == release.show(wdb.db, "old").content_checksum)
    # References between rows of copied and of rebuilt pixels, both ways.
    shift = 2 * (29 - ORDER)
    for label, query, least in (
            ("pxcntr", "SELECT a.hpx, b.hpx FROM rel_old.psc AS a "
                       "JOIN rel_old.psc AS b ON b.pts_key = a.pxcntr", 5),
            ("ext_key", "SELECT a.hpx, b.hpx FROM rel_old.psc AS a "
                        "JOIN rel_old.xsc AS b ON b.ext_key = a.ext_key", 1),
            ("xsc pts_key", "SELECT a.hpx, b.hpx FROM rel_old.xsc AS a "
                            "JOIN rel_old.psc AS b ON b.pts_key = a.pts_key", 1)):
        pairs = _all(wdb.url, query)
        crossing = sum(((a >> shift) in rebuilt) != ((b >> shift) in rebuilt) for a, b in pairs)
        assert crossing >= least, (label, crossing)
