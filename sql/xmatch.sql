-- Cross-matches: every pair of rows of two tables closer than a radius, by hash joins on
-- sky cells. The user-facing hpx_xmatch and hpx_xmatch_nearest, and the cell machinery
-- that the release build's cross-matches (sql/lib/cross_matches.sql) use as well.
--
-- Why not an index probe per row (a join on hpx_radial_query, Q3C's q3c_join)? Each
-- probe computes the disc's hpx ranges in PL/pgSQL for every outer row, which costs
-- about 5 times q3c_join's C code. A hash join on an equality computes one cell key per
-- row and no ranges at all, and its cost grows linearly with the rows. So the sky is cut
-- into cells at least cell_deg = 2r wide: declination zones cell_deg high (the Zones
-- algorithm of Gray, Szalay et al. 2004, behind SDSS SkyServer's neighbour tables), each
-- cut into the most RA buckets that keep every bucket at least cell_deg wide at every
-- declination of the zone. Near a pole a disc's RA half-width outgrows the buckets of
-- the zone next to it; zones reaching beyond tan|dec| = (2 - cos h) / sin h (89.994 deg
-- for 10" cells) form a polar cap of one bucket each, which keeps "own or neighbouring
-- bucket" exact. A row's cell key is zone * m + bucket, m = ceil(360 / cell_deg) + 1:
-- dense, so that PostgreSQL's bigint hash (which folds the high 32 bits onto the low
-- ones) spreads the keys instead of colliding them. Every point within r of a row lies
-- in the row's own cell or in one of the neighbouring cells that the row's bounding box
-- (dec +- r, ra +- alpha(r, dec)) reaches: one side is "probed" into those cells (1 to
-- 4 of the 9; hpx_xmatch makes its cells wider than 2r where the density allows, so
-- that most probes stay in one), the other keeps its own cell, the two are joined by
-- hash on the cell, and each pair within r is met exactly once. The exact test is
-- hpx_radial_query's (Q3C's), so a cross-match keeps the same pairs as a join on
-- hpx_radial_query or q3c_join.

-- RA buckets of zone `zone` of a grid of cell size cell_deg: the most that keep every
-- bucket at least cell_deg wide at the zone's poleward edge `far` (one in a polar cap;
-- none beyond the poles, so that a probe there makes a key that no cell has).
CREATE OR REPLACE FUNCTION public._hpx_zone_buckets(zone integer, cell_deg float8)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN zone < 0 OR zone >= ceil(180 / cell_deg) THEN 0
        WHEN greatest(abs(zone * cell_deg - 90), abs((zone + 1) * cell_deg - 90))
             > atand((2 - cosd(cell_deg)) / sind(cell_deg)) THEN 1
        ELSE floor(360 * cosd(greatest(abs(zone * cell_deg - 90),
                                       abs((zone + 1) * cell_deg - 90))) / cell_deg)::integer
    END
$$;
COMMENT ON FUNCTION public._hpx_zone_buckets(integer, float8) IS
    'Private: RA buckets of a sky-cell zone of the grid of cell size cell_deg [deg]; 0 '
    'beyond the poles.';

