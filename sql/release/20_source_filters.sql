-- Step 2 (Explanatory Supplement sec. 5.1 / catalog-generation "source selection",
-- Table 1): per-source filters applied to every working row of a chosen scan.
--
-- Every working row gets the FIRST rule it fails as its reason (NULL = it passes and is
-- a candidate for the catalog), in the views pts_filter and ext_filter: read here for
-- the candidates (table cand, below) and again in step 6 for the rejects, which costs
-- less than keeping a reason for every working row and joining it back.
-- The rules, in the order 2MASS lists them:
--   scan_not_selected  its scan was not chosen for its tile (step 1);
--   edge               not more than psc_edge_arcsec (10") from every tile edge:
--                      dist_edge_ns > 10 AND dist_edge_ew > 10;
--   artifact           cc_flg matches psc_artifact_pattern ('[C-P]', upper case C..P);
--   no_valid_band      rd_flg has no 1, 2 or 3 (no valid measurement in any band);
--   snr                (rd <> 0 AND (snr >= 7 OR msig <= 0.1551)) in some band, OR
--                      (rd in 1-3 in all three bands AND (snr >= 5 OR msig <= 0.2171)
--                      in some band) does not hold. msig is the working database's
--                      measurement uncertainty, as the rule is published, not the
--                      catalog's cmsig (real records: msig 1.5-2.3 times cmsig);
--   psfchi             psfchi < 10 in no band. A NULL psfchi (no profile fit) never
--                      passes, but a source with a saturated band (rd 1 or 3) is exempt
--                      when psfchi_exempt_saturated (UNCONFIRMED);
--   ndet               frame-detection test (tmass_ndet_source_ok, sql/flags.sql): passes
--                      with a saturated band (rd 1 or 3), or when some Read_2 band (rd 2
--                      or 4) passes tmass_ndet_ok: bands brighter than ndet_bright_*_mag
--                      (J 14.5, H 14.0, Ks 13.5) need N/M >= ndet_min_ratio (0.41) of
--                      M >= ndet_min_frames (3) frames, or 2 of 2 (the magnitude reading,
--                      which real PSC rows support: docs/release-rules.md).
-- A NULL comparison never lets a row pass: every rule is wrapped in coalesce(..., false).
-- The view is evaluated for every working row, twice: the tests on rd_flg are LIKE
-- patterns on the char(3) itself (several times cheaper than a regular expression or
-- substr, which convert it to text), and the artifact pattern is only matched against
-- a cc_flg other than the clean '000' (the test of '000' itself folds to a constant).
-- The figure of merit of an apparition is min(dist_edge_ns, dist_edge_ew) [arcsec].

CREATE VIEW pts_filter AS
SELECT p.*,
       CASE
           WHEN c.scan_key IS NULL THEN 'scan_not_selected'
           WHEN NOT coalesce(p.dist_edge_ns > spec.psc_edge_arcsec
                             AND p.dist_edge_ew > spec.psc_edge_arcsec, false) THEN 'edge'
           WHEN coalesce((p.cc_flg <> '000' OR '000' ~ spec.psc_artifact_pattern)
                         AND p.cc_flg ~ spec.psc_artifact_pattern, false) THEN 'artifact'
           WHEN NOT coalesce(p.rd_flg LIKE '%1%' OR p.rd_flg LIKE '%2%' OR p.rd_flg LIKE '%3%',
                             false) THEN 'no_valid_band'
           WHEN NOT coalesce(
                   (p.rd_flg NOT LIKE '0%'
                    AND (p.j_snr >= spec.snr_primary OR p.j_msig <= spec.msig_primary))
                OR (p.rd_flg NOT LIKE '_0%'
                    AND (p.h_snr >= spec.snr_primary OR p.h_msig <= spec.msig_primary))
                OR (p.rd_flg NOT LIKE '__0'
                    AND (p.k_snr >= spec.snr_primary OR p.k_msig <= spec.msig_primary))
                OR ((p.rd_flg LIKE '1%' OR p.rd_flg LIKE '2%' OR p.rd_flg LIKE '3%')
                    AND (p.rd_flg LIKE '_1%' OR p.rd_flg LIKE '_2%' OR p.rd_flg LIKE '_3%')
                    AND (p.rd_flg LIKE '__1' OR p.rd_flg LIKE '__2' OR p.rd_flg LIKE '__3')
                    AND (p.j_snr >= spec.snr_secondary OR p.j_msig <= spec.msig_secondary
                         OR p.h_snr >= spec.snr_secondary OR p.h_msig <= spec.msig_secondary
                         OR p.k_snr >= spec.snr_secondary
                         OR p.k_msig <= spec.msig_secondary)), false) THEN 'snr'
           WHEN NOT (coalesce(p.j_psfchi < spec.psfchi_max, false)
                     OR coalesce(p.h_psfchi < spec.psfchi_max, false)
                     OR coalesce(p.k_psfchi < spec.psfchi_max, false)
                     OR (spec.psfchi_exempt_saturated
                         AND (p.rd_flg LIKE '%1%' OR p.rd_flg LIKE '%3%'))) THEN 'psfchi'
           WHEN NOT coalesce(tmass_ndet_source_ok(p.rd_flg, p.j_m, p.h_m, p.k_m, p.ndet,
                                                  spec.ndet_min_ratio::real,
                                                  spec.ndet_min_frames,
                                                  spec.ndet_bright_j_mag::real,
                                                  spec.ndet_bright_h_mag::real,
                                                  spec.ndet_bright_k_mag::real),
                             false) THEN 'ndet'
       END AS reason
FROM w_pts AS p
CROSS JOIN spec
LEFT JOIN chosen_scan AS c ON c.scan_key = p.scan_key;

-- The XSC analogue (sec. 5.3/5.4): chosen scan; more than xsc_edge_arcsec (15") from the
-- edges; cc_flg not one of xsc_artifact_flags (C halo, D spike, I in-scan duplicate,
-- A confirmed artifact); S/N > 7 in one band from the k20fe or 7" aperture uncertainty
-- (msig <= 0.1551); extended: e_score <= 1.4 OR g_score <= 1.4 (UNCONFIRMED for All-Sky).
CREATE VIEW ext_filter AS
SELECT x.*,
       CASE
           WHEN c.scan_key IS NULL THEN 'scan_not_selected'
           WHEN NOT coalesce(x.dist_edge_ns > spec.xsc_edge_arcsec
                             AND x.dist_edge_ew > spec.xsc_edge_arcsec, false) THEN 'edge'
           WHEN strpos(spec.xsc_artifact_flags, x.cc_flg) > 0 THEN 'artifact'
           WHEN NOT coalesce(x.j_msig_k20fe <= spec.xsc_msig_max, false)
                AND NOT coalesce(x.h_msig_k20fe <= spec.xsc_msig_max, false)
                AND NOT coalesce(x.k_msig_k20fe <= spec.xsc_msig_max, false)
                AND NOT coalesce(x.j_msig_7 <= spec.xsc_msig_max, false)
                AND NOT coalesce(x.h_msig_7 <= spec.xsc_msig_max, false)
                AND NOT coalesce(x.k_msig_7 <= spec.xsc_msig_max, false) THEN 'snr'
           WHEN NOT coalesce(x.e_score <= spec.xsc_score_max
                             OR x.g_score <= spec.xsc_score_max, false) THEN 'not_extended'
       END AS reason
FROM w_ext AS x
CROSS JOIN spec
LEFT JOIN chosen_scan AS c ON c.scan_key = x.scan_key;

-- The candidates of both catalogs (cat 'P' point, 'X' extended), the input of step 3:
-- position, unit vector (x, y, z), figure of merit fom, and node key k = work_key
-- (sql/lib/build_helpers.sql).
CREATE UNLOGGED TABLE cand AS
SELECT c.*, work_key(c.scan_key, c.id) AS k,
       cosd(c.dec) * cosd(c.ra) AS x, cosd(c.dec) * sind(c.ra) AS y, sind(c.dec) AS z
FROM (SELECT 'P'::char(1) AS cat, scan_key, id, hpx, ra, dec,
             least(dist_edge_ns, dist_edge_ew)::float8 AS fom, cc_flg::text AS cc_flg
      FROM pts_filter
      WHERE reason IS NULL
      UNION ALL
      SELECT 'X'::char(1), scan_key, id, hpx, ra, dec,
             least(dist_edge_ns, dist_edge_ew)::float8, cc_flg::text
      FROM ext_filter
      WHERE reason IS NULL) AS c;
ANALYZE cand;
