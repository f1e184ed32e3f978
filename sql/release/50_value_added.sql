-- Step 5: value-added columns of the catalog rows (Explanatory Supplement sec. 4).
--
-- Keys: pts_key / ext_key number the catalog rows 1..n in (hpx, scan_key, id) order, so
-- they depend only on the working-database contents and the spec, never on load order.
-- Designation: tmass_designation (truncated coordinates); when two or more catalog rows
-- of one catalog share the 16 characters, every one of them gets a letter suffix A, B,
-- C ... in key order (UNCONFIRMED which members 2MASS suffixed).
-- prox / pxpa / pxcntr: the nearest other source of the same catalog, with no radius
-- limit (sky-cell passes from a start radius, doubling up to 1 deg, then
-- index-driven searches up to the whole sky for the rows still alone).
-- ext_key / gal_contam (PSC only): ext_key is the XSC row whose working extraction was
-- made from this point source (same scan, ext.pts_id = pts.id). gal_contam = 1 when that
-- XSC source has r_k20fe > gal_contam_min_r_arcsec (10"), 2 when the point source lies
-- inside the r_k20fe ellipse, enlarged by gal_contam_scale (10 %), of such an XSC source
-- (axis ratio and position angle: Ks values, else the super-coadd ones), else 0.

-- The catalog rows with their keys, node keys k and unit vectors (x, y, z).
CREATE UNLOGGED TABLE cat_row AS
SELECT cat, scan_key, id, k, hpx, ra, dec, x, y, z, use_src, dup_src,
       row_number() OVER (PARTITION BY cat ORDER BY hpx, scan_key, id)::integer AS key
FROM app_final
WHERE reason IS NULL;
ANALYZE cat_row;

-- Nearest neighbour of every catalog row within its own catalog, in passes of growing
-- radius over the rows still without a neighbour: the nearest row within the radius is
-- the nearest of all.
-- * Hash passes (sky cells, step 05) from a start radius, doubling up to 1 deg. The
--   first pass probes every row into the cells its disc reaches and hashes every row by
--   its cell; later passes probe the pending rows and hash only the rows of the cells
--   they reach. The start radius keeps the candidates per row about constant whatever
--   the source density. Candidates are compared by the chord between unit vectors
--   (computed once); only the winner's distance and position angle are computed
--   exactly.
-- * Index passes for the rows still alone (tiny or sparse catalogs), below.
DO $$
DECLARE
    catalog char(1);
    radius_deg float8;
    first_pass boolean;
BEGIN
    -- Each catalog alone: its own density, and its passes hash only its own rows.
    FOR catalog IN SELECT DISTINCT cat FROM cat_row ORDER BY cat LOOP
        -- prox_start_arcsec, or where 0: the radius holding 2.5 sources on average at the
        -- median density of the occupied order-10 HEALPix pixels (3.28e-3 deg2), so that
        -- about 9 in 10 rows find their neighbour in the first pass (measured fastest).
        radius_deg := coalesce(
            (SELECT nullif(prox_start_arcsec, 0) / 3600.0 FROM spec),
            (SELECT greatest(1 / 3600.0, sqrt(2.5 / (pi() * percentile_cont(0.5)
                                                      WITHIN GROUP (ORDER BY n) / 3.2776e-3)))
             FROM (SELECT count(*) AS n FROM cat_row WHERE cat = catalog
                   GROUP BY hpx >> 38) AS pixel),
            1 / 3600.0);
        first_pass := true;
        -- nn_pending: the rows still without a neighbour after the first pass.
        CREATE UNLOGGED TABLE nn_pending (LIKE cat_row);
        WHILE radius_deg <= 1 AND (first_pass OR EXISTS (SELECT 1 FROM nn_pending)) LOOP
            -- The pass's zones and probes (the pending rows, each into the cells its disc
            -- reaches) as analyzed tables, and CREATE TABLE AS rather than INSERT: so
            -- that the pass runs in parallel workers. The first pass probes every row,
            -- straight from cat_row; later passes hash only the rows in probed cells.
            EXECUTE 'CREATE UNLOGGED TABLE nn_zone AS SELECT * FROM sky_zones(2 * $1)'
            USING radius_deg;
            ANALYZE nn_zone;
            EXECUTE $q$
            CREATE UNLOGGED TABLE nn_probe AS
            SELECT p.key, p.ra, p.dec, p.x, p.y, p.z, near
            FROM nn_pending AS p
            JOIN nn_zone AS z ON z.zone = sky_zone(p.dec, 2 * $1)
            CROSS JOIN LATERAL unnest(sky_cells_near(p.ra, p.dec, z.zone, z.n, z.n_below,
                                                     z.n_above, z.half_width, $1, 2 * $1)) AS near
            WHERE near IS NOT NULL
            $q$ USING radius_deg;
            ANALYZE nn_probe;
            EXECUTE $q$
            CREATE UNLOGGED TABLE nn_found AS
            WITH cell AS (
                SELECT p.key, p.ra, p.dec, p.x, p.y, p.z,
                       sky_cell(z.zone, z.n, p.ra, 2 * $1) AS cell
                FROM cat_row AS p
                JOIN nn_zone AS z ON z.zone = sky_zone(p.dec, 2 * $1)
                WHERE p.cat = $2
                  AND (NOT $3 OR sky_cell(z.zone, z.n, p.ra, 2 * $1) IN (SELECT near
                                                                       FROM nn_probe))
            ), probe AS (
                -- first pass: every row, probed on the fly
                SELECT p.key, p.ra, p.dec, p.x, p.y, p.z, near
                FROM cat_row AS p
                JOIN nn_zone AS z ON z.zone = sky_zone(p.dec, 2 * $1)
                CROSS JOIN LATERAL unnest(sky_cells_near(p.ra, p.dec, z.zone, z.n, z.n_below,
                                                         z.n_above, z.half_width, $1,
                                                         2 * $1)) AS near
                WHERE p.cat = $2 AND near IS NOT NULL AND NOT $3
                UNION ALL
                -- later passes: the pending rows
                SELECT key, ra, dec, x, y, z, near FROM nn_probe
            ), nearest AS (
                SELECT DISTINCT ON (p.key) p.key, p.ra, p.dec,
                       o.key AS other, o.ra AS other_ra, o.dec AS other_dec
                FROM probe AS p
                JOIN cell AS o ON o.cell = p.near AND o.key <> p.key
                -- (products, not ^ 2: pow() is the dearest part of the pair test)
                CROSS JOIN LATERAL (SELECT (p.x - o.x) * (p.x - o.x) + (p.y - o.y) * (p.y - o.y)
                                           + (p.z - o.z) * (p.z - o.z) AS chord2) AS d
                WHERE d.chord2 < 4 * sind($1 / 2) ^ 2
                ORDER BY p.key, d.chord2, o.key
            )
            SELECT $2::char(1) AS cat, key,
                   (hpx_dist(ra, dec, other_ra, other_dec) * 3600)::real AS prox,
                   mod(round(tmass_position_angle(ra, dec, other_ra, other_dec))::integer,
                       360)::smallint AS pxpa,
                   other AS pxcntr
            FROM nearest
            $q$ USING radius_deg, catalog, NOT first_pass;
            IF first_pass THEN
                -- (CREATE TABLE AS, which runs in parallel: the anti-join reads every row)
                DROP TABLE nn_pending;
                CREATE UNLOGGED TABLE nn_pending AS
                SELECT p.* FROM cat_row AS p
                WHERE p.cat = catalog
                  AND NOT EXISTS (SELECT 1 FROM nn_found AS f WHERE f.key = p.key);
            ELSE
                DELETE FROM nn_pending AS p
                WHERE EXISTS (SELECT 1 FROM nn_found AS f WHERE f.key = p.key);
            END IF;
            ANALYZE nn_pending;
            -- The first pass's table becomes cat_nn: it holds most rows, and INSERT never
            -- runs in parallel.
            IF to_regclass('cat_nn') IS NULL THEN
                ALTER TABLE nn_found RENAME TO cat_nn;
            ELSE
                INSERT INTO cat_nn SELECT * FROM nn_found;
                DROP TABLE nn_found;
            END IF;
            DROP TABLE nn_probe, nn_zone;
            radius_deg := radius_deg * 2;
            first_pass := false;
        END LOOP;
        DROP TABLE nn_pending;
    END LOOP;
    -- (an empty release: no pass ran)
    IF to_regclass('cat_nn') IS NULL THEN
        CREATE UNLOGGED TABLE cat_nn (cat char(1), key integer, prox real, pxpa smallint,
                                      pxcntr integer);
    END IF;
