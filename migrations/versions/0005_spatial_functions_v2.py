"""Spatial functions, second version: a four-range near cover and a fine cover.

Re-installs ``sql/hpx.sql`` on databases already at revision 0004, so the index-driven
functions take their new bodies: radii up to 0.03 deg use at most four ranges (the
centre's pixel, computed inline, and up to three neighbours that a cheap edge test
usually rules out, NULL when empty), which a cross-match evaluates once per outer row
while probing the inner table's ``hpx`` index with default planner settings; larger
radii use up to 40 ranges computed once at plan time; ellipses and polygons use the
same covers. Every statement of the file is ``CREATE OR REPLACE`` with unchanged public
signatures. The new private functions (``_hpx_near_*``, ``_hpx_in_near_ranges``,
``_hpx_disc_cover``, ``_hpx_poly_cover``, ``_hpx_in_ranges``, ``_hpx_xyf_step``,
``_hpx_check_disc``) start with ``_hpx_`` and are removed by the downgrade of 0002;
databases upgraded from 0004 keep the unused private functions of the first cover,
which that downgrade removes as well.

Downgrade leaves the functions in place: revision 0004 has the same public functions
with the same signatures and results, and the earlier bodies are no longer kept.

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
    sql.execute(op.get_bind(), sql.read("hpx.sql"))


def downgrade() -> None:
    """Nothing to undo: the results of every function are those of revision 0004."""
