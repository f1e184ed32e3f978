-- Upgrade of revision 20261208: the frame-detection test by magnitude with its thresholds
-- as arguments (release spec fields), ph_qual taking the same thresholds, msigcom with
-- zero-point terms fitted per band, and the working database's msig columns. Frozen.

ALTER TABLE wdb.pts ADD COLUMN j_msig REAL, ADD COLUMN h_msig REAL, ADD COLUMN k_msig REAL;
COMMENT ON COLUMN wdb.pts.j_msig IS 'J measurement uncertainty of the default magnitude before correction (the S/N rule''s msig) [mag]';
COMMENT ON COLUMN wdb.pts.h_msig IS 'H measurement uncertainty of the default magnitude before correction (the S/N rule''s msig) [mag]';
COMMENT ON COLUMN wdb.pts.k_msig IS 'Ks measurement uncertainty of the default magnitude before correction (the S/N rule''s msig) [mag]';

-- ---------------------------------------------------------------------------------------
-- Frame-detection statistics (ndet): two digits per band, N detections then M possible.
-- ---------------------------------------------------------------------------------------
-- Reading (docs/release-rules.md, "Frame-detection test"): the test applies to bright
-- bands by MAGNITUDE (J < 14.5, H < 14.0, Ks < 13.5), the catalog-generation reading of
-- rule 7. Real PSC rows support it and refute the S/N >= 20 reading: in the M31 cone the
-- magnitude reading explains every E letter a low N/M can cause and contradicts no
-- A/B/C/D letter, where the S/N reading turns 390 real letters into E.
CREATE OR REPLACE FUNCTION public.tmass_ndet_ok(
    ndet char(2), m real, bright_mag real, min_ratio real DEFAULT 0.41,
    min_frames integer DEFAULT 3)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- A bright band (m < bright_mag) must be seen on enough of the frames where a
    -- detection was possible, which removes transients (satellite glints, cosmic rays,
    -- meteor flashes) that appear on one frame only. Measurable on min_frames (3) or
    -- more: N/M >= min_ratio; on exactly 2: detected on both; on fewer: fails. A faint
    -- band, or one without a magnitude, is not tested.
    SELECT CASE
        WHEN m IS NULL OR NOT m < bright_mag THEN true
        WHEN ndet IS NULL OR ndet !~ '^[0-9][0-9]$' THEN false
        WHEN substr(ndet, 2, 1)::int >= min_frames
            THEN substr(ndet, 1, 1)::int >= min_ratio * substr(ndet, 2, 1)::int
        WHEN substr(ndet, 2, 1)::int = 2 THEN substr(ndet, 1, 1)::int = 2
        ELSE false
    END
$$;
COMMENT ON FUNCTION public.tmass_ndet_ok(char(2), real, real, real, integer) IS
'2MASS frame-detection (N/M) test for one band. ndet = N detections then M possible frames '
'(two digits). Passes when the band is not bright (magnitude m NULL or >= bright_mag), or '
'M >= min_frames (default 3) and N/M >= min_ratio (default 0.41), or M = 2 and N = 2.';

CREATE OR REPLACE FUNCTION public.tmass_ndet_source_ok(
    rd_flg char(3), j_m real, h_m real, k_m real, ndet char(6),
    min_ratio real DEFAULT 0.41, min_frames integer DEFAULT 3,
    j_bright_mag real DEFAULT 14.5, h_bright_mag real DEFAULT 14.0,
    k_bright_mag real DEFAULT 13.5)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- Catalog rule 7 for a whole source: it has a saturated band (rd_flg 1 or 3), or a
    -- band measured on the Read_2 frames (rd_flg 2 profile fit, or 4 aperture after a
    -- failed fit) passes tmass_ndet_ok. Counting rd_flg 4 bands is what real rows need:
    -- 00424175+4116200 (rd_flg 402, ndet 560025) is a catalog source whose only profile-fit
    -- band fails (Ks 2 of 5 frames at Ks 13.1) while its J band, 5 of 6, passes.
    -- LIKE on the char(3) itself: several times cheaper per row than substr.
    SELECT (rd_flg LIKE '%1%' OR rd_flg LIKE '%3%')
        OR ((rd_flg LIKE '2%' OR rd_flg LIKE '4%')
            AND public.tmass_ndet_ok(substr(ndet, 1, 2)::char(2), j_m, j_bright_mag,
                                     min_ratio, min_frames))
        OR ((rd_flg LIKE '_2%' OR rd_flg LIKE '_4%')
            AND public.tmass_ndet_ok(substr(ndet, 3, 2)::char(2), h_m, h_bright_mag,
                                     min_ratio, min_frames))
        OR ((rd_flg LIKE '__2' OR rd_flg LIKE '__4')
            AND public.tmass_ndet_ok(substr(ndet, 5, 2)::char(2), k_m, k_bright_mag,
                                     min_ratio, min_frames))
