"""Baseline: the working database, the release registry and the SQL API.

Creates schema ``wdb`` (every extraction of every scan, the 2MASS working database),
``twomass_meta.database`` (the HEALPix order 29 and scheme NESTED of every ``hpx``
column, frozen: changing either would silently break every spatial index) and
``twomass_meta.release`` (the registry of release builds), and installs the functions
in schema ``public``: the ``hpx_*`` spatial API, the 2MASS flag functions ``tmass_*``
and the cone searches ``psc_cone``, ``xsc_cone``, ``wdb_cone``, ``psc_nearest``.

Everything this revision installs is frozen in the folder of the same name beside this
file; it never reads the package's ``sql/`` or ``schema/``, which describe the head.
A later revision carries its own frozen delta in the same way.

This revision consolidates the history 0001-0008 of earlier versions; a database at
one of those revisions is refused with the command that re-creates it.

Revision ID: 20261206
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import twomass
from twomass.migrations.frozen import run_frozen

revision = "20261206"
down_revision = None
branch_labels = None
depends_on = None


#: Frozen files, in the order they run.
FILES = ("tables.sql", "hpx.sql", "flags.sql", "cone.sql")


def upgrade() -> None:
    for name in FILES:
        run_frozen(__file__, name)
    op.execute(
        sa.text(
            "INSERT INTO twomass_meta.database "
            "(healpix_order, healpix_scheme, created_by_version, code_version) "
            "VALUES (29, 'NESTED', :v, :v)"
        ).bindparams(v=twomass.__version__)
    )


def downgrade() -> None:
    """Remove everything twomass made: releases, public views, functions, schemas."""
    run_frozen(__file__, "downgrade.sql")
