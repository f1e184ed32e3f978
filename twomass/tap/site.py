"""A DaCHS site: its settings file, its ``gavo`` command, its database.

DaCHS runs in its own (Debian system) Python, so twomass talks to it as DaCHS's own
tools do: through the ``gavo`` command and, for what that command does not print (the
database profile), a few lines run by DaCHS's interpreter. A site is named by its
settings file (what DaCHS reads from ``$GAVOSETTINGS``, by default ``/etc/gavo.rc``).
"""

from __future__ import annotations

import getpass
import grp
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from twomass.core.database import connect, mask_url
from twomass.core.errors import TwomassError

#: DaCHS's default settings file.
DEFAULT_SETTINGS = Path("/etc/gavo.rc")

#: Why an extension is missing, said once for every message that needs it.
EXTENSIONS_NEEDED = (
    "TAP through DaCHS needs a system PostgreSQL server with the q3c and pg_sphere "
    "extensions installed (Debian: postgresql-15-q3c postgresql-15-pgsphere); the "
    "embedded server cannot load extensions"
)

# Run by DaCHS's interpreter: the site's feed profile (the role owning DaCHS's tables)
# and its folders, as DaCHS itself reads them from the settings file.
_DESCRIBE = """
import json
from gavo import base
p = base.getDBProfile("feed")
print(json.dumps({"host": p.host, "port": p.port, "dbname": p.database, "user": p.user,
                  "password": p.password, "inputs_dir": base.getConfig("inputsDir"),
                  "config_dir": base.getConfig("configDir"),
                  "server_url": base.getConfig("web", "serverURL")}))
"""

# Run by DaCHS's interpreter: `gavo init` without its extension step (twomass installs
# the extensions first, see install_extensions): profiles, folders, roles, system tables.
_INIT = """
import sys
from gavo import base
from gavo.base import sqlsupport
from gavo.user import initdachs
dsn = initdachs.DSN(sys.argv[1])
initdachs.createFSHierarchy(dsn)
initdachs._createRoles(dsn)
initdachs._doLocalSetup(dsn)
sqlsupport._PSYCOPG_INITED = False
sqlsupport._initPsycopg()
initdachs._importBasicResources()
"""


class TapError(TwomassError):
    """The DaCHS site or its database cannot do what publishing needs."""


@dataclass(frozen=True)
class DachsSite:
    """One DaCHS installation, named by its settings file.

    Attributes
    ----------
    settings
        The DaCHS settings file (``$GAVOSETTINGS``).
    """

    settings: Path

    @classmethod
    def from_environment(cls, settings: Path | None = None) -> DachsSite:
        """The site of ``settings``, else of ``$GAVOSETTINGS``, else ``/etc/gavo.rc``."""
        path = settings or Path(os.environ.get("GAVOSETTINGS") or DEFAULT_SETTINGS)
        if not path.is_file():
            raise TapError(f"no DaCHS settings file {path}: `twomass tap init` writes one, "
                           "or name it with --settings or $GAVOSETTINGS")
        return cls(path.resolve())

    @property
    def env(self) -> dict[str, str]:
        """The environment DaCHS runs in: this site's settings, no user ~/.gavorc."""
        return {**os.environ, "GAVOSETTINGS": str(self.settings),
                "GAVOCUSTOM": str(self.settings.parent / "gavo.custom.rc")}

    def gavo(self, *args: str) -> str:
        """Run ``gavo ARGS`` on this site; its output, or its last error line as TapError."""
        return _run([gavo_command(), *args], self.env, f"gavo {' '.join(args)}")

    def python(self, code: str, *args: str) -> str:
        """Run ``code`` in DaCHS's own interpreter on this site."""
        return _run([dachs_python(), "-c", code, *args], self.env, "DaCHS")

    def describe(self) -> dict[str, str]:
        """The feed profile, ``inputs_dir``, ``config_dir`` and ``server_url``, as DaCHS
        reads them."""
        return json.loads(self.python(_DESCRIBE).strip().splitlines()[-1])

    def feed_url(self, described: dict[str, str] | None = None) -> str:
        """``postgresql://`` URL of the role that owns DaCHS's tables (profile ``feed``)."""
        d = described or self.describe()
        auth = quote(d["user"], safe="") + (":" + quote(d["password"], safe="")
                                            if d.get("password") else "")
        host, port = d.get("host") or "localhost", d.get("port") or 5432
        if host.startswith("/"):  # a Unix socket directory
            return f"postgresql://{auth}@/{d['dbname']}?host={quote(host)}&port={port}"
        return f"postgresql://{auth}@{host}:{port}/{d['dbname']}"


