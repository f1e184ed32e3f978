-- The cross-matches of the release build, as procedures the release steps call. Each
-- joins rows by hash on sky cells rather than by an index probe per row, with the cell
-- functions of sql/xmatch.sql (_hpx_zones, _hpx_zone, _hpx_cell, _hpx_cells_near) that
-- the user-facing hpx_xmatch uses too, so that its cost grows linearly with the rows,
-- and is written for PostgreSQL's parallel workers: big results are made by CREATE TABLE AS (an INSERT ... SELECT never
-- runs in parallel), from analyzed tables, and the radii are bound as parameters of a
-- dynamic statement, so that the planner sees constants and filters the probes before
-- the join.

-- Step 1: scan_pair (scan_a, scan_b), the pairs of chosen scans (chosen_scan) whose
-- areas can overlap. A bounding box of every chosen scan's 3-band area, in RA measured
-- from the scan centre (so boxes across RA = 0 need no special case), widened by 60"
-- because the edges are great circles, not lines of constant RA and Dec: a cheap
-- pre-filter only, before the exact edge-distance tests of step 3. Then a sky-cell join
-- of the scan centres within twice the largest scan radius, and the test on the two
-- radii and on the two bounding boxes (a box that wraps in RA, near a pole, overlaps
-- everything).
CREATE OR REPLACE PROCEDURE find_scan_pairs()
LANGUAGE plpgsql AS $$
DECLARE
    radius_deg float8;
BEGIN
    CREATE UNLOGGED TABLE scan_box AS
    SELECT c.scan_key,
           least(d1, d2, d3, d4) - 60 / 3600.0 / greatest(cosd(hi), 1e-6) AS dra_lo,
           greatest(d1, d2, d3, d4) + 60 / 3600.0 / greatest(cosd(hi), 1e-6) AS dra_hi,
           least(c.dec_1, c.dec_2, c.dec_3, c.dec_4) - 60 / 3600.0 AS dec_lo,
           greatest(c.dec_1, c.dec_2, c.dec_3, c.dec_4) + 60 / 3600.0 AS dec_hi,
           -- radius of a circle round the centre that holds the whole area [deg]
           greatest(hpx_dist(c.ra, c.dec, c.ra_1, c.dec_1), hpx_dist(c.ra, c.dec, c.ra_2, c.dec_2),
                    hpx_dist(c.ra, c.dec, c.ra_3, c.dec_3), hpx_dist(c.ra, c.dec, c.ra_4, c.dec_4))
               AS radius_deg
    FROM chosen_scan AS c,
         LATERAL (SELECT tmass_dra(c.ra_1, c.ra), tmass_dra(c.ra_2, c.ra),
                         tmass_dra(c.ra_3, c.ra), tmass_dra(c.ra_4, c.ra),
                         least(89.99, greatest(abs(c.dec_1), abs(c.dec_2), abs(c.dec_3),
                                               abs(c.dec_4)) + 60 / 3600.0)
                 ) AS d(d1, d2, d3, d4, hi);
    ALTER TABLE scan_box ADD PRIMARY KEY (scan_key);

    CREATE UNLOGGED TABLE scan_pair (scan_a integer, scan_b integer);
    radius_deg := least(45, 2 * (SELECT max(b.radius_deg) FROM scan_box AS b));
    EXECUTE $q$
        WITH cell AS MATERIALIZED (
            SELECT c.scan_key, c.ra, c.dec, b.radius_deg, z.zone, z.n, z.n_below, z.n_above,
                   z.half_width,
                   public._hpx_cell(z.zone, z.n, c.ra, 2 * $1) AS cell
            FROM chosen_scan AS c
            JOIN scan_box AS b ON b.scan_key = c.scan_key
            JOIN public._hpx_zones(2 * $1) AS z ON z.zone = public._hpx_zone(c.dec, 2 * $1)
        )
        INSERT INTO scan_pair
        SELECT a.scan_key, b.scan_key
        FROM cell AS a
        CROSS JOIN LATERAL unnest(public._hpx_cells_near(a.ra, a.dec, a.zone, a.n, a.n_below, a.n_above,
                                          a.half_width, $1, 2 * $1)) AS near
        JOIN cell AS b ON b.cell = near
        JOIN scan_box AS ba ON ba.scan_key = a.scan_key
        JOIN scan_box AS bb ON bb.scan_key = b.scan_key
        CROSS JOIN LATERAL (SELECT tmass_dra(b.ra, a.ra) AS dra) AS o
        WHERE b.scan_key <> a.scan_key
          AND hpx_dist(a.ra, a.dec, b.ra, b.dec) <= a.radius_deg + b.radius_deg
          -- the bounding boxes overlap (RA of b's box measured from a's centre)
          AND ba.dec_lo <= bb.dec_hi AND bb.dec_lo <= ba.dec_hi
          AND (ba.dra_hi - ba.dra_lo >= 180 OR bb.dra_hi - bb.dra_lo >= 180
               OR (ba.dra_lo <= o.dra + bb.dra_hi AND o.dra + bb.dra_lo <= ba.dra_hi))
    $q$ USING coalesce(radius_deg, 1);
    CREATE INDEX ON scan_pair (scan_a);
    DROP TABLE scan_box;
    ANALYZE scan_pair;