-- The largest RA half-width in zone `zone` (grid of cell size cell_deg) of a disc of
-- radius radius_deg, asind(sin(radius_deg) / cos dec) at the zone's poleward edge (180
-- where the disc can reach a pole): the probes need no trigonometry per row.
CREATE OR REPLACE FUNCTION public._hpx_zone_half_width(zone integer, radius_deg float8,
                                                       cell_deg float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN greatest(abs(zone * cell_deg - 90), abs((zone + 1) * cell_deg - 90))
             + radius_deg >= 90 THEN 180
        ELSE asind(least(1, sind(radius_deg)
                            / cosd(greatest(abs(zone * cell_deg - 90),
                                            abs((zone + 1) * cell_deg - 90))))) END
$$;
COMMENT ON FUNCTION public._hpx_zone_half_width(integer, float8, float8) IS
    'Private: largest RA half-width [deg] of a disc of radius radius_deg [deg] in a sky-cell '
    'zone of the grid of cell size cell_deg [deg].';

-- Zones of a grid of cell size cell_deg: RA buckets of the zone and of its neighbours,
-- and half_width, the largest RA half-width in the zone of a disc of radius cell_deg / 2,
-- asind(sin(cell_deg / 2) / cos dec) at the zone's poleward edge (180 where the disc
-- can reach a pole). It holds for every radius up to cell_deg / 2 and spares the probes
-- any trigonometry per row.
CREATE OR REPLACE FUNCTION public._hpx_zones(cell_deg float8)
RETURNS TABLE (zone integer, n integer, n_below integer, n_above integer, half_width float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zone, n, lag(n) OVER w, lead(n) OVER w, half_width
    FROM (SELECT z AS zone,
                 CASE WHEN far > atand((2 - cosd(cell_deg)) / sind(cell_deg)) THEN 1
                      ELSE floor(360 * cosd(far) / cell_deg)::integer END AS n,
                 CASE WHEN far + cell_deg / 2 >= 90 THEN 180
                      ELSE asind(least(1, sind(cell_deg / 2) / cosd(far))) END AS half_width
          FROM generate_series(0, ceil(180 / cell_deg)::integer - 1) AS z,
               LATERAL (SELECT greatest(abs(z * cell_deg - 90),
                                        abs((z + 1) * cell_deg - 90)) AS far) AS f) AS t
    WINDOW w AS (ORDER BY zone)
$$;
COMMENT ON FUNCTION public._hpx_zones(float8) IS
    'Private: declination zones of the sky-cell grid of cell size cell_deg [deg]: RA '
    'buckets of each zone and of its neighbours, largest RA half-width [deg] of a disc of '
    'radius cell_deg / 2 in the zone.';

-- Zone of a declination.
CREATE OR REPLACE FUNCTION public._hpx_zone("dec" float8, cell_deg float8)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(floor(("dec" + 90) / cell_deg), ceil(180 / cell_deg) - 1)::integer
$$;
COMMENT ON FUNCTION public._hpx_zone(float8, float8) IS
    'Private: sky-cell zone of a declination [deg] in the grid of cell size cell_deg [deg].';

-- Cell key of a position in a zone of n buckets.
CREATE OR REPLACE FUNCTION public._hpx_cell(zone integer, n integer, ra float8, cell_deg float8)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zone * (ceil(360 / cell_deg)::bigint + 1) + least(floor(ra * n / 360), n - 1)::bigint
$$;
COMMENT ON FUNCTION public._hpx_cell(integer, integer, float8, float8) IS
    'Private: sky-cell key of a position (ra [deg]) in a zone of n RA buckets.';

-- Keys of the cells that hold every point within radius_deg (<= cell_deg / 2) of a
-- position in zone `zone` (n buckets; n_below / n_above in the neighbouring zones, NULL
-- beyond the poles): an array of nine, the own zone's bucket and its left and right
-- neighbours, then the same in the zone below and the zone above; NULL where the disc
-- does not reach. A single expression, so that the planner inlines it: callers unnest it
-- (NULL keys join nothing). half_width is the zone's (_hpx_zones): at least the disc's RA
-- half-width; the ninefold repetition is the price of inlining.
CREATE OR REPLACE FUNCTION public._hpx_cells_near(ra float8, "dec" float8, zone integer,
                                                  n integer, n_below integer, n_above integer,
                                                  half_width float8, radius_deg float8,
                                                  cell_deg float8)
RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[
        -- own zone: own bucket, left and right neighbours
        zone * (ceil(360 / cell_deg)::bigint + 1) + least(floor(ra * n / 360), n - 1)::bigint,
        CASE WHEN n > 1
              AND ra - half_width
                  < least(floor(ra * n / 360), n - 1) * 360.0 / n
             THEN zone * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n / 360), n - 1)::bigint + n - 1) % n END,
        CASE WHEN n > 1
              AND ra + half_width
                  >= (least(floor(ra * n / 360), n - 1) + 1) * 360.0 / n
             THEN zone * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n / 360), n - 1)::bigint + 1) % n END,
        -- zone below, when the disc crosses its boundary
        CASE WHEN "dec" - radius_deg < zone * cell_deg - 90
             THEN (zone - 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + least(floor(ra * n_below / 360), n_below - 1)::bigint END,
        CASE WHEN "dec" - radius_deg < zone * cell_deg - 90 AND n_below > 1
              AND ra - half_width
                  < least(floor(ra * n_below / 360), n_below - 1) * 360.0 / n_below
             THEN (zone - 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n_below / 360), n_below - 1)::bigint + n_below - 1)
                    % n_below END,
        CASE WHEN "dec" - radius_deg < zone * cell_deg - 90 AND n_below > 1
              AND ra + half_width
                  >= (least(floor(ra * n_below / 360), n_below - 1) + 1) * 360.0 / n_below
             THEN (zone - 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n_below / 360), n_below - 1)::bigint + 1) % n_below END,
        -- zone above, likewise
        CASE WHEN "dec" + radius_deg >= (zone + 1) * cell_deg - 90
             THEN (zone + 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + least(floor(ra * n_above / 360), n_above - 1)::bigint END,
        CASE WHEN "dec" + radius_deg >= (zone + 1) * cell_deg - 90 AND n_above > 1
              AND ra - half_width
                  < least(floor(ra * n_above / 360), n_above - 1) * 360.0 / n_above
             THEN (zone + 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n_above / 360), n_above - 1)::bigint + n_above - 1)
                    % n_above END,
        CASE WHEN "dec" + radius_deg >= (zone + 1) * cell_deg - 90 AND n_above > 1
              AND ra + half_width
                  >= (least(floor(ra * n_above / 360), n_above - 1) + 1) * 360.0 / n_above
             THEN (zone + 1) * (ceil(360 / cell_deg)::bigint + 1)
                  + (least(floor(ra * n_above / 360), n_above - 1)::bigint + 1) % n_above END]
