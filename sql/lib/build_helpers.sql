-- Helpers of the release build: the join key of working rows, the catalogs' sky
-- partitions and keys, and the removal of the build's own functions.
--
-- The files of sql/lib run before the release steps, in the release schema (search_path
-- = the release schema, public), so that nothing is installed outside the release and
-- nothing needs a migration. Step 6 drops them with the build's working tables.

-- The key of a working row in the joins of the build: f(scan_key) * 2^32 + id, f a
-- bijection of [0, 2^31) (multiplication by an odd constant). PostgreSQL hashes a
-- bigint by folding its two halves together, so plain scan_key * 2^32 + id keys would
-- collide by the thousand in every hash join and hash aggregate. Joining a working
-- table on this one expression of wdb's (scan_key, id) also makes the planner hash the
-- smaller build table, not the wide working rows.
CREATE OR REPLACE FUNCTION work_key(scan_key integer, id integer)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (scan_key::bigint * 2654435761 % 2147483648) * 4294967296 + id
$$;

-- The layout of the working database (twomass_meta.database.partition_order) for the
-- catalog table tbl, just written: partitioned by sky at the same HEALPix order, or left
-- a plain table (sql/partitions.sql).
CREATE OR REPLACE PROCEDURE partition_like_wdb(tbl regclass)
LANGUAGE plpgsql AS $$
DECLARE
    k int := (SELECT partition_order FROM twomass_meta.database);
BEGIN
    CALL public._hpx_repartition(tbl, k);
END
$$;

-- Primary key of a catalog table on column key, named name. A partitioned table's key
-- must include its partition key (PostgreSQL's rule): there it is (key, hpx), unique
-- within each partition; the build numbers the keys, one per row, over the whole sky.
CREATE OR REPLACE PROCEDURE add_key(tbl regclass, name text, key text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (%I%s)', tbl, name, key,
                   CASE WHEN (SELECT relkind FROM pg_class WHERE oid = tbl) = 'p'
                        THEN ', hpx' ELSE '' END);
END
$$;

-- Marks tbl clustered on its index idx (CLUSTER ON): on each partition's index when
-- tbl is partitioned (PostgreSQL marks no partitioned index).
CREATE OR REPLACE PROCEDURE cluster_on(tbl regclass, idx regclass)
LANGUAGE plpgsql AS $$
DECLARE
    target text;
BEGIN
    FOR target IN
        SELECT format('ALTER TABLE %s CLUSTER ON %I', i.indrelid::regclass, c.relname)
        FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
        WHERE i.indexrelid = idx AND (SELECT relkind FROM pg_class WHERE oid = tbl) <> 'p'
           OR i.indexrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = idx)
    LOOP
        EXECUTE target;
    END LOOP;
END
$$;

-- Drops every function and procedure of the current (release) schema: those of sql/lib,
-- which are not part of the release. Dropping itself while it runs is allowed.
CREATE OR REPLACE PROCEDURE drop_build_routines()
LANGUAGE plpgsql AS $$
DECLARE
    routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid FROM pg_proc AS p WHERE p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP ROUTINE %s', routine);
    END LOOP;
END
$$;
