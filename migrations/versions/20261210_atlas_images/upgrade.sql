-- Atlas Images: the inventory of the pipeline's co-added images (atlas.parquet), one row
-- per image with its footprint and the HEALPix index of its centre, so that the images
-- covering a position are found with SQL (hpx_radial_query on hpx, or the corners).
-- Keyed by night (hemis, date), scan, band and image number; independent of wdb.night,
-- since a night's Atlas Images can be loaded before its extractions exist.
CREATE TABLE wdb.atlas_image (
    hemis CHAR(1) NOT NULL,
    date DATE NOT NULL,
    scan SMALLINT NOT NULL,
    band CHAR(1) NOT NULL,
    image SMALLINT NOT NULL,
    file TEXT NOT NULL,
    ra DOUBLE PRECISION NOT NULL,
    dec DOUBLE PRECISION NOT NULL,
    hpx BIGINT NOT NULL,
    ra_1 DOUBLE PRECISION NOT NULL,
    dec_1 DOUBLE PRECISION NOT NULL,
    ra_2 DOUBLE PRECISION NOT NULL,
    dec_2 DOUBLE PRECISION NOT NULL,
    ra_3 DOUBLE PRECISION NOT NULL,
    dec_3 DOUBLE PRECISION NOT NULL,
    ra_4 DOUBLE PRECISION NOT NULL,
    dec_4 DOUBLE PRECISION NOT NULL,
    seeing REAL,
    magzp REAL NOT NULL,
    sky REAL,
    n_frames SMALLINT NOT NULL,
    cov_median REAL,
    CONSTRAINT pk_atlas_image PRIMARY KEY (hemis, date, scan, band, image),
    CONSTRAINT ck_atlas_image_band CHECK (band IN ('j', 'h', 'k'))
);

-- Spatial searches by the centre's HEALPix index.
CREATE INDEX ix_atlas_image_hpx ON wdb.atlas_image (hpx);

COMMENT ON TABLE wdb.atlas_image IS 'Atlas Images: one row per co-added 512 x 1024 image at 1"/pixel, its footprint and file; loaded from the pipeline''s atlas.parquet (twomass pipeline --ingest).';
COMMENT ON COLUMN wdb.atlas_image.hemis IS 'observatory of the night: n or s';
COMMENT ON COLUMN wdb.atlas_image.date IS 'reference date of the night';
COMMENT ON COLUMN wdb.atlas_image.scan IS 'scan number within the night';
COMMENT ON COLUMN wdb.atlas_image.band IS 'band: j, h or k (Ks)';
COMMENT ON COLUMN wdb.atlas_image.image IS 'Atlas Image number along the scan, from 1';
COMMENT ON COLUMN wdb.atlas_image.file IS 'FITS file, relative to the pipeline''s night directory';
COMMENT ON COLUMN wdb.atlas_image.ra IS 'Atlas Image centre right ascension, ICRS J2000 [deg]';
COMMENT ON COLUMN wdb.atlas_image.dec IS 'Atlas Image centre declination, ICRS J2000 [deg]';
COMMENT ON COLUMN wdb.atlas_image.hpx IS 'HEALPix NESTED order-29 index of (ra, dec)';
COMMENT ON COLUMN wdb.atlas_image.ra_1 IS 'RA of corner 1 (1 = pixel (1, 1), 2 = (512, 1), 3 = (1, 1024), 4 = (512, 1024)) [deg]';
COMMENT ON COLUMN wdb.atlas_image.dec_1 IS 'Dec of corner 1 [deg]';
COMMENT ON COLUMN wdb.atlas_image.ra_2 IS 'RA of corner 2 (1 = pixel (1, 1), 2 = (512, 1), 3 = (1, 1024), 4 = (512, 1024)) [deg]';
COMMENT ON COLUMN wdb.atlas_image.dec_2 IS 'Dec of corner 2 [deg]';
COMMENT ON COLUMN wdb.atlas_image.ra_3 IS 'RA of corner 3 (1 = pixel (1, 1), 2 = (512, 1), 3 = (1, 1024), 4 = (512, 1024)) [deg]';
COMMENT ON COLUMN wdb.atlas_image.dec_3 IS 'Dec of corner 3 [deg]';
COMMENT ON COLUMN wdb.atlas_image.ra_4 IS 'RA of corner 4 (1 = pixel (1, 1), 2 = (512, 1), 3 = (1, 1024), 4 = (512, 1024)) [deg]';
COMMENT ON COLUMN wdb.atlas_image.dec_4 IS 'Dec of corner 4 [deg]';
COMMENT ON COLUMN wdb.atlas_image.seeing IS 'median FWHM of the frame detections [arcsec]';
COMMENT ON COLUMN wdb.atlas_image.magzp IS 'photometric zero point: mag = magzp - 2.5 log10(ADU in aperture)';
COMMENT ON COLUMN wdb.atlas_image.sky IS 'sky level before subtraction [ADU per frame per 2" pixel]';
COMMENT ON COLUMN wdb.atlas_image.n_frames IS 'largest coverage: frames co-added on one pixel';
COMMENT ON COLUMN wdb.atlas_image.cov_median IS 'median coverage of the covered pixels [frames]';
