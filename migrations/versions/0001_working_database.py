"""Working database: nights, scans, tiles, point and extended extractions, provenance.

Creates schema ``wdb`` (every extraction of every scan, the 2MASS working database)
and ``twomass_meta.database``, which freezes the HEALPix order (29) and scheme
(NESTED) of every ``hpx`` column: changing either would silently break every spatial
index, so a database keeps the settings it was created with.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import twomass

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS twomass_meta")
    op.execute("CREATE SCHEMA wdb")
    op.create_table(
        "database",
        sa.Column(
            "singleton",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
            comment="always true: the table holds exactly one row",
        ),
        sa.Column(
            "healpix_order",
            sa.SmallInteger(),
            nullable=False,
            comment="HEALPix order of every hpx column, frozen at creation",
        ),
        sa.Column(
            "healpix_scheme",
            sa.Text(),
            nullable=False,
            comment="HEALPix numbering scheme of hpx, frozen at creation",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="when the database was created [UTC]",
        ),
        sa.Column(
            "created_by_version",
            sa.Text(),
            nullable=False,
            comment="twomass code version that created the database",
        ),
        sa.Column(
            "code_version",
            sa.Text(),
            nullable=False,
            comment="twomass code version that last migrated the database",
        ),
        sa.CheckConstraint("singleton", name=op.f("ck_database_one_row")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_database")),
        schema="twomass_meta",
        comment="Physical settings frozen at creation; the program refuses a mismatch.",
    )
    op.create_table(
        "ext",
        sa.Column(
            "scan_key",
            sa.Integer(),
            nullable=False,
            comment="scan that made the extraction (wdb.scan)",
        ),
        sa.Column(
            "id", sa.Integer(), nullable=False, comment="extended-source id, unique within the scan"
        ),
        sa.Column(
            "coadd",
            sa.SmallInteger(),
            nullable=False,
            comment="Atlas Image sequence number within the scan",
        ),
        sa.Column(
            "ra",
            sa.Double(),
            nullable=False,
            comment="peak pixel right ascension, ICRS J2000 [deg]",
        ),
        sa.Column(
            "dec", sa.Double(), nullable=False, comment="peak pixel declination, ICRS J2000 [deg]"
        ),
        sa.Column(
            "hpx",
            sa.BigInteger(),
            nullable=False,
            comment="HEALPix NESTED order-29 index of (ra, dec)",
        ),
        sa.Column(
            "sup_ra",
            sa.Double(),
            nullable=True,
            comment="super-coadd centroid right ascension [deg]",
        ),
        sa.Column(
            "sup_dec", sa.Double(), nullable=True, comment="super-coadd centroid declination [deg]"
        ),
        sa.Column(
            "pts_id",
            sa.Integer(),
            nullable=True,
            comment="id of the matching point extraction in the same scan",
        ),
        sa.Column(
            "jdate", sa.Double(), nullable=False, comment="Julian Date of the measurement [d]"
        ),
        sa.Column(
            "x_coadd", sa.REAL(), nullable=True, comment="x position on the Atlas Image [pix]"
        ),
        sa.Column(
            "y_coadd", sa.REAL(), nullable=True, comment="y position on the Atlas Image [pix]"
        ),
        sa.Column(
            "density",
            sa.REAL(),
            nullable=True,
            comment="log10 density of Ks < 14 stars in the coadd [deg^-2]",
        ),
        sa.Column(
            "r_k20fe",
            sa.REAL(),
            nullable=True,
            comment="Ks 20 mag/arcsec^2 isophotal elliptical semi-major axis [arcsec]",
        ),
        sa.Column(
            "j_m_k20fe",
            sa.REAL(),
            nullable=True,
            comment="J magnitude in the Ks 20 mag/arcsec^2 fiducial ellipse [mag]",
        ),
        sa.Column(
            "h_m_k20fe",
            sa.REAL(),
            nullable=True,
            comment="H magnitude in the Ks 20 mag/arcsec^2 fiducial ellipse [mag]",
        ),
        sa.Column(
            "k_m_k20fe",
            sa.REAL(),
            nullable=True,
            comment="Ks magnitude in the Ks 20 mag/arcsec^2 fiducial ellipse [mag]",
        ),
        sa.Column(
            "j_msig_k20fe", sa.REAL(), nullable=True, comment="J uncertainty of m_k20fe [mag]"
        ),
        sa.Column(
            "h_msig_k20fe", sa.REAL(), nullable=True, comment="H uncertainty of m_k20fe [mag]"
        ),
        sa.Column(
            "k_msig_k20fe", sa.REAL(), nullable=True, comment="Ks uncertainty of m_k20fe [mag]"
        ),
        sa.Column(
            "j_flg_k20fe", sa.SmallInteger(), nullable=True, comment="J confusion flag of m_k20fe"
        ),
        sa.Column(
            "h_flg_k20fe", sa.SmallInteger(), nullable=True, comment="H confusion flag of m_k20fe"
        ),
        sa.Column(
            "k_flg_k20fe", sa.SmallInteger(), nullable=True, comment="Ks confusion flag of m_k20fe"
        ),
        sa.Column(
            "j_m_7",
            sa.REAL(),
            nullable=True,
            comment="J 7-arcsec circular-aperture magnitude [mag]",
        ),
        sa.Column(
            "h_m_7",
            sa.REAL(),
            nullable=True,
            comment="H 7-arcsec circular-aperture magnitude [mag]",
        ),
        sa.Column(
            "k_m_7",
            sa.REAL(),
            nullable=True,
            comment="Ks 7-arcsec circular-aperture magnitude [mag]",
        ),
        sa.Column("j_msig_7", sa.REAL(), nullable=True, comment="J uncertainty of m_7 [mag]"),
        sa.Column("h_msig_7", sa.REAL(), nullable=True, comment="H uncertainty of m_7 [mag]"),
        sa.Column("k_msig_7", sa.REAL(), nullable=True, comment="Ks uncertainty of m_7 [mag]"),
        sa.Column(
            "r_3sig",
            sa.REAL(),
            nullable=True,
            comment="Ks 3-sigma isophote semi-major axis [arcsec]",
        ),
        sa.Column(
            "j_ba",
            sa.REAL(),
            nullable=True,
            comment="J minor/major axis ratio at the 3-sigma isophote",
        ),
        sa.Column(
            "h_ba",
            sa.REAL(),
            nullable=True,
            comment="H minor/major axis ratio at the 3-sigma isophote",
        ),
        sa.Column(
            "k_ba",
            sa.REAL(),
            nullable=True,
            comment="Ks minor/major axis ratio at the 3-sigma isophote",
        ),
        sa.Column(
            "j_phi", sa.SmallInteger(), nullable=True, comment="J position angle, E of N [deg]"
        ),
        sa.Column(
            "h_phi", sa.SmallInteger(), nullable=True, comment="H position angle, E of N [deg]"
        ),
        sa.Column(
            "k_phi", sa.SmallInteger(), nullable=True, comment="Ks position angle, E of N [deg]"
        ),
        sa.Column("sup_ba", sa.REAL(), nullable=True, comment="super-coadd minor/major axis ratio"),
        sa.Column(
            "sup_phi",
            sa.SmallInteger(),
            nullable=True,
            comment="super-coadd position angle, E of N [deg]",
        ),
        sa.Column(
            "r_ext",
            sa.REAL(),
            nullable=True,
            comment="extrapolated total-magnitude radius [arcsec]",
        ),
        sa.Column(
            "j_m_ext", sa.REAL(), nullable=True, comment="J extrapolated total magnitude [mag]"
        ),
        sa.Column(
            "h_m_ext", sa.REAL(), nullable=True, comment="H extrapolated total magnitude [mag]"
        ),
        sa.Column(
            "k_m_ext", sa.REAL(), nullable=True, comment="Ks extrapolated total magnitude [mag]"
        ),
        sa.Column("j_msig_ext", sa.REAL(), nullable=True, comment="J uncertainty of m_ext [mag]"),
        sa.Column("h_msig_ext", sa.REAL(), nullable=True, comment="H uncertainty of m_ext [mag]"),
        sa.Column("k_msig_ext", sa.REAL(), nullable=True, comment="Ks uncertainty of m_ext [mag]"),
        sa.Column(
            "e_score",
            sa.REAL(),
            nullable=False,
            comment="extended score: 1 = extended ... 2 = point-like",
        ),
        sa.Column(
            "g_score", sa.REAL(), nullable=False, comment="galaxy score: 1 = galaxy ... 2 = not"
        ),
        sa.Column("vc", sa.SmallInteger(), nullable=True, comment="visual verification score"),
        sa.Column(
            "cc_flg",
            sa.CHAR(length=1),
            nullable=False,
            comment="contamination flag; upper case = artifact, 0 = clean",
        ),
        sa.Column(
            "dist_edge_ns",
            sa.Integer(),
            nullable=False,
            comment="distance to the nearest N or S edge of the scan [arcsec]",
        ),
        sa.Column(
            "dist_edge_ew",
            sa.Integer(),
            nullable=False,
            comment="distance to the nearest E or W edge of the scan [arcsec]",
        ),
        sa.Column(
            "dist_edge_flg",
            sa.CHAR(length=2),
            nullable=False,
            comment="nearest edges: n or s, then e or w",
        ),
        sa.Column(
            "mp_flg",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="1 = at the predicted position of a known solar-system object",
        ),
        schema="wdb",
        comment="Every extended-source extraction of every scan.",
    )
    op.create_index("ix_ext_hpx", "ext", ["hpx"], unique=False, schema="wdb")
    op.create_index("ix_ext_scan_key_id", "ext", ["scan_key", "id"], unique=False, schema="wdb")
    op.create_table(
        "night",
        sa.Column(
            "night_key",
            sa.Integer(),
            sa.Identity(always=False),
            nullable=False,
            comment="unique id of an observing night at one site",
        ),
        sa.Column(
            "hemis",
            sa.CHAR(length=1),
            nullable=False,
            comment="observatory: n = Mt. Hopkins, s = Cerro Tololo",
        ),
        sa.Column(
            "date",
            sa.Date(),
            nullable=False,
            comment="observation reference date (UT date at sunrise)",
        ),
        sa.Column(
            "pipeline_version",
            sa.Text(),
            nullable=False,
            comment="version of the pipeline that wrote the night products",
        ),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="when the night was loaded [UTC]",
        ),
        sa.CheckConstraint("hemis IN ('n', 's')", name=op.f("ck_night_hemis")),
        sa.PrimaryKeyConstraint("night_key", name=op.f("pk_night")),
        sa.UniqueConstraint("hemis", "date", name=op.f("uq_night_hemis_date")),
        schema="wdb",
        comment="One row per observing night and site.",
    )
    op.create_table(
        "pts",
        sa.Column(
            "scan_key",
            sa.Integer(),
            nullable=False,
            comment="scan that made the extraction (wdb.scan)",
        ),
        sa.Column("id", sa.Integer(), nullable=False, comment="source id, unique within the scan"),
        sa.Column(
            "ra", sa.Double(), nullable=False, comment="source right ascension, ICRS J2000 [deg]"
        ),
        sa.Column(
            "dec", sa.Double(), nullable=False, comment="source declination, ICRS J2000 [deg]"
        ),
        sa.Column(
            "hpx",
            sa.BigInteger(),
            nullable=False,
            comment="HEALPix NESTED order-29 index of (ra, dec)",
        ),
        sa.Column(
            "err_maj",
            sa.REAL(),
            nullable=False,
            comment="1-sigma position-error ellipse semi-major axis [arcsec]",
        ),
        sa.Column(
            "err_min",
            sa.REAL(),
            nullable=False,
            comment="1-sigma position-error ellipse semi-minor axis [arcsec]",
        ),
        sa.Column(
            "err_ang",
            sa.SmallInteger(),
            nullable=False,
            comment="position angle of the error ellipse, E of N [deg]",
        ),
        sa.Column(
            "j_m",
            sa.REAL(),
            nullable=True,
            comment="J default magnitude or 95% upper limit (see rd_flg) [mag]",
        ),
        sa.Column(
            "j_cmsig", sa.REAL(), nullable=True, comment="J corrected photometric uncertainty [mag]"
        ),
        sa.Column(
            "j_msigcom", sa.REAL(), nullable=True, comment="J total photometric uncertainty [mag]"
        ),
        sa.Column("j_snr", sa.REAL(), nullable=True, comment="J scan signal-to-noise ratio"),
        sa.Column(
            "h_m",
            sa.REAL(),
            nullable=True,
            comment="H default magnitude or 95% upper limit (see rd_flg) [mag]",
        ),
        sa.Column(
            "h_cmsig", sa.REAL(), nullable=True, comment="H corrected photometric uncertainty [mag]"
        ),
        sa.Column(
            "h_msigcom", sa.REAL(), nullable=True, comment="H total photometric uncertainty [mag]"
        ),
        sa.Column("h_snr", sa.REAL(), nullable=True, comment="H scan signal-to-noise ratio"),
        sa.Column(
            "k_m",
            sa.REAL(),
            nullable=True,
            comment="Ks default magnitude or 95% upper limit (see rd_flg) [mag]",
        ),
        sa.Column(
            "k_cmsig",
            sa.REAL(),
            nullable=True,
            comment="Ks corrected photometric uncertainty [mag]",
        ),
        sa.Column(
            "k_msigcom", sa.REAL(), nullable=True, comment="Ks total photometric uncertainty [mag]"
        ),
        sa.Column("k_snr", sa.REAL(), nullable=True, comment="Ks scan signal-to-noise ratio"),
        sa.Column(
            "rd_flg",
            sa.CHAR(length=3),
            nullable=False,
            comment="read flag per band JHKs: origin of the default magnitude",
        ),
        sa.Column(
            "bl_flg",
            sa.CHAR(length=3),
            nullable=False,
            comment="blend flag per band JHKs: number of components fit",
        ),
        sa.Column(
            "cc_flg",
            sa.CHAR(length=3),
            nullable=False,
            comment="contamination flag per band JHKs; upper case = artifact",
        ),
        sa.Column(
            "ndet",
            sa.CHAR(length=6),
            nullable=False,
            comment="frame detections: per band JHKs, detected then possible frames",
        ),
        sa.Column(
            "cnf_flg",
            sa.CHAR(length=6),
            nullable=False,
            comment=(
                "band-merge confusion counts: #H and #Ks for a J seed, "
                "#J and #Ks for an H seed, #J and #H for a Ks seed"
            ),
        ),
        sa.Column(
            "mp_flg",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="1 = at the predicted position of a known solar-system object",
        ),
        sa.Column(
            "x_scan",
            sa.REAL(),
            nullable=False,
            comment="mean cross-scan focal-plane position (U-scan x) [arcsec]",
        ),
        sa.Column(
            "y_scan",
            sa.REAL(),
            nullable=False,
            comment="in-scan position from the scan start (U-scan y) [arcsec]",
        ),
        sa.Column(
            "jdate", sa.Double(), nullable=False, comment="Julian Date of the measurement [d]"
        ),
        sa.Column(
            "j_psfchi", sa.REAL(), nullable=True, comment="J reduced chi-squared of the profile fit"
        ),
        sa.Column(
            "h_psfchi", sa.REAL(), nullable=True, comment="H reduced chi-squared of the profile fit"
        ),
        sa.Column(
            "k_psfchi",
            sa.REAL(),
            nullable=True,
            comment="Ks reduced chi-squared of the profile fit",
        ),
        sa.Column(
            "j_m_stdap",
            sa.REAL(),
            nullable=True,
            comment="J 4-arcsec standard-aperture magnitude [mag]",
        ),
        sa.Column(
            "h_m_stdap",
            sa.REAL(),
            nullable=True,
            comment="H 4-arcsec standard-aperture magnitude [mag]",
        ),
        sa.Column(
            "k_m_stdap",
            sa.REAL(),
            nullable=True,
            comment="Ks 4-arcsec standard-aperture magnitude [mag]",
        ),
        sa.Column(
            "j_msig_stdap",
            sa.REAL(),
            nullable=True,
            comment="J standard-aperture magnitude uncertainty [mag]",
        ),
        sa.Column(
            "h_msig_stdap",
            sa.REAL(),
            nullable=True,
            comment="H standard-aperture magnitude uncertainty [mag]",
        ),
        sa.Column(
            "k_msig_stdap",
            sa.REAL(),
            nullable=True,
            comment="Ks standard-aperture magnitude uncertainty [mag]",
        ),
        sa.Column(
            "dist_edge_ns",
            sa.Integer(),
            nullable=False,
            comment="distance to the nearest N or S edge of the scan [arcsec]",
        ),
        sa.Column(
            "dist_edge_ew",
            sa.Integer(),
            nullable=False,
            comment="distance to the nearest E or W edge of the scan [arcsec]",
        ),
        sa.Column(
            "dist_edge_flg",
            sa.CHAR(length=2),
            nullable=False,
            comment="nearest edges: n or s, then e or w",
        ),
        sa.Column(
            "coadd",
            sa.SmallInteger(),
            nullable=False,
            comment="Atlas Image sequence number within the scan",
        ),
        sa.Column(
            "a",
            sa.CHAR(length=1),
            server_default="0",
            nullable=False,
            comment="optical association: T = Tycho-2, U = USNO-A2.0, 0 = none",
        ),
        sa.Column(
            "dist_opt",
            sa.REAL(),
            nullable=True,
            comment="distance to the associated optical source [arcsec]",
        ),
        sa.Column(
            "phi_opt",
            sa.SmallInteger(),
            nullable=True,
            comment="position angle to the associated optical source [deg]",
        ),
        sa.Column(
            "b_m_opt",
            sa.REAL(),
            nullable=True,
            comment="blue magnitude of the optical counterpart [mag]",
        ),
        sa.Column(
            "vr_m_opt",
            sa.REAL(),
            nullable=True,
            comment="visual/red magnitude of the optical counterpart [mag]",
        ),
        sa.Column(
            "nopt_mchs",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="number of optical sources within 5 arcsec",
        ),
        schema="wdb",
        comment="Every point-source extraction of every scan.",
    )
    op.create_index("ix_pts_hpx", "pts", ["hpx"], unique=False, schema="wdb")
    op.create_index("ix_pts_scan_key_id", "pts", ["scan_key", "id"], unique=False, schema="wdb")
    op.create_table(
        "tile",
        sa.Column(
            "tile",
            sa.Integer(),
            nullable=False,
            comment="planned tile id, shared by every scan of the tile",
        ),
        sa.Column(
            "dec_band",
            sa.SmallInteger(),
            nullable=False,
            comment="index of the 6-degree declination band, 0 = south pole",
        ),
        sa.Column(
            "ra",
            sa.Double(),
            nullable=False,
            comment="tile centre right ascension, ICRS J2000 [deg]",
        ),
        sa.Column(
            "dec", sa.Double(), nullable=False, comment="tile centre declination, ICRS J2000 [deg]"
        ),
        sa.Column(
            "hpx",
            sa.BigInteger(),
            nullable=False,
            comment="HEALPix NESTED order-29 index of (ra, dec)",
        ),
        sa.Column(
            "ra_1",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, east corner at scan start [deg]",
        ),
        sa.Column(
            "dec_1",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, east corner at scan start [deg]",
        ),
        sa.Column(
            "ra_2",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, west corner at scan start [deg]",
        ),
        sa.Column(
            "dec_2",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, west corner at scan start [deg]",
        ),
        sa.Column(
            "ra_3",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, east corner at scan end [deg]",
        ),
        sa.Column(
            "dec_3",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, east corner at scan end [deg]",
        ),
        sa.Column(
            "ra_4",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, west corner at scan end [deg]",
        ),
        sa.Column(
            "dec_4",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, west corner at scan end [deg]",
        ),
        sa.PrimaryKeyConstraint("tile", name=op.f("pk_tile")),
        schema="wdb",
        comment="The planned sky tiling: one row per survey tile.",
    )
    op.create_table(
        "ingest_log",
        sa.Column(
            "ingest_id",
            sa.Integer(),
            sa.Identity(always=False),
            nullable=False,
            comment="unique id of an ingest",
        ),
        sa.Column(
            "night_key",
            sa.Integer(),
            nullable=True,
            comment="night loaded, NULL once the night is replaced",
        ),
        sa.Column("hemis", sa.CHAR(length=1), nullable=False, comment="observatory of the night"),
        sa.Column("date", sa.Date(), nullable=False, comment="reference date of the night"),
        sa.Column(
            "directory",
            sa.Text(),
            nullable=False,
            comment="night product directory as given to ingest",
        ),
        sa.Column(
            "files",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="file name -> sha256 of every night product file",
        ),
        sa.Column(
            "rows_read",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="table -> rows read from the night products",
        ),
        sa.Column(
            "rows_loaded",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="table -> rows written to wdb",
        ),
        sa.Column(
            "code_version",
            sa.Text(),
            nullable=False,
            comment="twomass code version that ran the ingest",
        ),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), nullable=False, comment="ingest start [UTC]"
        ),
        sa.Column(
            "finished_at", sa.DateTime(timezone=True), nullable=False, comment="ingest commit [UTC]"
        ),
        sa.ForeignKeyConstraint(
            ["night_key"],
            ["wdb.night.night_key"],
            name=op.f("fk_ingest_log_night_key_night"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("ingest_id", name=op.f("pk_ingest_log")),
        schema="wdb",
        comment="Provenance: one row per ingested night product directory.",
    )
    op.create_index(
        "ix_ingest_log_hemis_date", "ingest_log", ["hemis", "date"], unique=False, schema="wdb"
    )
    op.create_table(
        "scan",
        sa.Column(
            "scan_key",
            sa.Integer(),
            sa.Identity(always=False),
            nullable=False,
            comment="unique id of a working-database scan",
        ),
        sa.Column("night_key", sa.Integer(), nullable=False, comment="night the scan belongs to"),
        sa.Column(
            "hemis",
            sa.CHAR(length=1),
            nullable=False,
            comment="observatory: n = Mt. Hopkins, s = Cerro Tololo",
        ),
        sa.Column(
            "date",
            sa.Date(),
            nullable=False,
            comment="observation reference date (UT date at sunrise)",
        ),
        sa.Column(
            "scan",
            sa.SmallInteger(),
            nullable=False,
            comment="nightly scan number, unique within date and hemis",
        ),
        sa.Column(
            "tile", sa.Integer(), nullable=False, comment="planned tile id the scan observed"
        ),
        sa.Column(
            "ra",
            sa.Double(),
            nullable=False,
            comment="scan centre, from the interior corners right ascension, ICRS J2000 [deg]",
        ),
        sa.Column(
            "dec",
            sa.Double(),
            nullable=False,
            comment="scan centre, from the interior corners declination, ICRS J2000 [deg]",
        ),
        sa.Column(
            "hpx",
            sa.BigInteger(),
            nullable=False,
            comment="HEALPix NESTED order-29 index of (ra, dec)",
        ),
        sa.Column(
            "ra_1",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, east corner at scan start [deg]",
        ),
        sa.Column(
            "dec_1",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, east corner at scan start [deg]",
        ),
        sa.Column(
            "ra_2",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, west corner at scan start [deg]",
        ),
        sa.Column(
            "dec_2",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, west corner at scan start [deg]",
        ),
        sa.Column(
            "ra_3",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, east corner at scan end [deg]",
        ),
        sa.Column(
            "dec_3",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, east corner at scan end [deg]",
        ),
        sa.Column(
            "ra_4",
            sa.Double(),
            nullable=False,
            comment="RA of the 3-band covered area, west corner at scan end [deg]",
        ),
        sa.Column(
            "dec_4",
            sa.Double(),
            nullable=False,
            comment="Dec of the 3-band covered area, west corner at scan end [deg]",
        ),
        sa.Column(
            "sd",
            sa.CHAR(length=1),
            nullable=False,
            comment="scan direction: n = starts south, moves north; s = starts north",
        ),
        sa.Column(
            "qual",
            sa.SmallInteger(),
            nullable=False,
            comment="QA quality score, 0 (worst) to 10 (best)",
        ),
        sa.Column(
            "hgl",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="1 = single-frame H-band electronic glitch",
        ),
        sa.Column(
            "cld", sa.SmallInteger(), server_default="0", nullable=False, comment="1 = clouds found"
        ),
        sa.Column(
            "xph",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="1 = other (non-cloud) photometric problem",
        ),
        sa.Column(
            "anom",
            sa.SmallInteger(),
            server_default="0",
            nullable=False,
            comment="1 = unusual Atlas Image problem",
        ),
        sa.Column("ut", sa.REAL(), nullable=True, comment="UT at scan start [h]"),
        sa.Column("jdate", sa.Double(), nullable=False, comment="Julian Date at scan start [d]"),
        sa.Column("airm", sa.REAL(), nullable=True, comment="airmass at scan start"),
        sa.Column("zd", sa.REAL(), nullable=True, comment="zenith distance at scan start [deg]"),
        sa.Column("ha", sa.REAL(), nullable=True, comment="hour angle at scan start [h]"),
        sa.Column("rh", sa.REAL(), nullable=True, comment="enclosure relative humidity [%]"),
        sa.Column("air_temp", sa.REAL(), nullable=True, comment="air temperature [degC]"),
        sa.Column(
            "tel_temp", sa.REAL(), nullable=True, comment="telescope girdle temperature [degC]"
        ),
        sa.Column("focus", sa.REAL(), nullable=True, comment="focus setting [micrometre]"),
        sa.Column("hry", sa.SmallInteger(), nullable=True, comment="1 = new H-array configuration"),
        sa.Column(
            "c_strat",
            sa.SmallInteger(),
            nullable=True,
            comment="calibration strategy flag of the night",
        ),
        sa.Column(
            "j_zp_ap", sa.REAL(), nullable=True, comment="J aperture-photometry zero point [mag]"
        ),
        sa.Column(
            "h_zp_ap", sa.REAL(), nullable=True, comment="H aperture-photometry zero point [mag]"
        ),
        sa.Column(
            "k_zp_ap", sa.REAL(), nullable=True, comment="Ks aperture-photometry zero point [mag]"
        ),
        sa.Column("j_zperr_ap", sa.REAL(), nullable=True, comment="J zero-point RMS [mag]"),
        sa.Column("h_zperr_ap", sa.REAL(), nullable=True, comment="H zero-point RMS [mag]"),
        sa.Column("k_zperr_ap", sa.REAL(), nullable=True, comment="Ks zero-point RMS [mag]"),
        sa.Column(
            "j_n_snr10",
            sa.Integer(),
            nullable=True,
            comment="number of J point sources with S/N > 10",
        ),
        sa.Column(
            "h_n_snr10",
            sa.Integer(),
            nullable=True,
            comment="number of H point sources with S/N > 10",
        ),
        sa.Column(
            "k_n_snr10",
            sa.Integer(),
            nullable=True,
            comment="number of Ks point sources with S/N > 10",
        ),
        sa.Column(
            "n_ext", sa.Integer(), nullable=True, comment="number of extended sources in the scan"
        ),
        sa.Column(
            "j_shape_avg", sa.REAL(), nullable=True, comment="mean J seeing shape (FWHM proxy)"
        ),
        sa.Column(
            "h_shape_avg", sa.REAL(), nullable=True, comment="mean H seeing shape (FWHM proxy)"
        ),
        sa.Column(
            "k_shape_avg", sa.REAL(), nullable=True, comment="mean Ks seeing shape (FWHM proxy)"
        ),
        sa.Column("j_shape_rms", sa.REAL(), nullable=True, comment="RMS of the J seeing shape"),
        sa.Column("h_shape_rms", sa.REAL(), nullable=True, comment="RMS of the H seeing shape"),
        sa.Column("k_shape_rms", sa.REAL(), nullable=True, comment="RMS of the Ks seeing shape"),
        sa.Column("j_2mrat", sa.REAL(), nullable=True, comment="mean J 2nd-moment image ratio"),
        sa.Column("h_2mrat", sa.REAL(), nullable=True, comment="mean H 2nd-moment image ratio"),
        sa.Column("k_2mrat", sa.REAL(), nullable=True, comment="mean Ks 2nd-moment image ratio"),
        sa.Column(
            "j_psp",
            sa.REAL(),
            nullable=True,
            comment="J photometric sensitivity parameter, seeing shape x background^0.29",
        ),
        sa.Column(
            "h_psp",
            sa.REAL(),
            nullable=True,
            comment="H photometric sensitivity parameter, seeing shape x background^0.29",
        ),
        sa.Column(
            "k_psp",
            sa.REAL(),
            nullable=True,
            comment="Ks photometric sensitivity parameter, seeing shape x background^0.29",
        ),
        sa.Column("j_back", sa.REAL(), nullable=True, comment="mean J background [DN]"),
        sa.Column("h_back", sa.REAL(), nullable=True, comment="mean H background [DN]"),
        sa.Column("k_back", sa.REAL(), nullable=True, comment="mean Ks background [DN]"),
        sa.Column(
            "j_pts_noise",
            sa.REAL(),
            nullable=True,
            comment="log10 of the mode of the J noise distribution",
        ),
        sa.Column(
            "h_pts_noise",
            sa.REAL(),
            nullable=True,
            comment="log10 of the mode of the H noise distribution",
        ),
        sa.Column(
            "k_pts_noise",
            sa.REAL(),
            nullable=True,
            comment="log10 of the mode of the Ks noise distribution",
        ),
        sa.Column(
            "j_msnr10",
            sa.REAL(),
            nullable=True,
            comment="J magnitude at which S/N = 10 in this scan [mag]",
        ),
        sa.Column(
            "h_msnr10",
            sa.REAL(),
            nullable=True,
            comment="H magnitude at which S/N = 10 in this scan [mag]",
        ),
        sa.Column(
            "k_msnr10",
            sa.REAL(),
            nullable=True,
            comment="Ks magnitude at which S/N = 10 in this scan [mag]",
        ),
        sa.CheckConstraint("sd IN ('n', 's')", name=op.f("ck_scan_sd")),
        sa.CheckConstraint("qual BETWEEN 0 AND 10", name=op.f("ck_scan_qual")),
        sa.ForeignKeyConstraint(
            ["night_key"],
            ["wdb.night.night_key"],
            name=op.f("fk_scan_night_key_night"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scan_key", name=op.f("pk_scan")),
        sa.UniqueConstraint("hemis", "date", "scan", name=op.f("uq_scan_hemis_date_scan")),
        schema="wdb",
        comment="One row per survey scan: geometry, observing conditions and quality.",
    )
    op.create_index("ix_scan_hpx", "scan", ["hpx"], unique=False, schema="wdb")
    op.create_index("ix_scan_night_key", "scan", ["night_key"], unique=False, schema="wdb")
    op.create_index("ix_scan_tile", "scan", ["tile"], unique=False, schema="wdb")

    op.execute(
        sa.text(
            "INSERT INTO twomass_meta.database "
            "(healpix_order, healpix_scheme, created_by_version, code_version) "
            "VALUES (29, 'NESTED', :v, :v)"
        ).bindparams(v=twomass.__version__)
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA wdb CASCADE")
    op.drop_table("database", schema="twomass_meta")
