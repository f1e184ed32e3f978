-- Revision 20261214: hpx_xmatch written for parallel workers (a Parallel Hash Join),
-- hashing the smaller table's expansion into the cells its discs reach.
-- Frozen: a copy of the definition in sql/ when it was written.

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
