-- Revision 20261211: the fine disc cover (_hpx_disc_cover) in PL/pgSQL's cheapest
-- statements (the same ranges in half the time below 0.5 deg, pixels of a quarter of
-- the radius from 0.5 deg); hpx_xmatch's distance from the exact test's sine term.
-- Frozen: a copy of the definitions in sql/ when it was written.

-- Fine cover: the near pixels are split down to the order whose pixels are about half
-- the radius across (a quarter from 0.5 deg): a pixel whose centre is farther than the
-- radius plus the pixel's radius is dropped, one whose centre is nearer than the radius
-- minus the pixel's radius is kept whole, the others are split (kept whole at the last
-- order). HEALPix pixel radii are at most 61.25 deg / 2^order; 62 deg is used. Adjacent
-- ranges are joined, then the smallest gaps until at most 40 ranges remain.
--
-- The resolution trades planning (more pixels to test, more ranges to plan) against rows
-- read: pixels of r / 2 read about 2.2 times the rows of a 1 deg disc, r / 4 about 1.5
-- times (Q3C 1.5) for about 2.5 ms more planning on this machine; reading a row costs
-- about 4 us on a table larger than memory's buffers, so r / 4 pays from about 2,500 rows
-- in the disc: 1 deg on 50 million uniform points (3,800), 0.3 deg on the 470 million of
-- the real Point Source Catalog; not 600" on 50 million (110).
--
-- The loop runs about 150 to 200 pixels for a disc, so it is written for PL/pgSQL's
-- cheapest statements: each pixel is its face, face-local cell (x, y) and NESTED number
-- in four arrays filled by subscript (in place), its centre's continuous face
-- coordinates give its position (HEALPix C++ xyf2loc: no morton decoding, no function
-- call), and the distance test is a dot product with the centre's unit vector against
-- the cosines of the level's two limits. A pixel is dropped only when the dot product is
-- below cos(radius + pixel radius + 1e-6 deg): rounding moves the dot product by a few
-- 1e-16, far less than the 1e-6 deg margin moves the cosine at these angles (radius >
-- 0.03 deg); the keep-whole test can only err towards keeping, which stays a cover.
-- (Before: hpx_ipix2ang and hpx_dist per pixel, and arrays grown by concatenation:
-- twice the time, the same ranges.)
CREATE OR REPLACE FUNCTION public._hpx_disc_cover(ra0 float8, dec0 float8, radius_deg float8)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
DECLARE
    max_ranges CONSTANT int := 40;
    jrll CONSTANT int[] := '{2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4}';
    jpll CONSTANT int[] := '{1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7}';
    k int;
    last_order int;
    m int;
    n int := 0;
    nn int;
    cp bigint[] := '{}';
    np bigint[];
    cf int[] := '{}';
    cx bigint[] := '{}';
    cy bigint[] := '{}';
    nf int[];
    nx bigint[];
    ny bigint[];
    out_lo bigint[] := '{}';
    out_hi bigint[] := '{}';
    nout int := 0;
    p bigint;
    u bigint;
    f int;
    x bigint;
    y bigint;
    s int;
    scale float8;
    jr float8;
    nr float8;
    z float8;
    dot float8;
    cosfar float8;
    cosnear float8;
    pixrad float8;
    cd float8 := cosd(dec0);
    sd float8 := sind(dec0);
    ra0r float8 := radians(ra0);
    cut bigint;
    lo bigint[];
    hi bigint[];
    result bigint[] := '{}';