END
$$;

-- Step 3: app, the candidates (cand) that another chosen scan covers (app_cover), with
-- their sky cells, and app_edge (cat, ka, kb), their matches: pairs of one catalog in
-- different scans closer than psc_match_arcsec / xsc_match_arcsec, each pair found once
-- (a.k < b.k) and written in both directions. Every candidate is probed into the cells
-- its match disc reaches and joined by hash with the candidates of those cells; one
-- CREATE TABLE AS for both catalogs, so that it runs in parallel workers.
CREATE OR REPLACE PROCEDURE match_apparitions()
LANGUAGE plpgsql AS $$
BEGIN
    CREATE UNLOGGED TABLE app_grid AS
    SELECT 2 * greatest(psc_match_arcsec, xsc_match_arcsec) / 3600.0 AS cell_deg FROM spec;
    CREATE UNLOGGED TABLE app_zone AS SELECT z.* FROM app_grid AS g, public._hpx_zones(g.cell_deg) AS z;
    ALTER TABLE app_zone ADD PRIMARY KEY (zone);

    CREATE UNLOGGED TABLE app AS
    SELECT c.cat, c.scan_key, c.id, c.k, c.hpx, c.ra, c.dec, c.fom,
           z.zone, z.n, z.n_below, z.n_above, z.half_width,
           public._hpx_cell(z.zone, z.n, c.ra, g.cell_deg) AS cell
    FROM cand AS c
    CROSS JOIN app_grid AS g
    JOIN app_zone AS z ON z.zone = public._hpx_zone(c.dec, g.cell_deg)
    WHERE EXISTS (SELECT 1 FROM app_cover AS v WHERE v.cat = c.cat AND v.k = c.k);
    ANALYZE app;

    EXECUTE $q$
        CREATE UNLOGGED TABLE app_edge AS
        SELECT a.cat, CASE WHEN d.flip THEN b.k ELSE a.k END AS ka,
               CASE WHEN d.flip THEN a.k ELSE b.k END AS kb
        FROM app AS a
        CROSS JOIN LATERAL (SELECT CASE a.cat WHEN 'P' THEN $1 ELSE $2 END AS deg) AS radius
        CROSS JOIN LATERAL unnest(public._hpx_cells_near(a.ra, a.dec, a.zone, a.n, a.n_below,
                                                 a.n_above, a.half_width, radius.deg,
                                                 $3)) AS near
        JOIN app AS b ON b.cell = near
        CROSS JOIN (VALUES (false), (true)) AS d (flip)
        WHERE b.cat = a.cat AND b.scan_key <> a.scan_key AND a.k < b.k
          AND hpx_dist(a.ra, a.dec, b.ra, b.dec) < radius.deg
    $q$ USING (SELECT psc_match_arcsec / 3600.0 FROM spec),
              (SELECT xsc_match_arcsec / 3600.0 FROM spec),
              (SELECT cell_deg FROM app_grid);
    -- (no indexes: every join of step 3 is a hash join, which a per-row index probe only
    -- slows)
    ANALYZE app_edge;
    DROP TABLE app_grid, app_zone;
END
$$;

