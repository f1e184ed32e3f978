-- HEALPix disc cover: the hpx ranges that hold a disc, computed for the planner.
--
-- Plain SQL and PL/pgSQL only, so the functions run on any PostgreSQL >= 15 without an
-- extension. Installed into schema public by the migrations; re-running this file is
-- harmless (every statement is CREATE OR REPLACE).
--
-- Conventions: angles in degrees (ICRS), pixel numbers are NESTED order 29 (the value
-- healpy.ang2pix(2**29, ra, dec, nest=True, lonlat=True) returns). Functions whose name
-- starts with "_hpx_" are private building blocks of the public ones. The files of
-- sql/hpx/ run in the order pixels.sql, cover.sql, queries.sql.

-- =================================================================================
-- Disc cover: the hpx ranges that hold a disc
-- =================================================================================
--
-- Near cover, at most four pixels, for small discs and cross-matches. A disc of radius r
-- moves a point's continuous face coordinates (x, y) at order k by at most J * 2^k * r
-- (r in radians) on each axis, with J = 2.5 (equatorial zone: 1.61; polar caps at polar
-- distance >= 2r: 2.44). At the order k where that margin e is at most 1/8 of a pixel,
-- the disc lies in the centre's pixel, its neighbour across the x edge and/or the y edge
-- the centre is within e of, and the diagonal neighbour between them (absent where only
-- three pixels meet, and then not needed). Within 2r of a pole the disc lies in the four
-- pixels around the pole. Each of the four slots is one such pixel or empty (NULL
-- bounds). Slot 0 is the centre's pixel (_hpx_near_bound0: hpx_ang2ipix shifted); slots
-- 1..3 are _hpx_near_bound calls that a pure-SQL test of the centre's distance to its
-- pixel's edges (_hpx_near_gate) answers without computing a pixel for most centres, so
-- a cross-match probes at most four ranges, and mostly one.
--
-- Fine cover, ranges close to the disc for larger cones, those wholly inside it marked
-- (_hpx_fine_cover); at most 40 of them for the inlined predicates (_hpx_disc_cover).

