-- Revision 20261209: the bright-star list of the night products (wdb.bright_star). Frozen.
CREATE TABLE wdb.bright_star (
    night_key INTEGER NOT NULL,
    id BIGINT NOT NULL,
    ra DOUBLE PRECISION NOT NULL,
    dec DOUBLE PRECISION NOT NULL,
    hpx BIGINT NOT NULL,
    j_m REAL,
    h_m REAL,
    k_m REAL,
    CONSTRAINT pk_bright_star PRIMARY KEY (night_key, id),
    CONSTRAINT fk_bright_star_night_key_night FOREIGN KEY(night_key) REFERENCES wdb.night (night_key) ON DELETE CASCADE
);
CREATE INDEX ix_bright_star_hpx ON wdb.bright_star (hpx);
COMMENT ON TABLE wdb.bright_star IS 'Very bright stars near the scans of a night, from an external infrared list: the parents, on or off the scans, of the artifacts that the final artifact pass of a release rejects (DB_MAPCOR).';
COMMENT ON COLUMN wdb.bright_star.night_key IS 'night whose products listed the star';
COMMENT ON COLUMN wdb.bright_star.id IS 'identifier of the star in the bright-star list';
COMMENT ON COLUMN wdb.bright_star.ra IS 'Star right ascension, ICRS J2000 [deg]';
COMMENT ON COLUMN wdb.bright_star.dec IS 'Star declination, ICRS J2000 [deg]';
COMMENT ON COLUMN wdb.bright_star.hpx IS 'HEALPix NESTED order-29 index of (ra, dec)';
COMMENT ON COLUMN wdb.bright_star.j_m IS 'J magnitude of the list [mag]';
COMMENT ON COLUMN wdb.bright_star.h_m IS 'H magnitude of the list [mag]';
COMMENT ON COLUMN wdb.bright_star.k_m IS 'Ks magnitude of the list [mag]';
