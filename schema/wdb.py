"""Schema ``wdb``: the working database, every extraction of every scan.

Columns follow the 2MASS Point/Extended Source Catalog and Scan Information Table
definitions (names, types, units); columns that only a release can derive (``ph_qual``,
``use_src``/``dup_src``, ``prox``, designation, ...) are not here.

The extraction tables carry no global unique or foreign-key constraint, so they can
be partitioned by coarse HEALPix pixel (``hpx >> 2*(29-k)``), as a database is from
``twomass db init`` on (the order k is frozen in ``twomass_meta.database``; the procedure
of ``sql/partitions.sql`` gives these definitions that layout); ingest validates that
``(scan_key, id)`` is unique and that every extraction refers to a loaded scan.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from twomass.schema.base import (
    col,
    hpx_index,
    metadata,
    per_band,
    position_columns,
    req,
)

SCHEMA = "wdb"

CHAR = sa.CHAR
REAL = sa.REAL
FLOAT8 = sa.Double()


def _corners() -> list[sa.Column]:
    where = {1: "east corner at scan start", 2: "west corner at scan start",
             3: "east corner at scan end", 4: "west corner at scan end"}
    cols = []
    for i, text in where.items():
        cols.append(req(f"ra_{i}", FLOAT8, f"RA of the 3-band covered area, {text} [deg]"))
        cols.append(req(f"dec_{i}", FLOAT8, f"Dec of the 3-band covered area, {text} [deg]"))
    return cols


night = sa.Table(
    "night",
    metadata,
    req("night_key", sa.Integer, "unique id of an observing night at one site",
        sa.Identity(), primary_key=True),
    req("hemis", CHAR(1), "observatory: n = Mt. Hopkins, s = Cerro Tololo"),
    req("date", sa.Date, "observation reference date (UT date at sunrise)"),
    req("pipeline_version", sa.Text, "version of the pipeline that wrote the night products"),
    req("ingested_at", sa.DateTime(timezone=True), "when the night was loaded [UTC]",
        server_default=sa.func.now()),
    sa.UniqueConstraint("hemis", "date"),
    sa.CheckConstraint("hemis IN ('n', 's')", name="hemis"),
    schema=SCHEMA,
    comment="One row per observing night and site.",
)

tile = sa.Table(
    "tile",
    metadata,
    req("tile", sa.Integer, "planned tile id, shared by every scan of the tile",
        primary_key=True),
    req("dec_band", sa.SmallInteger, "index of the 6-degree declination band, 0 = south pole"),
    *position_columns("tile centre"),
    *_corners(),
    schema=SCHEMA,
    comment="The planned sky tiling: one row per survey tile.",
)

scan = sa.Table(
    "scan",
    metadata,
    req("scan_key", sa.Integer, "unique id of a working-database scan",
        sa.Identity(), primary_key=True),
    req("night_key", sa.Integer, "night the scan belongs to",
        sa.ForeignKey("wdb.night.night_key", ondelete="CASCADE")),
    req("hemis", CHAR(1), "observatory: n = Mt. Hopkins, s = Cerro Tololo"),
    req("date", sa.Date, "observation reference date (UT date at sunrise)"),
    req("scan", sa.SmallInteger, "nightly scan number, unique within date and hemis"),
    req("tile", sa.Integer, "planned tile id the scan observed"),
    *position_columns("scan centre, from the interior corners"),
    *_corners(),
    req("sd", CHAR(1), "scan direction: n = starts south, moves north; s = starts north"),
    req("qual", sa.SmallInteger, "QA quality score, 0 (worst) to 10 (best)"),
    req("hgl", sa.SmallInteger, "1 = single-frame H-band electronic glitch", server_default="0"),
    req("cld", sa.SmallInteger, "1 = clouds found", server_default="0"),
    req("xph", sa.SmallInteger, "1 = other (non-cloud) photometric problem", server_default="0"),
    req("anom", sa.SmallInteger, "1 = unusual Atlas Image problem", server_default="0"),
    col("ut", REAL, "UT at scan start [h]"),
    req("jdate", FLOAT8, "Julian Date at scan start [d]"),
    col("airm", REAL, "airmass at scan start"),
    col("zd", REAL, "zenith distance at scan start [deg]"),
    col("ha", REAL, "hour angle at scan start [h]"),
    col("rh", REAL, "enclosure relative humidity [%]"),
    col("air_temp", REAL, "air temperature [degC]"),
    col("tel_temp", REAL, "telescope girdle temperature [degC]"),
    col("focus", REAL, "focus setting [micrometre]"),
    col("hry", sa.SmallInteger, "1 = new H-array configuration"),
    col("c_strat", sa.SmallInteger, "calibration strategy flag of the night"),
    *per_band("{band}_zp_ap", REAL, "{band} aperture-photometry zero point [mag]"),
    *per_band("{band}_zperr_ap", REAL, "{band} zero-point RMS [mag]"),
    *per_band("{band}_n_snr10", sa.Integer, "number of {band} point sources with S/N > 10"),
    col("n_ext", sa.Integer, "number of extended sources in the scan"),
    *per_band("{band}_shape_avg", REAL, "mean {band} seeing shape (FWHM proxy)"),
    *per_band("{band}_shape_rms", REAL, "RMS of the {band} seeing shape"),
    *per_band("{band}_2mrat", REAL, "mean {band} 2nd-moment image ratio"),
    *per_band("{band}_psp", REAL, "{band} photometric sensitivity parameter, "
              "seeing shape x background^0.29"),
    *per_band("{band}_back", REAL, "mean {band} background [DN]"),
    *per_band("{band}_pts_noise", REAL, "log10 of the mode of the {band} noise distribution"),
    *per_band("{band}_msnr10", REAL, "{band} magnitude at which S/N = 10 in this scan [mag]"),
    sa.UniqueConstraint("hemis", "date", "scan"),
    sa.CheckConstraint("qual BETWEEN 0 AND 10", name="qual"),
    sa.CheckConstraint("sd IN ('n', 's')", name="sd"),
    hpx_index("scan"),
    sa.Index("ix_scan_tile", "tile"),
    sa.Index("ix_scan_night_key", "night_key"),
    schema=SCHEMA,
    comment="One row per survey scan: geometry, observing conditions and quality.",
)

pts = sa.Table(
    "pts",
    metadata,
    req("scan_key", sa.Integer, "scan that made the extraction (wdb.scan)"),
    req("id", sa.Integer, "source id, unique within the scan"),
    *position_columns("source"),
    req("err_maj", REAL, "1-sigma position-error ellipse semi-major axis [arcsec]"),
    req("err_min", REAL, "1-sigma position-error ellipse semi-minor axis [arcsec]"),
    req("err_ang", sa.SmallInteger, "position angle of the error ellipse, E of N [deg]"),
    *[c for b in ("J", "H", "Ks") for c in (
        col(f"{b[0].lower()}_m", REAL,
            f"{b} default magnitude or 95% upper limit (see rd_flg) [mag]"),
        col(f"{b[0].lower()}_cmsig", REAL, f"{b} corrected photometric uncertainty [mag]"),
        col(f"{b[0].lower()}_msigcom", REAL, f"{b} total photometric uncertainty [mag]"),
        col(f"{b[0].lower()}_snr", REAL, f"{b} scan signal-to-noise ratio"),
    )],
    req("rd_flg", CHAR(3), "read flag per band JHKs: origin of the default magnitude"),
    req("bl_flg", CHAR(3), "blend flag per band JHKs: number of components fit"),
    req("cc_flg", CHAR(3), "contamination flag per band JHKs; upper case = artifact"),
    req("ndet", CHAR(6), "frame detections: per band JHKs, detected then possible frames"),
    req("cnf_flg", CHAR(6), "band-merge confusion counts: #H and #Ks for a J seed, "
        "#J and #Ks for an H seed, #J and #H for a Ks seed"),
    req("mp_flg", sa.SmallInteger, "1 = at the predicted position of a known solar-system "
        "object", server_default="0"),
    req("x_scan", REAL, "mean cross-scan focal-plane position (U-scan x) [arcsec]"),
    req("y_scan", REAL, "in-scan position from the scan start (U-scan y) [arcsec]"),
    req("jdate", FLOAT8, "Julian Date of the measurement [d]"),
    *per_band("{band}_psfchi", REAL, "{band} reduced chi-squared of the profile fit"),
    *per_band("{band}_m_stdap", REAL, "{band} 4-arcsec standard-aperture magnitude [mag]"),
    *per_band("{band}_msig_stdap", REAL, "{band} standard-aperture magnitude uncertainty [mag]"),
    req("dist_edge_ns", sa.Integer, "distance to the nearest N or S edge of the scan [arcsec]"),
    req("dist_edge_ew", sa.Integer, "distance to the nearest E or W edge of the scan [arcsec]"),
    req("dist_edge_flg", CHAR(2), "nearest edges: n or s, then e or w"),
    req("coadd", sa.SmallInteger, "Atlas Image sequence number within the scan"),
    req("a", CHAR(1), "optical association: T = Tycho-2, U = USNO-A2.0, 0 = none",
        server_default="0"),
    col("dist_opt", REAL, "distance to the associated optical source [arcsec]"),
    col("phi_opt", sa.SmallInteger, "position angle to the associated optical source [deg]"),
    col("b_m_opt", REAL, "blue magnitude of the optical counterpart [mag]"),
    col("vr_m_opt", REAL, "visual/red magnitude of the optical counterpart [mag]"),
    req("nopt_mchs", sa.SmallInteger, "number of optical sources within 5 arcsec",
        server_default="0"),
    # Last, as revision 20261208 added them: the catalog S/N rule as published tests
    # msig, which real working-database records show 1.5-2.3 times cmsig.
    *per_band("{band}_msig", REAL, "{band} measurement uncertainty of the default "
              "magnitude before correction (the S/N rule's msig) [mag]"),
    hpx_index("pts"),
    # BRIN: nights append in scan_key order, so block ranges find a scan or a night
    # (release build, --replace) at a fraction of a B-tree's cost to maintain.
    sa.Index("ix_pts_scan_key", "scan_key", postgresql_using="brin",
             postgresql_with={"pages_per_range": 32}),
    schema=SCHEMA,
    comment="Every point-source extraction of every scan.",
)

ext = sa.Table(
    "ext",
    metadata,
    req("scan_key", sa.Integer, "scan that made the extraction (wdb.scan)"),
    req("id", sa.Integer, "extended-source id, unique within the scan"),
    req("coadd", sa.SmallInteger, "Atlas Image sequence number within the scan"),
    *position_columns("peak pixel"),
    col("sup_ra", FLOAT8, "super-coadd centroid right ascension [deg]"),
    col("sup_dec", FLOAT8, "super-coadd centroid declination [deg]"),
    col("pts_id", sa.Integer, "id of the matching point extraction in the same scan"),
    req("jdate", FLOAT8, "Julian Date of the measurement [d]"),
    col("x_coadd", REAL, "x position on the Atlas Image [pix]"),
    col("y_coadd", REAL, "y position on the Atlas Image [pix]"),
    col("density", REAL, "log10 density of Ks < 14 stars in the coadd [deg^-2]"),
    col("r_k20fe", REAL, "Ks 20 mag/arcsec^2 isophotal elliptical semi-major axis [arcsec]"),
    *per_band("{band}_m_k20fe", REAL, "{band} magnitude in the Ks 20 mag/arcsec^2 "
              "fiducial ellipse [mag]"),
    *per_band("{band}_msig_k20fe", REAL, "{band} uncertainty of m_k20fe [mag]"),
    *per_band("{band}_flg_k20fe", sa.SmallInteger, "{band} confusion flag of m_k20fe"),
    *per_band("{band}_m_7", REAL, "{band} 7-arcsec circular-aperture magnitude [mag]"),
    *per_band("{band}_msig_7", REAL, "{band} uncertainty of m_7 [mag]"),
    col("r_3sig", REAL, "Ks 3-sigma isophote semi-major axis [arcsec]"),
    *per_band("{band}_ba", REAL, "{band} minor/major axis ratio at the 3-sigma isophote"),
    *per_band("{band}_phi", sa.SmallInteger, "{band} position angle, E of N [deg]"),
    col("sup_ba", REAL, "super-coadd minor/major axis ratio"),
    col("sup_phi", sa.SmallInteger, "super-coadd position angle, E of N [deg]"),
    col("r_ext", REAL, "extrapolated total-magnitude radius [arcsec]"),
    *per_band("{band}_m_ext", REAL, "{band} extrapolated total magnitude [mag]"),
    *per_band("{band}_msig_ext", REAL, "{band} uncertainty of m_ext [mag]"),
    req("e_score", REAL, "extended score: 1 = extended ... 2 = point-like"),
    req("g_score", REAL, "galaxy score: 1 = galaxy ... 2 = not"),
    col("vc", sa.SmallInteger, "visual verification score"),
    req("cc_flg", CHAR(1), "contamination flag; upper case = artifact, 0 = clean"),
    req("dist_edge_ns", sa.Integer, "distance to the nearest N or S edge of the scan [arcsec]"),
    req("dist_edge_ew", sa.Integer, "distance to the nearest E or W edge of the scan [arcsec]"),
    req("dist_edge_flg", CHAR(2), "nearest edges: n or s, then e or w"),
    req("mp_flg", sa.SmallInteger, "1 = at the predicted position of a known solar-system "
        "object", server_default="0"),
    hpx_index("ext"),
    # BRIN: nights append in scan_key order, so block ranges find a scan or a night
    # (release build, --replace) at a fraction of a B-tree's cost to maintain.
    sa.Index("ix_ext_scan_key", "scan_key", postgresql_using="brin",
             postgresql_with={"pages_per_range": 32}),
    schema=SCHEMA,
    comment="Every extended-source extraction of every scan.",
)

bright_star = sa.Table(
    "bright_star",
    metadata,
    req("night_key", sa.Integer, "night whose products listed the star",
        sa.ForeignKey("wdb.night.night_key", ondelete="CASCADE"), primary_key=True),
    req("id", sa.BigInteger, "identifier of the star in the bright-star list",
        primary_key=True),
    *position_columns("Star"),
    *per_band("{band}_m", REAL, "{band} magnitude of the list [mag]"),
    hpx_index("bright_star"),
    schema=SCHEMA,
    comment="Very bright stars near the scans of a night, from an external infrared "
            "list: the parents, on or off the scans, of the artifacts that the final "
            "artifact pass of a release rejects (DB_MAPCOR).",
)

ingest_log = sa.Table(
    "ingest_log",
    metadata,
    req("ingest_id", sa.Integer, "unique id of an ingest", sa.Identity(), primary_key=True),
    col("night_key", sa.Integer, "night loaded, NULL once the night is replaced",
        sa.ForeignKey("wdb.night.night_key", ondelete="SET NULL")),
    req("hemis", CHAR(1), "observatory of the night"),
    req("date", sa.Date, "reference date of the night"),
    req("directory", sa.Text, "night product directory as given to ingest"),
    req("files", JSONB, "file name -> sha256 of every night product file"),
    req("rows_read", JSONB, "table -> rows read from the night products"),
    req("rows_loaded", JSONB, "table -> rows written to wdb"),
    req("code_version", sa.Text, "twomass code version that ran the ingest"),
    req("started_at", sa.DateTime(timezone=True), "ingest start [UTC]"),
    req("finished_at", sa.DateTime(timezone=True), "ingest commit [UTC]"),
    sa.Index("ix_ingest_log_hemis_date", "hemis", "date"),
    schema=SCHEMA,
    comment="Provenance: one row per ingested night product directory.",
)

atlas_image = sa.Table(
    "atlas_image",
    metadata,
    req("hemis", CHAR(1), "observatory of the night: n or s"),
    req("date", sa.Date, "reference date of the night"),
    req("scan", sa.SmallInteger, "scan number within the night"),
    req("band", CHAR(1), "band: j, h or k (Ks)"),
    req("image", sa.SmallInteger, "Atlas Image number along the scan, from 1"),
    req("file", sa.Text, "FITS file, relative to the pipeline's night directory"),
    *position_columns("Atlas Image centre"),
    *[c for i in (1, 2, 3, 4) for c in (
        req(f"ra_{i}", FLOAT8, f"RA of corner {i} (1 = pixel (1, 1), 2 = (512, 1), "
            f"3 = (1, 1024), 4 = (512, 1024)) [deg]"),
        req(f"dec_{i}", FLOAT8, f"Dec of corner {i} [deg]"))],
    col("seeing", REAL, "median FWHM of the frame detections [arcsec]"),
    req("magzp", REAL, "photometric zero point: mag = magzp - 2.5 log10(ADU in aperture)"),
    col("sky", REAL, "sky level before subtraction [ADU per frame per 2\" pixel]"),
    req("n_frames", sa.SmallInteger, "largest coverage: frames co-added on one pixel"),
    col("cov_median", REAL, "median coverage of the covered pixels [frames]"),
    sa.PrimaryKeyConstraint("hemis", "date", "scan", "band", "image"),
    sa.CheckConstraint("band IN ('j', 'h', 'k')", name="band"),
    hpx_index("atlas_image"),
    schema=SCHEMA,
    comment="Atlas Images: one row per co-added 512 x 1024 image at 1\"/pixel, its footprint "
    "and file; loaded from the pipeline's atlas.parquet (twomass pipeline --ingest).",
)
