"""Cross-match in parallel workers: hpx_xmatch as a Parallel Hash Join on the smaller table.

``hpx_xmatch`` hashes the smaller table expanded into the sky cells its rows' discs
reach and streams the larger one past it, one cell a row, in a statement the planner
runs in parallel workers (its subqueries kept apart by an int8 ``OFFSET '0'``, which
does not keep them out of the workers as ``OFFSET 0`` did). Same pairs; no table
changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261214
Revises: 20261212
Create Date: 2026-12-14
"""

from twomass.migrations.frozen import run_frozen

revision = "20261214"
down_revision = "20261212"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
