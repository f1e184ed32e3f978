"""Test databases: a real PostgreSQL, never a mock.

By default one embedded server (``pgserver``) is started per test session in a
temporary directory; ``TWOMASS_TEST_DATABASE_URL`` selects another server instead
(its user needs CREATEDB). Each test gets its own database, dropped afterwards:
``empty_db_url`` is empty, ``db_url`` is a copy of a template at the head revision.
If no server can be reached every test errors: nothing skips silently.

Every test that uses the server (through ``admin_url``, which all database fixtures
need) is marked ``database``: ``pytest -m database`` runs just those, as CI does for its
second server (the other tests would only repeat what they did on the first).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from twomass.core import database
from twomass.core.database import Database
from twomass.migrations import revision


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


def create_database(admin_url: str, template: str | None = None) -> str:
    """Create a uniquely named test database (optionally from ``template``)."""
    return database.create_database(admin_url, "twomass_test", template)


drop_database = database.drop_database


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a maintenance database on the test server."""
    configured = os.environ.get("TWOMASS_TEST_DATABASE_URL")
    if configured:
        url = database.normalize_url(configured)
        database.connect(url).close()  # fails loudly with a one-line reason
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()


@pytest.fixture(scope="session")
def template_db(admin_url: str) -> Iterator[str]:
    """Name of a database at the head revision, cloned by ``db_url``."""
    url = create_database(admin_url)
    with Database(url) as db:
        revision.init(db)
    yield urlsplit(url).path.lstrip("/")
    drop_database(admin_url, url)


@pytest.fixture
def empty_db_url(admin_url: str) -> Iterator[str]:
    """A new, empty database of its own."""
    url = create_database(admin_url)
    yield url
    drop_database(admin_url, url)


@pytest.fixture
def db_url(admin_url: str, template_db: str) -> Iterator[str]:
    """A new database of its own at the head revision."""
    url = create_database(admin_url, template=template_db)
    yield url
    drop_database(admin_url, url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """``db_url`` as the ``Database`` library functions take, closed afterwards."""
    with Database(db_url) as opened:
        yield opened


@pytest.fixture
def empty_db(empty_db_url: str) -> Iterator[Database]:
    """``empty_db_url`` as a ``Database``, closed afterwards."""
    with Database(empty_db_url) as opened:
        yield opened
