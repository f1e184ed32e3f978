"""Schema ``twomass_meta``: what the database is, frozen when it was created.

The Alembic version table lives in this schema too (see ``twomass.migrations.revision``).
"""

import sqlalchemy as sa

from twomass.schema.base import col, metadata, req

SCHEMA = "twomass_meta"

database = sa.Table(
    "database",
    metadata,
    req("singleton", sa.Boolean, "always true: the table holds exactly one row",
        primary_key=True, server_default=sa.text("true")),
    req("healpix_order", sa.SmallInteger, "HEALPix order of every hpx column, frozen at creation"),
    req("healpix_scheme", sa.Text, "HEALPix numbering scheme of hpx, frozen at creation"),
    req("created_at", sa.DateTime(timezone=True), "when the database was created [UTC]",
        server_default=sa.func.now()),
    req("created_by_version", sa.Text, "twomass code version that created the database"),
    req("code_version", sa.Text, "twomass code version that last migrated the database"),
    col("partition_order", sa.SmallInteger, "HEALPix order k of the sky partitions of "
        "wdb.pts, wdb.ext and the catalogs (12 * 4^k partitions on hpx), frozen at "
        "creation; NULL = plain tables"),
    sa.CheckConstraint("singleton", name="one_row"),
    schema=SCHEMA,
    comment="Physical settings frozen at creation; the program refuses a mismatch.",
)
