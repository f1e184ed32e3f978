"""Flags against real rows: frame-detection test by magnitude, spec thresholds in ph_qual,
fitted msigcom zero points, and the working database's msig.

``tmass_ndet_ok`` tests bands brighter than a magnitude (the reading real PSC rows
support, not S/N >= 20) with its ratio and minimum frame count as arguments, and the new
``tmass_ndet_source_ok`` is catalog rule 7 for a whole source. ``tmass_ph_qual`` and
``tmass_ph_qual_band`` take the magnitudes and the release spec's psfchi and frame
thresholds instead of hard-coding them. ``tmass_msigcom`` takes the band and uses the
zero-point terms of the new ``tmass_zperr`` (fitted to real rows). ``wdb.pts`` gains
``j_msig``, ``h_msig``, ``k_msig``, the uncertainty the S/N rule tests as published, and
``wdb_cone``, which returns every ``wdb.pts`` column, returns them too. The
``psc_reject`` view of every existing release, which computes ph_qual when read, is
re-pointed to the new ``tmass_ph_qual`` (with that release's psfchi_max and
ndet_min_ratio and the default frame-test thresholds) before the old signatures go, and
back on downgrade.

The SQL is frozen in the folder of the same name beside this file.

Revision ID: 20261208
Revises: 20261207
Create Date: 2026-12-08
"""

from twomass.migrations.frozen import run_frozen

revision = "20261208"
down_revision = "20261207"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(__file__, "upgrade.sql")


def downgrade() -> None:
    run_frozen(__file__, "downgrade.sql")
