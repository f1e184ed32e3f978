-- 2MASS flag and value-added functions, used by the release rules and callable by users.
--
-- Every function here is a pure function of its arguments (IMMUTABLE, PARALLEL SAFE) and
-- carries a COMMENT ON FUNCTION, so its definition is documented inside the database.
-- The definitions follow the 2MASS Explanatory Supplement; where it is silent the choice
-- is written in docs/release-rules.md and noted next to the code below.
--
-- Installed by the migrations into schema public; re-running the file is harmless.

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

-- ---------------------------------------------------------------------------------------
-- Designation: hhmmssss+ddmmsss, coordinates truncated (IAU practice), 16 characters.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_designation(ra float8, "dec" float8)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
-- PL/pgSQL, not SQL: the truncated units are computed once per call (a release names
-- every catalog row, hundreds of millions at survey scale).
DECLARE
    -- RA in units of 0.01 s of time (1 deg = 24000 units), Dec in units of 0.1 arcsec,
    -- truncated as the coordinate's decimal value (float8 -> numeric, 15 digits) is, so
    -- that a coordinate printed as an exact boundary, e.g. 15.0 deg = 01h00m00.00s, is
    -- not truncated one unit low. The float product differs from the decimal one by
    -- less than 1e-8 unit, so numeric (three times slower) is only needed within 1e-6
    -- unit of a boundary.
    u float8 := ra * 24000;
    v float8 := abs("dec") * 36000;
    r bigint := mod(CASE WHEN abs(u - round(u)) < 1e-6 THEN floor(ra::numeric * 24000)
                         ELSE floor(u) END::bigint, 8640000);
    d bigint := CASE WHEN abs(v - round(v)) < 1e-6 THEN floor(abs("dec"::numeric) * 36000)
                     ELSE floor(v) END::bigint;
BEGIN
    -- hhmmssss and ddmmsss as one integer each: two conversions to text.
    RETURN lpad((r / 360000 * 1000000 + r / 6000 % 60 * 10000 + r % 6000)::text, 8, '0')
        || CASE WHEN "dec" < 0 THEN '-' ELSE '+' END
        || lpad((d / 36000 * 100000 + d / 600 % 60 * 1000 + d % 600)::text, 7, '0');
END
$$;
COMMENT ON FUNCTION public.tmass_designation(float8, float8) IS
'2MASS designation hhmmssss+ddmmsss (16 characters, without the "2MASS J" prefix and '
'without a collision suffix): RA to 0.01 s and Dec to 0.1 arcsec, truncated, not rounded.';

