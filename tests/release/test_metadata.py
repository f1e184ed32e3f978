"""Column metadata: one definition (``twomass.schema.catalogs``), the same in a release,
its public views and the working table it mirrors."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from astropy import units as u
from astropy.io.votable.ucd import check_ucd

from twomass import release
from twomass.schema import catalogs, wdb

ALL = {**catalogs.RELEASE_TABLES, "wdb_pts": catalogs.WDB_PTS,
       "cone": (catalogs.DIST_ARCSEC,)}


@pytest.mark.parametrize("table", sorted(ALL))
def test_every_column_has_a_vounit_a_valid_ucd_and_a_description(table: str) -> None:
    columns = ALL[table]
    assert len({c.name for c in columns}) == len(columns), "a column is listed twice"
    for column in columns:
        u.Unit(column.unit, format="vounit")  # raises for a unit VOUnit does not know
        assert check_ucd(column.ucd, check_controlled_vocabulary=True), (table, column)
        assert column.description.strip() and "\n" not in column.description, column


def test_working_point_columns_are_the_wdb_pts_columns() -> None:
    assert [c.name for c in catalogs.WDB_PTS] == [c.name for c in wdb.pts.columns]


def _columns(conn: psycopg.Connection, relation: str) -> list[tuple[str, str | None]]:
    return conn.execute(
        "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (relation,)).fetchall()


def test_a_release_and_its_public_views_carry_every_column_comment(wdb: Any) -> None:
    """The module's lists are the release tables' actual columns, in order (a column added
    to the rules without metadata fails here), and every column and relation of the
    release and of the public views has its comment."""
    release.build(wdb.db, "m", progress=False)
    with psycopg.connect(wdb.url) as conn:
        for table, columns in catalogs.RELEASE_TABLES.items():
            expected = [(c.name, c.comment) for c in columns]
            assert _columns(conn, f"rel_m.{table}") == expected, table
            assert _columns(conn, f"public.{table}") == expected, table
            assert conn.execute("SELECT obj_description(%s::regclass)",
                                (f"rel_m.{table}",)).fetchone()[0], table
        for stored, view in (("psc_reject_row", "psc_reject"), ("xsc_reject_row", "xsc_reject")):
            comments = dict(_columns(conn, f"rel_m.{view}"))
            for name, comment in _columns(conn, f"rel_m.{stored}"):
                assert comment == comments[name], (stored, name)
        psc = dict(_columns(conn, "public.psc"))
    assert psc["j_m"] == ("J default magnitude, or 95% upper limit (see rd_flg) [mag]; "
                          "UCD phot.mag;em.IR.J")


def test_publishing_replaces_the_view_comments(wdb: Any) -> None:
    """A public view shows the comments of the release it shows now, not older ones."""
    release.build(wdb.db, "p1", progress=False)
    release.build(wdb.db, "p2", progress=False, publish_after=False)
    with psycopg.connect(wdb.url) as conn:
        conn.execute("COMMENT ON COLUMN rel_p2.xsc.r_ext IS 'p2 radius'")
        conn.execute("COMMENT ON COLUMN rel_p2.xsc.r_3sig IS NULL")
    release.publish(wdb.db, "p2")
    with psycopg.connect(wdb.url) as conn:
        xsc = dict(_columns(conn, "public.xsc"))
    assert xsc["r_ext"] == "p2 radius" and xsc["r_3sig"] is None
    assert xsc["r_k20fe"] == next(c.comment for c in catalogs.XSC if c.name == "r_k20fe")
