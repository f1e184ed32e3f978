"""Cross-match: hpx_xmatch and hpx_xmatch_nearest, by hash joins on sky cells.

A join on ``hpx_radial_query`` computes the disc's hpx ranges in PL/pgSQL for every outer
row and costs several times ``q3c_join``. This revision installs, in schema ``public``,
``hpx_xmatch(table_a, table_b, radius_deg)`` (every pair within the radius, joined by
hash on declination zones cut into RA buckets, or by index probes when one table is far
smaller) and ``hpx_xmatch_nearest`` (the k nearest within the radius), with the private
cell functions ``_hpx_zones``, ``_hpx_zone``, ``_hpx_zone_buckets``,
``_hpx_zone_half_width``, ``_hpx_cell`` and ``_hpx_cells_near``, which the release
build's cross-matches call as well (they were created in each release
schema by the build before). No existing function changes.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261207
Revises: 20261206
Create Date: 2026-12-07
"""

from twomass.migrations.frozen import run_frozen

revision = "20261207"
down_revision = "20261206"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
