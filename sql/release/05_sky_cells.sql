-- Sky cells: the hash-join machinery of the cross-matches in steps 1, 3 and 5.
--
-- A cross-match within a radius r of N rows must cost O(N), whatever N. An index probe
-- per row (hpx_radial_query with the centre from the outer row) computes the disc's hpx
-- ranges for every row; a hash join on an equality does not. So the sky is cut into
-- cells at least cell_deg = 2r wide: declination zones cell_deg high, each cut into the
-- most RA buckets that keep every bucket at least cell_deg wide at every declination of
-- the zone. Near a pole a disc's RA half-width outgrows the buckets of the zone next to
-- it; zones reaching beyond tan|dec| = (2 - cos h) / sin h (89.994 deg for 10" cells)
-- form a polar cap of one bucket each, which keeps "own or neighbouring bucket" exact.
-- A row's cell key is zone * m + bucket, m = ceil(360 / cell_deg) + 1:
-- dense, so that PostgreSQL's bigint hash (which folds the high 32 bits onto the low
-- ones) spreads the keys instead of colliding them. Every point within r of a
-- row lies in the row's own cell or in one of the neighbouring cells that the row's
-- bounding box (dec +- r, ra +- alpha(r, dec)) reaches: the row is "probed" into those
-- cells (1 to 4 of the 9 neighbours), the other side is hashed by its own
-- cell, and each pair within r is met exactly once.
-- These functions live in the release schema and are dropped with the build's working
-- tables in step 6.

-- Zones of a grid of cell size cell_deg: RA buckets of the zone and of its neighbours,
-- and half_width, the largest RA half-width in the zone of a disc of radius cell_deg / 2,
-- asind(sin(cell_deg / 2) / cos dec) at the zone's poleward edge (180 where the disc
-- can reach a pole). It holds for every radius up to cell_deg / 2 and spares the probes
-- any trigonometry per row.
CREATE FUNCTION sky_zones(cell_deg float8)
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

-- Zone of a declination.
CREATE FUNCTION sky_zone("dec" float8, cell_deg float8)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(floor(("dec" + 90) / cell_deg), ceil(180 / cell_deg) - 1)::integer
$$;

-- Cell key of a position in a zone of n buckets.
CREATE FUNCTION sky_cell(zone integer, n integer, ra float8, cell_deg float8)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zone * (ceil(360 / cell_deg)::bigint + 1) + least(floor(ra * n / 360), n - 1)::bigint
$$;

-- Keys of the cells that hold every point within radius_deg (<= cell_deg / 2) of a
-- position in zone `zone` (n buckets; n_below / n_above in the neighbouring zones, NULL
-- beyond the poles): an array of nine, the own zone's bucket and its left and right
-- neighbours, then the same in the zone below and the zone above; NULL where the disc
-- does not reach. A single expression, so that the planner inlines it: callers unnest it
-- (NULL keys join nothing). half_width is the zone's (sky_zones): at least the disc's RA
-- half-width; the ninefold repetition is the price of inlining.
CREATE FUNCTION sky_cells_near(ra float8, "dec" float8, zone integer, n integer,
                               n_below integer, n_above integer, half_width float8,
                               radius_deg float8, cell_deg float8)
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
