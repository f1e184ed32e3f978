-- Step 4, first part (see 40_artifacts.sql): the parents of the database-wide artifact
-- pass, table mapcor_parent, and the view mapcor of its constants.
--
-- A parent's zones reach up to 30' (reach_max_arcsec), far beyond the margin of a
-- partition-wise build, and the parents come from every scan of the whole working
-- database: so this step is global, like step 1, and reads wdb itself. It is small (the
-- few working rows with Ks <= 6 and the bright-star list).

CREATE VIEW mapcor AS
SELECT 6.0::float8 AS parent_ks_max,       -- very bright parents (spec 2.5: <= 5-6 mag)
       2 AS parent_min_bands,              -- valid detections in >= 2 bands (spec 2.5)
       120.0::float8 AS spike_arcsec,      -- spike length at Ks = parent_ks_max
       3.0::float8 AS spike_half_width_arcsec,
       25.0::float8 AS halo_arcsec,        -- halo radius at Ks = parent_ks_max
       3.0::float8 AS inner_arcsec,        -- the parent's own detections
       7.0::float8 AS artifact_dm,         -- artifact - parent at 20" [mag]
       0.5::float8 AS artifact_dm_tolerance,
       0.15::float8 AS colour_tolerance,   -- [mag]
       1800.0::float8 AS reach_max_arcsec; -- no zone reaches farther (Ks ~ -1.5)

CREATE UNLOGGED TABLE mapcor_parent AS
SELECT p.ra, p.dec, p.j_m::float8 AS j, p.h_m::float8 AS h, p.k_m::float8 AS ks
FROM wdb.pts AS p
CROSS JOIN mapcor AS m
WHERE p.k_m <= m.parent_ks_max
  AND p.cc_flg::text !~ '[A-Z]'
  AND (substr(p.rd_flg, 1, 1) IN ('1', '2', '3', '4'))::integer
      + (substr(p.rd_flg, 2, 1) IN ('1', '2', '3', '4'))::integer
      + (substr(p.rd_flg, 3, 1) IN ('1', '2', '3', '4'))::integer >= m.parent_min_bands
UNION ALL
SELECT b.ra, b.dec, b.j_m, b.h_m, b.k_m::float8
FROM (SELECT DISTINCT ON (id) id, ra, dec, j_m, h_m, k_m FROM wdb.bright_star ORDER BY id, night_key)
     AS b
CROSS JOIN mapcor AS m
WHERE b.k_m <= m.parent_ks_max;
ANALYZE mapcor_parent;

