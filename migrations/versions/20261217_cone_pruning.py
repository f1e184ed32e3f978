"""Cone functions that prune a partitioned table's partitions before starting them.

``psc_cone``, ``xsc_cone``, ``wdb_cone`` and ``psc_nearest`` take the disc's cover into
arrays in a first statement and read the table range by range (a LATERAL subquery),
bounded by the cover's whole hpx span, whose bounds are parameters of the cached plan:
on a table partitioned by sky the executor removes the partitions outside the span at
start-up (initial pruning) instead of starting every partition's scan at every call.
No parallel workers. Same rows; no table changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261217
Revises: 20261216
Create Date: 2026-12-17
"""

from twomass.migrations.frozen import run_frozen

revision = "20261217"
down_revision = "20261216"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
