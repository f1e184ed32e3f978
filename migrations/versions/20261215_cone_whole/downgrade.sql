-- Downgrade of revision 20261215: the definitions of revision 20261212 (20261214 left
-- them unchanged).
-- Frozen.

SET LOCAL check_function_bodies = off;

DROP FUNCTION public.hpx_cone_ranges(float8, float8, float8);

-- The cover of a disc as rows (lo, hi) of hpx ranges, sorted and disjoint: the near
-- pixels up to 0.03 deg, the fine cover above. A cone search written as a join of these
-- rows with a table on _hpx_in_range(t.hpx, c.lo, c.hi) computes the cover when it runs,
-- not when it is planned, so its plan does not depend on the disc: planned once inside a
-- PL/pgSQL function (psc_cone and the other cone functions, sql/cone.sql), it is reused
-- for every cone of the session. A constant-disc hpx_radial_query is planned anew for
-- every cone, and planning its up to 40 index ranges costs more than running them (600"
-- and 1 deg cones: 2 to 3 ms of planning against 0.2 to 1 ms of execution).
-- PL/pgSQL with ROWS 16, so that a generic plan estimates a few ranges, not 1,000.
CREATE OR REPLACE FUNCTION public.hpx_cone_ranges(ra0_deg float8, dec0_deg float8,
                                                  radius_deg float8)
RETURNS TABLE (lo bigint, hi bigint)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 16 AS $$
DECLARE
    k int;
    s int;
    c bigint[];
BEGIN
    IF NOT radius_deg <= 0.03 THEN
        c := public._hpx_disc_cover(ra0_deg, dec0_deg, radius_deg);
    ELSE
        PERFORM public._hpx_check_disc(ra0_deg, dec0_deg, radius_deg);
        k := public._hpx_near_order(radius_deg);
        s := 2 * (29 - k);
        SELECT array_agg(b ORDER BY b) INTO c
        FROM unnest(public._hpx_near_pixels(ra0_deg, dec0_deg, radius_deg, k)) AS p,
             LATERAL (VALUES (p << s), (((p + 1) << s) - 1)) AS v(b);
    END IF;
    RETURN QUERY SELECT c[2 * i - 1], c[2 * i] FROM generate_series(1, cardinality(c) / 2) AS i;
END
$$;
COMMENT ON FUNCTION public.hpx_cone_ranges(float8, float8, float8) IS
    'Sorted, disjoint hpx ranges (lo, hi) covering the disc (ra0_deg, dec0_deg [deg], '
    'radius_deg [deg]): join them with a table on _hpx_in_range(t.hpx, lo, hi), then test '
    'the exact distance (as psc_cone does).';

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
        FOREACH p IN ARRAY public._hpx_near_pixels(ra0, dec0, radius_deg, k) LOOP
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

DROP FUNCTION public._hpx_fine_cover(float8, float8, float8);

CREATE OR REPLACE FUNCTION public.psc_cone(ra0_deg float8, dec0_deg float8,
                                          radius_arcsec float8)
