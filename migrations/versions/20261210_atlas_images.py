"""Atlas Images: the table wdb.atlas_image, the inventory of the pipeline's co-added images.

One row per Atlas Image (night, scan, band, image number) with its centre, ``hpx``,
corners, seeing, zero point, sky and coverage, so that the images covering a position
can be found with SQL. No existing object changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261210
Revises: 20261209
Create Date: 2026-12-10
"""

from pathlib import Path

from alembic import op

revision = "20261210"
down_revision = "20261209"
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
