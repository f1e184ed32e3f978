-- Step 4: catalog membership and final artifact rejection (Explanatory Supplement
-- sec. 5.1 step d, DB_MAPCOR).
--
-- A candidate is in the catalog when use_src = 1 OR (use_src = 0 AND dup_src = 0): the
-- winner of its group, or a source seen once whose virtual apparition won (released with
-- caution). Losing apparitions are rejected as 'duplicate'. Then the database-wide
-- artifact flags are applied: point sources whose cc_flg matches
-- psc_final_artifact_pattern and extended sources whose cc_flg is one of
-- xsc_final_artifact_flags are rejected as 'artifact_final'. The working database
-- carries a single cc_flg, so with the default settings this repeats step 2's artifact
-- rule and rejects nothing new; a release can tighten it here without changing which
-- apparitions were matched.

-- A view, like app_status: its catalog rows (reason NULL) become table cat_row in step
-- 5, its rejected candidates table cand_reject in step 6.
CREATE VIEW app_final AS
SELECT s.cat, s.scan_key, s.id, s.k, s.hpx, s.ra, s.dec, s.x, s.y, s.z, s.use_src, s.dup_src,
       CASE WHEN NOT (s.use_src = 1 OR (s.use_src = 0 AND s.dup_src = 0)) THEN 'duplicate'
            -- (the pattern only matched against a cc_flg other than the clean '000', as
            -- in step 2)
            WHEN s.cat = 'P' AND coalesce((s.cc_flg <> '000'
                                           OR '000' ~ spec.psc_final_artifact_pattern)
                                          AND s.cc_flg ~ spec.psc_final_artifact_pattern,
                                          false)
                THEN 'artifact_final'
            WHEN s.cat = 'X' AND strpos(spec.xsc_final_artifact_flags, s.cc_flg) > 0
                THEN 'artifact_final'
       END AS reason
FROM app_status AS s
CROSS JOIN spec;
