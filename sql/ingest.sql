-- Statements of the per-night ingest (twomass.ingest.load), one per "-- name:" section.
-- Every statement runs inside the night's single transaction unless noted.

-- name: lock_night_try
-- Serializes ingests of the same night (hemisphere, date) across sessions; released at
-- commit or rollback. Key 1 is the ingest namespace, key 2 encodes the night.
SELECT pg_try_advisory_xact_lock(%(namespace)s, %(night_lock)s);

-- name: lock_night_wait
SELECT pg_advisory_xact_lock(%(namespace)s, %(night_lock)s);

-- name: find_night
SELECT night_key FROM wdb.night WHERE hemis = %(hemis)s AND date = %(date)s;

-- name: last_files
-- The files of the ingest that produced the night as it is now loaded.
SELECT files FROM wdb.ingest_log
WHERE night_key = %(night_key)s
ORDER BY ingest_id DESC
LIMIT 1;

-- name: delete_night_pts
-- --replace: the night's extractions go first (no foreign key reaches them), then the
-- night, whose scans follow by ON DELETE CASCADE; ingest_log rows keep their history
-- with night_key set to NULL.
DELETE FROM wdb.pts
WHERE scan_key IN (SELECT scan_key FROM wdb.scan WHERE night_key = %(night_key)s);

-- name: delete_night_ext
DELETE FROM wdb.ext
WHERE scan_key IN (SELECT scan_key FROM wdb.scan WHERE night_key = %(night_key)s);

-- name: delete_night
DELETE FROM wdb.night WHERE night_key = %(night_key)s;

-- name: stage_tiles
-- Planned tiles of the night, staged so they can be compared with tiles already loaded.
CREATE TEMP TABLE ingest_tile (LIKE wdb.tile) ON COMMIT DROP;

-- name: tile_conflicts
-- Tiles already in wdb.tile with a different definition: an error, tiles never change.
SELECT to_jsonb(s) AS staged, to_jsonb(w) AS loaded
FROM ingest_tile AS s
JOIN wdb.tile AS w USING (tile)
WHERE (s.*) IS DISTINCT FROM (w.*)
ORDER BY s.tile
LIMIT 1;

-- name: insert_tiles
INSERT INTO wdb.tile SELECT * FROM ingest_tile ORDER BY hpx ON CONFLICT (tile) DO NOTHING;

-- name: insert_night
INSERT INTO wdb.night (hemis, date, pipeline_version)
VALUES (%(hemis)s, %(date)s, %(pipeline_version)s)
RETURNING night_key;

-- name: scan_keys
SELECT scan, scan_key FROM wdb.scan WHERE night_key = %(night_key)s ORDER BY scan;

-- name: insert_log
INSERT INTO wdb.ingest_log (night_key, hemis, date, directory, files, rows_read,
                            rows_loaded, code_version, started_at, finished_at)
VALUES (%(night_key)s, %(hemis)s, %(date)s, %(directory)s, %(files)s, %(rows_read)s,
        %(rows_loaded)s, %(code_version)s, %(started_at)s, clock_timestamp());

-- name: list_nights
-- `twomass nights list`: every loaded night with what its last ingest wrote and read from.
SELECT n.hemis, n.date, n.pipeline_version, n.ingested_at, l.rows_loaded, l.directory
FROM wdb.night AS n
LEFT JOIN LATERAL (
    SELECT rows_loaded, directory FROM wdb.ingest_log AS g
    WHERE g.hemis = n.hemis AND g.date = n.date AND g.night_key = n.night_key
    ORDER BY g.ingest_id DESC
    LIMIT 1
) AS l ON true
ORDER BY n.date, n.hemis;

-- name: lock_tables_for_drop
-- `twomass nights drop`: refuse at once, rather than wait behind it, while a release
-- build reads the working tables (it holds them in SHARE mode) or an ingest is writing
-- tiles; SHARE ROW EXCLUSIVE on wdb.tile keeps another night's ingest from referring to
-- a tile this drop removes.
LOCK TABLE wdb.night, wdb.scan, wdb.pts, wdb.ext IN ROW EXCLUSIVE MODE NOWAIT;
LOCK TABLE wdb.tile IN SHARE ROW EXCLUSIVE MODE NOWAIT;

-- name: lock_holders
-- Sessions holding locks on the working tables, for the message of a refused drop.
SELECT DISTINCT a.pid, l.mode, a.xact_start, a.application_name
FROM pg_locks AS l
JOIN pg_stat_activity AS a USING (pid)
WHERE l.granted AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation IN ('wdb.night'::regclass, 'wdb.scan'::regclass, 'wdb.pts'::regclass,
                     'wdb.ext'::regclass, 'wdb.tile'::regclass)
  AND l.mode IN ('ShareLock', 'RowExclusiveLock', 'ShareRowExclusiveLock',
                 'ExclusiveLock', 'AccessExclusiveLock')
ORDER BY a.pid;

-- name: night_tiles
SELECT DISTINCT tile FROM wdb.scan WHERE night_key = %(night_key)s;

-- name: delete_night_scans
DELETE FROM wdb.scan WHERE night_key = %(night_key)s;

-- name: delete_unused_tiles
-- Tiles of a dropped night that no scan of another night observed.
DELETE FROM wdb.tile AS t
WHERE t.tile = ANY(%(tiles)s)
  AND NOT EXISTS (SELECT 1 FROM wdb.scan AS s WHERE s.tile = t.tile);

-- name: delete_night_log
-- A dropped night's provenance: every ingest of it, including versions it replaced.
DELETE FROM wdb.ingest_log WHERE hemis = %(hemis)s AND date = %(date)s;

-- name: table_kind
-- Kind of a working table (p: partitioned) and its rows at its last ANALYZE (-1: never).
SELECT relkind, reltuples FROM pg_class WHERE oid = %(table)s::regclass;

-- name: night_partitions
-- The partitions holding rows in the given order-4 pixels (their first hpx and their
-- width in hpx): the partition of the first row of each, from the hpx index.
SELECT DISTINCT f.part
FROM unnest(%(starts)s::bigint[]) AS s(lo)
CROSS JOIN LATERAL (SELECT t.tableoid::regclass::text AS part FROM {table} AS t
                    WHERE t.hpx >= s.lo AND t.hpx < s.lo + %(steps)s LIMIT 1) AS f
ORDER BY 1;