-- True for a possible disc (ra0, dec0, radius_deg), else an error saying what is wrong.
-- Inlined into its callers, so the messages are built with immutable text casts (format()
-- is only stable, which would keep the planner from inlining the function).
CREATE OR REPLACE FUNCTION public._hpx_check_disc(ra0 float8, dec0 float8, radius_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN NOT (radius_deg >= 0 AND radius_deg < 'Infinity'::float8) THEN public._hpx_raise(
        'radius must be a finite number >= 0 degrees, got ' || radius_deg::text, NULL::boolean)
    WHEN NOT dec0 BETWEEN -90 AND 90 THEN public._hpx_raise(
        'dec must be in [-90, 90] degrees, got ' || dec0::text, NULL::boolean)
    WHEN NOT (ra0 > '-Infinity'::float8 AND ra0 < 'Infinity'::float8) THEN public._hpx_raise(
        'ra must be a finite number of degrees, got ' || ra0::text, NULL::boolean)
    ELSE true
END
$$;
COMMENT ON FUNCTION public._hpx_check_disc(float8, float8, float8) IS
    'Private: true for a possible disc (ra0, dec0, radius_deg [deg]), else an error saying '
    'what is wrong.';

-- Order of the near cover: the finest k with 2^k * 2.5 * r <= 1/8; -1 = whole sky.
CREATE OR REPLACE FUNCTION public._hpx_near_order(radius_deg float8)
RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN radius_deg <= 0 THEN 29
            WHEN radius_deg >= degrees(0.05::float8) THEN -1
            ELSE least(29, floor(ln(0.05::float8 / radians(radius_deg)) / ln(2::float8))::int)
       END
$$;
COMMENT ON FUNCTION public._hpx_near_order(float8) IS
    'Private: HEALPix order of the near cover of a disc of radius_deg [deg]; -1 = whole sky.';

-- Bits below the near order in an order-29 pixel number: 2 (29 - k). PL/pgSQL, so a
-- constant radius folds it at plan time without a body to inline.
CREATE OR REPLACE FUNCTION public._hpx_near_shift(radius_deg float8)
RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN 58 - 2 * public._hpx_near_order(radius_deg);
END
$$;
COMMENT ON FUNCTION public._hpx_near_shift(float8) IS
    'Private: 2 (29 - k) for the near order k of a disc of radius_deg [deg].';

-- Order-k pixel of near slot `slot` (0..3) of a disc, or -1 for an empty slot.
CREATE OR REPLACE FUNCTION public._hpx_near_pixel(ra0 float8, dec0 float8, radius_deg float8,
                                                  k int, slot int)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s int := 29 - k;
    p bigint;
    x bigint;
    y bigint;
    e float8;
    fx float8;
    fy float8;
    dx int := 0;
    dy int := 0;
BEGIN
    IF k < 0 THEN
        RETURN CASE WHEN slot = 0 THEN 0 ELSE -1 END;
    END IF;
    IF 90 - abs(dec0) < 2 * radius_deg THEN
        -- The four pixels around the pole: corner (nside-1, nside-1) of faces 0..3 in the
        -- north, corner (0, 0) of faces 8..11 in the south.
        RETURN CASE WHEN dec0 > 0 THEN ((slot + 1)::bigint << (2 * k)) - 1
                    ELSE (slot + 8)::bigint << (2 * k) END;
    END IF;
    p := public.hpx_ang2ipix(ra0, dec0);
    IF slot = 0 THEN
        RETURN p >> (2 * s);
    END IF;
    x := public._hpx_unmorton(p);
    y := x >> 32;
    x := x & 536870911;
    -- Position in the order-k cell, and the margin, in cells (plus rounding room).
    fx := ((x & ((1::bigint << s) - 1)) + 0.5::float8) / (1::bigint << s);
    fy := ((y & ((1::bigint << s) - 1)) + 0.5::float8) / (1::bigint << s);
    e := (1::bigint << k) * 2.5::float8 * radians(radius_deg) + 1e-7;
    dx := CASE WHEN fx < e THEN -1 WHEN fx > 1 - e THEN 1 ELSE 0 END;
    dy := CASE WHEN fy < e THEN -1 WHEN fy > 1 - e THEN 1 ELSE 0 END;
    IF (slot = 1 AND dx = 0) OR (slot = 2 AND dy = 0) OR (slot = 3 AND (dx = 0 OR dy = 0)) THEN
        RETURN -1;
    END IF;
    RETURN public._hpx_xyf_step((p >> 58)::int, x >> s, y >> s,
                                CASE WHEN slot = 2 THEN 0 ELSE dx END,
                                CASE WHEN slot = 1 THEN 0 ELSE dy END, k);
END
$$;
COMMENT ON FUNCTION public._hpx_near_pixel(float8, float8, float8, int, int) IS
    'Private: NESTED order-k pixel of near-cover slot SLOT (0..3) of the disc (ra0, dec0, '
    'radius_deg [deg]), or -1 when the slot is empty.';

-- False only when near slot `slot` (1..3) at order k is certainly empty: slot 1 needs
-- the centre close to an x edge of its order-k pixel, slot 2 to a y edge, slot 3 to both.
-- One expression on the centre's continuous face coordinates (equatorial zone: u, v =
-- 2^k (1/2 + ra/90 -+ 3/4 sin dec) for y and x; polar caps: t c and (1 - t) c with
-- t = frac(ra/90), c = 2^k sqrt(6) sin(polar distance / 2), for either axis), so that
-- _hpx_near_bound answers most neighbour slots of a cross-match without computing the
-- centre's pixel. The margin adds to _hpx_near_pixel's one order-29 pixel (its
-- coordinates come from the centre's order-29 pixel) and rounding room; near the zone
-- boundary and the poles the gate is always open.
CREATE OR REPLACE FUNCTION public._hpx_near_gate(ra0 float8, dec0 float8, radius_deg float8,
                                                 k int, slot int)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN k < 0 OR 90 - abs(dec0) < 2 * radius_deg
         OR abs(sin(radians(dec0))) BETWEEN 0.666 AND 0.6675 THEN true
    WHEN abs(sin(radians(dec0))) < 0.666 THEN
        (slot = 2 OR abs(power(2::float8, k) * (0.5 + ra0 / 90 + 0.75 * sin(radians(dec0)))
                         - round(power(2::float8, k)
                                 * (0.5 + ra0 / 90 + 0.75 * sin(radians(dec0)))))
                     < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6)
        AND (slot = 1 OR abs(power(2::float8, k) * (0.5 + ra0 / 90 - 0.75 * sin(radians(dec0)))
                             - round(power(2::float8, k)
                                     * (0.5 + ra0 / 90 - 0.75 * sin(radians(dec0)))))
                         < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29)
                           + 1e-6)
    ELSE
        abs((ra0 / 90 - floor(ra0 / 90)) * power(2::float8, k)
            * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)
            - round((ra0 / 90 - floor(ra0 / 90)) * power(2::float8, k)
                    * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)))
        < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6
        OR abs((1 - (ra0 / 90 - floor(ra0 / 90))) * power(2::float8, k)
               * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)
               - round((1 - (ra0 / 90 - floor(ra0 / 90))) * power(2::float8, k)
                       * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)))
           < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6
