-- Helpers of the release build: the join key of working rows, and the removal of the
-- build's own functions.
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
