-- Downgrade of revision 20261208: back to the functions and columns of 20261206. Frozen.

-- ---------------------------------------------------------------------------------------
-- Frame-detection statistics (ndet): two digits per band, N detections then M possible.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_ndet_ok(
    ndet char(2), snr real, min_ratio real DEFAULT 0.41, bright_snr real DEFAULT 20.0)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- The N/M test applies only to bright detections (scan S/N >= bright_snr): those must
    -- be seen on enough of the frames where a detection was possible, which removes
    -- transients (cosmic rays, meteor trails) that appear on one or two frames only.
    -- Measurable on 3 or more frames: N/M >= min_ratio; on exactly 2: detected on both;
    -- on fewer: a bright detection cannot be confirmed and fails.
    SELECT CASE
        WHEN snr IS NULL OR snr < bright_snr THEN true
        WHEN ndet IS NULL OR ndet !~ '^[0-9][0-9]$' THEN false
        WHEN substr(ndet, 2, 1)::int >= 3
            THEN substr(ndet, 1, 1)::int >= min_ratio * substr(ndet, 2, 1)::int
        WHEN substr(ndet, 2, 1)::int = 2 THEN substr(ndet, 1, 1)::int = 2
        ELSE false
    END
$$;
COMMENT ON FUNCTION public.tmass_ndet_ok(char(2), real, real, real) IS
'2MASS frame-detection (N/M) test for one band. ndet = N detections then M possible frames '
'(two digits). Passes when the scan S/N is below bright_snr (test not applicable), or '
'M >= 3 and N/M >= min_ratio (default 0.41), or M = 2 and N = 2.';

-- ---------------------------------------------------------------------------------------
-- ph_qual, one band (Explanatory Supplement sec. 4.1): first matching of X U F E A B C D.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_ph_qual_grade(snr real, cmsig real)
RETURNS char(1)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- A/B/C need both the scan S/N and the measurement uncertainty (AND, unlike the
    -- catalog S/N cut, which accepts either).
    SELECT CASE WHEN snr > 10.0 AND cmsig < 0.10857 THEN 'A'
                WHEN snr > 7.0 AND cmsig < 0.15510 THEN 'B'
                WHEN snr > 5.0 AND cmsig < 0.21714 THEN 'C'
                ELSE 'D' END
$$;
COMMENT ON FUNCTION public.tmass_ph_qual_grade(real, real) IS
'2MASS photometric quality letter of a valid measurement: A (snr > 10 and cmsig < 0.10857), '
'B (> 7, < 0.15510), C (> 5, < 0.21714), else D.';

CREATE OR REPLACE FUNCTION public.tmass_ph_qual_band(
    rd_flg char(1), snr real, cmsig real, psfchi real, ndet char(2))
RETURNS char(1)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- One CASE on rd_flg, so that the planner evaluates it once per band when it inlines
    -- this function into tmass_ph_qual.
    SELECT CASE rd_flg
        -- X: detected but no valid brightness estimate.
        WHEN '9' THEN 'X'
        -- U: upper limit (not detected, or not deblended consistently with other bands).
        WHEN '0' THEN 'U'
        WHEN '6' THEN 'U'
        -- E: aperture fallback.
        WHEN '4' THEN 'E'
        -- F: saturated-star photometry without a reliable uncertainty (sentinel > 8 mag);
        -- E: too few detection frames.
        WHEN '1' THEN CASE WHEN cmsig IS NULL OR cmsig > 8.0 THEN 'F'
                           WHEN NOT public.tmass_ndet_ok(ndet, snr) THEN 'E'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
        -- E: poor profile fit or too few detection frames.
        WHEN '2' THEN CASE WHEN psfchi > 10.0 OR NOT public.tmass_ndet_ok(ndet, snr) THEN 'E'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
        WHEN '3' THEN CASE WHEN cmsig IS NULL OR cmsig > 8.0 THEN 'F'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
    END
$$;
COMMENT ON FUNCTION public.tmass_ph_qual_band(char(1), real, real, real, char(2)) IS
'2MASS photometric quality of one band from rd_flg, scan S/N, cmsig, psfchi and ndet: '
'the first of X (rd 9), U (rd 0/6), F (rd 1/3, cmsig > 8), E (rd 2 with psfchi > 10, rd 4, '
'or rd 1/2 failing tmass_ndet_ok), A (snr > 10 and cmsig < 0.10857), B (> 7, < 0.15510), '
'C (> 5, < 0.21714), D (rd 1/2/3). NULL for an unknown rd_flg.';

CREATE OR REPLACE FUNCTION public.tmass_ph_qual(
    rd_flg char(3), j_snr real, j_cmsig real, j_psfchi real,
    h_snr real, h_cmsig real, h_psfchi real,
    k_snr real, k_cmsig real, k_psfchi real, ndet char(6))
RETURNS char(3)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT public.tmass_ph_qual_band(substr(rd_flg, 1, 1)::char(1), j_snr, j_cmsig, j_psfchi,
                                     substr(ndet, 1, 2)::char(2))
        || public.tmass_ph_qual_band(substr(rd_flg, 2, 1)::char(1), h_snr, h_cmsig, h_psfchi,
                                     substr(ndet, 3, 2)::char(2))
        || public.tmass_ph_qual_band(substr(rd_flg, 3, 1)::char(1), k_snr, k_cmsig, k_psfchi,
                                     substr(ndet, 5, 2)::char(2))