END
$$;
COMMENT ON FUNCTION public._hpx_near_gate(float8, float8, float8, int, int) IS
    'Private: false only when near-cover slot SLOT (1..3) at order K of the disc (ra0, dec0 '
    '[deg], radius_deg [deg]) is empty.';

-- Lower (upper = false) or upper hpx bound of near slot `slot`; NULL when the slot is
-- empty: with constant arguments the range then folds to NULL and leaves the WHERE
-- clause, and in a join an index probe with a NULL bound reads nothing. Slot 0 away
-- from the poles is the centre's pixel, computed here without calling _hpx_near_pixel:
-- this runs once per range bound and outer row of a cross-match.
CREATE OR REPLACE FUNCTION public._hpx_near_bound(ra0 float8, dec0 float8, radius_deg float8,
                                                  slot int, upper boolean)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    k int := CASE WHEN public._hpx_check_disc(ra0, dec0, radius_deg)
                  THEN public._hpx_near_order(radius_deg) END;
    p bigint;
BEGIN
    IF k < 0 THEN
        RETURN CASE WHEN slot > 0 THEN NULL WHEN upper THEN 3458764513820540927 ELSE 0 END;
    END IF;
    IF slot > 0 AND NOT public._hpx_near_gate(ra0, dec0, radius_deg, k, slot) THEN
        RETURN NULL;
    END IF;
    IF slot = 0 AND NOT 90 - abs(dec0) < 2 * radius_deg THEN
        p := public.hpx_ang2ipix(ra0, dec0) >> (2 * (29 - k));
    ELSE
        p := public._hpx_near_pixel(ra0, dec0, radius_deg, k, slot);
    END IF;
    RETURN CASE WHEN p < 0 THEN NULL
                WHEN upper THEN ((p + 1) << (2 * (29 - k))) - 1
                ELSE p << (2 * (29 - k)) END;
END
$$;
COMMENT ON FUNCTION public._hpx_near_bound(float8, float8, float8, int, boolean) IS
    'Private: lower (upper = false) or upper hpx bound of near-cover slot SLOT (0..3) of the '
    'disc (ra0, dec0 [deg], radius_deg [deg]); NULL for an empty slot. Errors on an '
    'impossible disc.';

-- Lower (upper = false) or upper hpx bound of near slot 0, the centre's pixel: for a
-- possible disc of at most 0.03 deg away from the poles, the order-29 pixel of the centre
-- shifted to the near order, with no PL/pgSQL call but hpx_ang2ipix's, as a cross-match
-- evaluates it for every outer row; otherwise _hpx_near_bound (which also raises the
-- errors of an impossible disc).
CREATE OR REPLACE FUNCTION public._hpx_near_bound0(ra0 float8, dec0 float8, radius_deg float8,
                                                   upper boolean)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN radius_deg >= 0 AND radius_deg <= 0.03 AND dec0 BETWEEN -90 AND 90
         AND NOT 90 - abs(dec0) < 2 * radius_deg
         AND ra0 > '-Infinity'::float8 AND ra0 < 'Infinity'::float8
    THEN ((public.hpx_ang2ipix(ra0, dec0) >> public._hpx_near_shift(radius_deg))
          << public._hpx_near_shift(radius_deg))
         + CASE WHEN upper THEN (1::bigint << public._hpx_near_shift(radius_deg)) - 1
                ELSE 0 END
    ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, upper)
