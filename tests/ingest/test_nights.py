"""``twomass nights list`` and ``twomass nights drop``: what is loaded, and removing a night."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from twomass.cli import main
from twomass.ingest import provenance
from twomass.ingest.load import ingest_night
from twomass.ingest.nights import NightError, drop_night, list_nights, parse_night


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _night_rows(url: str, date: dt.date) -> list[tuple]:
    """Everything a night owns, to show that dropping another night leaves it intact."""
    return fetch(url, "SELECT s.scan, s.tile, p.id, p.ra, p.j_m FROM wdb.pts p JOIN wdb.scan s "
                 "USING (scan_key) WHERE s.date = %s ORDER BY s.scan, p.id", (date,))


def test_list_shows_every_night_in_date_order(db, db_url, make_night, capsys):
    later = make_night(date=dt.date(2000, 6, 2), hemis="s", n_pts=120)
    earlier = make_night(date=dt.date(2000, 6, 1), n_pts=90)
    for night in (later, earlier):
        ingest_night(db, night.directory, progress=False)
    nights = list_nights(db)
    assert [n.label for n in nights] == ["2000-06-01n", "2000-06-02s"]
    assert [n.rows["pts"] for n in nights] == [90, 120]
    assert nights[0].rows["scan"] == 3 and nights[0].directory == str(earlier.directory)

    assert main(["--db", db_url, "nights", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2000-06-01n      3 scans           90 pts ")
    assert out[0].endswith(f"from {earlier.directory}")
    assert out[-1] == "nights list: 2 night(s), 210 pts rows"


def test_drop_removes_the_night_its_own_tiles_and_its_provenance(db, db_url, make_night,
                                                                 capsys):
    # Tiles 1000-1002 observed by the first night, 1001-1003 by the second: they share two.
    first = make_night(date=dt.date(2000, 6, 1), first_tile=1000, seed=1)
    replaced = make_night(date=dt.date(2000, 6, 1), first_tile=1000, seed=2)
    second = make_night(date=dt.date(2000, 6, 2), first_tile=1001, seed=3)
    ingest_night(db, first.directory, progress=False)
    ingest_night(db, replaced.directory, replace=True, progress=False)
    ingest_night(db, second.directory, progress=False)
    kept = _night_rows(db_url, dt.date(2000, 6, 2))

    assert main(["--db", db_url, "nights", "drop", "2000-06-01n"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "nights drop: removed 2000-06-01n: 3 scan, 200 pts, 10 ext, 1 tile, 2 ingest_log"]
    assert fetch(db_url, "SELECT hemis, date FROM wdb.night") == [("n", dt.date(2000, 6, 2))]
    assert [t for (t,) in fetch(db_url, "SELECT tile FROM wdb.tile ORDER BY tile")] == [
        1001, 1002, 1003]
    assert fetch(db_url, "SELECT date FROM wdb.ingest_log") == [(dt.date(2000, 6, 2),)]
    assert _night_rows(db_url, dt.date(2000, 6, 2)) == kept
    assert fetch(db_url, "SELECT count(*) FROM wdb.pts")[0][0] == 200
    # The night can be loaded again, as new.
    assert ingest_night(db, first.directory, progress=False).status == "loaded"


@pytest.mark.parametrize("name, message", [
    ("2000-06-01", r"expected YYYY-MM-DD followed by n or s"),
    ("2000-13-01n", r"expected YYYY-MM-DD followed by n or s"),
    ("2000-06-01x", r"expected YYYY-MM-DD followed by n or s"),
])
def test_a_malformed_night_name_is_refused(name, message):
    with pytest.raises(NightError, match=message):
        parse_night(name)


def test_drop_of_a_night_not_loaded(db_url, capsys):
    assert main(["--db", db_url, "nights", "drop", "2000-06-01s"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "twomass: error: night 2000-06-01s is not loaded; `twomass nights list` shows the "
        "loaded nights"]


def test_drop_is_refused_while_a_release_build_reads_the_working_tables(db, db_url, make_night,
                                                                        snapshot):
    ingest_night(db, make_night().directory, progress=False)
    before = snapshot(db_url)
    with psycopg.connect(db_url, application_name="release-build") as build:
        # What a release build holds from its start to its commit.
        build.execute("LOCK TABLE wdb.scan, wdb.pts, wdb.ext IN SHARE MODE")
        pid = build.info.backend_pid
        with pytest.raises(NightError, match=rf"cannot drop night 2000-06-01n: a release build "
                           rf"is reading the working tables \(pid {pid}, since .*release-build\); "
                           r"try again when it has finished"):
            drop_night(db, "2000-06-01n")
    assert snapshot(db_url) == before
    drop_night(db, "2000-06-01n")
    assert snapshot(db_url)["night"] == 0


def test_drop_is_refused_while_the_night_is_being_ingested(db, db_url, make_night, snapshot):
    night = make_night()
    ingest_night(db, night.directory, progress=False)
    before = snapshot(db_url)
    with psycopg.connect(db_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", (
            provenance.LOCK_NAMESPACE, provenance.night_lock_key("n", night.date)))
        with pytest.raises(NightError, match=r"another session is ingesting it"):
            drop_night(db, "2000-06-01n")
    assert snapshot(db_url) == before