-- ---------------------------------------------------------------------------------------
-- Galactic coordinates from ICRS: the rotation astropy applies (ICRS -> Galactic).
-- ---------------------------------------------------------------------------------------
-- tmass_glon / tmass_glat are single expressions, so the planner inlines them into the
-- release queries (a function with a FROM clause would be called row by row).
CREATE OR REPLACE FUNCTION public.tmass_glon(ra float8, "dec" float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT atan2d(0.4941094371927268 * cosd("dec") * cosd(ra) - 0.44482972122329517 * cosd("dec") * sind(ra)
                + 0.7469821839866676 * sind("dec"),
                  -0.05487565771259163 * cosd("dec") * cosd(ra) - 0.8734370519556159 * cosd("dec") * sind(ra)
                - 0.48383507361671546 * sind("dec"))
           + CASE WHEN atan2d(0.4941094371927268 * cosd("dec") * cosd(ra) - 0.44482972122329517 * cosd("dec") * sind(ra)
                + 0.7469821839866676 * sind("dec"),
                              -0.05487565771259163 * cosd("dec") * cosd(ra) - 0.8734370519556159 * cosd("dec") * sind(ra)
                - 0.48383507361671546 * sind("dec")) < 0 THEN 360 ELSE 0 END
$$;
COMMENT ON FUNCTION public.tmass_glon(float8, float8) IS
'Galactic longitude [deg, 0..360) of an ICRS position [deg] (astropy ICRS -> Galactic).';

CREATE OR REPLACE FUNCTION public.tmass_glat(ra float8, "dec" float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT asind(greatest(-1.0, least(1.0, -0.8676661375596576 * cosd("dec") * cosd(ra)
                                           - 0.19807633727300059 * cosd("dec") * sind(ra)
                                           + 0.45598381368730156 * sind("dec"))))
$$;
COMMENT ON FUNCTION public.tmass_glat(float8, float8) IS
'Galactic latitude [deg] of an ICRS position [deg] (astropy ICRS -> Galactic).';

CREATE OR REPLACE FUNCTION public.tmass_galactic(ra float8, "dec" float8,
                                                 OUT glon float8, OUT glat float8)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT public.tmass_glon(ra, "dec"), public.tmass_glat(ra, "dec")
$$;
COMMENT ON FUNCTION public.tmass_galactic(float8, float8) IS
'Galactic longitude and latitude [deg] of an ICRS position [deg] (astropy ICRS -> Galactic).';

-- ---------------------------------------------------------------------------------------
-- Position angle, east of north, from one position to another.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_position_angle(ra1 float8, dec1 float8,
                                                       ra2 float8, dec2 float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- One expression (atan2 written twice), not STRICT: so the planner inlines it into
    -- the nearest-neighbour pass of a release. NULL in, NULL out all the same.
    SELECT degrees(atan2(sind(ra2 - ra1) * cosd(dec2),
                         cosd(dec1) * sind(dec2) - sind(dec1) * cosd(dec2) * cosd(ra2 - ra1)))
           + CASE WHEN atan2(sind(ra2 - ra1) * cosd(dec2),
                             cosd(dec1) * sind(dec2) - sind(dec1) * cosd(dec2) * cosd(ra2 - ra1))
                       < 0 THEN 360 ELSE 0 END
$$;
COMMENT ON FUNCTION public.tmass_position_angle(float8, float8, float8, float8) IS
'Position angle [deg, 0..360, east of north] of (ra2, dec2) seen from (ra1, dec1).';

-- ---------------------------------------------------------------------------------------
-- Distances from a position to the edges of a scan's 3-band area (great circles through
-- the corners: 1 = east at start, 2 = west at start, 3 = east at end, 4 = west at end).
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_edge_normals(
    ra_1 float8, dec_1 float8, ra_2 float8, dec_2 float8,
    ra_3 float8, dec_3 float8, ra_4 float8, dec_4 float8,
    OUT n1x float8, OUT n1y float8, OUT n1z float8, OUT n2x float8, OUT n2y float8,
    OUT n2z float8, OUT e1x float8, OUT e1y float8, OUT e1z float8, OUT e2x float8,
    OUT e2y float8, OUT e2z float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
-- Unit normal of each edge great circle (cross product of its two corners), turned
-- towards the area's centre (the sum of the corners): the signed distance of a position
-- p from the edge is asind(normal . p). Edges 1-2 (start) and 3-4 (end) bound the area
-- north/south (n1, n2), 1-3 (east) and 2-4 (west) east/west (e1, e2).
DECLARE
    v float8[] := ARRAY[cosd(dec_1) * cosd(ra_1), cosd(dec_1) * sind(ra_1), sind(dec_1),
                        cosd(dec_2) * cosd(ra_2), cosd(dec_2) * sind(ra_2), sind(dec_2),
                        cosd(dec_3) * cosd(ra_3), cosd(dec_3) * sind(ra_3), sind(dec_3),
                        cosd(dec_4) * cosd(ra_4), cosd(dec_4) * sind(ra_4), sind(dec_4)];
    edges int[] := ARRAY[1, 2, 3, 4, 1, 3, 2, 4];
    c float8[] := ARRAY[v[1] + v[4] + v[7] + v[10], v[2] + v[5] + v[8] + v[11],
                        v[3] + v[6] + v[9] + v[12]];
    n float8[] := '{}';
    a int;
    b int;
    nx float8; ny float8; nz float8; f float8;
BEGIN
    FOR k IN 0..3 LOOP
        a := 3 * (edges[2 * k + 1] - 1);
        b := 3 * (edges[2 * k + 2] - 1);
        nx := v[a + 2] * v[b + 3] - v[a + 3] * v[b + 2];
        ny := v[a + 3] * v[b + 1] - v[a + 1] * v[b + 3];
        nz := v[a + 1] * v[b + 2] - v[a + 2] * v[b + 1];
        f := sign(nx * c[1] + ny * c[2] + nz * c[3]) / sqrt(nx ^ 2 + ny ^ 2 + nz ^ 2);
        n := n || ARRAY[f * nx, f * ny, f * nz];
    END LOOP;
    n1x := n[1]; n1y := n[2]; n1z := n[3]; n2x := n[4]; n2y := n[5]; n2z := n[6];
    e1x := n[7]; e1y := n[8]; e1z := n[9]; e2x := n[10]; e2y := n[11]; e2z := n[12];
END
$$;
COMMENT ON FUNCTION public.tmass_edge_normals(float8, float8, float8, float8, float8, float8,
                                              float8, float8) IS
'Inward unit normals of the four edge great circles of a scan''s 3-band area given by its '
'corners (1 = east at start, 2 = west at start, 3 = east at end, 4 = west at end): n1, n2 '
'north/south (edges 1-2, 3-4), e1, e2 east/west (1-3, 2-4); distance = asind(normal . p).';

CREATE OR REPLACE FUNCTION public.tmass_edge_distance(
    ra float8, "dec" float8,
    ra_1 float8, dec_1 float8, ra_2 float8, dec_2 float8,
    ra_3 float8, dec_3 float8, ra_4 float8, dec_4 float8,
    OUT dist_ns float8, OUT dist_ew float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
-- Signed distance to each edge great circle (tmass_edge_normals), positive on the side
-- of the area's centre: the minimum over the N/S pair and over the E/W pair, in arcsec.
-- A position outside the area gets a negative distance.
DECLARE
    x float8 := cosd("dec") * cosd(ra);
    y float8 := cosd("dec") * sind(ra);
    z float8 := sind("dec");
    e record;
BEGIN
    e := public.tmass_edge_normals(ra_1, dec_1, ra_2, dec_2, ra_3, dec_3, ra_4, dec_4);
    dist_ns := asind(greatest(-1.0, least(1.0, e.n1x * x + e.n1y * y + e.n1z * z,
                                               e.n2x * x + e.n2y * y + e.n2z * z))) * 3600;
    dist_ew := asind(greatest(-1.0, least(1.0, e.e1x * x + e.e1y * y + e.e1z * z,
                                               e.e2x * x + e.e2y * y + e.e2z * z))) * 3600;
END
$$;
COMMENT ON FUNCTION public.tmass_edge_distance(float8, float8, float8, float8, float8, float8,
                                               float8, float8, float8, float8) IS
'Distance [arcsec] from (ra, dec) to the nearest N/S and nearest E/W edge of a scan''s '
'3-band area given by its four corners; negative outside the area.';

-- ---------------------------------------------------------------------------------------
-- RA difference wrapped into [-180, 180): used for boxes that straddle RA = 0.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.tmass_dra(ra float8, ra0 float8)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT (ra - ra0 + 180) - 360 * floor((ra - ra0 + 180) / 360) - 180
$$;
COMMENT ON FUNCTION public.tmass_dra(float8, float8) IS
'RA difference ra - ra0 [deg] wrapped into [-180, 180).';
