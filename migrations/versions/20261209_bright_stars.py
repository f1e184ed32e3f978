"""Bright-star list: table ``wdb.bright_star``, loaded from each night's optional
``bright_stars.parquet``.

The very bright stars (Ks < 6) near a night's scans, from an external infrared list:
the release's final artifact pass (DB_MAPCOR, sql/release/40_artifacts.sql) searches
around them, and around the very bright detections of every scan, for diffraction-spike
and halo artifacts, including those of stars off the scans. Rows belong to their night
(deleted with it). No existing table or function changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261209
Revises: 20261208
Create Date: 2026-12-09
"""

from pathlib import Path

from alembic import op

revision = "20261209"
down_revision = "20261208"
branch_labels = None
depends_on = None

FROZEN = Path(__file__).with_suffix("")


def _execute(text: str) -> None:
    """Run a whole SQL file through a plain cursor (no parameter formatting)."""
    cursor = op.get_bind().connection.cursor()
    try:
        cursor.execute(text)
    finally:
        cursor.close()


def upgrade() -> None:
    _execute((FROZEN / "upgrade.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    _execute((FROZEN / "downgrade.sql").read_text(encoding="utf-8"))