END
$$;
ALTER TABLE cat_nn ADD PRIMARY KEY (cat, key);
ANALYZE cat_nn;

-- Index passes for the rows alone within 1 deg (tiny or sparse catalogs): an hpx index
-- search per row, from 4 deg, growing 4x up to the whole sky. Each is a dynamic statement
-- with the radius bound, planned for its value, with sequential scans off so that it is
-- index-driven. The hpx index of cat_row is only built when such rows exist.
DO $$
DECLARE
    radius_deg float8 := 4.0;
    seqscan text := current_setting('enable_seqscan');
    -- (every catalog row has at most one cat_nn row)
    alone bigint := (SELECT count(*) FROM cat_row) - (SELECT count(*) FROM cat_nn);
    found_now bigint;
BEGIN
    IF alone > 0 THEN
        CREATE INDEX ON cat_row (hpx);
        ANALYZE cat_row;
    END IF;
    WHILE alone > 0 LOOP
        PERFORM set_config('enable_seqscan', 'off', true);
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
        GET DIAGNOSTICS found_now = ROW_COUNT;
        alone := alone - found_now;
        PERFORM set_config('enable_seqscan', seqscan, true);
        EXIT WHEN radius_deg >= 180;
        radius_deg := least(180.0, radius_deg * 4);
    END LOOP;