BEGIN
    PERFORM public._hpx_check_disc(ra0, dec0, radius_deg);
    k := public._hpx_near_order(radius_deg);
    IF k < 0 THEN
        k := 0;
        FOR i IN 0 .. 11 LOOP
            n := n + 1; cp[n] := i; cf[n] := i; cx[n] := 0; cy[n] := 0;
        END LOOP;
    ELSE
        -- The near pixels (the slots whose gate is closed are empty, as _hpx_near_bound).
        FOR slot IN 0 .. 3 LOOP
            IF slot = 0 AND NOT 90 - abs(dec0) < 2 * radius_deg THEN
                p := public.hpx_ang2ipix(ra0, dec0) >> (2 * (29 - k));
            ELSIF slot > 0 AND NOT public._hpx_near_gate(ra0, dec0, radius_deg, k, slot) THEN
                CONTINUE;
            ELSE
                p := public._hpx_near_pixel(ra0, dec0, radius_deg, k, slot);
            END IF;
            CONTINUE WHEN p < 0;
            CONTINUE WHEN p = ANY (cp);  -- the same pixel in two slots (near a pole)
            f := (p >> (2 * k))::int;
            u := public._hpx_unmorton(p << (2 * (29 - k)));
            x := (u & 536870911) >> (29 - k);
            y := (u >> 32) >> (29 - k);
            n := n + 1; cp[n] := p; cf[n] := f; cx[n] := x; cy[n] := y;
        END LOOP;
    END IF;
    -- Pixels about r / 2 across; r / 4 from 0.5 deg (see above).
    last_order := least(29, greatest(k, ceil(ln(CASE WHEN radius_deg >= 0.5 THEN 4 ELSE 2 END
                                                * 58.6::float8 / greatest(radius_deg, 1e-12))
                                             / ln(2::float8))::int));
    m := k;
    LOOP
        nn := 0; np := '{}'; nf := '{}'; nx := '{}'; ny := '{}';
        pixrad := 62::float8 / (1::bigint << m);
        cosfar := CASE WHEN radius_deg + pixrad + 1e-6 >= 180 THEN -2
                       ELSE cosd(radius_deg + pixrad + 1e-6) END;
        cosnear := CASE WHEN radius_deg > pixrad THEN cosd(radius_deg - pixrad) ELSE 2 END;
        scale := 1::float8 / (2::bigint << m);
        s := 2 * (29 - m);
        FOR i IN 1 .. n LOOP
            -- The pixel's centre: ring coordinate jr (north cap < 1 < equator < 3 < south
            -- cap), z = sin dec, and the longitude; then its dot product with the centre.
            f := cf[i];
            jr := jrll[f + 1] - (2 * (cx[i] + cy[i]) + 2) * scale;
            nr := least(jr, 4 - jr, 1);
            z := CASE WHEN jr < 1 THEN 1 - nr * nr / 3 WHEN jr > 3 THEN nr * nr / 3 - 1
                      ELSE (2 - jr) * 2 / 3 END;
            dot := sqrt((1 - z) * (1 + z)) * cd
                   * cos(0.7853981633974483 * (jpll[f + 1] + 2 * (cx[i] - cy[i]) * scale / nr) - ra0r)
                   + z * sd;
            CONTINUE WHEN dot <= cosfar;
            IF dot > cosnear OR m >= last_order THEN
                p := cp[i];
                nout := nout + 1;
                out_lo[nout] := p << s;
                out_hi[nout] := ((p + 1) << s) - 1;
            ELSE
                np[nn + 1] := 4 * cp[i]; np[nn + 2] := 4 * cp[i] + 1;
                np[nn + 3] := 4 * cp[i] + 2; np[nn + 4] := 4 * cp[i] + 3;
                nf[nn + 1] := f; nx[nn + 1] := 2 * cx[i];     ny[nn + 1] := 2 * cy[i];
                nf[nn + 2] := f; nx[nn + 2] := 2 * cx[i] + 1; ny[nn + 2] := 2 * cy[i];
                nf[nn + 3] := f; nx[nn + 3] := 2 * cx[i];     ny[nn + 3] := 2 * cy[i] + 1;
                nf[nn + 4] := f; nx[nn + 4] := 2 * cx[i] + 1; ny[nn + 4] := 2 * cy[i] + 1;
                nn := nn + 4;
            END IF;
        END LOOP;
        EXIT WHEN nn = 0;
        cp := np; cf := nf; cx := nx; cy := ny; n := nn;
        m := m + 1;
    END LOOP;
    IF nout = 0 THEN
        RETURN result;
    END IF;
    -- Sort, then join ranges whose gap is at most `cut` (0: adjacent ones only), `cut`
    -- being the largest gap that still has to go for max_ranges ranges to remain.
    SELECT array_agg(l ORDER BY l), array_agg(h ORDER BY l) INTO lo, hi
    FROM unnest(out_lo, out_hi) AS r(l, h);
    SELECT coalesce(max(g), 0) INTO cut FROM (
        SELECT lo[i + 1] - hi[i] - 1 AS g FROM generate_subscripts(lo, 1) AS i
        WHERE i < cardinality(lo) ORDER BY 1 LIMIT greatest(0, cardinality(lo) - max_ranges)
    ) AS gaps;
    result := ARRAY[lo[1], hi[1]];
    FOR i IN 2 .. cardinality(lo) LOOP
        IF lo[i] - result[cardinality(result)] - 1 <= cut THEN
            result[cardinality(result)] := hi[i];
        ELSE
            result := result || ARRAY[lo[i], hi[i]];
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION public._hpx_disc_cover(float8, float8, float8) IS
    'Private: sorted hpx ranges {lo1, hi1, lo2, hi2, ...} (at most 40) covering the disc '
    '(ra0, dec0 [deg], radius_deg [deg]). Its high COST keeps _hpx_in_ranges from being '
    'inlined around it when the disc is not constant (a join).';


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

