"""Cone searches: whole ranges, one set of sines per row.

``_hpx_fine_cover`` returns the fine cover of a disc with the ranges wholly inside it
marked (``whole``); ``hpx_cone_ranges`` gains that column (so it is dropped and created
again); ``_hpx_disc_cover`` takes its ranges from it. ``psc_cone``, ``xsc_cone`` and
``wdb_cone`` compute the exact test's three sines once per row and the distance from the
test's haversine; ``psc_nearest`` counts the rows of whole ranges from the index alone.
Same rows, same covers; no table changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261215
Revises: 20261214
Create Date: 2026-12-15
"""

from twomass.migrations.frozen import run_frozen

revision = "20261215"
down_revision = "20261214"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