END
$$;

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
JOIN wdb.ext AS x ON x.scan_key = c.scan_key AND x.id = c.id
WHERE c.cat = 'X';

-- Point sources inside the enlarged ellipse of a large XSC source: a sky-cell join
-- (step 05) of the large XSC sources, probed at the largest enlarged radius, with the
-- PSC rows, then the ellipse test in the tangent plane of the XSC source.
DO $$
DECLARE
    -- (1 deg when there is no large XSC source: the join below then finds nothing)
    radius_deg float8 := coalesce(
        (SELECT least(1.0, max(spec.gal_contam_scale * x.r_k20fe) / 3600)
         FROM xsc_shape AS x CROSS JOIN spec
         WHERE x.r_k20fe > spec.gal_contam_min_r_arcsec), 1.0);
BEGIN
    -- The zones as an analyzed table and CREATE TABLE AS: so that it runs in parallel.
    EXECUTE 'CREATE UNLOGGED TABLE inside_zone AS SELECT * FROM sky_zones(2 * $1)'
    USING radius_deg;
    ANALYZE inside_zone;
    EXECUTE $q$
    CREATE UNLOGGED TABLE psc_inside AS
    WITH large AS (
        SELECT x.ra, x.dec, x.ba, x.phi, spec.gal_contam_scale * x.r_k20fe AS a, near
        FROM xsc_shape AS x
        CROSS JOIN spec
        JOIN inside_zone AS z ON z.zone = sky_zone(x.dec, 2 * $1)
        CROSS JOIN LATERAL unnest(sky_cells_near(x.ra, x.dec, z.zone, z.n, z.n_below, z.n_above,
                                                 z.half_width, $1, 2 * $1)) AS near
        WHERE x.r_k20fe > spec.gal_contam_min_r_arcsec
    ), point AS (
        SELECT c.key, c.ra, c.dec, sky_cell(z.zone, z.n, c.ra, 2 * $1) AS cell
        FROM cat_row AS c
        JOIN inside_zone AS z ON z.zone = sky_zone(c.dec, 2 * $1)
        WHERE c.cat = 'P'
    )
    SELECT DISTINCT p.key AS pts_key
    FROM large AS x
    JOIN point AS p ON p.cell = x.near
    CROSS JOIN LATERAL (
        SELECT tmass_dra(p.ra, x.ra) * cosd(x.dec) * 3600 AS dx, (p.dec - x.dec) * 3600 AS dy
    ) AS o
    -- (the cells fit the largest ellipse: most pairs fail the cheap |dy| <= a first)
    WHERE abs(p.dec - x.dec) * 3600 <= x.a
      AND (o.dx * sind(x.phi) + o.dy * cosd(x.phi)) ^ 2 / x.a ^ 2
          + (o.dx * cosd(x.phi) - o.dy * sind(x.phi)) ^ 2 / (x.a * greatest(x.ba, 0.01)) ^ 2
          <= 1
    $q$ USING radius_deg;
    DROP TABLE inside_zone;
END
$$;

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
