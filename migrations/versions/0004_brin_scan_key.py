"""Extractions found by scan through a BRIN index instead of a B-tree.

``wdb.pts`` and ``wdb.ext`` are written night by night in ``scan_key`` order, so a BRIN
index on ``scan_key`` (a few pages per night) finds the rows of a scan or night as well
as the B-tree on ``(scan_key, id)`` did, and costs almost nothing to keep up during
ingest, where the B-tree was half of the index maintenance. Uniqueness of ``id`` within
a scan is checked by ingest validation, never relied on from the index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("pts", "ext")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_scan_key_id", table_name=table, schema="wdb")
        op.create_index(f"ix_{table}_scan_key", table, ["scan_key"], schema="wdb",
                        postgresql_using="brin", postgresql_with={"pages_per_range": 32})


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_scan_key", table_name=table, schema="wdb")
        op.create_index(f"ix_{table}_scan_key_id", table, ["scan_key", "id"], schema="wdb")
