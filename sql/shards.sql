-- Statements of the shards (twomass.scale.shards): partitions of hpx-partitioned tables
-- held on other PostgreSQL servers as postgres_fdw foreign tables. One statement per
-- "-- name:" section; parameters are psycopg's %(name)s placeholders.

-- name: fdw_available
-- postgres_fdw is a contrib module: a server without contrib (the embedded one) lacks it.
SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'postgres_fdw');

-- name: servers
-- The shard servers: postgres_fdw servers and the options of the current user's mapping.
SELECT s.srvname, s.srvoptions, m.umoptions
FROM pg_foreign_server AS s
JOIN pg_foreign_data_wrapper AS w ON w.oid = s.srvfdw AND w.fdwname = 'postgres_fdw'
LEFT JOIN pg_user_mappings AS m ON m.srvid = s.oid
     AND m.usename IN (current_user, 'public')
ORDER BY s.srvname;

-- name: partitions
-- The partitions of a table partitioned by range on hpx: name, bounds [lo, hi) and, for
-- a foreign partition, its server.
SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid), s.srvname
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_foreign_table AS f ON f.ftrelid = c.oid
LEFT JOIN pg_foreign_server AS s ON s.oid = f.ftserver
WHERE i.inhparent = %(table)s::regclass
ORDER BY c.relname;

-- name: partition_key
-- The partition key of a partitioned table ('RANGE (hpx)' for the layout shards need).
SELECT pg_get_partkeydef(%(table)s::regclass);

-- name: unique_indexes
-- Unique indexes of the parent: PostgreSQL refuses a foreign partition under one.
SELECT i.indexrelid::regclass::text FROM pg_index AS i
WHERE i.indrelid = %(table)s::regclass AND i.indisunique;

-- name: columns
-- A relation's columns with their types, for the remote table and the foreign table.
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute AS a
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: indexes
-- A partition's indexes, rebuilt on the remote table (the hpx B-tree drives the cones).
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
WHERE i.indrelid = %(table)s::regclass
ORDER BY c.relname;