$$;
COMMENT ON FUNCTION public.tmass_ndet_source_ok(char(3), real, real, real, char(6), real,
                                                integer, real, real, real) IS
'2MASS catalog rule 7 (frame detections) for a source: true when some band is saturated '
'(rd_flg 1 or 3) or some band with rd_flg 2 or 4 passes tmass_ndet_ok with its bright '
'magnitude (defaults J 14.5, H 14.0, Ks 13.5).';

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
    rd_flg char(1), m real, snr real, cmsig real, psfchi real, ndet char(2),
    bright_mag real, psfchi_max real DEFAULT 10.0, min_ratio real DEFAULT 0.41,
    min_frames integer DEFAULT 3)
RETURNS char(1)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- One CASE on rd_flg, so that the planner evaluates it once per band when it inlines
    -- this function into tmass_ph_qual. The psfchi and frame-detection thresholds are the
    -- catalog filters' own (release spec psfchi_max and ndet_*).
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
                           WHEN NOT public.tmass_ndet_ok(ndet, m, bright_mag, min_ratio,
                                                         min_frames) THEN 'E'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
        -- E: poor profile fit or too few detection frames.
        WHEN '2' THEN CASE WHEN psfchi > psfchi_max
                                OR NOT public.tmass_ndet_ok(ndet, m, bright_mag, min_ratio,
                                                            min_frames) THEN 'E'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
        WHEN '3' THEN CASE WHEN cmsig IS NULL OR cmsig > 8.0 THEN 'F'
                           ELSE public.tmass_ph_qual_grade(snr, cmsig) END
    END
$$;
COMMENT ON FUNCTION public.tmass_ph_qual_band(char(1), real, real, real, real, char(2), real,
                                              real, real, integer) IS
'2MASS photometric quality of one band from rd_flg, magnitude, scan S/N, cmsig, psfchi and '
'ndet: the first of X (rd 9), U (rd 0/6), F (rd 1/3, cmsig > 8), E (rd 2 with psfchi > '
'psfchi_max (10), rd 4, or rd 1/2 failing tmass_ndet_ok with bright_mag), A (snr > 10 and '
'cmsig < 0.10857), B (> 7, < 0.15510), C (> 5, < 0.21714), D (rd 1/2/3). NULL for an '
'unknown rd_flg.';

CREATE OR REPLACE FUNCTION public.tmass_ph_qual(
    rd_flg char(3), j_m real, j_snr real, j_cmsig real, j_psfchi real,
    h_m real, h_snr real, h_cmsig real, h_psfchi real,
    k_m real, k_snr real, k_cmsig real, k_psfchi real, ndet char(6),
    psfchi_max real DEFAULT 10.0, min_ratio real DEFAULT 0.41, min_frames integer DEFAULT 3,
    j_bright_mag real DEFAULT 14.5, h_bright_mag real DEFAULT 14.0,
    k_bright_mag real DEFAULT 13.5)
RETURNS char(3)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT public.tmass_ph_qual_band(substr(rd_flg, 1, 1)::char(1), j_m, j_snr, j_cmsig,
                                     j_psfchi, substr(ndet, 1, 2)::char(2), j_bright_mag,
                                     psfchi_max, min_ratio, min_frames)
        || public.tmass_ph_qual_band(substr(rd_flg, 2, 1)::char(1), h_m, h_snr, h_cmsig,
                                     h_psfchi, substr(ndet, 3, 2)::char(2), h_bright_mag,
                                     psfchi_max, min_ratio, min_frames)
        || public.tmass_ph_qual_band(substr(rd_flg, 3, 1)::char(1), k_m, k_snr, k_cmsig,
                                     k_psfchi, substr(ndet, 5, 2)::char(2), k_bright_mag,
                                     psfchi_max, min_ratio, min_frames)
$$;
COMMENT ON FUNCTION public.tmass_ph_qual(char(3), real, real, real, real, real, real, real,
                                         real, real, real, real, real, char(6), real, real,
                                         integer, real, real, real) IS
'2MASS ph_qual of a source: tmass_ph_qual_band for J, H and Ks concatenated (arguments per '
'band: m, snr, cmsig, psfchi; then ndet and the release-spec thresholds psfchi_max, '
'ndet_min_ratio, ndet_min_frames and the J/H/Ks bright magnitudes).';