$$;
COMMENT ON FUNCTION public.tmass_ph_qual(char(3), real, real, real, real, real, real,
                                         real, real, real, char(6)) IS
'2MASS ph_qual of a source: tmass_ph_qual_band for J, H and Ks concatenated.';

-- ---------------------------------------------------------------------------------------
-- Total photometric uncertainty (PSC [jhk]_msigcom).
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_msigcom(
    cmsig real, rd_flg char(1), zperr real DEFAULT 0.011, fferr real DEFAULT 0.005,
    r1normrms real DEFAULT 0.012)
RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- Upper limits and unmeasured bands have no uncertainty; the > 8 mag sentinel of
    -- rd_flg 1/3 sources without a reliable cmsig is passed through unchanged.
    SELECT CASE
        WHEN cmsig IS NULL OR rd_flg NOT IN ('1', '2', '3', '4') THEN NULL
        WHEN cmsig > 8.0 THEN cmsig
        ELSE sqrt(cmsig ^ 2 + zperr ^ 2 + fferr ^ 2
                  + CASE WHEN rd_flg = '1' THEN r1normrms ^ 2 ELSE 0 END)::real
    END
$$;
COMMENT ON FUNCTION public.tmass_msigcom(real, char(1), real, real, real) IS
'2MASS total magnitude uncertainty: sqrt(cmsig^2 + zperr^2 + fferr^2 [+ r1normrms^2 when '
'rd_flg = 1]), defaults 0.011, 0.005, 0.012 mag; NULL for upper limits (rd_flg 0/6/9).';

-- Every release's psc_reject view back on the old tmass_ph_qual.
DO $views$
DECLARE
    target text;
BEGIN
    FOR target IN SELECT n.nspname FROM pg_class AS c
                  JOIN pg_namespace AS n ON n.oid = c.relnamespace
                  WHERE c.relname = 'psc_reject' AND c.relkind = 'v'
                    AND n.nspname <> 'public' AND to_regclass(format('%I.psc_reject_row', n.nspname)) IS NOT NULL
    LOOP
        EXECUTE format($view$CREATE OR REPLACE VIEW %1$I.psc_reject AS
SELECT ra, dec, err_maj, err_min, err_ang,
       tmass_designation(ra, dec)::char(17) COLLATE "C" AS designation,
       j_m, j_cmsig, j_msigcom, j_snr, h_m, h_cmsig, h_msigcom, h_snr,
       k_m, k_cmsig, k_msigcom, k_snr,
       tmass_ph_qual(rd_flg, j_snr, j_cmsig, j_psfchi, h_snr, h_cmsig, h_psfchi,
                     k_snr, k_cmsig, k_psfchi, ndet)::char(3) AS ph_qual,
       rd_flg, bl_flg, cc_flg, ndet,
       NULL::real AS prox, NULL::smallint AS pxpa, NULL::integer AS pxcntr,
       NULL::smallint AS gal_contam, mp_flg, pts_key, hemis, date, scan,
       tmass_glon(ra, dec)::real AS glon, tmass_glat(ra, dec)::real AS glat, x_scan, jdate,
       j_psfchi, h_psfchi, k_psfchi,
       j_m_stdap, j_msig_stdap, h_m_stdap, h_msig_stdap, k_m_stdap, k_msig_stdap,
       dist_edge_ns, dist_edge_ew, dist_edge_flg, dup_src, use_src,
       a, dist_opt, phi_opt, b_m_opt, vr_m_opt, nopt_mchs,
       NULL::integer AS ext_key, scan_key, coadd_key, coadd, hpx, reject_reason
FROM %1$I.psc_reject_row$view$, target);
    END LOOP;
END
$views$;

DROP FUNCTION public.tmass_ph_qual(char(3), real, real, real, real, real, real, real, real,
                                   real, real, real, real, char(6), real, real, integer, real,
                                   real, real);
DROP FUNCTION public.tmass_ph_qual_band(char(1), real, real, real, real, char(2), real, real,
                                        real, integer);
DROP FUNCTION public.tmass_ndet_source_ok(char(3), real, real, real, char(6), real, integer,
                                          real, real, real);
DROP FUNCTION public.tmass_ndet_ok(char(2), real, real, real, integer);
DROP FUNCTION public.tmass_msigcom(real, char(1), char(1), real, real);
DROP FUNCTION public.tmass_zperr(char(1));
ALTER TABLE wdb.pts DROP COLUMN j_msig, DROP COLUMN h_msig, DROP COLUMN k_msig;

-- wdb_cone without the msig columns.
DROP FUNCTION public.wdb_cone(float8, float8, float8);
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
    phi_opt smallint, b_m_opt real, vr_m_opt real, nopt_mchs smallint, dist_arcsec
    double precision)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 100 AS $$
    SELECT t.*, public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600
    FROM wdb.pts AS t
    WHERE public.hpx_radial_query(t.hpx, t.ra, t.dec, ra0_deg, dec0_deg, radius_arcsec / 3600)
    ORDER BY public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg)
$$;
COMMENT ON FUNCTION public.wdb_cone(float8, float8, float8) IS
    'Rows of the working-database point extractions (wdb.pts) strictly within radius_arcsec [arcsec] of '
    '(ra0_deg, dec0_deg) [deg], nearest first, with dist_arcsec [arcsec], the distance to '
    'the centre.';
