-- Downgrade of revision 20261214: the definition of revision 20261211.
-- Frozen.

-- The pairs. When one table is much smaller than the other (a list of targets against
-- a catalog), each of its rows probes the other's hpx index through hpx_radial_query:
-- the cost then follows the small table and the answer, not the catalog's size. Else
-- both tables are read once and joined by hash on sky cells; the table probed into the
-- neighbouring cells is table_a, the hashed one table_b, and the planner chooses which
-- side it builds the hash on. The radius and the grid are bound as parameters of a
-- dynamic statement, so the planner sees constants.
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
    -- 2 radii), and the cost is mostly per probe. The density is taken as if table_b
    -- covered the whole sky (41253 deg2); a table of a small region is denser, so the
    -- cells are kept to at most 8 radii across.
    cell_deg := greatest(cell_deg, least(8 * probe_deg, sqrt(41253 / greatest(rows_b, 1))));
    -- The zones' RA buckets (0 beyond the poles, so that a probe there makes a key that
    -- no cell has) and the RA half-widths of the probe disc, computed once, read by
    -- subscript for each row. (With cells wider than the disc, a probe then reaches
    -- 1.6 cells on average, not 2.5 as with the half-width of the cell.)
    SELECT array_agg(public._hpx_zone_buckets(z, cell_deg) ORDER BY z),
           array_agg(public._hpx_zone_half_width(z, probe_deg, cell_deg) ORDER BY z)
    INTO buckets, half_widths
    FROM generate_series(-1, ceil(180 / cell_deg)::integer) AS z;
    -- The probed table's rows with their zone as columns of a subquery that OFFSET 0
    -- keeps apart: as expressions, the zone and its buckets would be repeated in every
    -- use inside the inlined _hpx_cells_near. The hashed table's cell is one expression
    -- (its zone computed three times costs less than two subquery layers: 1.3 against
    -- 1.9 s for 5 million rows). (Joined with _hpx_zones on an expression of
    -- dec instead, the zones would be estimated at thousands of rows per row, and
    -- planned as sorts and merge joins or hashes in thousands of batches.)
    --
    -- The exact test's sine term s = sin^2(d / 2) (_hpx_sindist) is a column of the pairs,
    -- kept apart by OFFSET 0 so that it is computed once per candidate pair, and the
    -- distance is 2 asin(sqrt(s)): hpx_dist (Vincenty) per pair took a quarter of the time.
    RETURN QUERY EXECUTE format($q$
        SELECT p.id_a, p.id_b, degrees(2 * asin(sqrt(p.s))) * 3600
        FROM (
        SELECT a.id AS id_a, b.id AS id_b, public._hpx_sindist(a.ra, a.dec, b.ra, b.dec) AS s
        FROM (SELECT z.id, z.ra, z.dec,
                     -- (unnest in the select list: a function scan in FROM would build
                     -- a tuplestore for every row; and of the 9 slots only the cells the
                     -- disc reaches, 1.6 on average)
                     unnest(array_remove(public._hpx_cells_near(
                         z.ra, z.dec, z.zone, z.n, z.n_below, z.n_above, z.half_width,
                         $3, $2), NULL)) AS near
              FROM (SELECT z.*, $4[z.zone + 2] AS n, $4[z.zone + 1] AS n_below,
                           $4[z.zone + 3] AS n_above, $5[z.zone + 2] AS half_width
                    FROM (SELECT t.%1$I::bigint AS id, t.ra, t.dec,
                                 public._hpx_zone(t.dec, $2) AS zone
                          FROM %3$s AS t OFFSET 0) AS z OFFSET 0) AS z) AS a
        JOIN (SELECT t.%2$I::bigint AS id, t.ra, t.dec,
                     public._hpx_cell(public._hpx_zone(t.dec, $2),
                                      $4[public._hpx_zone(t.dec, $2) + 2], t.ra, $2) AS cell
              FROM %4$s AS t) AS b
          ON b.cell = a.near
        OFFSET 0) AS p
        WHERE p.s < power(sin(radians($1) / 2), 2)
        $q$, key_a, key_b, table_a, table_b)
    USING radius_deg, cell_deg, probe_deg, buckets, half_widths;
END
$$;
COMMENT ON FUNCTION public.hpx_xmatch(regclass, regclass, float8, text, text) IS
    'Cross-match: the pairs (id_a, id_b, dist_arcsec) of rows of table_a and table_b '
    '(tables or views with columns ra, dec [deg] and hpx, keys key_a / key_b, default id) '
    'strictly within radius_deg [deg] (at most 45) of each other, as a join on q3c_join or '
    'hpx_radial_query finds them. Example: SELECT * FROM hpx_xmatch(''mytable'', ''psc'', '
    '2 / 3600., key_b => ''pts_key'').';
