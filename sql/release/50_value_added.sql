-- Step 5: value-added columns of the catalog rows (Explanatory Supplement sec. 4).
--
-- Keys: pts_key / ext_key number the catalog rows 1..n in (hpx, scan_key, id) order, so
-- they depend only on the working-database contents and the spec, never on load order.
-- Designation: tmass_designation (truncated coordinates); when two or more catalog rows
-- of one catalog share the 16 characters, every one of them gets a letter suffix A, B,
-- C ... in key order (UNCONFIRMED which members 2MASS suffixed).
-- prox / pxpa / pxcntr: the nearest other source of the same catalog, with no radius
-- limit: an index-driven search within prox_start_arcsec, repeated with a 4x larger
-- radius for the few sources that found nobody, up to the whole sky.
-- ext_key / gal_contam (PSC only): ext_key is the XSC row whose working extraction was
-- made from this point source (same scan, ext.pts_id = pts.id). gal_contam = 1 when that
-- XSC source has r_k20fe > gal_contam_min_r_arcsec (10"), 2 when the point source lies
-- inside the r_k20fe ellipse, enlarged by gal_contam_scale (10 %), of such an XSC source
-- (axis ratio and position angle: Ks values, else the super-coadd ones), else 0.

CREATE TABLE cat_row AS
SELECT cat, scan_key, id, hpx, ra, dec, use_src, dup_src,
       row_number() OVER (PARTITION BY cat ORDER BY hpx, scan_key, id)::integer AS key
FROM app_final
WHERE reason IS NULL;
CREATE INDEX ON cat_row (hpx);
ANALYZE cat_row;

-- Nearest neighbour of every catalog row within its own catalog.
-- (index-driven: sequential scans off for the neighbour and ellipse joins)
SET LOCAL enable_seqscan = off;
CREATE TABLE cat_nn (cat char(1), key integer, prox real, pxpa smallint, pxcntr integer,
                     PRIMARY KEY (cat, key));
DO $$
DECLARE
    radius_deg float8 := (SELECT prox_start_arcsec FROM spec) / 3600.0;
BEGIN
    LOOP
        -- Dynamic statement with the radius bound: planned for its value, index-driven.
        EXECUTE $q$
        INSERT INTO cat_nn
        SELECT c.cat, c.key, (nn.d * 3600)::real,
               mod(round(tmass_position_angle(c.ra, c.dec, nn.ra, nn.dec))::integer, 360),
               nn.key
        FROM cat_row AS c
        CROSS JOIN LATERAL (
            SELECT o.key, o.ra, o.dec, hpx_dist(c.ra, c.dec, o.ra, o.dec) AS d
            FROM cat_row AS o
            WHERE hpx_radial_query(o.hpx, o.ra, o.dec, c.ra, c.dec, $1)
              AND o.cat = c.cat AND o.key <> c.key
            ORDER BY d, o.key
            LIMIT 1
        ) AS nn
        WHERE NOT EXISTS (SELECT 1 FROM cat_nn AS x WHERE x.cat = c.cat AND x.key = c.key)
        $q$ USING radius_deg;
        EXIT WHEN radius_deg >= 180
              OR NOT EXISTS (SELECT 1 FROM cat_row AS c
                             WHERE NOT EXISTS (SELECT 1 FROM cat_nn AS x
                                               WHERE x.cat = c.cat AND x.key = c.key));
        radius_deg := least(180.0, radius_deg * 4);
    END LOOP;
END
$$;

SET LOCAL enable_seqscan = on;
-- Key indexes only now: the neighbour join above must use the hpx index alone.
CREATE UNIQUE INDEX ON cat_row (cat, key);
CREATE UNIQUE INDEX ON cat_row (cat, scan_key, id);
ANALYZE cat_row;

-- Designations with collision suffixes.
CREATE TABLE cat_name AS
SELECT cat, key,
       CASE WHEN count(*) OVER (PARTITION BY cat, base) > 1
            THEN base || chr(64 + row_number() OVER (PARTITION BY cat, base ORDER BY key)::int)
            ELSE base END AS designation
FROM (SELECT cat, key, tmass_designation(ra, dec) AS base FROM cat_row) AS t;
ALTER TABLE cat_name ADD PRIMARY KEY (cat, key);

-- XSC shape of every XSC catalog row, and the point extraction it was made from.
CREATE TABLE xsc_shape AS
SELECT c.key AS ext_key, c.scan_key, x.pts_id, c.hpx, c.ra, c.dec, x.r_k20fe,
       coalesce(x.k_ba, x.sup_ba, 1.0) AS ba, coalesce(x.k_phi, x.sup_phi, 0) AS phi
FROM cat_row AS c
JOIN wdb.ext AS x ON x.scan_key = c.scan_key AND x.id = c.id
WHERE c.cat = 'X';

SET LOCAL enable_seqscan = off;
CREATE TABLE psc_galaxy AS
WITH own AS (
    SELECT DISTINCT ON (p.key) p.key AS pts_key, x.ext_key,
           coalesce(x.r_k20fe > spec.gal_contam_min_r_arcsec, false) AS is_large
    FROM cat_row AS p
    JOIN xsc_shape AS x ON x.scan_key = p.scan_key AND x.pts_id = p.id
    CROSS JOIN spec
    WHERE p.cat = 'P'
    ORDER BY p.key, x.ext_key
), inside AS (
    SELECT DISTINCT p.key AS pts_key
    FROM xsc_shape AS x
    CROSS JOIN spec
    JOIN cat_row AS p
      ON hpx_radial_query(p.hpx, p.ra, p.dec, x.ra, x.dec,
                          spec.gal_contam_scale * x.r_k20fe / 3600.0)
    CROSS JOIN LATERAL (
        SELECT tmass_dra(p.ra, x.ra) * cosd(x.dec) * 3600 AS dx, (p.dec - x.dec) * 3600 AS dy,
               spec.gal_contam_scale * x.r_k20fe AS a
    ) AS o
    WHERE p.cat = 'P' AND x.r_k20fe > spec.gal_contam_min_r_arcsec
      AND (o.dx * sind(x.phi) + o.dy * cosd(x.phi)) ^ 2 / o.a ^ 2
          + (o.dx * cosd(x.phi) - o.dy * sind(x.phi)) ^ 2 / (o.a * greatest(x.ba, 0.01)) ^ 2
          <= 1
)
SELECT coalesce(own.pts_key, inside.pts_key) AS pts_key, own.ext_key,
       CASE WHEN own.is_large THEN 1 WHEN inside.pts_key IS NOT NULL THEN 2 ELSE 0
       END::smallint AS gal_contam
FROM own FULL JOIN inside ON inside.pts_key = own.pts_key;
ALTER TABLE psc_galaxy ADD PRIMARY KEY (pts_key);
SET LOCAL enable_seqscan = on;
ANALYZE cat_nn;
ANALYZE cat_name;
ANALYZE psc_galaxy;
