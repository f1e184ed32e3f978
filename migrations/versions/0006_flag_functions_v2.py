"""Flag functions, second version: per-row costs fit for a billion rows.

Re-installs ``sql/flags.sql`` on databases already at revision 0005. Adds
``tmass_glon`` and ``tmass_glat``, single expressions the planner inlines into the
release queries (``tmass_galactic``, whose body has a FROM clause, was called row by
row and now delegates to them), and makes ``tmass_designation`` and
``tmass_edge_distance`` PL/pgSQL so that their intermediate values are computed once per
call (4x faster each). Results are unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op

from twomass import sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NEW_FUNCTIONS = ("tmass_glon(float8, float8)", "tmass_glat(float8, float8)")


def _execute(text: str) -> None:
    sql.execute(op.get_bind(), text)


def upgrade() -> None:
    _execute(sql.read("flags.sql"))


def downgrade() -> None:
    """Drop the new functions; ``tmass_galactic`` goes back to computing them itself."""
    _execute("""
        CREATE OR REPLACE FUNCTION public.tmass_galactic(ra float8, "dec" float8,
                                                         OUT glon float8, OUT glat float8)
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
            SELECT CASE WHEN degrees(atan2(yg, xg)) < 0 THEN degrees(atan2(yg, xg)) + 360
                        ELSE degrees(atan2(yg, xg)) END,
                   degrees(asin(greatest(-1.0, least(1.0, zg))))
            FROM (SELECT -0.05487565771259163 * x - 0.8734370519556159 * y
                         - 0.48383507361671546 * z,
                         0.4941094371927268 * x - 0.44482972122329517 * y
                         + 0.7469821839866676 * z,
                         -0.8676661375596576 * x - 0.19807633727300059 * y
                         + 0.45598381368730156 * z
                  FROM (SELECT cosd("dec") * cosd(ra), cosd("dec") * sind(ra), sind("dec"))
                       AS u(x, y, z)) AS g(xg, yg, zg)
        $$
    """)
    for signature in NEW_FUNCTIONS:
        _execute(f"DROP FUNCTION IF EXISTS public.{signature}")
