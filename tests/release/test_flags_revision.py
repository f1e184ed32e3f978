"""Revision 20261208 on a database that holds a release: its reject view, which computes
ph_qual when read, follows the flag functions down to 20261207 and back up."""

from __future__ import annotations

from typing import Any

import psycopg
from alembic import command

from twomass import release
from twomass.migrations import revision


def _reject_letters(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT ndet, ph_qual FROM public.psc_reject ORDER BY ndet"
                            ).fetchall()


def test_release_reject_view_survives_down_and_up(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0)
    wdb.pts(a, 10.0, -0.2, ndet="161616")                   # J 14.0: bright, 1 of 6 frames
    wdb.pts(a, 10.0, -0.1, ndet="161616", j_snr=15.0, h_snr=15.0, k_snr=15.0,
            cc_flg="D00")                                    # artifact reject, S/N < 20
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    assert _reject_letters(wdb.url) == [("161616", "EEE"), ("161616", "EEE")]
    with wdb.db.engine().begin() as conn:
        command.downgrade(revision.alembic_config(conn), "20261207")
    # The S/N >= 20 reading of 20261207: the S/N 15 row's frames are not tested.
    assert sorted(_reject_letters(wdb.url)) == [("161616", "AAA"), ("161616", "EEE")]
    with wdb.db.engine().begin() as conn:
        command.upgrade(revision.alembic_config(conn), "head")
    assert _reject_letters(wdb.url) == [("161616", "EEE"), ("161616", "EEE")]
    with psycopg.connect(wdb.url) as conn:
        assert conn.execute("SELECT count(*) FROM wdb.pts WHERE j_msig IS NULL").fetchone() == (2,)