$$;
COMMENT ON FUNCTION public._hpx_cells_near(float8, float8, integer, integer, integer, integer,
                                           float8, float8, float8) IS
    'Private: keys of the sky cells (grid of cell size cell_deg [deg]) that hold every point '
    'within radius_deg [deg] of (ra, dec [deg]), NULL for the neighbours the disc does not '
    'reach.';

-- Rows the planner expects from a table or view: how hpx_xmatch chooses between probing
-- the larger table's hpx index and hashing both tables. VOLATILE only because
-- PostgreSQL refuses EXPLAIN in a function that is not; it reads nothing.
CREATE OR REPLACE FUNCTION public._hpx_estimated_rows(t regclass)
RETURNS float8 LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT FROM %s', t) INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END
$$;
COMMENT ON FUNCTION public._hpx_estimated_rows(regclass) IS
    'Private: the planner''s estimate of the rows of a table or view.';

-- The pairs. When one table is much smaller than the other (a list of targets against
-- a catalog), each of its rows probes the other's hpx index through hpx_radial_query:
-- the cost then follows the small table and the answer, not the catalog's size. Else
-- both tables are read once and joined by hash on sky cells: the smaller table is
-- expanded into the cells its rows' discs reach and hashed, and the larger one streams
-- past the hash, one cell key a row. The radius and the grid are bound as parameters of
-- a dynamic statement, so the planner sees constants.
CREATE OR REPLACE FUNCTION public.hpx_xmatch(table_a regclass, table_b regclass,
                                             radius_deg float8,
                                             key_a text DEFAULT 'id', key_b text DEFAULT 'id')