END
$$;
COMMENT ON FUNCTION public._hpx_near_bound0(float8, float8, float8, boolean) IS
    'Private: lower (upper = false) or upper hpx bound of near-cover slot 0 of the disc '
    '(ra0, dec0 [deg], radius_deg [deg]). Errors on an impossible disc.';

-- The distinct order-k pixels of the near slots of a disc (k its near order, >= 0):
-- the slots whose gate is closed are empty, as in _hpx_near_bound; near a pole two
-- slots can name the same pixel.
CREATE OR REPLACE FUNCTION public._hpx_near_pixels(ra0 float8, dec0 float8, radius_deg float8,
                                                   k int)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    p bigint;
    pixels bigint[] := '{}';
BEGIN
    FOR slot IN 0 .. 3 LOOP
        IF slot = 0 AND NOT 90 - abs(dec0) < 2 * radius_deg THEN
            p := public.hpx_ang2ipix(ra0, dec0) >> (2 * (29 - k));
        ELSIF slot > 0 AND NOT public._hpx_near_gate(ra0, dec0, radius_deg, k, slot) THEN
            CONTINUE;
        ELSE
            p := public._hpx_near_pixel(ra0, dec0, radius_deg, k, slot);
        END IF;
        CONTINUE WHEN p < 0 OR p = ANY (pixels);
        pixels[cardinality(pixels) + 1] := p;
    END LOOP;
    RETURN pixels;
END
$$;
COMMENT ON FUNCTION public._hpx_near_pixels(float8, float8, float8, int) IS
    'Private: the distinct NESTED order-k pixels of the near cover of the disc (ra0, dec0 '
    '[deg], radius_deg [deg]), k being its near order.';

-- Fine cover: the near pixels are split down to the order whose pixels are about half
-- the radius across (a quarter from 0.5 deg): a pixel whose centre is farther than the
-- radius plus the pixel's radius is dropped, one whose centre is nearer than the radius
-- minus the pixel's radius is kept whole, the others are split (kept at the last order).
-- HEALPix pixel radii are at most 61.25 deg / 2^order; 62 deg is used.
--
-- A pixel kept whole lies wholly inside the disc, with room to spare: its farthest point
-- is at least 0.75 deg / 2^order (the 62 against 61.25) inside the circle: 1.8e-4 deg at
-- the finest order of a disc over 0.03 deg (12), where rounding moves the dot product by
-- a few 1e-16 and a row's hpx differs from its position by at most an order-29 pixel
-- (4e-7 deg). Such pixels come out with whole = true: every row in them passes the exact
-- test (Q3C's too, whose rounding is 1e-16 relative), so a cone search can skip the test
-- there and count them from the index without reading the rows.
--
-- The resolution trades the cover's time against rows read: pixels of r / 2 read about
-- 2.2 times the rows of a 1 deg disc, r / 4 about 1.5 times (Q3C 1.5) and r / 8 1.26 times;
-- r / 4 pays from about 2,500 rows in the disc (1 deg on 50 million uniform points:
-- 3,800; 0.3 deg on the 470 million of the real Point Source Catalog), and r / 8 gains
-- nothing more there (benchmarks/README.md, "Cone search latency").
--
-- The loop tests about 140 pixels (r / 2) to 250 (r / 4) for a disc, so it is written for
-- PL/pgSQL's cheapest statements: the pixels of a level are the four children of each
-- pixel split at the level above (its NESTED number and face-local cell (x, y) in three
-- arrays filled by subscript, in place), so a split costs four assignments, not sixteen;
-- the pixel's centre comes from its continuous face coordinates (HEALPix C++ xyf2loc: no
-- morton decoding, no function call), and the distance test is a dot product with the
-- centre's unit vector against the cosines of the level's two limits. A pixel is dropped
-- only when the dot product is below cos(radius + pixel radius + 1e-6 deg): rounding
-- moves the dot product by a few 1e-16, far less than the 1e-6 deg margin moves the
-- cosine at these angles (radius > 0.03 deg). Output: the ranges sorted, adjacent ranges
-- of the same kind (whole or not) joined.
CREATE OR REPLACE FUNCTION public._hpx_fine_cover(ra0 float8, dec0 float8, radius_deg float8)
RETURNS TABLE (lo bigint, hi bigint, whole boolean)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 32 AS $$
DECLARE
    jrll CONSTANT int[] := '{2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4}';
    jpll CONSTANT int[] := '{1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7}';
    k int;
    last_order int;
    m int;
    n int := 0;        -- pixels split at the level above (the first level: the near pixels)
    ns int;
    pp bigint[] := '{}';
    px bigint[] := '{}';
    py bigint[] := '{}';
    sp bigint[];
    sx bigint[];
    sy bigint[];
    children int := 0;  -- 0: the first level tests the near pixels themselves; then 3
    grow int := 1;      -- cell coordinates scale by 1, then 2, per level
    out_lo bigint[] := '{}';
    out_hi bigint[] := '{}';
    out_whole boolean[] := '{}';
    nout int := 0;
    p bigint;
    u bigint;
    x bigint;
    y bigint;
    s int;
    scale float8;
    jr float8;
    z float8;
    dot float8;
    cosfar float8;
    cosnear float8;
    pixrad float8;
    cd float8 := cosd(dec0);
    sd float8 := sind(dec0);
    ra0r float8 := radians(ra0);
    r_lo bigint;
    r_hi bigint;
    r_whole boolean;
    l bigint;
    h bigint;
    w boolean;