-- Step 5: cat_nn (cat, key, prox, pxpa, pxcntr), the nearest other row of the same
-- catalog of every catalog row (cat_row), with no radius limit, in passes of growing
-- radius over the rows still without a neighbour: the nearest row within the radius is
-- the nearest of all.
-- * Hash passes (sky cells) from a start radius, doubling up to 1 deg. The first pass
--   probes every row into the cells its disc reaches and hashes every row by its cell;
--   later passes probe the pending rows and hash only the rows of the cells they reach.
--   The start radius keeps the candidates per row about constant whatever the source
--   density. Candidates are compared by the chord between unit vectors (computed once);
--   only the winner's distance and position angle are computed exactly.
-- * Index passes for the rows still alone (tiny or sparse catalogs): find_far_neighbours.
--   The hpx index of cat_row is only built when such rows exist.
CREATE OR REPLACE PROCEDURE find_nearest_neighbours()
LANGUAGE plpgsql AS $$
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
            EXECUTE 'CREATE UNLOGGED TABLE nn_zone AS SELECT * FROM public._hpx_zones(2 * $1)'
            USING radius_deg;
            ANALYZE nn_zone;
            EXECUTE $q$
            CREATE UNLOGGED TABLE nn_probe AS
            SELECT p.key, p.ra, p.dec, p.x, p.y, p.z, near
            FROM nn_pending AS p
            JOIN nn_zone AS z ON z.zone = public._hpx_zone(p.dec, 2 * $1)
            CROSS JOIN LATERAL unnest(public._hpx_cells_near(p.ra, p.dec, z.zone, z.n, z.n_below,
                                                     z.n_above, z.half_width, $1, 2 * $1)) AS near
            WHERE near IS NOT NULL
            $q$ USING radius_deg;
            ANALYZE nn_probe;
            EXECUTE $q$
            CREATE UNLOGGED TABLE nn_found AS
            WITH cell AS (
                SELECT p.key, p.ra, p.dec, p.x, p.y, p.z,
                       public._hpx_cell(z.zone, z.n, p.ra, 2 * $1) AS cell
                FROM cat_row AS p
                JOIN nn_zone AS z ON z.zone = public._hpx_zone(p.dec, 2 * $1)
                WHERE p.cat = $2
                  AND (NOT $3 OR public._hpx_cell(z.zone, z.n, p.ra, 2 * $1) IN (SELECT near
                                                                       FROM nn_probe))
            ), probe AS (
                -- first pass: every row, probed on the fly
                SELECT p.key, p.ra, p.dec, p.x, p.y, p.z, near
                FROM cat_row AS p
                JOIN nn_zone AS z ON z.zone = public._hpx_zone(p.dec, 2 * $1)
                CROSS JOIN LATERAL unnest(public._hpx_cells_near(p.ra, p.dec, z.zone, z.n, z.n_below,
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
    ALTER TABLE cat_nn ADD PRIMARY KEY (cat, key);
    ANALYZE cat_nn;

    -- The index passes, for the rows still alone (nn_alone). (Every catalog row has at
    -- most one cat_nn row: the counts tell whether any is alone.)
    IF (SELECT count(*) FROM cat_row) > (SELECT count(*) FROM cat_nn) THEN
        CREATE UNLOGGED TABLE nn_alone AS
        SELECT c.cat, c.key, c.ra, c.dec FROM cat_row AS c
        WHERE NOT EXISTS (SELECT 1 FROM cat_nn AS x WHERE x.cat = c.cat AND x.key = c.key);
        CREATE INDEX ON cat_row (hpx);
        ANALYZE cat_row;
        CALL find_far_neighbours();
        DROP TABLE nn_alone;
    END IF;
END
$$;

-- Step 5: the nearest catalog row (cat_row: cat, key, hpx, ra, dec) of every row of
-- nn_alone (cat, key, ra, dec), added to cat_nn: an hpx index search per row, from
-- start_deg (4 deg), growing 4x up to the whole sky. Each pass is a dynamic statement with the radius
-- bound, planned for its value, with sequential scans off so that it is index-driven
-- (cat_row needs an index on hpx). The last passes of find_nearest_neighbours, and the
-- global step of a partition-wise build for the rows whose neighbour lies beyond the
-- partition's margin (from twice the margin: a disc of 4 deg holds a million rows at
-- 2MASS densities, each read for every such row).
CREATE OR REPLACE PROCEDURE find_far_neighbours(start_deg float8 DEFAULT 4.0)
LANGUAGE plpgsql AS $$
DECLARE
    radius_deg float8 := start_deg;
    seqscan text := current_setting('enable_seqscan');
    alone bigint := (SELECT count(*) FROM nn_alone);
    found_now bigint;
BEGIN
    WHILE alone > 0 LOOP
        PERFORM set_config('enable_seqscan', 'off', true);
        EXECUTE $q$
        INSERT INTO cat_nn
        SELECT c.cat, c.key, (nn.d * 3600)::real,
               mod(round(tmass_position_angle(c.ra, c.dec, nn.ra, nn.dec))::integer, 360),
               nn.key
        FROM nn_alone AS c
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

-- Step 5: psc_inside (pts_key), the catalog point sources (cat_row) inside one of the
-- ellipses of gal_ellipse (ra, dec, a = semi-major axis [arcsec], ba = axis ratio,
-- phi = position angle [deg]), tested in the tangent plane at the ellipse's centre. A
-- sky-cell join of the ellipses, probed at the largest semi-major axis (at most 1 deg),
-- with the point sources.
CREATE OR REPLACE PROCEDURE find_points_in_ellipses()
LANGUAGE plpgsql AS $$
DECLARE
    -- (1 deg when there is no ellipse: the join below then finds nothing)
    radius_deg float8 := coalesce((SELECT least(1.0, max(e.a) / 3600) FROM gal_ellipse AS e),
                                  1.0);
BEGIN
    -- The zones as an analyzed table and CREATE TABLE AS: so that it runs in parallel.
    EXECUTE 'CREATE UNLOGGED TABLE inside_zone AS SELECT * FROM public._hpx_zones(2 * $1)'
    USING radius_deg;
    ANALYZE inside_zone;
    EXECUTE $q$
    CREATE UNLOGGED TABLE psc_inside AS
    WITH large AS (
        SELECT x.ra, x.dec, x.ba, x.phi, x.a, near
        FROM gal_ellipse AS x
        JOIN inside_zone AS z ON z.zone = public._hpx_zone(x.dec, 2 * $1)
        CROSS JOIN LATERAL unnest(public._hpx_cells_near(x.ra, x.dec, z.zone, z.n, z.n_below, z.n_above,
                                                 z.half_width, $1, 2 * $1)) AS near
    ), point AS (
        SELECT c.key, c.ra, c.dec, public._hpx_cell(z.zone, z.n, c.ra, 2 * $1) AS cell
        FROM cat_row AS c
        JOIN inside_zone AS z ON z.zone = public._hpx_zone(c.dec, 2 * $1)
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

-- Step 4: mapcor_pair (k, scan_key, id, hpx, j, h, ks, r, de, dn), the point candidates
-- (cand, cat 'P') within the reach of a very bright parent (mapcor_parent: ra, dec, j, h,
-- ks), with the parent's magnitudes, their distance r [arcsec] and their offsets east (de) and north (dn)
-- from it in the parent's tangent plane [arcsec]. The reach of a parent is its longer
-- zone, max(spike_arcsec, halo_arcsec) x 10^(0.2 (parent_ks_max - Ks)), at most
-- reach_max_arcsec (view mapcor, step 4). A sky-cell join probed at the largest reach,
-- as find_points_in_ellipses.
CREATE OR REPLACE PROCEDURE find_artifact_parents()
LANGUAGE plpgsql AS $$
DECLARE
    -- (60" when there is no parent: the join below then finds nothing)
    radius_deg float8 := coalesce(
        (SELECT max(least(m.reach_max_arcsec,
                          greatest(m.spike_arcsec, m.halo_arcsec)
                          * 10 ^ (0.2 * (m.parent_ks_max - p.ks)))) / 3600
         FROM mapcor_parent AS p CROSS JOIN mapcor AS m),
        60 / 3600.0);
BEGIN
    EXECUTE 'CREATE UNLOGGED TABLE mapcor_zone AS SELECT * FROM public._hpx_zones(2 * $1)'
    USING radius_deg;
    ANALYZE mapcor_zone;
    EXECUTE $q$
    CREATE UNLOGGED TABLE mapcor_pair AS
    WITH parent AS (
        SELECT p.ra, p.dec, p.j, p.h, p.ks,
               least(m.reach_max_arcsec, greatest(m.spike_arcsec, m.halo_arcsec)
                                         * 10 ^ (0.2 * (m.parent_ks_max - p.ks))) AS reach,
               near
        FROM mapcor_parent AS p
        CROSS JOIN mapcor AS m
        JOIN mapcor_zone AS z ON z.zone = public._hpx_zone(p.dec, 2 * $1)
        CROSS JOIN LATERAL unnest(public._hpx_cells_near(p.ra, p.dec, z.zone, z.n, z.n_below,
                                                 z.n_above, z.half_width, $1, 2 * $1)) AS near
    ), point AS (
        SELECT c.k, c.scan_key, c.id, c.hpx, c.ra, c.dec,
               public._hpx_cell(z.zone, z.n, c.ra, 2 * $1) AS cell
        FROM cand AS c
        JOIN mapcor_zone AS z ON z.zone = public._hpx_zone(c.dec, 2 * $1)
        WHERE c.cat = 'P'
    )
    SELECT c.k, c.scan_key, c.id, c.hpx, p.j, p.h, p.ks, d.r,
           tmass_dra(c.ra, p.ra) * cosd(p.dec) * 3600 AS de, (c.dec - p.dec) * 3600 AS dn
    FROM parent AS p
    JOIN point AS c ON c.cell = p.near
    CROSS JOIN LATERAL (SELECT hpx_dist(p.ra, p.dec, c.ra, c.dec) * 3600 AS r) AS d
    -- (the cells fit the largest reach: most pairs fail the cheap Dec test first)
    WHERE abs(c.dec - p.dec) * 3600 <= p.reach AND d.r <= p.reach
    $q$ USING radius_deg;
    ANALYZE mapcor_pair;
    DROP TABLE mapcor_zone;
END
$$;
