"""Atlas Images: the table wdb.atlas_image, the inventory of the pipeline's co-added images.

One row per Atlas Image (night, scan, band, image number) with its centre, ``hpx``,
corners, seeing, zero point, sky and coverage, so that the images covering a position
can be found with SQL. No existing object changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261210
Revises: 20261209
Create Date: 2026-12-10
"""

from twomass.migrations.frozen import run_frozen

revision = "20261210"
down_revision = "20261209"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