BEGIN
    PERFORM public._hpx_check_disc(ra0, dec0, radius_deg);
    k := public._hpx_near_order(radius_deg);
    IF k < 0 THEN
        k := 0;
        FOR i IN 0 .. 11 LOOP
            n := n + 1; pp[n] := i; px[n] := 0; py[n] := 0;
        END LOOP;
    ELSE
        FOREACH p IN ARRAY public._hpx_near_pixels(ra0, dec0, radius_deg, k) LOOP
            u := public._hpx_unmorton(p << (2 * (29 - k)));
            n := n + 1; pp[n] := p;
            px[n] := (u & 536870911) >> (29 - k);
            py[n] := (u >> 32) >> (29 - k);
        END LOOP;
    END IF;
    -- Pixels about r / 2 across; r / 4 from 0.5 deg (see above).
    last_order := least(29, greatest(k, ceil(ln(CASE WHEN radius_deg >= 0.5 THEN 4 ELSE 2 END
                                                * 58.6::float8 / greatest(radius_deg, 1e-12))
                                             / ln(2::float8))::int));
    m := k;
    LOOP
        ns := 0; sp := '{}'; sx := '{}'; sy := '{}';
        pixrad := 62::float8 / (1::bigint << m);
        cosfar := CASE WHEN radius_deg + pixrad + 1e-6 >= 180 THEN -2
                       ELSE cosd(radius_deg + pixrad + 1e-6) END;
        cosnear := CASE WHEN radius_deg > pixrad THEN cosd(radius_deg - pixrad) ELSE 2 END;
        scale := 1::float8 / (2::bigint << m);
        s := 2 * (29 - m);
        FOR j IN 1 .. n LOOP
            FOR c IN 0 .. children LOOP
                -- Child c of pixel j (NESTED: bit 0 of c is x, bit 1 is y), its ring
                -- coordinate jr (north cap < 1 < equator < 3 < south cap), z = sin dec,
                -- and its centre's dot product with the disc's centre.
                p := (children + 1) * pp[j] + c;
                x := grow * px[j] + (c & 1);
                y := grow * py[j] + (c >> 1);
                jr := jrll[(p >> (2 * m)) + 1] - (2 * (x + y) + 2) * scale;
                z := CASE WHEN jr < 1 THEN 1 - jr * jr / 3 WHEN jr > 3 THEN (4 - jr) * (4 - jr) / 3 - 1
                          ELSE (2 - jr) * 2 / 3 END;
                dot := sqrt((1 - z) * (1 + z)) * cd
                       * cos(0.7853981633974483 * (jpll[(p >> (2 * m)) + 1]
                                                   + 2 * (x - y) * scale / least(jr, 4 - jr, 1))
                             - ra0r)
                       + z * sd;
                CONTINUE WHEN dot <= cosfar;
                IF dot > cosnear OR m >= last_order THEN
                    nout := nout + 1;
                    out_lo[nout] := p << s;
                    out_hi[nout] := ((p + 1) << s) - 1;
                    out_whole[nout] := dot > cosnear;
                ELSE
                    ns := ns + 1; sp[ns] := p; sx[ns] := x; sy[ns] := y;
                END IF;
            END LOOP;
        END LOOP;
        EXIT WHEN ns = 0;
        pp := sp; px := sx; py := sy; n := ns; children := 3; grow := 2;
        m := m + 1;
    END LOOP;
    IF nout = 0 THEN
        RETURN;
    END IF;
    FOR l, h, w IN SELECT * FROM unnest(out_lo, out_hi, out_whole) ORDER BY 1 LOOP
        IF l = r_hi + 1 AND w = r_whole THEN
            r_hi := h;
        ELSE
            IF r_lo IS NOT NULL THEN
                lo := r_lo; hi := r_hi; whole := r_whole; RETURN NEXT;
            END IF;
            r_lo := l; r_hi := h; r_whole := w;
        END IF;
    END LOOP;
    lo := r_lo; hi := r_hi; whole := r_whole; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION public._hpx_fine_cover(float8, float8, float8) IS
    'Private: sorted, disjoint hpx ranges (lo, hi) covering the disc (ra0, dec0 [deg], '
    'radius_deg [deg]); whole = true for ranges wholly inside the disc.';

