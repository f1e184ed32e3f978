"""The read-only role the service logs in as: what it may read, that it cannot write
(by privileges, not only by its read-only default), its statement timeout, and the
commands that make and use it."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from astropy.io.votable import parse_single_table
from psycopg import sql

from twomass import release
from twomass.cli import main
from twomass.core import healpix
from twomass.core.database import Database
from twomass.serve import reader, scs

from .conftest import drop_role

WRITES = [
    "INSERT INTO public.psc (pts_key) VALUES (-1)",  # a simple view is updatable
    "UPDATE public.psc SET j_m = 0",
    "DELETE FROM public.xsc",
    "INSERT INTO rel_r.psc (pts_key) VALUES (-1)",
    "DELETE FROM wdb.pts",
    "UPDATE twomass_meta.alembic_version SET version_num = 'x'",
    "CREATE TABLE public.mine (x int)",
    "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE SCHEMA mine",
]


@pytest.fixture
def role(db: Database, admin_url: str) -> Iterator[str]:
    """A role name of this test's own, dropped afterwards."""
    name = f"twomass_reader_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(db.url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    drop_role(admin_url, name)


def _counts(url: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM public.psc), (SELECT count(*) FROM public.xsc), "
            "(SELECT count(*) FROM wdb.pts), (SELECT version_num FROM "
            "twomass_meta.alembic_version), to_regclass('public.mine') IS NULL").fetchone()


def test_the_reader_reads_views_published_later_and_cannot_write(db: Database,
                                                                 role: str) -> None:
    assert reader.grant_reader(db, role) is True      # before any release is published
    assert reader.grant_reader(db, role) is False     # again: nothing new, no error
    release.build(db, "r", progress=False)            # publishes public.psc, public.xsc
    with psycopg.connect(db.url) as conn:
        conn.execute("INSERT INTO rel_r.psc (pts_key, ra, dec, hpx, designation) "
                     "VALUES (7, 10, 20, %s, 'J0000000000000007')",
                     (int(healpix.ang2hpx(10.0, 20.0)),))
    before = _counts(db.url)
    with Database(reader.reader_url(db.url, role)) as as_reader:
        assert reader.check_reader(as_reader) == role
        answer = scs.search(as_reader, "psc", scs.ConeRequest(10.0, 20.0, 0.01, 1, 10))
        assert list(parse_single_table(io.BytesIO(answer)).array["designation"]) == [
            "J0000000000000007"]
        with as_reader.connection(autocommit=True) as conn:
            for statement in WRITES:  # refused by the read-only default or by privileges
                with pytest.raises((psycopg.errors.ReadOnlySqlTransaction,
                                    psycopg.errors.InsufficientPrivilege)):
                    conn.execute(statement)
            conn.execute("SET default_transaction_read_only = off")
            for statement in WRITES:  # the role's privileges alone refuse every write
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    assert _counts(db.url) == before


def test_the_session_keeps_its_timeout_and_read_only_default(db: Database, role: str) -> None:
    reader.grant_reader(db, role)
    with Database(reader.reader_url(db.url, role, statement_timeout_s=0.2)) as as_reader:
        with pytest.raises(psycopg.errors.QueryCanceled), as_reader.connection() as conn:
            conn.execute("SELECT pg_sleep(3)")
        for _ in range(2):  # the pool's RESET ALL returns to the session's settings
            with as_reader.connection() as conn:
                conn.execute("SET statement_timeout = 0")
                conn.execute("SET default_transaction_read_only = off")
            with as_reader.connection() as conn:
                assert conn.execute("SELECT current_setting('statement_timeout'), "
                                    "current_setting('transaction_read_only')").fetchone() == (
                    "200ms", "on")


def test_an_unpublished_catalog_is_a_request_error(db: Database, role: str) -> None:
    reader.grant_reader(db, role)
    with Database(reader.reader_url(db.url, role)) as as_reader, pytest.raises(
            scs.RequestError, match="^no release is published yet: there is no xsc to search$"):
        scs.search(as_reader, "xsc", scs.ConeRequest(10.0, 20.0, 0.01, 2, 10))


def test_the_owner_is_refused_as_the_services_login(db: Database) -> None:
    with pytest.raises(reader.ReaderRoleError, match="is a superuser: the service connects "
                                                     "as a read-only role"):
        reader.check_reader(db)


def test_commands(db: Database, role: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["--db", db.url, "db", "grant-reader", "--role", role]) == 0
    assert capsys.readouterr().out.startswith(f"db grant-reader: created role {role}: LOGIN, ")
    assert main(["--db", db.url, "serve", "--reader-url", db.url, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twomass: error: ") and "is a superuser" in err
    assert len(err.splitlines()) == 1
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["--db", db.url, "serve", "--role", role, "--port", str(port)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"serve: refreshed the read-only role {role}",
                   f"twomass: error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_a_user_who_may_not_create_roles_is_told_what_to_run(db: Database, role: str,
                                                             admin_url: str) -> None:
    plain = f"{role}_plain"
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEROLE").format(sql.Identifier(plain)))
    try:
        with Database(reader.login_url(db.url, plain)) as as_plain, pytest.raises(
                reader.ReaderRoleError, match=f"^user {plain} cannot make the read-only role "
                f"{role} .*: run `twomass db grant-reader` as the database owner"):
            reader.grant_reader(as_plain, role)
        assert not reader.role_exists(db, role)
    finally:
        drop_role(admin_url, plain)
