-- Step 4: catalog membership and final artifact rejection (Explanatory Supplement
-- sec. 5.1 step d; spec 2.5, DB_MAPCOR).
--
-- A candidate is in the catalog when use_src = 1 OR (use_src = 0 AND dup_src = 0): the
-- winner of its group, or a source seen once whose virtual apparition won (released with
-- caution). Losing apparitions are rejected as 'duplicate'.
--
-- Then the database-wide artifact pass. The in-scan flags (MAPCOR) only know the bright
-- stars a scan detected itself, and only so far; DB_MAPCOR searched the whole database
-- again around very bright parents (<= 5-6 mag), including stars off the scan and
-- saturated ones, from the other scans and from external infrared lists, for
-- diffraction-spike and halo artifacts. Here:
-- 1. Parents (table mapcor_parent): every working point row of ANY scan (chosen or not)
--    with Ks <= parent_ks_max, valid (rd_flg 1-4) in at least parent_min_bands bands
--    and not itself an artifact (no upper-case cc_flg letter), and every star of the
--    bright-star list (wdb.bright_star, each id once) with Ks <= parent_ks_max.
-- 2. Zones of a parent of magnitude Ks, at distance r from it (offsets dE, dN in the
--    tangent plane; scans run north-south, so the arrays' rows and columns, and the
--    spikes, lie along east-west and north-south): the spike zone, |dE| or |dN| below
--    spike_half_width_arcsec and r below spike_arcsec x 10^(0.2 (parent_ks_max - Ks));
--    the halo zone, r below halo_arcsec x 10^(0.2 (parent_ks_max - Ks)); nothing within
--    inner_arcsec (the parent itself).
-- 3. A spike or ghost is the parent's own light: it has the parent's colours, and its
--    magnitude in each band is the parent's plus about artifact_dm + 2.5 log10(r / 20").
--    A point candidate in a zone is an artifact when the mean over its detected bands
--    (those the parent has too) of (its magnitude - the parent's) lies within
--    artifact_dm_tolerance of that, and no band's difference departs from the mean by
--    more than colour_tolerance: its band letters become 'C' (halo) or 'D' (spike). Any
--    other candidate in a zone is a real source, possibly contaminated: 'c' or 'd'
--    (real stars that happen to match are lost: see docs/release-rules.md for how many
--    on simulated data). Letters go to the
--    detected bands (rd_flg not 0) and never lower a flag already set (severity: upper
--    case over lower case; p > c > d > s > b > 0, spec 4.4).
-- 4. Candidates whose new cc_flg matches psc_final_artifact_pattern ('[C-P]') are
--    rejected as 'artifact_final'; extended sources whose cc_flg is one of
--    xsc_final_artifact_flags likewise (their flags are not recomputed here).
-- The new flags (table mapcor_flag) are the catalog's cc_flg (step 6). The constants
-- (UNCONFIRMED: 2MASS published no DB_MAPCOR zone sizes) are in view mapcor; the view
-- and table mapcor_parent are made by 15_artifact_parents.sql (global: a parent reaches
-- far beyond a partition's margin).

-- mapcor_pair (k, scan_key, id, hpx, j, h, ks, r, de, dn): the point candidates within reach of a parent, by a
-- sky-cell join (sql/lib/cross_matches.sql).
CALL find_artifact_parents();

-- The new cc_flg of every point candidate in a zone: the most severe letter of its
-- zones, then per detected band the more severe of it and the band's letter.
CREATE UNLOGGED TABLE mapcor_flag AS
WITH in_zone AS (
    -- (the zones first: only candidates in one are read from w_pts)
    SELECT z.*, t.halo
    FROM mapcor_pair AS z
    CROSS JOIN mapcor AS m
    CROSS JOIN LATERAL (SELECT 10 ^ (0.2 * (m.parent_ks_max - z.ks)) AS scale) AS b
    CROSS JOIN LATERAL (
        SELECT z.r < m.halo_arcsec * b.scale AS halo,
               (abs(z.de) < m.spike_half_width_arcsec OR abs(z.dn) < m.spike_half_width_arcsec)
               AND z.r < m.spike_arcsec * b.scale AS spike
    ) AS t
    WHERE z.r >= m.inner_arcsec AND (t.halo OR t.spike)
), zone AS (
    SELECT z.k, z.scan_key, z.id, z.hpx,
           max(CASE WHEN z.halo AND t.like_parent THEN 14 WHEN t.like_parent THEN 13
                    WHEN z.halo THEN 4 ELSE 3 END) AS severity
    FROM in_zone AS z
    CROSS JOIN mapcor AS m
    JOIN w_pts AS p ON p.hpx = z.hpx AND p.scan_key = z.scan_key AND p.id = z.id
    -- (offsets: candidate - parent per band, where both have it)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN p.rd_flg NOT LIKE '0%' THEN p.j_m - z.j END AS oj,
               CASE WHEN p.rd_flg NOT LIKE '_0%' THEN p.h_m - z.h END AS oh,
               CASE WHEN p.rd_flg NOT LIKE '__0' THEN p.k_m - z.ks END AS ok
    ) AS b
    CROSS JOIN LATERAL (
        SELECT (coalesce(b.oj, 0) + coalesce(b.oh, 0) + coalesce(b.ok, 0))
               / nullif((b.oj IS NOT NULL)::integer + (b.oh IS NOT NULL)::integer
                        + (b.ok IS NOT NULL)::integer, 0) AS mean
    ) AS o
    CROSS JOIN LATERAL (
        SELECT coalesce(abs(o.mean - m.artifact_dm - 2.5 * log(greatest(z.r, 1.0) / 20.0))
                            <= m.artifact_dm_tolerance
                        AND coalesce(greatest(abs(b.oj - o.mean), abs(b.oh - o.mean),
                                              abs(b.ok - o.mean)), 0) <= m.colour_tolerance,
                        false) AS like_parent
    ) AS t
    GROUP BY z.k, z.scan_key, z.id, z.hpx
)
SELECT z.k, string_agg(
           CASE WHEN substr(p.rd_flg, i, 1) <> '0'
                     AND z.severity > CASE WHEN substr(p.cc_flg, i, 1) ~ '[A-Z]' THEN 10
                                           ELSE 0 END
                                      + 6 - strpos('pcdsb0', lower(substr(p.cc_flg, i, 1)))
                THEN CASE z.severity WHEN 14 THEN 'C' WHEN 13 THEN 'D' WHEN 4 THEN 'c'
                                     ELSE 'd' END
                ELSE substr(p.cc_flg, i, 1) END, '' ORDER BY i)::char(3) AS cc_flg
FROM zone AS z
JOIN w_pts AS p ON p.hpx = z.hpx AND p.scan_key = z.scan_key AND p.id = z.id
CROSS JOIN generate_series(1, 3) AS i
GROUP BY z.k;
ALTER TABLE mapcor_flag ADD PRIMARY KEY (k);
ANALYZE mapcor_flag;

-- A view, like app_status: its catalog rows (reason NULL) become table cat_row in step
-- 5, its rejected candidates table cand_reject in step 6.
CREATE VIEW app_final AS
SELECT s.cat, s.scan_key, s.id, s.k, s.hpx, s.ra, s.dec, s.x, s.y, s.z, s.use_src, s.dup_src,
       CASE WHEN NOT (s.use_src = 1 OR (s.use_src = 0 AND s.dup_src = 0)) THEN 'duplicate'
            -- (the pattern only matched against a cc_flg other than the clean '000', as
            -- in step 2)
            WHEN s.cat = 'P' AND coalesce((f.cc_flg <> '000'
                                           OR '000' ~ spec.psc_final_artifact_pattern)
                                          AND f.cc_flg ~ spec.psc_final_artifact_pattern,
                                          false)
                THEN 'artifact_final'
            WHEN s.cat = 'X' AND strpos(spec.xsc_final_artifact_flags, s.cc_flg) > 0
                THEN 'artifact_final'
       END AS reason
FROM app_status AS s
CROSS JOIN spec
LEFT JOIN mapcor_flag AS m ON s.cat = 'P' AND m.k = s.k
CROSS JOIN LATERAL (SELECT coalesce(m.cc_flg::text, s.cc_flg) AS cc_flg) AS f;
