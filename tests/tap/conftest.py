"""A small release published through DaCHS, served by ``gavo serve`` on a free port.

The release is built from a simulated sky on the test server (embedded or
``TWOMASS_TEST_DATABASE_URL``); DaCHS runs on a private PostgreSQL 15 cluster with
q3c and pg_sphere (``cluster.py``), in a site under a temporary directory. Everything
is started here and stopped and removed afterwards.
"""

from __future__ import annotations

import gc
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import pyvo
import requests

from twomass import release, tap
from twomass.core import database
from twomass.core.database import Database
from twomass.ingest.load import ingest_nights
from twomass.pipeline.sim.simulate import simulate
from twomass.tap.publish import PublishResult

from .cluster import PrivateCluster, free_port

#: 0.3 deg square around (150.25, 20.25): about 700 PSC rows and a few XSC rows.
REGION = ((150.1, 150.4), (20.1, 20.4))
SEED = 7
RELEASE = "tap"


@dataclass
class Published:
    """The twomass database, the DaCHS site and the TAP endpoint serving the release."""

    url: str
    site: tap.DachsSite
    cluster: PrivateCluster
    tap_url: str
    result: PublishResult
    session: requests.Session

    def service(self) -> pyvo.dal.TAPService:
        """The TAP service, on the one HTTP session the fixture closes."""
        return pyvo.dal.TAPService(self.tap_url, session=self.session)


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gavo serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:  # not ready yet; its response holds a socket
            exc.close()
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gavo serve did not answer {url} within {timeout} s")


@pytest.fixture(autouse=True)
def _collect_unclosed_responses() -> Iterator[None]:
    """pyvo leaves some streamed HTTP responses unclosed; collect them after each test,
    so that their warnings do not surface in whichever test runs next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="package")
def published(admin_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Published]:
    tmp = tmp_path_factory.mktemp("tap")
    url = database.create_database(admin_url, "twomass_tap", template_db)
    cluster = PrivateCluster()
    server = None
    session = requests.Session()
    log = open(tmp / "serve.log", "wb")  # stays open while the server runs
    try:
        simulate(tmp / "sky", *REGION, seed=SEED)
        with Database(url) as db:
            ingest_nights(db, sorted(p for p in (tmp / "sky").iterdir() if p.is_dir()),
                          on_warning="ignore", progress=False)
            release.build(db, RELEASE, progress=False)
        cluster.start()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE gavo")
        port = free_port()
        site = tap.init_site(tmp / "dachs", cluster.url("gavo"), port=port)
        with Database(url) as db:
            result = tap.publish(db, RELEASE, site, progress=False)
        server = subprocess.Popen(["gavo", "serve", "start", "--foreground"], env=site.env,
                                  cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        tap_url = f"http://127.0.0.1:{port}/tap"
        _wait_for(f"{tap_url}/availability", server)
        yield Published(url, site, cluster, tap_url, result, session)
    finally:
        session.close()
        with warnings.catch_warnings():
            # pyvo leaves some streamed HTTP responses unclosed: collect them here.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        cluster.stop()
        database.drop_database(admin_url, url)


def release_rows(url: str, table: str, columns: str) -> list[tuple]:
    """Rows of the release table, read straight from the twomass database."""
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT {columns} FROM rel_{RELEASE}.{table}").fetchall()

