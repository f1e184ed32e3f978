"""Spatial SQL API: hpx_* functions, cone search, provisional catalog views.

Installs ``sql/hpx.sql`` (``hpx_ang2ipix``, ``hpx_ipix2ang``, ``hpx_dist``, the
index-driven ``hpx_radial_query`` / ``hpx_ellipse_query`` / ``hpx_poly_query`` and their
private ``_hpx_*`` helpers) and ``sql/cone.sql`` (``psc_cone``, ``xsc_cone``,
``wdb_cone``, ``psc_nearest``) into schema ``public``, so any PostgreSQL >= 15 answers
spatial queries with the B-tree on ``hpx`` and no extension.

The cone functions return the rows of the published catalogs ``public.psc`` and
``public.xsc``. Before any release is published those views do not exist, so this
revision creates them over the working tables (``wdb.pts``, ``wdb.ext``); publishing a
release replaces them and re-runs ``sql/cone.sql`` so the functions take the new columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

from twomass import sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Public functions of this revision (the private ones all start with ``_hpx_``).
FUNCTIONS = (
    "hpx_ang2ipix", "hpx_ipix2ang", "hpx_dist", "hpx_radial_query", "hpx_ellipse_query",
    "hpx_poly_query", "psc_cone", "xsc_cone", "wdb_cone", "psc_nearest",
)

_PROVISIONAL_VIEWS = (
    ("psc", "wdb.pts", "Provisional: every working point extraction (wdb.pts) until a "
     "release is published."),
    ("xsc", "wdb.ext", "Provisional: every working extended extraction (wdb.ext) until a "
     "release is published."),
)


def _execute(text: str) -> None:
    sql.execute(op.get_bind(), text)


def upgrade() -> None:
    _execute(sql.read("hpx.sql"))
    for view, table, comment in _PROVISIONAL_VIEWS:
        _execute(f"CREATE VIEW public.{view} AS SELECT * FROM {table}")
        _execute(f"COMMENT ON VIEW public.{view} IS '{comment}'")
    _execute(sql.read("cone.sql"))


def downgrade() -> None:
    _execute("""
        DO $drop$
        DECLARE
            f regprocedure;
        BEGIN
            FOR f IN
                SELECT p.oid::regprocedure FROM pg_proc p
                WHERE p.pronamespace = 'public'::regnamespace
                  AND (p.proname = ANY (ARRAY[{names}]) OR p.proname LIKE '\\_hpx\\_%')
            LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', f);
            END LOOP;
        END
        $drop$
    """.replace("{names}", ", ".join(f"'{name}'" for name in FUNCTIONS)))
    for view, _, _ in _PROVISIONAL_VIEWS:
        _execute(f"DROP VIEW IF EXISTS public.{view} CASCADE")
