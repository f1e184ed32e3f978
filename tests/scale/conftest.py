"""Shards for the tests: two private PostgreSQL 15 clusters (``tests/tap/cluster.py``) on
free ports, and a coordinator that has postgres_fdw: the test server when it has the
contrib modules (the PostgreSQL service), else a third private cluster (the embedded
server has none). Stopped and removed at the end, also on failure. The binaries are
required: without them the tests fail and say so.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from twomass.sql import statements

from ..tap.cluster import BIN, PrivateCluster


def start_cluster(started: list[PrivateCluster]) -> PrivateCluster:
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        pytest.fail(f"the shard tests start PostgreSQL 15 clusters with {BIN}/initdb and "
                    f"pg_ctl, which are missing: install postgresql-15")
    cluster = PrivateCluster()
    started.append(cluster)
    return cluster.start()


@pytest.fixture(scope="package")
def clusters(admin_url: str) -> Iterator[dict[str, str]]:
    """Server URLs (maintenance database): ``coordinator``, ``shard1``, ``shard2``."""
    started: list[PrivateCluster] = []
    try:
        with psycopg.connect(admin_url) as conn:
            has_fdw = conn.execute(statements("shards.sql")["fdw_available"]).fetchone()[0]
        urls = {"coordinator": admin_url if has_fdw else start_cluster(started).url()}
        for name in ("shard1", "shard2"):
            urls[name] = start_cluster(started).url()
        yield urls
    finally:
        for cluster in started:
            cluster.stop()