RETURNS TABLE (id_a bigint, id_b bigint, dist_arcsec float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
-- The planner cannot know that a cell key matches a handful of rows (it assumes 200
-- distinct keys), so it would sort both sides for a merge join: hashing is the plan.
-- The hashed table (tens of bytes a row) should fit in memory: a hash in batches
-- writes both sides to temporary files.
SET enable_mergejoin = off
SET hash_mem_multiplier = 32
AS $$
DECLARE
    -- The cells are probed with a radius a little larger than radius_deg, so that a pair
    -- that the exact test keeps by a rounding error is never in a cell left unprobed;
    -- cells of at least 1": smaller ones would only make more zones, not fewer pairs.
    probe_deg float8 := radius_deg * (1 + 1e-9) + 1e-10;
    cell_deg float8 := greatest(2 * probe_deg, 1 / 3600.0);
    rows_a float8;
    rows_b float8;
    a_expanded boolean;
    buckets integer[];
    half_widths float8[];
BEGIN
    IF radius_deg IS NULL OR NOT (radius_deg >= 0 AND radius_deg <= 45) THEN
        RAISE EXCEPTION 'hpx_xmatch: radius_deg % is not between 0 and 45', radius_deg
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    rows_a := public._hpx_estimated_rows(table_a);
    rows_b := public._hpx_estimated_rows(table_b);
    IF least(rows_a, rows_b) * 50 < greatest(rows_a, rows_b) THEN
        RETURN QUERY EXECUTE format($q$
            SELECT a.%1$I::bigint, b.%2$I::bigint,
                   public.hpx_dist(a.ra, a.dec, b.ra, b.dec) * 3600
            FROM %3$s AS a JOIN %4$s AS b
              ON public.hpx_radial_query(%5$s.hpx, %5$s.ra, %5$s.dec, %6$s.ra, %6$s.dec, $1)
            $q$, key_a, key_b, table_a, table_b,
            CASE WHEN rows_a < rows_b THEN 'b' ELSE 'a' END,
            CASE WHEN rows_a < rows_b THEN 'a' ELSE 'b' END)
        USING radius_deg;
        RETURN;
    END IF;
    -- Cells as large as the density allows: a cell much wider than the disc is rarely
    -- left by it (a probe reaches 1.6 cells on average at 8 radii across, against 4 at
    -- 2 radii), and the cost is mostly per probe. The density is taken as if the larger
    -- table covered the whole sky (41253 deg2); a table of a small region is denser, so
    -- the cells are kept to at most 8 radii across.
    cell_deg := greatest(cell_deg, least(8 * probe_deg,
                                         sqrt(41253 / greatest(rows_a, rows_b, 1))));
    -- The zones' RA buckets (0 beyond the poles, so that a probe there makes a key that
    -- no cell has) and the RA half-widths of the probe disc, computed once, read by
    -- subscript for each row. (With cells wider than the disc, a probe then reaches
    -- 1.6 cells on average, not 2.5 as with the half-width of the cell.)
    SELECT array_agg(public._hpx_zone_buckets(z, cell_deg) ORDER BY z),
           array_agg(public._hpx_zone_half_width(z, probe_deg, cell_deg) ORDER BY z)
    INTO buckets, half_widths
    FROM generate_series(-1, ceil(180 / cell_deg)::integer) AS z;
    -- The smaller table is expanded (x: a row for each cell its disc reaches, 1.6 a row
    -- on average) and hashed; the other (c) streams past it with its own cell. A pair
    -- within r is met exactly once either way round (the cells hold every point within
    -- r of a row); the exact test and id_a, id_b keep table_a's side first.
    a_expanded := rows_a <= rows_b;
    -- The statement is written for parallel workers (a Parallel Hash Join on the 2+
    -- cores, where Q3C's q3c_join runs in one process):
    -- * The subqueries are kept apart by OFFSET '0', an int8 constant: OFFSET 0 is an
    --   int4 cast to int8, which the planner takes for a non-constant offset and then
    --   keeps the subquery, and all above it, out of the workers. Apart, the zone and
    --   its buckets are computed once per row and not in every use inside the inlined
    --   _hpx_cells_near, the streamed table's cell is one expression (its zone computed
    --   twice costs less than a subquery layer), and the exact test's term s =
    --   sin^2(d / 2) (_hpx_sindist) is computed once per candidate pair; the distance is
    --   2 asin(sqrt(s)) (hpx_dist, Vincenty, per pair took a quarter of the time).
    -- * unnest in the select list (a ProjectSet; LATERAL unnest in FROM builds a
    --   tuplestore for every row, 0.45 us more a row), of only the cells the disc reaches.
    -- * The expansion's keys pass an always-true range test (keys are >= 0 and NULL
    --   slots are gone): without statistics the planner takes a range for 1 / 200 of the
    --   rows, so it expects the expansion to be small and builds the hash on it, not on
    --   the larger table (whose hash would be 3 to 5 times larger, in batches).
    RETURN QUERY EXECUTE format($q$
        SELECT p.id_a, p.id_b, degrees(2 * asin(sqrt(p.s))) * 3600
        FROM (
        SELECT %5$s.id AS id_a, %6$s.id AS id_b,
               public._hpx_sindist(%5$s.ra, %5$s.dec, %6$s.ra, %6$s.dec) AS s
        FROM (SELECT t.%2$I::bigint AS id, t.ra, t.dec,
                     public._hpx_cell(public._hpx_zone(t.dec, $2),
                                      $4[public._hpx_zone(t.dec, $2) + 2], t.ra, $2) AS cell
              FROM %4$s AS t OFFSET '0') AS c
        JOIN (SELECT x.*
              FROM (SELECT z.id, z.ra, z.dec,
                           unnest(array_remove(public._hpx_cells_near(
                               z.ra, z.dec, z.zone, z.n, z.n_below, z.n_above, z.half_width,
                               $3, $2), NULL)) AS near
                    FROM (SELECT z.*, $4[z.zone + 2] AS n, $4[z.zone + 1] AS n_below,
                                 $4[z.zone + 3] AS n_above, $5[z.zone + 2] AS half_width
                          FROM (SELECT t.%1$I::bigint AS id, t.ra, t.dec,
                                       public._hpx_zone(t.dec, $2) AS zone
                                FROM %3$s AS t OFFSET '0') AS z OFFSET '0') AS z
                    OFFSET '0') AS x
              WHERE x.near BETWEEN 0 AND 9223372036854775807) AS x
          ON x.near = c.cell
        OFFSET '0') AS p
        WHERE p.s < power(sin(radians($1) / 2), 2)
        $q$,
        CASE WHEN a_expanded THEN key_a ELSE key_b END,
        CASE WHEN a_expanded THEN key_b ELSE key_a END,
        CASE WHEN a_expanded THEN table_a ELSE table_b END,
        CASE WHEN a_expanded THEN table_b ELSE table_a END,
        CASE WHEN a_expanded THEN 'x' ELSE 'c' END,
        CASE WHEN a_expanded THEN 'c' ELSE 'x' END)
    USING radius_deg, cell_deg, probe_deg, buckets, half_widths;
