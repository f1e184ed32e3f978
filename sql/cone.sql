-- Cone search and nearest neighbours over the catalogs: psc_cone, xsc_cone, wdb_cone,
-- psc_nearest. Needs the functions of sql/hpx/
--
-- Each function returns every column of its relation, in order, plus dist_arcsec,
-- nearest first. The column lists are written out: the published views public.psc and
-- public.xsc exist only once a release is published, and publishing replaces them with
-- CREATE OR REPLACE VIEW over release tables of this same layout, so nothing that
-- depends on them (these functions, a user's views) is ever dropped. The bodies are
-- therefore not checked when this file runs (check_function_bodies = off, as pg_dump
-- does); they are checked when called, and before a release is published psc_cone and
-- xsc_cone report that public.psc / public.xsc do not exist.
--
-- The functions are PL/pgSQL: one statement takes the disc's cover (hpx_cone_ranges)
-- into arrays, the next reads the table's hpx index for each of their ranges, so it is
-- planned once per session and its plan reused for every cone (sql/hpx/cover.sql says
-- why that is faster than the inlined hpx_radial_query). plan_cache_mode =
-- force_generic_plan makes it so: left to choose, the plan cache kept making custom plans,
-- estimated cheaper, and planned every call again (1 to 4 ms of a 600" or 1 deg cone).
-- The same statement serves plain tables and tables partitioned by sky
-- (sql/partitions.sql), whose generic plan holds every partition:
-- - the cover's whole span, hpx BETWEEN cover_lo AND cover_hi with the two bounds as
--   the statement's parameters, lets the executor drop the partitions outside it before
--   it starts their scans (initial pruning). Without it every call started the scans of
--   all partitions: 5 to 25 times slower than a plain table at orders 2 and 3;
-- - each range is read by a LATERAL subquery, so that the table is always the inner
--   side, probed range by range; joined to the ranges instead, the planner read the
--   whole span once (its parameters hide its size) and tested every row against every
--   range: 4 times slower at 1 deg;
-- - no parallel workers: seeing the span's bounds as parameters the planner took the
--   table for small and planned a parallel scan, whose workers cost more to start (10
--   to 40 ms) than any cone.
-- Measured on 1,000,000 points (benchmarks/README.md, "Partitioning by sky"): within
-- 0.9 to 1.2 times the plain table's latency at orders 0 to 2, 2" to 1 deg; on a plain
-- table the same as the former join of the ranges, within the noise.
-- NULL arguments give no rows.
--
-- The exact test is hpx_radial_query's, _hpx_sindist < sin^2(r/2), Q3C's arithmetic
-- operation for operation, written out over two subquery levels (OFFSET 0 keeps each
-- level from being folded into the next) so that each of its three sines is computed
-- once per row, not twice, and its result, the haversine sin^2(d/2), gives the distance
-- d = 2 asin(sqrt(hav)) as well (where hpx_dist would compute a second set of sines): a
-- 1 deg cone on 50 million points (3,800 rows) in 2.2 instead of 3.6 ms.
-- Rows in a range of the cover wholly inside the disc (whole) skip the comparison; the
-- count (psc_nearest) reads them from the index alone. The column lists are written out
-- once more in the SELECT: the subqueries carry the row's columns and the test's terms.

SET LOCAL check_function_bodies = off;

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
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
    -- The disc's cover, and the hpx range it spans (cover_lo .. cover_hi).
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
    INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
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
                FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                CROSS JOIN LATERAL (
                    SELECT * FROM public.psc AS p
                    WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                      AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
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
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
    -- The disc's cover, and the hpx range it spans (cover_lo .. cover_hi).
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
    INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
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
                FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                CROSS JOIN LATERAL (
                    SELECT * FROM public.xsc AS p
                    WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                      AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
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
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    -- The exact test's bound, a constant of the plan (an expression of the arguments
    -- would be evaluated for every row read).
    s_max float8 := power(sin(radians(radius_arcsec / 3600) / 2), 2);
    -- The disc's cover, and the hpx range it spans (cover_lo .. cover_hi).
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
    INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
    FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
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
                FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                CROSS JOIN LATERAL (
                    SELECT * FROM wdb.pts AS p
                    WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                      AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
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
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    radius_arcsec float8 := 10;
    s_max float8;
    found_rows bigint;
    range_lo bigint[];
    range_hi bigint[];
    range_whole boolean[];
    cover_lo bigint;
    cover_hi bigint;
BEGIN
    IF k < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('k must be >= 0, got %s', k);
    END IF;
    LOOP
        -- The rows of psc_cone, counted: those of the whole ranges from the hpx index
        -- alone, the others through psc_cone's exact test.
        s_max := power(sin(radians(radius_arcsec / 3600) / 2), 2);
        SELECT array_agg(c.lo), array_agg(c.hi), array_agg(c.whole), min(c.lo), max(c.hi)
        INTO range_lo, range_hi, range_whole, cover_lo, cover_hi
        FROM public.hpx_cone_ranges(ra0_deg, dec0_deg, radius_arcsec / 3600) AS c;
        SELECT (SELECT count(*)
                FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                CROSS JOIN LATERAL (
                    SELECT 1 FROM public.psc AS p
                    WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                      AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
                WHERE c.whole)
             + (SELECT count(*) FROM (
                    SELECT u.sin_dra * u.sin_dra * (u.cos_mdec * u.cos_mdec - u.sin_ddec * u.sin_ddec)
                           + u.sin_ddec * u.sin_ddec AS hav
                    FROM (SELECT sin((t.ra - ra0_deg) / 2 * 0.017453292519943295::float8) AS sin_dra,
                                 cos((t.dec + dec0_deg) / 2 * 0.017453292519943295::float8) AS cos_mdec,
                                 sin((t.dec - dec0_deg) / 2 * 0.017453292519943295::float8) AS sin_ddec
                          FROM unnest(range_lo, range_hi, range_whole) AS c (lo, hi, whole)
                          CROSS JOIN LATERAL (
                              SELECT p.ra, p.dec FROM public.psc AS p
                              WHERE public._hpx_in_range(p.hpx, c.lo, c.hi)
                                AND p.hpx BETWEEN cover_lo AND cover_hi OFFSET 0) AS t
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
