"""Spatial functions, second version: a four-range near cover and a fine cover.

Re-installs ``sql/hpx.sql`` on databases already at revision 0004, so
``hpx_radial_query`` takes its new body: radii up to 0.03 deg use at most four ranges
whose bounds a cross-match evaluates once per outer row (the join probes the inner
table's ``hpx`` index with default planner settings), larger radii up to 40 ranges
computed once at plan time. Every statement of the file is ``CREATE OR REPLACE`` with
unchanged signatures, so nothing has to be dropped first; the new private functions
(``_hpx_near_*``, ``_hpx_disc_cover``, ``_hpx_in_ranges``, ``_hpx_xyf_step``,
``_hpx_check_disc``) start with ``_hpx_`` and are removed by the downgrade of 0002.

Downgrade leaves the functions in place: revision 0004 has the same functions with the
same signatures and results, and the earlier bodies are no longer kept anywhere.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from alembic import op

from twomass import sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A DBAPI cursor without parameters: the file holds colons and percent signs.
    cursor = op.get_bind().connection.cursor()
    try:
        cursor.execute(sql.read("hpx.sql"))
    finally:
        cursor.close()


def downgrade() -> None:
    """Nothing to undo: the results of every function are those of revision 0004."""
