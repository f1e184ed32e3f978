"""Release builds as a whole: properties over a random region, atomicity, publishing, CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from twomass import release
from twomass.cli import main
from twomass.release import builder
from twomass.release.spec import ReleaseSpec

ARCSEC = 1 / 3600.0
WIDTH = 8.5 / 60


def _region(wdb: Any, n_sources: int = 400, seed: int = 1,
            extra: Callable[[list[Any], np.random.Generator], None] | None = None) -> None:
    """Four overlapping tiles (2 x 2), a worse second scan of one tile, random sources.

    Every true source is observed by every scan covering it (0.15" jitter); 10 % get a
    split second detection 1" away in one scan; there are faint noise detections,
    artifacts and cosmic rays (bright on one frame). ``extra(scans, rng)`` adds more
    before the rows are written.
    """
    rng = np.random.default_rng(seed)
    ra2 = 10 + WIDTH - 60 * ARCSEC
    scans = [wdb.scan(1, 10.0, 0.0), wdb.scan(2, ra2, 0.0),
             wdb.scan(3, 10.0, 0.9), wdb.scan(4, ra2, 0.9), wdb.scan(1, 10.0, 0.0, qual=6)]
    ra = rng.uniform(10 - WIDTH / 2, ra2 + WIDTH / 2, n_sources)
    dec = rng.uniform(-0.5, 1.4, n_sources)
    mag = rng.uniform(8, 17, n_sources)
    for i in range(n_sources):
        snr = float(10 * 10 ** (-0.4 * (mag[i] - 15.8)))
        for scan in scans:
            ns, ew, _ = scan.edge_distance(ra[i], dec[i])
            if min(ns, ew) <= 0:
                continue
            jr, jd = rng.normal(0, 0.15 * ARCSEC, 2)
            columns = {"j_snr": snr, "h_snr": snr, "k_snr": snr,
                       "j_cmsig": 1.0857 / snr, "h_cmsig": 1.0857 / snr,
                       "k_cmsig": 1.0857 / snr, "j_m": float(mag[i])}
            if i % 17 == 0:
                columns["cc_flg"] = "D00"
            if i % 23 == 0:
                columns.update(rd_flg="200", h_snr=None, k_snr=None, ndet="160000")
            wdb.pts(scan, ra[i] + jr, dec[i] + jd, **columns)
            if i % 10 == 0 and scan.scan_key == 2:
                wdb.pts(scan, ra[i] + jr, dec[i] + jd + 1.0 * ARCSEC, **columns)
    # Two bright sources 0.4 mas apart inside scan 1: one designation, two suffixes.
    for offset in (0.0, 1e-7):
        wdb.pts(scans[0], 10.00012345 + offset, -0.20001234, j_snr=50.0, h_snr=50.0,
                k_snr=50.0, j_cmsig=0.02, h_cmsig=0.02, k_cmsig=0.02)
    for scan in scans:
        for _ in range(40):
            r = rng.uniform(scan.ra - WIDTH / 2, scan.ra + WIDTH / 2)
            d = rng.uniform(scan.dec - 0.5, scan.dec + 0.5)
            wdb.pts(scan, r, d, j_snr=3.0, h_snr=2.0, k_snr=2.0,
                    j_cmsig=0.36, h_cmsig=0.5, k_cmsig=0.5)
    if extra is not None:
        extra(scans, rng)
    wdb.commit()


def _all(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_region_properties(wdb: Any) -> None:
    _region(wdb)
    record = release.build(wdb.db, "r", progress=False)
    url = wdb.url
    # Every working row is in exactly one of psc and psc_reject.
    working = _all(url, "SELECT scan_key, ra, dec FROM wdb.pts")
    released = _all(url, "SELECT scan_key, ra, dec FROM rel_r.psc UNION ALL "
                         "SELECT scan_key, ra, dec FROM rel_r.psc_reject")
    assert sorted(working) == sorted(released)
    assert record.counts["psc"] + record.counts["psc_reject"] == record.counts["wdb_pts"]
    assert record.counts["psc"] > 300
    # One scan per tile.
    tiles = [r[0] for r in _all(url, "SELECT tile FROM rel_r.scan_info")]
    assert sorted(tiles) == [1, 2, 3, 4]
    # No catalog row violates a selection rule.
    violations = _all(url, """
        SELECT pts_key FROM rel_r.psc
        WHERE NOT (dist_edge_ns > 10 AND dist_edge_ew > 10) OR cc_flg ~ '[C-P]'
           OR rd_flg !~ '[123]'
           OR NOT coalesce((substr(rd_flg, 1, 1) <> '0' AND (j_snr >= 7 OR j_cmsig <= 0.1551))
                  OR (substr(rd_flg, 2, 1) <> '0' AND (h_snr >= 7 OR h_cmsig <= 0.1551))
                  OR (substr(rd_flg, 3, 1) <> '0' AND (k_snr >= 7 OR k_cmsig <= 0.1551))
                  OR (rd_flg ~ '^[123]{3}$' AND (j_snr >= 5 OR h_snr >= 5 OR k_snr >= 5
                      OR j_cmsig <= 0.2171 OR h_cmsig <= 0.2171 OR k_cmsig <= 0.2171)), false)
           OR NOT (coalesce(j_psfchi < 10, false) OR coalesce(h_psfchi < 10, false)
                   OR coalesce(k_psfchi < 10, false) OR rd_flg ~ '[13]')
           OR scan_key NOT IN (SELECT scan_key FROM rel_r.scan_info)
           OR NOT (use_src = 1 OR (use_src = 0 AND dup_src = 0))""")
    assert violations == []
    # No two catalog rows from different scans closer than 2" (brute force).
    rows = np.array(_all(url, "SELECT ra, dec, scan_key, pts_key, prox, pxcntr FROM rel_r.psc"))
    ra, dec, scan = np.radians(rows[:, 0]), np.radians(rows[:, 1]), rows[:, 2]
    xyz = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)
    # (from the chord, which keeps its precision for sub-milliarcsecond separations)
    chord = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)
    sep = np.degrees(2 * np.arcsin(np.minimum(chord / 2, 1))) * 3600
    other = scan[:, None] != scan[None, :]
    assert not np.any((sep < 2.0) & other)
    # prox / pxcntr: the nearest other catalog row, by brute force.
    np.fill_diagonal(sep, np.inf)
    nearest = np.argmin(sep, axis=1)
    np.testing.assert_allclose(rows[:, 4], sep[np.arange(len(rows)), nearest], atol=2e-3)
    assert np.array_equal(rows[:, 5], rows[nearest, 3])
    # Split sources made confused groups; the frame test removed the one-frame detections.
    reasons = record.counts["psc_reject_reasons"]
    assert {"duplicate", "artifact", "snr", "scan_not_selected", "ndet", "edge"} <= set(reasons)
    assert _all(url, "SELECT count(*) FROM rel_r.psc WHERE dup_src >= 3")[0][0] > 0
    # Designations: the 16 characters, plus A, B, ... in key order wherever they are
    # shared (every row compared with every other one).
    named = _all(url, "SELECT designation, tmass_designation(ra, dec), "
                      "count(*) OVER (PARTITION BY tmass_designation(ra, dec)), "
                      "row_number() OVER (PARTITION BY tmass_designation(ra, dec) "
                      "ORDER BY pts_key) FROM rel_r.psc")
    assert [n.strip() for n, _, _, _ in named] == [
        base + (chr(64 + i) if shared > 1 else "") for _, base, shared, i in named]
    assert sum(shared > 1 for _, _, shared, _ in named) == 2
    # Keys are unique across catalog and rejects; prox is set for every catalog row.
    assert _all(url, "SELECT count(*) FROM rel_r.psc WHERE prox IS NULL OR pxcntr IS NULL"
                )[0][0] == 0
    keys = _all(url, "SELECT pts_key FROM rel_r.psc UNION ALL SELECT pts_key FROM rel_r.psc_reject")
    assert len(keys) == len(set(keys))
    # The reject tables show the catalog columns, names and types, plus reject_reason.
    for catalog in ("psc", "xsc"):
        columns = {table: _all(url, "SELECT attname, format_type(atttypid, atttypmod) "
                                    "FROM pg_attribute WHERE attrelid = %s::regclass "
                                    "AND attnum > 0 ORDER BY attnum", (f"rel_r.{table}",))
                   for table in (catalog, f"{catalog}_reject")}
        assert columns[f"{catalog}_reject"] == columns[catalog] + [("reject_reason", "text")]


def test_an_empty_working_database_gives_an_empty_release(wdb: Any) -> None:
    record = release.build(wdb.db, "e", progress=False)
    assert {k: record.counts[k] for k in ("psc", "psc_reject", "xsc", "xsc_reject",
                                           "scan_info", "wdb_pts")} == dict.fromkeys(
        ("psc", "psc_reject", "xsc", "xsc_reject", "scan_info", "wdb_pts"), 0)
    assert _all(wdb.url, "SELECT count(*) FROM psc UNION ALL SELECT count(*) FROM psc_reject"
                ) == [(0,), (0,)]


def test_same_spec_same_checksum_and_failed_build_leaves_nothing(
        wdb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _region(wdb, n_sources=120, seed=2)
    first = release.build(wdb.db, "a", progress=False)
    second = release.build(wdb.db, "b", progress=False, publish_after=False)
    assert first.content_checksum == second.content_checksum
    assert first.wdb_checksum == second.wdb_checksum
    other = release.build(wdb.db, "c", ReleaseSpec(psc_edge_arcsec=30.0), progress=False,
                          publish_after=False)
    assert other.content_checksum != first.content_checksum
    assert other.counts["psc"] < first.counts["psc"]

    good_steps = release.steps()
    monkeypatch.setattr(builder, "steps", lambda: good_steps[:3] + [("35_fail.sql",
                                                                     "SELECT 1 / 0;")])
    with pytest.raises(release.ReleaseError, match="35_fail.sql failed.*nothing was written"):
        release.build(wdb.db, "d", progress=False)
    assert _all(wdb.url, "SELECT to_regnamespace('rel_d')") == [(None,)]
    assert [r.name for r in release.list_releases(wdb.db)] == ["a", "b", "c"]
    assert release.show(wdb.db, "a").is_published
    with pytest.raises(release.ReleaseError, match="release 'a' exists .*choose another name"):
        release.build(wdb.db, "a", progress=False)
    # Built, never published (as after a kill between the build's commit and its publish):
    # building again is refused with the command that publishes it.
    with pytest.raises(release.ReleaseError, match=r"release 'b' exists unpublished \(built at "
                       r".*\): `twomass release publish b` publishes it"):
        release.build(wdb.db, "b", progress=False)


def test_publish_switches_views(wdb: Any) -> None:
    _region(wdb, n_sources=60, seed=3)
    release.build(wdb.db, "wide", ReleaseSpec(psc_edge_arcsec=5.0), progress=False)
    narrow = release.build(wdb.db, "narrow", ReleaseSpec(psc_edge_arcsec=60.0),
                           progress=False, publish_after=False)
    count = "SELECT (SELECT count(*) FROM public.psc), (SELECT count(*) FROM public.scan_info)"
    wide_counts = _all(wdb.url, count)[0]
    assert release.show(wdb.db, "wide").is_published
    with psycopg.connect(wdb.url) as conn:  # a user's own objects on the published views
        conn.execute("CREATE VIEW public.my_names AS SELECT designation FROM psc")
        conn.execute("CREATE FUNCTION public.my_count() RETURNS bigint LANGUAGE sql "
                     "BEGIN ATOMIC SELECT count(*) FROM psc; END")
    release.publish(wdb.db, "narrow")
    assert _all(wdb.url, count)[0] == (narrow.counts["psc"], narrow.counts["scan_info"])
    assert _all(wdb.url, "SELECT (SELECT count(*) FROM my_names), my_count()") == \
        [(narrow.counts["psc"], narrow.counts["psc"])]
    assert wide_counts[0] > narrow.counts["psc"]
    assert [r.name for r in release.list_releases(wdb.db) if r.is_published] == ["narrow"]
    with pytest.raises(release.ReleaseError, match="published"):
        release.drop(wdb.db, "narrow")
    release.drop(wdb.db, "wide")
    assert _all(wdb.url, "SELECT to_regnamespace('rel_wide')") == [(None,)]


def test_cli(wdb: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _region(wdb, n_sources=40, seed=4)
    spec = tmp_path / "spec.toml"
    spec.write_text("psc_edge_arcsec = 12\nvirtual_apparitions = false\n")
    assert main(["--db", wdb.url, "release", "build", "cli", "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "release cli:" in out and "published" in out
    assert main(["--db", wdb.url, "release", "show", "cli"]) == 0
    assert '"psc_edge_arcsec": 12.0' in capsys.readouterr().out
    assert main(["--db", wdb.url, "release", "list"]) == 0
    assert "published: cli" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("psc_edge_arcsec = 'ten'\nno_such_rule = 1\n")
    assert main(["--db", wdb.url, "release", "build", "x", "--spec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "no_such_rule" in err and "Traceback" not in err
    assert main(["--db", wdb.url, "release", "build", "Bad-Name"]) == 2
    assert "invalid release name" in capsys.readouterr().err
    assert main(["--db", wdb.url, "release", "show", "nope"]) == 2


def test_cli_interrupted_before_publishing_says_how_to_publish(
        wdb: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _region(wdb, n_sources=20, seed=5)

    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(release, "publish", interrupt)
    assert main(["--db", wdb.url, "release", "build", "half"]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        "twomass: interrupted; release half is built but not published: "
        "`twomass release publish half` publishes it")
    monkeypatch.undo()
    assert main(["--db", wdb.url, "release", "build", "half"]) == 2
    assert "`twomass release publish half` publishes it" in capsys.readouterr().err
    assert main(["--db", wdb.url, "release", "publish", "half"]) == 0
    assert release.show(wdb.db, "half").is_published