RETURNS TABLE (
    ra double precision, "dec" double precision, err_maj real, err_min real, err_ang
    smallint, designation character(17), j_m real, j_cmsig real, j_msigcom real, j_snr
    real, h_m real, h_cmsig real, h_msigcom real, h_snr real, k_m real, k_cmsig real,
    k_msigcom real, k_snr real, ph_qual character(3), rd_flg character(3), bl_flg
    character(3), cc_flg character(3), ndet character(6), prox real, pxpa smallint,
    pxcntr integer, gal_contam smallint, mp_flg smallint, pts_key integer, hemis
    character(1), date date, scan smallint, glon real, glat real, x_scan real, jdate
    double precision, j_psfchi real, h_psfchi real, k_psfchi real, j_m_stdap real,
    j_msig_stdap real, h_m_stdap real, h_msig_stdap real, k_m_stdap real, k_msig_stdap
    real, dist_edge_ns integer, dist_edge_ew integer, dist_edge_flg character(2),
    dup_src smallint, use_src smallint, a character(1), dist_opt real, phi_opt smallint,
    b_m_opt real, vr_m_opt real, nopt_mchs smallint, ext_key integer, scan_key integer,
    coadd_key integer, coadd smallint, hpx bigint, dist_arcsec double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
BEGIN
    RETURN QUERY
    SELECT t.*, public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
    JOIN public.psc AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
    WHERE public._hpx_sindist(t.ra, t.dec, ra0_deg, dec0_deg) < s_max
    ORDER BY public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600;  -- the column: once
END
$$;
COMMENT ON FUNCTION public.psc_cone(float8, float8, float8) IS
    'Rows of the Point Source Catalog (published release) strictly within radius_arcsec [arcsec] of '
    '(ra0_deg, dec0_deg) [deg], nearest first, with dist_arcsec [arcsec], the distance to '
    'the centre.';

CREATE OR REPLACE FUNCTION public.xsc_cone(ra0_deg float8, dec0_deg float8,
                                          radius_arcsec float8)
RETURNS TABLE (
    ext_key integer, designation character(17), jdate double precision, pts_key integer,
    night_key integer, scan_key integer, coadd_key integer, hemis character(1), date
    date, scan smallint, coadd smallint, id integer, x_coadd real, y_coadd real, ra
    double precision, "dec" double precision, sup_ra double precision, sup_dec double
    precision, glon real, glat real, density real, r_k20fe real, j_m_k20fe real,
    j_msig_k20fe real, j_flg_k20fe smallint, h_m_k20fe real, h_msig_k20fe real,
    h_flg_k20fe smallint, k_m_k20fe real, k_msig_k20fe real, k_flg_k20fe smallint, j_m_7
    real, j_msig_7 real, h_m_7 real, h_msig_7 real, k_m_7 real, k_msig_7 real, r_3sig
    real, j_ba real, j_phi smallint, h_ba real, h_phi smallint, k_ba real, k_phi
    smallint, sup_ba real, sup_phi smallint, r_ext real, j_m_ext real, j_msig_ext real,
    h_m_ext real, h_msig_ext real, k_m_ext real, k_msig_ext real, e_score real, g_score
    real, vc smallint, cc_flg character(1), dup_src smallint, use_src smallint, prox
    real, pxpa smallint, pxcntr integer, dist_edge_ns integer, dist_edge_ew integer,
    dist_edge_flg character(2), mp_flg smallint, hpx bigint, dist_arcsec double
    precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
BEGIN
    RETURN QUERY
    SELECT t.*, public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
    JOIN public.xsc AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
    WHERE public._hpx_sindist(t.ra, t.dec, ra0_deg, dec0_deg) < s_max
    ORDER BY public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600;  -- the column: once
END
$$;
COMMENT ON FUNCTION public.xsc_cone(float8, float8, float8) IS
    'Rows of the Extended Source Catalog (published release) strictly within radius_arcsec [arcsec] of '
    '(ra0_deg, dec0_deg) [deg], nearest first, with dist_arcsec [arcsec], the distance to '
    'the centre.';

CREATE OR REPLACE FUNCTION public.wdb_cone(ra0_deg float8, dec0_deg float8,
                                          radius_arcsec float8)
RETURNS TABLE (
    scan_key integer, id integer, ra double precision, "dec" double precision, hpx
    bigint, err_maj real, err_min real, err_ang smallint, j_m real, j_cmsig real,
    j_msigcom real, j_snr real, h_m real, h_cmsig real, h_msigcom real, h_snr real, k_m
    real, k_cmsig real, k_msigcom real, k_snr real, rd_flg character(3), bl_flg
    character(3), cc_flg character(3), ndet character(6), cnf_flg character(6), mp_flg
    smallint, x_scan real, y_scan real, jdate double precision, j_psfchi real, h_psfchi
    real, k_psfchi real, j_m_stdap real, h_m_stdap real, k_m_stdap real, j_msig_stdap
    real, h_msig_stdap real, k_msig_stdap real, dist_edge_ns integer, dist_edge_ew
    integer, dist_edge_flg character(2), coadd smallint, a character(1), dist_opt real,
    phi_opt smallint, b_m_opt real, vr_m_opt real, nopt_mchs smallint, j_msig real, h_msig
    real, k_msig real, dist_arcsec double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
BEGIN
    RETURN QUERY
    SELECT t.*, public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
    JOIN wdb.pts AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
    WHERE public._hpx_sindist(t.ra, t.dec, ra0_deg, dec0_deg) < s_max
    ORDER BY public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600;  -- the column: once
END
$$;
COMMENT ON FUNCTION public.wdb_cone(float8, float8, float8) IS
    'Rows of the working-database point extractions (wdb.pts) strictly within radius_arcsec [arcsec] of '
    '(ra0_deg, dec0_deg) [deg], nearest first, with dist_arcsec [arcsec], the distance to '
    'the centre.';

-- psc_nearest: the k nearest catalog rows, at any distance. The radius grows by 4x from
-- 10 arcsec until the cone holds k rows (the k nearest are then all inside), or covers
-- the sky.
CREATE OR REPLACE FUNCTION public.psc_nearest(ra0_deg float8, dec0_deg float8, k integer)
RETURNS TABLE (
    ra double precision, "dec" double precision, err_maj real, err_min real, err_ang
    smallint, designation character(17), j_m real, j_cmsig real, j_msigcom real, j_snr
    real, h_m real, h_cmsig real, h_msigcom real, h_snr real, k_m real, k_cmsig real,
    k_msigcom real, k_snr real, ph_qual character(3), rd_flg character(3), bl_flg
    character(3), cc_flg character(3), ndet character(6), prox real, pxpa smallint,
    pxcntr integer, gal_contam smallint, mp_flg smallint, pts_key integer, hemis
    character(1), date date, scan smallint, glon real, glat real, x_scan real, jdate
    double precision, j_psfchi real, h_psfchi real, k_psfchi real, j_m_stdap real,
    j_msig_stdap real, h_m_stdap real, h_msig_stdap real, k_m_stdap real, k_msig_stdap
    real, dist_edge_ns integer, dist_edge_ew integer, dist_edge_flg character(2),
    dup_src smallint, use_src smallint, a character(1), dist_opt real, phi_opt smallint,
    b_m_opt real, vr_m_opt real, nopt_mchs smallint, ext_key integer, scan_key integer,
    coadd_key integer, coadd smallint, hpx bigint, dist_arcsec double precision)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10 AS $$
DECLARE
    radius_arcsec float8 := 10;
    found_rows bigint;
BEGIN
    IF k < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('k must be >= 0, got %s', k);
    END IF;
    LOOP
        SELECT count(*) INTO found_rows FROM public.psc_cone(ra0_deg, dec0_deg, radius_arcsec);
        EXIT WHEN found_rows >= k OR radius_arcsec >= 180 * 3600;
        radius_arcsec := least(radius_arcsec * 4, 180 * 3600);
    END LOOP;
    RETURN QUERY SELECT * FROM public.psc_cone(ra0_deg, dec0_deg, radius_arcsec) LIMIT k;
END
$$;
COMMENT ON FUNCTION public.psc_nearest(float8, float8, integer) IS
    'The k rows of the Point Source Catalog nearest to (ra0_deg, dec0_deg) [deg], '
    'without a radius limit, nearest first, with dist_arcsec [arcsec].';
