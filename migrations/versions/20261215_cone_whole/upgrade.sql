-- Revision 20261215: the disc's fine cover marks the ranges wholly inside the disc
-- (_hpx_fine_cover; hpx_cone_ranges gains the column whole), in a loop that tests the
-- four children of each split pixel; the cone functions compute the exact test's sines
-- once per row and the distance from its haversine; psc_nearest counts whole ranges from
-- the index alone. Same rows, same covers for the inlined predicates.
-- Frozen: a copy of the definitions in sql/ when it was written.

SET LOCAL check_function_bodies = off;

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

DROP FUNCTION public.hpx_cone_ranges(float8, float8, float8);

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
    SELECT
        w.ra, w."dec", w.err_maj, w.err_min, w.err_ang, w.designation, w.j_m, w.j_cmsig,
        w.j_msigcom, w.j_snr, w.h_m, w.h_cmsig, w.h_msigcom, w.h_snr, w.k_m, w.k_cmsig,
        w.k_msigcom, w.k_snr, w.ph_qual, w.rd_flg, w.bl_flg, w.cc_flg, w.ndet, w.prox,
        w.pxpa, w.pxcntr, w.gal_contam, w.mp_flg, w.pts_key, w.hemis, w.date, w.scan,
        w.glon, w.glat, w.x_scan, w.jdate, w.j_psfchi, w.h_psfchi, w.k_psfchi, w.j_m_stdap,
        w.j_msig_stdap, w.h_m_stdap, w.h_msig_stdap, w.k_m_stdap, w.k_msig_stdap,
        w.dist_edge_ns, w.dist_edge_ew, w.dist_edge_flg, w.dup_src, w.use_src, w.a,
        w.dist_opt, w.phi_opt, w.b_m_opt, w.vr_m_opt, w.nopt_mchs, w.ext_key, w.scan_key,
        w.coadd_key, w.coadd, w.hpx,
        degrees(2 * asin(sqrt(w.hav))) * 3600
    FROM (SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                      + u.sin_ddec * u.sin_ddec AS hav
          FROM (SELECT t.*, c.whole AS in_whole,
                       sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                       cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                       sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
                JOIN public.psc AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
                OFFSET 0) AS u
          OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < s_max
    ORDER BY degrees(2 * asin(sqrt(w.hav))) * 3600;  -- the column: once
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
    SELECT
        w.ext_key, w.designation, w.jdate, w.pts_key, w.night_key, w.scan_key, w.coadd_key,
        w.hemis, w.date, w.scan, w.coadd, w.id, w.x_coadd, w.y_coadd, w.ra, w."dec",
        w.sup_ra, w.sup_dec, w.glon, w.glat, w.density, w.r_k20fe, w.j_m_k20fe,
        w.j_msig_k20fe, w.j_flg_k20fe, w.h_m_k20fe, w.h_msig_k20fe, w.h_flg_k20fe,
        w.k_m_k20fe, w.k_msig_k20fe, w.k_flg_k20fe, w.j_m_7, w.j_msig_7, w.h_m_7,
        w.h_msig_7, w.k_m_7, w.k_msig_7, w.r_3sig, w.j_ba, w.j_phi, w.h_ba, w.h_phi,
        w.k_ba, w.k_phi, w.sup_ba, w.sup_phi, w.r_ext, w.j_m_ext, w.j_msig_ext, w.h_m_ext,
        w.h_msig_ext, w.k_m_ext, w.k_msig_ext, w.e_score, w.g_score, w.vc, w.cc_flg,
        w.dup_src, w.use_src, w.prox, w.pxpa, w.pxcntr, w.dist_edge_ns, w.dist_edge_ew,
        w.dist_edge_flg, w.mp_flg, w.hpx,
        degrees(2 * asin(sqrt(w.hav))) * 3600
    FROM (SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                      + u.sin_ddec * u.sin_ddec AS hav
          FROM (SELECT t.*, c.whole AS in_whole,
                       sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                       cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                       sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
                JOIN public.xsc AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
                OFFSET 0) AS u
          OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < s_max
    ORDER BY degrees(2 * asin(sqrt(w.hav))) * 3600;  -- the column: once
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
    SELECT
        w.scan_key, w.id, w.ra, w."dec", w.hpx, w.err_maj, w.err_min, w.err_ang, w.j_m,
        w.j_cmsig, w.j_msigcom, w.j_snr, w.h_m, w.h_cmsig, w.h_msigcom, w.h_snr, w.k_m,
        w.k_cmsig, w.k_msigcom, w.k_snr, w.rd_flg, w.bl_flg, w.cc_flg, w.ndet, w.cnf_flg,
        w.mp_flg, w.x_scan, w.y_scan, w.jdate, w.j_psfchi, w.h_psfchi, w.k_psfchi,
        w.j_m_stdap, w.h_m_stdap, w.k_m_stdap, w.j_msig_stdap, w.h_msig_stdap,
        w.k_msig_stdap, w.dist_edge_ns, w.dist_edge_ew, w.dist_edge_flg, w.coadd, w.a,
        w.dist_opt, w.phi_opt, w.b_m_opt, w.vr_m_opt, w.nopt_mchs, w.j_msig, w.h_msig,
        w.k_msig,
        degrees(2 * asin(sqrt(w.hav))) * 3600
    FROM (SELECT u.*, u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                      + u.sin_ddec * u.sin_ddec AS hav
          FROM (SELECT t.*, c.whole AS in_whole,
                       sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                       cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                       sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c
                JOIN wdb.pts AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
                OFFSET 0) AS u
          OFFSET 0) AS w
    WHERE w.in_whole OR w.hav < s_max
    ORDER BY degrees(2 * asin(sqrt(w.hav))) * 3600;  -- the column: once
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
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    radius_arcsec float8 := 10;
    s_max float8;
    found_rows bigint;
BEGIN
    IF k < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('k must be >= 0, got %s', k);
    END IF;
    LOOP
        -- The rows of psc_cone, counted: those of the whole ranges from the hpx index
        -- alone, the others through psc_cone's exact test.
        s_max := power(sin(radians(radius_arcsec / 3600) / 2), 2);
        WITH c AS MATERIALIZED (
            SELECT * FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600))
        SELECT (SELECT count(*) FROM c JOIN public.psc AS t
                ON public._hpx_in_range(t.hpx, c.lo, c.hi) WHERE c.whole)
             + (SELECT count(*) FROM (
                    SELECT u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                           + u.sin_ddec * u.sin_ddec AS hav
                    FROM (SELECT sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                                 cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                                 sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                          FROM c JOIN public.psc AS t ON public._hpx_in_range(t.hpx, c.lo, c.hi)
                          WHERE NOT c.whole OFFSET 0) AS u
                    OFFSET 0) AS w
                WHERE w.hav < s_max)
        INTO found_rows;
        EXIT WHEN found_rows >= k OR radius_arcsec >= 180 * 3600;
        radius_arcsec := least(radius_arcsec * 4, 180 * 3600);
    END LOOP;
    RETURN QUERY SELECT * FROM public.psc_cone(ra0_deg, dec0_deg, radius_arcsec) LIMIT k;
END
$$;
COMMENT ON FUNCTION public.psc_nearest(float8, float8, integer) IS
    'The k rows of the Point Source Catalog nearest to (ra0_deg, dec0_deg) [deg], '
    'without a radius limit, nearest first, with dist_arcsec [arcsec].';