END
$$;
COMMENT ON FUNCTION public.hpx_xmatch(regclass, regclass, float8, text, text) IS
    'Cross-match: the pairs (id_a, id_b, dist_arcsec) of rows of table_a and table_b '
    '(tables or views with columns ra, dec [deg] and hpx, keys key_a / key_b, default id) '
    'strictly within radius_deg [deg] (at most 45) of each other, as a join on q3c_join or '
    'hpx_radial_query finds them. Example: SELECT * FROM hpx_xmatch(''mytable'', ''psc'', '
    '2 / 3600., key_b => ''pts_key'').';

-- The k nearest rows of table_b within radius_deg of each row of table_a (nearest first,
-- ties to the smaller key): Q3C's LATERAL ... ORDER BY q3c_dist LIMIT k, over the pairs.
CREATE OR REPLACE FUNCTION public.hpx_xmatch_nearest(table_a regclass, table_b regclass,
                                                     radius_deg float8, k integer DEFAULT 1,
                                                     key_a text DEFAULT 'id',
                                                     key_b text DEFAULT 'id')
RETURNS TABLE (id_a bigint, id_b bigint, dist_arcsec float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT x.id_a, x.id_b, x.dist_arcsec
    FROM (SELECT p.*, row_number() OVER (PARTITION BY p.id_a
                                         ORDER BY p.dist_arcsec, p.id_b) AS rank
          FROM public.hpx_xmatch(table_a, table_b, radius_deg, key_a, key_b) AS p) AS x
    WHERE x.rank <= k
$$;
COMMENT ON FUNCTION public.hpx_xmatch_nearest(regclass, regclass, float8, integer, text, text) IS
    'The k (default 1) nearest rows of table_b strictly within radius_deg [deg] of each row '
    'of table_a: (id_a, id_b, dist_arcsec), as hpx_xmatch. Example: SELECT * FROM '
    'hpx_xmatch_nearest(''mytable'', ''psc'', 5 / 3600., 1, key_b => ''pts_key'').';
