"""Release registry and the 2MASS flag functions.

Creates ``twomass_meta.release``, one row per release build (spec, code version,
checksums of the working database read and of the content, counts, build and publish
times), and installs ``sql/flags.sql``: the flag and value-added functions
(``tmass_ph_qual_band``, ``tmass_designation``, ``tmass_msigcom``, ...) that the release
rules use and users may call. Release schemas ``rel_<name>`` are not created here:
``twomass release build`` makes them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from twomass import sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Functions sql/flags.sql creates (identity signatures), dropped on downgrade.
FLAG_FUNCTIONS = (
    "tmass_ndet_ok(char(2), real, real, real)",
    "tmass_ph_qual_band(char(1), real, real, real, char(2))",
    "tmass_ph_qual(char(3), real, real, real, real, real, real, real, real, real, char(6))",
    "tmass_msigcom(real, char(1), real, real, real)",
    "tmass_designation(float8, float8)",
    "tmass_galactic(float8, float8)",
    "tmass_position_angle(float8, float8, float8, float8)",
    "tmass_edge_distance(float8, float8, float8, float8, float8, float8, float8, float8, "
    "float8, float8)",
    "tmass_dra(float8, float8)",
)


def upgrade() -> None:
    op.create_table(
        "release",
        sa.Column("name", sa.Text(), nullable=False,
                  comment="release name, as given to `twomass release build`"),
        sa.Column("schema_name", sa.Text(), nullable=False,
                  comment="schema holding the release tables (rel_<name>)"),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="release spec the build used: every threshold, by field name"),
        sa.Column("code_version", sa.Text(), nullable=False,
                  comment="twomass version and digest of the release SQL that built it"),
        sa.Column("wdb_checksum", sa.Text(), nullable=False,
                  comment="order-independent checksum of the working-database tables "
                  "the build read"),
        sa.Column("content_checksum", sa.Text(), nullable=False,
                  comment="order-independent checksum of the release tables"),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="rows per release table and rejects per reason"),
        sa.Column("build_seconds", sa.Double(), nullable=False,
                  comment="wall-clock duration of the build [s]"),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False, comment="when the build committed [UTC]"),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True,
                  comment="when the public views last pointed at this release [UTC]; "
                  "NULL if never"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_release")),
        sa.UniqueConstraint("schema_name", name=op.f("uq_release_schema_name")),
        schema="twomass_meta",
        comment="Registry of release builds; the published one has the latest published_at.",
    )
    op.execute(sa.text(sql.read("flags.sql")))


def downgrade() -> None:
    for signature in FLAG_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS public.{signature}")
    op.drop_table("release", schema="twomass_meta")