-- The fine cover as at most 40 ranges {lo1, hi1, lo2, hi2, ...}, for the inlined
-- predicates (hpx_radial_query, hpx_ellipse_query, hpx_poly_query): adjacent ranges
-- joined, then the smallest gaps until at most 40 ranges remain.
CREATE OR REPLACE FUNCTION public._hpx_disc_cover(ra0 float8, dec0 float8, radius_deg float8)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
DECLARE
    max_ranges CONSTANT int := 40;
    cut bigint;
    lo bigint[];
    hi bigint[];
    result bigint[] := '{}';
BEGIN
    SELECT array_agg(c.lo ORDER BY c.lo), array_agg(c.hi ORDER BY c.lo) INTO lo, hi
    FROM public._hpx_fine_cover(ra0, dec0, radius_deg) AS c;
    IF lo IS NULL THEN
        RETURN result;
    END IF;
    -- Join ranges whose gap is at most `cut` (0: adjacent ones only), `cut` being the
    -- largest gap that still has to go for max_ranges ranges to remain.
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

-- hpx inside one of the ranges c = {lo1, hi1, lo2, hi2, ...} (at most 40). Inlined
-- with a constant array, each range past its end compares with NULL, folds to NULL and
-- leaves the WHERE clause.
CREATE OR REPLACE FUNCTION public._hpx_in_ranges(hpx bigint, c bigint[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT hpx BETWEEN c[1] AND c[2] OR hpx BETWEEN c[3] AND c[4] OR hpx BETWEEN c[5] AND c[6]
    OR hpx BETWEEN c[7] AND c[8] OR hpx BETWEEN c[9] AND c[10] OR hpx BETWEEN c[11] AND c[12]
    OR hpx BETWEEN c[13] AND c[14] OR hpx BETWEEN c[15] AND c[16] OR hpx BETWEEN c[17] AND c[18]
    OR hpx BETWEEN c[19] AND c[20] OR hpx BETWEEN c[21] AND c[22] OR hpx BETWEEN c[23] AND c[24]
    OR hpx BETWEEN c[25] AND c[26] OR hpx BETWEEN c[27] AND c[28] OR hpx BETWEEN c[29] AND c[30]
    OR hpx BETWEEN c[31] AND c[32] OR hpx BETWEEN c[33] AND c[34] OR hpx BETWEEN c[35] AND c[36]
    OR hpx BETWEEN c[37] AND c[38] OR hpx BETWEEN c[39] AND c[40] OR hpx BETWEEN c[41] AND c[42]
    OR hpx BETWEEN c[43] AND c[44] OR hpx BETWEEN c[45] AND c[46] OR hpx BETWEEN c[47] AND c[48]
    OR hpx BETWEEN c[49] AND c[50] OR hpx BETWEEN c[51] AND c[52] OR hpx BETWEEN c[53] AND c[54]
    OR hpx BETWEEN c[55] AND c[56] OR hpx BETWEEN c[57] AND c[58] OR hpx BETWEEN c[59] AND c[60]
    OR hpx BETWEEN c[61] AND c[62] OR hpx BETWEEN c[63] AND c[64] OR hpx BETWEEN c[65] AND c[66]
    OR hpx BETWEEN c[67] AND c[68] OR hpx BETWEEN c[69] AND c[70] OR hpx BETWEEN c[71] AND c[72]
    OR hpx BETWEEN c[73] AND c[74] OR hpx BETWEEN c[75] AND c[76] OR hpx BETWEEN c[77] AND c[78]
    OR hpx BETWEEN c[79] AND c[80]
$$;
COMMENT ON FUNCTION public._hpx_in_ranges(bigint, bigint[]) IS
    'Private: true when hpx lies in one of the ranges {lo1, hi1, lo2, hi2, ...} (at most 40).';

-- hpx inside one of the four near ranges of the disc (ra0, dec0, radius_deg). Each range
-- also carries two always-true conditions hpx > (x IS NULL)::int - n, n differing from
-- range to range so that the planner cannot pull them out of the OR: with a constant
-- centre they fold to hpx > -n and change nothing; with a column as centre (a join) the
-- planner, which cannot see how narrow the ranges are, estimates each at 1/3, so it
-- prices the index probe below a scan of the inner table (Q3C ships a C selectivity
-- function for this). Inlined, so the bounds are index conditions. Slot 0 is
-- _hpx_near_bound0, the cheaper per outer row, for radii up to 0.03 deg (small = true);
-- larger radii call _hpx_near_bound, which plans faster (a constant disc then takes its
-- index ranges from the fine cover, and the near ranges only narrow them).
CREATE OR REPLACE FUNCTION public._hpx_in_near_ranges(hpx bigint, ra0 float8, dec0 float8,
                                                      radius_deg float8, small boolean)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (hpx BETWEEN CASE WHEN small THEN public._hpx_near_bound0(ra0, dec0, radius_deg, false)
                         ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, false) END
            AND CASE WHEN small THEN public._hpx_near_bound0(ra0, dec0, radius_deg, true)
                     ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, true) END
        AND hpx > (ra0 IS NULL)::int - 2 AND hpx > (dec0 IS NULL)::int - 2)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 1, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 1, true)
        AND hpx > (ra0 IS NULL)::int - 3 AND hpx > (dec0 IS NULL)::int - 3)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 2, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 2, true)
        AND hpx > (ra0 IS NULL)::int - 4 AND hpx > (dec0 IS NULL)::int - 4)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 3, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 3, true)
        AND hpx > (ra0 IS NULL)::int - 5 AND hpx > (dec0 IS NULL)::int - 5)
