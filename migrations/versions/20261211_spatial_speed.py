"""Spatial speed: a faster fine disc cover, and hpx_xmatch's distance from its exact test.

``_hpx_disc_cover`` keeps its algorithm but runs its pixel loop in PL/pgSQL's cheapest
statements (the same ranges in half the time, which a cone of more than 108" spends
planning), and from 0.5 deg splits down to pixels of a quarter of the radius instead of
a half (1.5 instead of 2.2 times the rows of a 1 deg disc read); ``hpx_xmatch``
computes the exact test's sine term once per candidate pair and the distance from it
instead of calling ``hpx_dist``. Same rows and pairs; no table changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261211
Revises: 20261210
Create Date: 2026-12-11
"""

from twomass.migrations.frozen import run_frozen

revision = "20261211"
down_revision = "20261210"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
