"""Partitioning by sky: wdb.pts and wdb.ext range-partitioned on hpx at HEALPix order k.

Adds ``twomass_meta.database.partition_order`` (k, frozen: the program refuses a
database partitioned otherwise; NULL for plain tables) and the procedure
``_hpx_repartition`` that rebuilds a table with a layout, then gives the two extraction
tables the layout ``twomass db init`` or ``twomass db upgrade`` was asked for (the
alembic configuration's attribute ``partition_order``): one partition per order-k pixel,
the rows moved in this revision's transaction. Release catalogs built afterwards take the
same layout; those built before keep theirs. The downgrade makes the tables plain again.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261216
Revises: 20261215
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import context, op

from twomass.migrations.frozen import run_frozen

revision = "20261216"
down_revision = "20261215"
branch_labels = None
depends_on = None

#: The tables this revision partitions.
TABLES = ("wdb.pts", "wdb.ext")


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")
    order = context.config.attributes["partition_order"]
    for table in TABLES:
        op.execute(sa.text("CALL public._hpx_repartition(CAST(:t AS regclass), :k)")
                   .bindparams(t=table, k=order))
    op.execute(sa.text("UPDATE twomass_meta.database SET partition_order = :k")
               .bindparams(k=order))


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
