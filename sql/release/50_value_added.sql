-- Step 5: value-added columns of the catalog rows (Explanatory Supplement sec. 4).
--
-- Keys: pts_key / ext_key (45_members.sql).
-- Designation: tmass_designation (truncated coordinates); when two or more catalog rows
-- of one catalog share the 16 characters, every one of them gets a letter suffix A, B,
-- C ... in key order (UNCONFIRMED which members 2MASS suffixed).
-- prox / pxpa / pxcntr: distance [arcsec], position angle [deg, east of north] and key of
-- the nearest other source of the same catalog, with no radius limit.
-- ext_key / gal_contam (PSC only): ext_key is the XSC row whose working extraction was
-- made from this point source (same scan, ext.pts_id = pts.id). gal_contam = 1 when that
-- XSC source has r_k20fe > gal_contam_min_r_arcsec (10"), 2 when the point source lies
-- inside the r_k20fe ellipse, enlarged by gal_contam_scale (10 %), of such an XSC source
-- (axis ratio and position angle: Ks values, else the super-coadd ones), else 0.

-- The catalog rows with their keys (view cat_keys, 45_members.sql), node keys k and unit
-- vectors (x, y, z).
CREATE UNLOGGED TABLE cat_row AS
SELECT cat, scan_key, id, k, hpx, ra, dec, x, y, z, use_src, dup_src, key
FROM cat_keys;
ANALYZE cat_row;

-- prox / pxpa / pxcntr of every catalog row (table cat_nn, sql/lib/cross_matches.sql).
CALL find_nearest_neighbours();

-- Designation suffixes: when rows of one catalog share the 16 characters, a letter A, B,
-- C ... in key order. Two rows with one designation lie within 0.15" in RA and 0.1" in
-- Dec of each other (one unit of each), less than 0.19" apart: so only rows whose nearest
-- neighbour is closer than 0.2" can collide, and only they are named here. The
-- designations themselves are computed as the catalogs are written (step 6).
CREATE UNLOGGED TABLE cat_suffix AS
SELECT cat, key,
       chr(64 + row_number() OVER (PARTITION BY cat, designation ORDER BY key)::int) AS suffix
FROM (SELECT c.cat, c.key, d.designation,
             count(*) OVER (PARTITION BY c.cat, d.designation) AS n
      FROM cat_row AS c
      JOIN cat_nn AS nn ON nn.cat = c.cat AND nn.key = c.key
      CROSS JOIN LATERAL (SELECT tmass_designation(c.ra, c.dec) AS designation) AS d
      WHERE nn.prox < 0.2) AS close
WHERE n > 1;
ALTER TABLE cat_suffix ADD PRIMARY KEY (cat, key);

-- XSC shape of every XSC catalog row, and the point extraction it was made from.
CREATE UNLOGGED TABLE xsc_shape AS
SELECT c.key AS ext_key, c.scan_key, x.pts_id, c.hpx, c.ra, c.dec, x.r_k20fe,
       coalesce(x.k_ba, x.sup_ba, 1.0) AS ba, coalesce(x.k_phi, x.sup_phi, 0) AS phi
FROM cat_row AS c
JOIN w_ext AS x ON x.scan_key = c.scan_key AND x.id = c.id
WHERE c.cat = 'X';

-- The enlarged ellipses of the large XSC sources (r_k20fe > gal_contam_min_r_arcsec):
-- semi-major axis a = gal_contam_scale * r_k20fe [arcsec], and the point sources inside
-- one (psc_inside, tested in the tangent plane of the XSC source: sql/lib/cross_matches.sql).
CREATE UNLOGGED TABLE gal_ellipse AS
SELECT x.ra, x.dec, spec.gal_contam_scale * x.r_k20fe AS a, x.ba, x.phi
FROM xsc_shape AS x
CROSS JOIN spec
WHERE x.r_k20fe > spec.gal_contam_min_r_arcsec;
CALL find_points_in_ellipses();

-- The catalog point source each XSC catalog row was extracted from (xsc.pts_key).
CREATE UNLOGGED TABLE xsc_point AS
SELECT x.ext_key, p.key AS pts_key,
       coalesce(x.r_k20fe > spec.gal_contam_min_r_arcsec, false) AS is_large
FROM cat_row AS p
JOIN xsc_shape AS x ON x.scan_key = p.scan_key AND x.pts_id = p.id
CROSS JOIN spec
WHERE p.cat = 'P';
ANALYZE xsc_point;

CREATE UNLOGGED TABLE psc_galaxy AS
WITH own AS (
    SELECT DISTINCT ON (pts_key) pts_key, ext_key, is_large
    FROM xsc_point
    ORDER BY pts_key, ext_key
)
SELECT coalesce(own.pts_key, inside.pts_key) AS pts_key, own.ext_key,
       CASE WHEN own.is_large THEN 1 WHEN inside.pts_key IS NOT NULL THEN 2 ELSE 0
       END::smallint AS gal_contam
FROM own FULL JOIN psc_inside AS inside ON inside.pts_key = own.pts_key;
ALTER TABLE psc_galaxy ADD PRIMARY KEY (pts_key);
ANALYZE cat_suffix;
ANALYZE psc_galaxy;
