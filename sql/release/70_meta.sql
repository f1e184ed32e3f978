-- Step 7: what the release is made of. One row: row counts (and rejects per reason), a
-- checksum of the working-database tables the build read and a checksum of the release
-- content. Both checksums are order independent: per table the row count and the sum
-- of the 64-bit hashes of the rows (hash_record_extended), joined in a fixed table order
-- and hashed with md5, so they do not depend on the physical order of the rows. The
-- reject tables are hashed as stored (psc_reject_row, xsc_reject_row): the columns their
-- views add are functions of the stored ones. The spec, the code version and the build
-- time are recorded by the driver in twomass_meta.release.

-- Count and hash sum per table: the working tables' from step 0 (05_wdb_hash.sql, summed
-- over cells: the same sums), the release tables' one aggregate per table, each in
-- parallel workers.
CREATE UNLOGGED TABLE table_hash AS
SELECT 'wdb' AS part, t.name, coalesce(sum(w.n), 0)::bigint AS n, coalesce(sum(w.h), 0) AS h
FROM (VALUES ('wdb.scan'), ('wdb.pts'), ('wdb.ext'), ('wdb.bright_star')) AS t (name)
LEFT JOIN wdb_hash AS w ON w.name = t.name
GROUP BY t.name
UNION ALL
SELECT 'release', 'psc', count(*), coalesce(sum(hash_record_extended(t, 0)), 0)
FROM psc AS t
UNION ALL
SELECT 'release', 'psc_reject', count(*), coalesce(sum(hash_record_extended(t, 0)), 0)
FROM psc_reject_row AS t
UNION ALL
SELECT 'release', 'xsc', count(*), coalesce(sum(hash_record_extended(t, 0)), 0)
FROM xsc AS t
UNION ALL
SELECT 'release', 'xsc_reject', count(*), coalesce(sum(hash_record_extended(t, 0)), 0)
FROM xsc_reject_row AS t
UNION ALL
SELECT 'release', 'scan_info', count(*), coalesce(sum(hash_record_extended(t, 0)), 0)
FROM scan_info AS t;

CREATE TABLE meta AS
SELECT (SELECT jsonb_object_agg(name, n) FROM table_hash WHERE part = 'release')
       || jsonb_build_object(
              'wdb_pts', (SELECT n FROM table_hash WHERE name = 'wdb.pts'),
              'wdb_ext', (SELECT n FROM table_hash WHERE name = 'wdb.ext'),
              'wdb_scan', (SELECT n FROM table_hash WHERE name = 'wdb.scan'),
              'psc_reject_reasons',
              coalesce((SELECT jsonb_object_agg(reject_reason, n)
                        FROM (SELECT reject_reason, count(*) AS n FROM psc_reject_row
                              GROUP BY reject_reason) AS r), '{}'::jsonb),
              'xsc_reject_reasons',
              coalesce((SELECT jsonb_object_agg(reject_reason, n)
                        FROM (SELECT reject_reason, count(*) AS n FROM xsc_reject_row
                              GROUP BY reject_reason) AS r), '{}'::jsonb)) AS counts,
       (SELECT md5(string_agg(name || ':' || n || ':' || h, '|' ORDER BY name))
        FROM table_hash WHERE part = 'wdb') AS wdb_checksum,
       (SELECT md5(string_agg(name || ':' || n || ':' || h, '|' ORDER BY name))
        FROM table_hash WHERE part = 'release') AS content_checksum;
DROP TABLE table_hash;

-- What a later build needs to rebuild only the sky that changed (release build
-- --incremental-from, twomass/release/incremental.py): the per-cell counts and hashes of
-- the working rows this build read, and the parents of its artifact pass, whose zones
-- reach beyond any margin.
CREATE TABLE wdb_cell_hash AS SELECT name, cell, n, h FROM wdb_hash ORDER BY name, cell;
COMMENT ON TABLE wdb_cell_hash IS
    'Count (n) and sum of row hashes (h) of each working table the build read, per '
    'order-10 HEALPix cell (hpx >> 38): what an incremental build compares.';
CREATE TABLE artifact_parent AS SELECT ra, dec, j, h, ks FROM mapcor_parent;
COMMENT ON TABLE artifact_parent IS
    'The parents (very bright stars) of the build''s artifact pass: what an incremental '
    'build compares.';
DROP TABLE wdb_hash, mapcor_parent;