-- ---------------------------------------------------------------------------------------
-- Total photometric uncertainty (PSC [jhk]_msigcom).
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_zperr(band char(1))
RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- Zero-point terms fitted to real PSC rows (docs/release-rules.md, "msigcom"): the
    -- published 0.011 mag fits J but leaves H and Ks msigcom 0.001-0.002 mag too large.
    SELECT CASE lower(band) WHEN 'j' THEN 0.0106 WHEN 'h' THEN 0.0069 WHEN 'k' THEN 0.0069
           END::real
$$;
COMMENT ON FUNCTION public.tmass_zperr(char(1)) IS
'Nightly zero-point uncertainty [mag] of band j, h or k in msigcom (0.0106, 0.0069, 0.0069: '
'fitted to real PSC rows with fferr = 0.005); NULL for another band.';

CREATE OR REPLACE FUNCTION public.tmass_msigcom(
    cmsig real, rd_flg char(1), band char(1), fferr real DEFAULT 0.005,
    r1normrms real DEFAULT 0.012)
RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- Upper limits and unmeasured bands have no uncertainty; the > 8 mag sentinel of
    -- rd_flg 1/3 sources without a reliable cmsig is passed through unchanged.
    SELECT CASE
        WHEN cmsig IS NULL OR rd_flg NOT IN ('1', '2', '3', '4') THEN NULL
        WHEN cmsig > 8.0 THEN cmsig
        ELSE sqrt(cmsig ^ 2 + public.tmass_zperr(band) ^ 2 + fferr ^ 2
                  + CASE WHEN rd_flg = '1' THEN r1normrms ^ 2 ELSE 0 END)::real
    END
$$;
COMMENT ON FUNCTION public.tmass_msigcom(real, char(1), char(1), real, real) IS
'2MASS total magnitude uncertainty of band j, h or k: sqrt(cmsig^2 + tmass_zperr(band)^2 + '
'fferr^2 [+ r1normrms^2 when rd_flg = 1]), fferr 0.005, r1normrms 0.012 mag; NULL for '
'upper limits (rd_flg 0/6/9).';

-- Every release's psc_reject view computes ph_qual when read: re-point it to the new
-- tmass_ph_qual, with its own spec's psfchi_max and ndet_min_ratio and the default
-- frame-test thresholds (a release built before this revision has no ndet_bright_*_mag).
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
       tmass_ph_qual(rd_flg, j_m, j_snr, j_cmsig, j_psfchi, h_m, h_snr, h_cmsig, h_psfchi,
                     k_m, k_snr, k_cmsig, k_psfchi, ndet,
                     spec.psfchi_max::real, spec.ndet_min_ratio::real, 3,
                     14.5::real, 14.0::real, 13.5::real)::char(3) AS ph_qual,
       rd_flg, bl_flg, cc_flg, ndet,
       NULL::real AS prox, NULL::smallint AS pxpa, NULL::integer AS pxcntr,
       NULL::smallint AS gal_contam, mp_flg, pts_key, hemis, date, scan,
       tmass_glon(ra, dec)::real AS glon, tmass_glat(ra, dec)::real AS glat, x_scan, jdate,
       j_psfchi, h_psfchi, k_psfchi,
       j_m_stdap, j_msig_stdap, h_m_stdap, h_msig_stdap, k_m_stdap, k_msig_stdap,
       dist_edge_ns, dist_edge_ew, dist_edge_flg, dup_src, use_src,
       a, dist_opt, phi_opt, b_m_opt, vr_m_opt, nopt_mchs,
       NULL::integer AS ext_key, scan_key, coadd_key, coadd, hpx, reject_reason
FROM %1$I.psc_reject_row
CROSS JOIN %1$I.spec$view$, target);
    END LOOP;
END
$views$;

-- The old signatures (S/N-based frame test, one zero-point term): replaced, not overloaded.
DROP FUNCTION public.tmass_ph_qual(char(3), real, real, real, real, real, real, real, real,
                                   real, char(6));
DROP FUNCTION public.tmass_ph_qual_band(char(1), real, real, real, char(2));
DROP FUNCTION public.tmass_ndet_ok(char(2), real, real, real);
DROP FUNCTION public.tmass_msigcom(real, char(1), real, real, real);

-- wdb_cone returns every wdb.pts column: its result type gains the msig columns.
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
    phi_opt smallint, b_m_opt real, vr_m_opt real, nopt_mchs smallint, j_msig real, h_msig
    real, k_msig real, dist_arcsec double precision)
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
