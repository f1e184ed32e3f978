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
