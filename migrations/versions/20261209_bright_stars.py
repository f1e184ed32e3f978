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

from twomass.migrations.frozen import run_frozen

revision = "20261209"
down_revision = "20261208"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
