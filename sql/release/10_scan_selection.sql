-- Step 1 (Explanatory Supplement sec. 5.1, "scan selection"): one scan per tile.
--
-- Runs with search_path = <release schema>, public, after sql/lib (the build's functions
-- and procedures); the one-row view "spec" holds the thresholds of this build.
--
-- For every tile the scan with the highest QA score (qual) is chosen. Ties (same score)
-- are ranked by sensitivity and then zero point, as the scan-selection page lists them
-- without weights (UNCONFIRMED formula, spec field scan_sensitivity):
--   msnr10: higher mean J/H/Ks S/N=10 magnitude (deeper scan) first;
--   psp:    lower mean photometric sensitivity parameter (seeing x background^0.29) first;
-- then the higher mean aperture zero point (more transparent sky), then the earlier scan
-- by its natural key (date, hemis, scan), so the choice never depends on load order.
-- The coverage iteration of 2MASS (swapping scans to close gaps) is not reproduced.

CREATE UNLOGGED TABLE chosen_scan AS
SELECT DISTINCT ON (s.tile)
       s.scan_key, s.tile, s.hemis, s.date, s.scan, s.ra, s.dec, s.hpx, s.qual, s.jdate,
       s.ra_1, s.dec_1, s.ra_2, s.dec_2, s.ra_3, s.dec_3, s.ra_4, s.dec_4
FROM w_scan AS s
CROSS JOIN spec
WHERE s.qual >= spec.min_scan_qual
ORDER BY s.tile,
         s.qual DESC,
         CASE spec.scan_sensitivity
             WHEN 'msnr10' THEN (s.j_msnr10 + s.h_msnr10 + s.k_msnr10) / 3
             ELSE -(s.j_psp + s.h_psp + s.k_psp) / 3
         END DESC NULLS LAST,
         (s.j_zp_ap + s.h_zp_ap + s.k_zp_ap) / 3 DESC NULLS LAST,
         s.date, s.hemis, s.scan;

ALTER TABLE chosen_scan ADD PRIMARY KEY (scan_key);

-- The pairs of chosen scans whose areas can overlap (scan_pair, sql/lib/cross_matches.sql):
-- the only scans that may hold another apparition of a source, or miss it (step 3).
CALL find_scan_pairs();
ANALYZE chosen_scan;

-- The inward unit normals of the four edges of every chosen scan's area
-- (tmass_edge_normals), computed once per scan so that the duplicate step tests positions
-- against other scans with four dot products.
CREATE UNLOGGED TABLE scan_edge AS
SELECT c.scan_key, e.*
FROM chosen_scan AS c
CROSS JOIN LATERAL tmass_edge_normals(c.ra_1, c.dec_1, c.ra_2, c.dec_2,
                                      c.ra_3, c.dec_3, c.ra_4, c.dec_4) AS e;
ALTER TABLE scan_edge ADD PRIMARY KEY (scan_key);
ANALYZE scan_edge;
