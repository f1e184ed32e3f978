"""A private PostgreSQL 15 cluster for the TAP tests: DaCHS needs q3c and pg_sphere, which
neither the embedded server nor a shared service may be given.

Started with ``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/15/bin`` on a free
localhost port, password authentication, statements logged (so a test can see what SQL
DaCHS ran), and removed on ``stop``. PostgreSQL refuses to run as root: then the cluster
runs as the system user ``postgres`` (which the Debian server package creates), and the
folders above its directory are made traversable by others (o+x) if they are not, as the
embedded server's package does for its own user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """initdb, start, URLs, stop and remove."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="twomass_tap_pg_"))
        self.data = self.root / "data"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.user = "postgres" if os.geteuid() == 0 else None
        self.started = False

    def _run(self, *argv: str) -> None:
        subprocess.run([str(BIN / argv[0]), *argv[1:]], check=True, capture_output=True,
                       user=self.user, group=self.user, cwd=self.root)

    def start(self) -> PrivateCluster:
        self.data.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chmod(self.root, 0o755)
            for folder in self.root.resolve().parents:
                mode = folder.stat().st_mode
                if not mode & stat.S_IXOTH:
                    folder.chmod(mode | stat.S_IXOTH)
            for path in (self.data, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "admin", f"--pwfile={pwfile}",
                  "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")
        pwfile.unlink()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   "-c unix_socket_directories='' -c fsync=off -c log_statement=all")
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.data / "server.log"), "-w", "start")
        self.started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://admin:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def log(self) -> str:
        return (self.data / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