def gavo_command() -> str:
    """Path of the ``gavo`` command; TapError naming the package when it is missing."""
    found = shutil.which("gavo")
    if not found:
        raise TapError("DaCHS is not installed: no `gavo` command on PATH "
                       "(Debian: apt-get install python3-gavo)")
    return found


def dachs_python() -> str:
    """DaCHS's interpreter: the one named in the ``gavo`` script's first line."""
    first = Path(gavo_command()).read_text(errors="replace").splitlines()[0]
    match = re.match(r"#!\s*(\S+)", first)
    return match.group(1) if match else "python3"


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = done.stderr or done.stdout
        if "*** Error:" in output:  # DaCHS's own message, wrapped over several lines
            reason = " ".join(output.split("*** Error:", 1)[1].split())
        else:
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise TapError(f"{what} failed: {reason}")
    return done.stdout


def require_extensions(url: str) -> None:
    """TapError unless the database of ``url`` has q3c and pg_sphere's types."""
    with connect(url) as conn:
        q3c = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'q3c'").fetchone()
        sphere = conn.execute("SELECT to_regtype('spoint') IS NOT NULL").fetchone()[0]
    missing = [n for n, ok in (("q3c", q3c), ("pg_sphere", sphere)) if not ok]
    if missing:
        raise TapError(f"database {mask_url(url)} lacks {' and '.join(missing)}: "
                       f"{EXTENSIONS_NEEDED}")


def install_extensions(admin_url: str) -> None:
    """Create q3c and pg_sphere in the DaCHS database (needs a superuser).

    pg_sphere 1.1.1 (Debian bookworm) cannot be created on PostgreSQL >= 15.9, which
    refuses its two obsolete ``@ (bigint|spoint, smoc)`` operators ("commutator operator
    @> is already the commutator of operator <@"); pg_sphere 1.4 dropped them. There its
    install script runs here without those two operators, as plain objects.
    """
    with connect(admin_url, autocommit=True) as conn:
        for extension in ("q3c", "pg_sphere"):
            try:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
            except psycopg.errors.InvalidFunctionDefinition:
                _install_pgsphere_without_compat_operators(conn)
            except psycopg.Error as exc:
                reason = " ".join(str(exc).split())
                raise TapError(f"cannot create extension {extension} in "
                               f"{mask_url(admin_url)}: {reason}; {EXTENSIONS_NEEDED}"
                               ) from None


_COMPAT_OPERATORS = re.compile(
    r"CREATE OPERATOR @ \(\s*LEFTARG\s*=\s*(bigint|spoint),\s*RIGHTARG\s*=\s*smoc,.*?\);",
    re.S)


def _install_pgsphere_without_compat_operators(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT to_regtype('spoint') IS NOT NULL").fetchone()[0]:
        return
    share, version = conn.execute(
        "SELECT (SELECT setting FROM pg_config WHERE name = 'SHAREDIR'), default_version "
        "FROM pg_available_extensions WHERE name = 'pg_sphere'").fetchone()
    script = Path(share) / "extension" / f"pg_sphere--{version}.sql"
    text = _COMPAT_OPERATORS.sub("", script.read_text())
    text = "\n".join(line for line in text.splitlines() if not line.startswith("\\echo"))
    with conn.transaction():
        conn.execute(text.replace("MODULE_PATHNAME", "$libdir/pg_sphere"))


def init_site(root: Path, admin_url: str, *, port: int, host: str = "127.0.0.1",
              server_url: str | None = None) -> DachsSite:
    """Create a DaCHS site in ``root`` on the database of ``admin_url`` (a superuser).

    Writes ``root/gavo.rc`` (DaCHS's folders under ``root``, its web server on
    ``host:port``, run as the current user, so no ``gavo`` system user is needed),
    installs the extensions and runs DaCHS's own database initialization: its roles
    (gavoadmin, gavo, untrusted), profiles and system tables.
    """
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    settings = root / "gavo.rc"
    settings.write_text(
        "[general]\n"
        f"rootDir: {root}\n"
        f"group: {grp.getgrgid(os.getgid()).gr_name}\n\n"
        "[web]\n"
        f"bindAddress: {host}\n"
        f"serverPort: {port}\n"
        f"serverURL: {server_url or f'http://{host}:{port}'}\n"
        f"user: {getpass.getuser()}\n\n"
        "[async]\n"
        "maxTAPRunning: 2\n")
    install_extensions(admin_url)
    site = DachsSite(settings)
    params = conninfo_to_dict(admin_url)
    dsn = " ".join(f"{key}={params[key]}" for key in ("host", "port", "dbname", "user",
                                                       "password") if params.get(key))
    site.python(_INIT, dsn)
    return site
