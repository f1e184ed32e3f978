"""The read-only role the service connects as.

The service never uses the owner's connection for requests: it logs in as a role that
may read the published views and the revision tables and nothing else, whose
transactions are read-only by default and whose connection carries a statement timeout.
``grant_reader`` (run by ``twomass db grant-reader``, or by ``twomass serve`` when the
configured user may create roles) makes the role; ``reader_url`` is how to log in as it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from twomass import sql as sqlfiles
from twomass.core.database import Database, normalize_url
from twomass.core.errors import DatabaseUnavailable, TwomassError

#: The role's default name.
READER_ROLE = "twomass_reader"

#: The published views the service reads.
PUBLISHED_VIEWS = ("psc", "xsc")


class ReaderRoleError(TwomassError):
    """The read-only role cannot be created, granted or used."""


def grant_reader(db: Database, role: str = READER_ROLE) -> bool:
    """Create ``role`` (LOGIN, no other attribute) if missing and give it read access to
    the published catalogs of ``db``; return whether it was created.

    Raises
    ------
    ReaderRoleError
        The connected user may not create roles or grant on the database's objects.
    """
    with db.connection() as conn:
        user = conn.execute("SELECT current_user").fetchone()[0]
        try:
            created = _create_role(conn, role)
            conn.execute(sql.SQL(sqlfiles.read("reader.sql")).format(
                role=sql.Identifier(role),
                database=sql.Identifier(conn.info.dbname)))
            for view in PUBLISHED_VIEWS:
                if conn.execute("SELECT to_regclass(%s)", (f"public.{view}",)).fetchone()[0]:
                    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
                        sql.Identifier("public", view), sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege as exc:
            reason = " ".join(str(exc).split())
            raise ReaderRoleError(
                f"user {user} cannot make the read-only role {role} ({reason}): run "
                "`twomass db grant-reader` as the database owner with CREATEROLE") from None
    return created


def _create_role(conn: psycopg.Connection, role: str) -> bool:
    """CREATE ROLE unless it exists; a concurrent creation of the same role is fine."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS").format(sql.Identifier(role)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return False
    return True


def role_exists(db: Database, role: str) -> bool:
    with db.connection() as conn:
        return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                            (role,)).fetchone() is not None


def login_url(url: str, role: str) -> str:
    """``url`` logging in as ``role`` with no password (trust, peer or a .pgpass entry)."""
    parts = urlsplit(normalize_url(url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password")]
    netloc = f"{quote(role, safe='')}@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, quote_via=quote)))


def reader_url(url: str, role: str = READER_ROLE, *, statement_timeout_s: float = 10.0) -> str:
    """``url`` logging in as ``role`` (see ``login_url``), with read-only transactions and
    the statement timeout set for the whole session.

    With ``role=''`` the URL keeps its user and password (``--reader-url``, a URL that
    already names the reader). The settings go in libpq's ``options``, so they are the
    session's defaults: a pooled connection's ``RESET ALL`` returns to them.
    """
    parts = urlsplit(login_url(url, role) if role else normalize_url(url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    timeout_ms = max(1, round(statement_timeout_s * 1000))
    query.append(("options", f"-c default_transaction_read_only=on "
                             f"-c statement_timeout={timeout_ms}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def check_reader(db: Database) -> str:
    """Refuse a connection that could write: a superuser, or one whose transactions are
    not read-only. Returns the role's name."""
    try:
        with db.connection() as conn:
            user, superuser, read_only = conn.execute(
                "SELECT current_user, rolsuper, current_setting('transaction_read_only') "
                "FROM pg_roles WHERE rolname = current_user").fetchone()
    except (psycopg.Error, DatabaseUnavailable) as exc:
        reason = " ".join(str(exc).split())
        raise ReaderRoleError(
            f"cannot log in as the read-only role: {reason}; where the server asks for a "
            "password, give the role one and pass --reader-url with it") from None
    if superuser:
        raise ReaderRoleError(f"{user} is a superuser: the service connects as a read-only "
                              "role (`twomass db grant-reader` makes one)")
    if read_only != "on":
        raise ReaderRoleError(f"transactions of {user} are not read-only")
    return user
