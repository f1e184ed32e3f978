"""Cone searches planned once: the disc's cover as rows, joined when the statement runs.

``hpx_cone_ranges`` returns the cover of a disc as rows (lo, hi) and ``_hpx_in_range``
joins them with a table's ``hpx`` index; ``psc_cone``, ``xsc_cone`` and ``wdb_cone``
become PL/pgSQL functions running that join, so their plan is made once per session and
reused for every disc, where the inlined ``hpx_radial_query`` was planned anew for every
cone. ``_hpx_near_pixels`` gives the near pixels of a disc to both covers. Same rows;
no table changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261212
Revises: 20261211
Create Date: 2026-12-12
"""

from twomass.migrations.frozen import run_frozen

revision = "20261212"
down_revision = "20261211"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
