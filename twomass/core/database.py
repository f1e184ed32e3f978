"""The PostgreSQL database: a URL the user gives, or the embedded server, behind a pool.

Nothing here runs at import time. ``resolve_url`` starts the embedded server (the
``pgserver`` package) on first use and leaves it running, so later commands reuse it.
``Database`` is what library functions take: one URL, one connection pool, and a place
for the schema-revision check to be recorded so it runs once per process, not per call.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import sqlalchemy as sa
from psycopg import sql as psql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlalchemy.pool import NullPool

from twomass.core.errors import DatabaseUnavailable
from twomass.core.settings import Settings

MIN_SERVER_VERSION = 150000
#: ``Database.partition_order`` of a program that takes the sky partitions a database has.
ANY_PARTITIONS = "any"
EMBEDDED_DATABASE = "twomass"
_SCHEMES = ("postgresql://", "postgres://")


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    masked = re.sub(r"(://[^:/@?#]*:)[^@/?#]+@", r"\1***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", masked)


def normalize_url(url: str) -> str:
    """Validate a PostgreSQL URL and return it in the ``postgresql://`` form libpq reads.

    Raises
    ------
    DatabaseUnavailable
        If the URL is not a PostgreSQL URL libpq can parse.
    """
    url = url.strip()
    url = re.sub(r"^postgresql\+psycopg2?://", "postgresql://", url)
    if not url.startswith(_SCHEMES):
        raise DatabaseUnavailable(
            f"malformed database URL {mask_url(url)!r}: expected postgresql://USER@HOST/DB"
        )
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"malformed database URL {mask_url(url)}: {reason}") from None
    return url


def embedded_url(pgdata: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL server in ``pgdata`` and return its URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver copes with that.
        warnings.simplefilter("ignore")
        import pgserver

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        except Exception as exc:  # pgserver raises plain subprocess/OS errors
            raise DatabaseUnavailable(
                f"cannot start the embedded PostgreSQL in {pgdata}: {exc}"
            ) from None
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
    return server.get_uri(EMBEDDED_DATABASE)


def resolve_url(settings: Settings) -> str:
    """The URL to use: ``settings.database_url``, or the embedded server's."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    return embedded_url(settings.embedded_pgdata)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a psycopg connection, turning failures into a one-line ``DatabaseUnavailable``."""
    url = normalize_url(url)
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {mask_url(url)}: {reason}") from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        version = conn.info.parameter_status("server_version")
        conn.close()
        raise DatabaseUnavailable(
            f"{mask_url(url)} runs PostgreSQL {version}; twomass needs PostgreSQL >= 15"
        )
    return conn


@contextmanager
def connection(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """``connect`` as a context manager that commits on success and rolls back on error."""
    conn = connect(url, autocommit=autocommit)
    with conn:
        yield conn


def engine(url: str) -> sa.Engine:
    """A SQLAlchemy engine over psycopg 3 for Alembic and metadata reflection."""
    url = normalize_url(url)
    return sa.create_engine(
        "postgresql+psycopg://", creator=lambda: connect(url), poolclass=NullPool
    )


class Database:
    """One PostgreSQL database: its URL and a pool of connections to it.

    Opened lazily: the first ``connection()`` opens the pool (``max_size`` connections at
    most), after checking once that the server answers and is recent enough, so a
    failure is the same one-line ``DatabaseUnavailable`` as ``connect`` gives. Close it
    (or use it as a context manager) when done.

    Attributes
    ----------
    url
        The normalized ``postgresql://`` URL.
    status
        Whatever the revision check recorded (``twomass.migrations.revision``); None
        until checked.
    partition_order
        The program's sky-partition setting (``Settings.partition_order``): the HEALPix
        order a new database is partitioned at and the only one an existing database
        may have, None for plain tables; ``ANY_PARTITIONS`` (a library caller that gave
        none) accepts any and creates the default.
    """

    def __init__(self, url: str, *, max_size: int = 4,
                 partition_order: int | None | str = ANY_PARTITIONS) -> None:
        self.url = normalize_url(url)
        self.max_size = max_size
        self.partition_order = partition_order
        self.status: object | None = None
        self._pool: ConnectionPool | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The configured database: ``settings.database_url`` or the embedded server."""
        return cls(resolve_url(settings), partition_order=settings.partition_order)

    @property
    def masked_url(self) -> str:
        """The URL with its password masked, for messages."""
        return mask_url(self.url)

    def _open_pool(self) -> ConnectionPool:
        if self._pool is None:
            connect(self.url).close()  # one-line errors for bad servers and URLs
            pool = ConnectionPool(self.url, min_size=1, max_size=self.max_size, open=False,
                                  kwargs={"connect_timeout": 10}, reset=_reset_session,
                                  name=mask_url(self.url))
            try:
                pool.open(wait=True, timeout=30)
            except PoolTimeout:
                pool.close()
                raise DatabaseUnavailable(
                    f"cannot open connections to {self.masked_url}") from None
            self._pool = pool
        return self._pool

    @contextmanager
    def connection(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A pooled connection: commits on success, rolls back on error (unless autocommit)."""
        with self._open_pool().connection() as conn:
            conn.autocommit = autocommit
            try:
                yield conn
            finally:
                if not conn.closed and autocommit:
                    conn.autocommit = False

    def engine(self) -> sa.Engine:
        """A SQLAlchemy engine for Alembic and metadata reflection (its own connections)."""
        return engine(self.url)

    def close(self) -> None:
        """Close the pool's connections; the object can be opened again by using it."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r})"


def _reset_session(conn: psycopg.Connection) -> None:
    """Settings one user of a pooled connection changed must not reach the next one."""
    conn.autocommit = True
    conn.execute("RESET ALL")
    conn.autocommit = False


def with_dbname(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` on the same server."""
    parts = urlsplit(normalize_url(url))
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def create_database(server_url: str, prefix: str, template: str | None = None) -> str:
    """Create a uniquely named database ``<prefix>_<hex>`` on the server of ``server_url``
    (optionally a copy of ``template``) and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    statement = psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name))
    if template:
        statement += psql.SQL(" TEMPLATE {}").format(psql.Identifier(template))
    with psycopg.connect(normalize_url(server_url), autocommit=True) as conn:
        conn.execute(statement)
    return with_dbname(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database ``url`` names, ending its sessions first."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(normalize_url(server_url), autocommit=True) as conn:
        conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            psql.Identifier(name)))


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new empty database on the server of ``server_url``, dropped on exit."""
    url = create_database(server_url, prefix)
    try:
        yield url
    finally:
        drop_database(server_url, url)
