"""A published release with known rows, and the cone search service over it, started
as a real ``twomass serve`` process on a free localhost port and stopped afterwards."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from twomass import release
from twomass.core import database, healpix
from twomass.core.database import Database

#: Centre of the dense patch of the test sky [deg].
CENTRE = (150.0, 2.0)


@dataclass
class Sky:
    """What the catalog holds: psc row i is at (ra[i], dec[i]), designation ``P{i}``,
    j_m = j_m[i] (NaN for NULL); xsc row k at (xra[k], xdec[k]), designation ``X{k}``."""

    url: str
    ra: np.ndarray
    dec: np.ndarray
    j_m: np.ndarray
    xra: np.ndarray
    xdec: np.ndarray


def psc_designation(i: int) -> str:
    return f"P{i:016d}"


def xsc_designation(k: int) -> str:
    return f"X{k:016d}"


def _patch(rng: np.random.Generator, n: int, half_width: float) -> tuple[np.ndarray, ...]:
    ra0, dec0 = CENTRE
    return (ra0 + rng.uniform(-half_width, half_width, n),
            dec0 + rng.uniform(-half_width, half_width, n))


@pytest.fixture(scope="module")
def sky(admin_url: str, template_db: str) -> Iterator[Sky]:
    """A database of this module's own with a published release: 4,000 psc rows and 300
    xsc rows in a 0.2 x 0.2 deg patch; every fifth psc row has j_m NULL."""
    url = database.create_database(admin_url, "twomass_serve", template_db)
    rng = np.random.default_rng(18)
    ra, dec = _patch(rng, 4000, 0.1)
    j_m = np.where(np.arange(ra.size) % 5 == 0, np.nan,
                   rng.uniform(8, 16, ra.size)).astype(np.float32)
    xra, xdec = _patch(rng, 300, 0.1)
    with Database(url) as db:
        release.build(db, "scs", progress=False)  # empty, published: the catalog layouts
    with psycopg.connect(url) as conn:
        hpx = healpix.ang2hpx(ra, dec)
        with conn.cursor() as cur, cur.copy(
                "COPY rel_scs.psc (pts_key, ra, dec, hpx, designation, j_m, ph_qual, date) "
                "FROM STDIN") as copy:
            for i in range(ra.size):
                copy.write_row([i, float(ra[i]), float(dec[i]), int(hpx[i]), psc_designation(i),
                                None if np.isnan(j_m[i]) else float(j_m[i]), "AAA",
                                "2000-05-01"])
        xhpx = healpix.ang2hpx(xra, xdec)
        with conn.cursor() as cur, cur.copy(
                "COPY rel_scs.xsc (ext_key, ra, dec, hpx, designation, k_m_k20fe) "
                "FROM STDIN") as copy:
            for k in range(xra.size):
                copy.write_row([k, float(xra[k]), float(xdec[k]), int(xhpx[k]),
                                xsc_designation(k), 11.5])
        conn.execute("ANALYZE rel_scs.psc")
        conn.execute("ANALYZE rel_scs.xsc")
    yield Sky(url, ra, dec, j_m, xra, xdec)
    database.drop_database(admin_url, url)


def drop_role(admin_url: str, role: str) -> None:
    """Drop a role made by a test; its grants lived in databases already dropped."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def reader_role(admin_url: str, sky: Sky) -> Iterator[str]:
    """A read-only role name of this module's own, dropped at the end."""
    role = f"twomass_reader_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(sky.url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    drop_role(admin_url, role)


def twomass_command() -> list[str]:
    script = Path(sys.executable).with_name("twomass")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "twomass"]


@dataclass
class Service:
    """The running service: its base URL and the lines it wrote on standard error."""

    base: str
    process: subprocess.Popen
    lines: list[str]

    def stop(self) -> str:
        """Stop the service with SIGINT, as Ctrl-C does; return what it wrote after."""
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=60)
        return err


def start_service(url: str, home: Path, *args: str) -> Service:
    """``twomass --db URL serve --port 0 ARGS`` in ``home``; waits until it listens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOMASS_")}
    env["TWOMASS_HOME"] = str(home)
    process = subprocess.Popen([*twomass_command(), "--db", url, "serve", "--port", "0", *args],
                               cwd=home, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in iter(process.stderr.readline, ""):
            lines.put(line)
            if "listening on" in line:
                return  # the rest is read by communicate() at the end
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        found = re.search(r"listening on (http://\S+/)", line)
        if found:
            return Service(found.group(1).rstrip("/"), process, seen)
        if line == "":
            break
    process.kill()
    _, err = process.communicate()
    raise AssertionError(f"twomass serve did not start: {''.join(seen)}{err}")


@pytest.fixture(scope="module")
def service(sky: Sky, reader_role: str, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Service]:
    """The service over ``sky``: largest radius 0.05 deg, at most 300 rows per answer."""
    running = start_service(sky.url, tmp_path_factory.mktemp("serve"), "--role", reader_role,
                            "--max-radius", "0.05", "--max-rows", "300")
    yield running
    # Stopped as Ctrl-C stops it: gracefully, with a summary line, status 0.
    err = running.stop()
    assert running.process.returncode == 0, err
    assert re.fullmatch(r"serve: stopped after \d+ s: \d+ cone searches answered, \d+ of "
                        r"them errors", err.splitlines()[-1]), err
    assert "Traceback" not in err
