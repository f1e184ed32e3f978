-- Step 7: what the release is made of. One row: row counts (and rejects per reason), a
-- checksum of the working-database tables the build read and a checksum of the release
-- content. Both checksums are order independent: per table the row count and the sum
-- of the 64-bit hashes of the rows (hash_record_extended), joined in a fixed table order
-- and hashed with md5, so they do not depend on the physical order of the rows. The
-- spec, the code version and the build time are recorded by the driver in
-- twomass_meta.release.

CREATE TABLE meta AS
WITH wdb_tables AS (
    SELECT 'wdb.scan' AS name, count(*) AS n,
           coalesce(sum(hash_record_extended(t, 0)::numeric), 0) AS h FROM wdb.scan AS t
    UNION ALL
    SELECT 'wdb.pts', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM wdb.pts AS t
    UNION ALL
    SELECT 'wdb.ext', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM wdb.ext AS t
), release_tables AS (
    SELECT 'psc' AS name, count(*) AS n,
           coalesce(sum(hash_record_extended(t, 0)::numeric), 0) AS h FROM psc AS t
    UNION ALL
    SELECT 'psc_reject', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM psc_reject_row AS t
    UNION ALL
    SELECT 'xsc', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM xsc AS t
    UNION ALL
    SELECT 'xsc_reject', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM xsc_reject_row AS t
    UNION ALL
    SELECT 'scan_info', count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0)
    FROM scan_info AS t
)
SELECT (SELECT jsonb_object_agg(name, n) FROM release_tables)
       || jsonb_build_object(
              'wdb_pts', (SELECT n FROM wdb_tables WHERE name = 'wdb.pts'),
              'wdb_ext', (SELECT n FROM wdb_tables WHERE name = 'wdb.ext'),
              'wdb_scan', (SELECT n FROM wdb_tables WHERE name = 'wdb.scan'),
              'psc_reject_reasons',
              coalesce((SELECT jsonb_object_agg(reject_reason, n)
                        FROM (SELECT reject_reason, count(*) AS n FROM psc_reject_row
                              GROUP BY reject_reason) AS r), '{}'::jsonb),
              'xsc_reject_reasons',
              coalesce((SELECT jsonb_object_agg(reject_reason, n)
                        FROM (SELECT reject_reason, count(*) AS n FROM xsc_reject_row
                              GROUP BY reject_reason) AS r), '{}'::jsonb)) AS counts,
       (SELECT md5(string_agg(name || ':' || n || ':' || h, '|' ORDER BY name))
        FROM wdb_tables) AS wdb_checksum,
       (SELECT md5(string_agg(name || ':' || n || ':' || h, '|' ORDER BY name))
        FROM release_tables) AS content_checksum;