$$;
COMMENT ON FUNCTION public._hpx_in_near_ranges(bigint, float8, float8, float8, boolean) IS
    'Private: true when hpx lies in one of the four near-cover ranges of the disc (ra0, '
    'dec0 [deg], radius_deg [deg]).';

-- hpx inside the cover of the disc: its near ranges, and for radii over 0.03 deg (108")
-- the fine cover too. With a constant disc the fine cover is computed once at plan time
-- (the array argument of _hpx_in_ranges is folded before that function is inlined) and
-- its up to 40 ranges drive the index, the near ranges only narrowing them. With a
-- column as centre, the cover's COST keeps _hpx_in_ranges from being inlined: the near
-- ranges drive the probe, and the cover is computed only for the rows that pass the
-- caller's exact test (the cheaper filter comes first), not for every range bound of
-- every outer row.
CREATE OR REPLACE FUNCTION public._hpx_in_disc_cover(hpx bigint, ra0 float8, dec0 float8,
                                                     radius_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (radius_deg <= 0.03 AND public._hpx_in_near_ranges(hpx, ra0, dec0, radius_deg, true))
    OR (NOT radius_deg <= 0.03
        AND public._hpx_in_near_ranges(hpx, ra0, dec0, radius_deg, false)
        AND public._hpx_in_ranges(hpx, public._hpx_disc_cover(ra0, dec0, radius_deg)))
$$;
COMMENT ON FUNCTION public._hpx_in_disc_cover(bigint, float8, float8, float8) IS
    'Private: true when hpx lies in the cover of the disc (ra0, dec0 [deg], radius_deg '
    '[deg]); inlined, its ranges are index conditions on hpx.';

-- =================================================================================
-- The cover as rows: cone searches as a join that is planned once
-- =================================================================================

-- The cover of a disc as rows (lo, hi, whole) of hpx ranges, sorted and disjoint: the
-- near pixels up to 0.03 deg (whole = false), the fine cover above, whose ranges wholly
-- inside the disc have whole = true. A cone search written as a join of these rows with a
-- table on _hpx_in_range(t.hpx, c.lo, c.hi) computes the cover when it runs, not when it
-- is planned, so its plan does not depend on the disc: planned once inside a PL/pgSQL
-- function (psc_cone and the other cone functions, sql/cone.sql), it is reused for every
-- cone of the session. A constant-disc hpx_radial_query is planned anew for every cone,
-- and planning its up to 40 index ranges costs more than running them (600" and 1 deg
-- cones: 2 to 3 ms of planning against 0.2 to 1 ms of execution). The rows of a whole
-- range need no exact test: a count reads them from the index alone (an index-only scan
-- on a vacuumed table, as a release's catalogs are). PL/pgSQL with ROWS 16, so that a
-- generic plan estimates a few ranges, not 1,000.
CREATE OR REPLACE FUNCTION public.hpx_cone_ranges(ra0_deg float8, dec0_deg float8,
                                                  radius_deg float8)
RETURNS TABLE (lo bigint, hi bigint, whole boolean)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 16 AS $$
DECLARE
    k int;
    s int;
BEGIN
    IF NOT radius_deg <= 0.03 THEN
        RETURN QUERY SELECT * FROM public._hpx_fine_cover(ra0_deg, dec0_deg, radius_deg);
        RETURN;
    END IF;
    PERFORM public._hpx_check_disc(ra0_deg, dec0_deg, radius_deg);
    k := public._hpx_near_order(radius_deg);
    s := 2 * (29 - k);
    RETURN QUERY SELECT p << s, ((p + 1) << s) - 1, false
    FROM unnest(public._hpx_near_pixels(ra0_deg, dec0_deg, radius_deg, k)) AS p ORDER BY 1;
END
$$;
COMMENT ON FUNCTION public.hpx_cone_ranges(float8, float8, float8) IS
    'Sorted, disjoint hpx ranges (lo, hi) covering the disc (ra0_deg, dec0_deg [deg], '
    'radius_deg [deg]); whole = true when every point of the range lies inside the disc. '
    'Join them with a table on _hpx_in_range(t.hpx, lo, hi), then test the exact distance '
    'where whole is false (as psc_cone does).';

-- hpx in [lo, hi], as a join condition on the rows of hpx_cone_ranges. The planner
-- estimates a join's inequality at 1/3 whatever the bounds, so the range alone would be
-- priced at a ninth of the table per cover range and lose to a scan of the table; eight
-- always-true inequalities (each bound widened by 1 to 4, which folds nothing and reads
-- nothing more: the B-tree keeps the tightest bound of each side) bring the estimate to
-- about 1/60,000 of the table per range, which prices the index probe correctly for any
-- table of the size where it matters.
CREATE OR REPLACE FUNCTION public._hpx_in_range(hpx bigint, lo bigint, hi bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT hpx >= lo AND hpx <= hi
   AND hpx > lo - 1 AND hpx > lo - 2 AND hpx > lo - 3 AND hpx > lo - 4
   AND hpx < hi + 1 AND hpx < hi + 2 AND hpx < hi + 3 AND hpx < hi + 4
$$;
COMMENT ON FUNCTION public._hpx_in_range(bigint, bigint, bigint) IS
    'Private: lo <= hpx <= hi, with redundant bounds that make the planner probe the hpx '
    'index per range of hpx_cone_ranges.';
