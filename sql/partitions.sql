-- Partitioning by sky: a table range-partitioned on hpx at the pixels of HEALPix order k.
--
-- Pixel p of order k holds the order-29 pixels [p << 2(29-k), (p+1) << 2(29-k)): one
-- partition per pixel, 12 * 4^k of them, named <table>_p<p>, beside the table. The
-- bounds are ranges of hpx itself, so the constant ranges a cone folds to (an inlined
-- hpx_radial_query) prune partitions when the query is planned, and the ranges of
-- hpx_cone_ranges joined to a table (psc_cone, wdb_cone) prune them when it runs.
--
-- Installed into schema public by the migrations; re-running this file is harmless.
-- Callers: the migration that partitions wdb.pts and wdb.ext at the order frozen in
-- twomass_meta.database.partition_order, and step 6 of a release build, which gives the
-- catalogs the working database's layout.

-- Rebuild the table tbl with layout k: partitioned at HEALPix order k, or one plain
-- table when k is NULL. Nothing happens when tbl already has that layout. The rows move
-- (in their physical order, which keeps each partition in the order the table had);
-- columns, defaults, CHECK and NOT NULL constraints, comments, the other constraints
-- (keys, foreign keys) and indexes come back under their names, built after the rows
-- are in. A key of a partitioned table must include hpx (PostgreSQL's rule): a key
-- without it is an error, raised before anything changes. Refused when another table's
-- foreign key or a view refers to tbl.
CREATE OR REPLACE PROCEDURE public._hpx_repartition(tbl regclass, k int)
LANGUAGE plpgsql AS $$
DECLARE
    nsp text;
    rel text;
    old_name text;
    kind char;
    current_k int;
    shift int;
    comment text;
    definitions text[];
    definition text;
BEGIN
    SELECT n.nspname, c.relname, c.relkind, obj_description(c.oid, 'pg_class')
    INTO nsp, rel, kind, comment
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = tbl;
    IF k IS NOT NULL AND NOT k BETWEEN 0 AND 4 THEN
        RAISE EXCEPTION 'partition order must be 0 to 4 (12 to 3072 partitions), got %', k;
    END IF;
    -- The layout now: the order whose pixel count matches the partitions, else none.
    current_k := CASE WHEN kind = 'p' THEN (
        SELECT round(log(4, nullif(count(*), 0) / 12.0))::int
        FROM pg_inherits WHERE inhparent = tbl)
    END;
    IF current_k IS NOT DISTINCT FROM k THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE confrelid = tbl AND contype = 'f' AND conrelid <> tbl)
       OR EXISTS (SELECT 1 FROM pg_depend AS d JOIN pg_rewrite AS r ON r.oid = d.objid
                  WHERE d.refobjid = tbl AND d.classid = 'pg_rewrite'::regclass
                    AND r.ev_class <> tbl) THEN
        RAISE EXCEPTION 'cannot repartition %: a foreign key or a view refers to it', tbl;
    END IF;
    -- Keys and foreign keys as constraints, the other indexes as indexes (a partitioned
    -- parent's index is defined ON ONLY the parent; here it is built on every partition).
    SELECT array_agg(format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', nsp, rel, conname,
                            pg_get_constraintdef(oid)) ORDER BY conname)
    INTO definitions
    FROM pg_constraint WHERE conrelid = tbl AND contype IN ('p', 'u', 'x', 'f');
    SELECT coalesce(definitions, '{}') || coalesce(array_agg(
               replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
               ORDER BY i.indexrelid::regclass::text), '{}')
    INTO definitions
    FROM pg_index AS i WHERE i.indrelid = tbl
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid
                      AND c.conrelid = tbl);
    IF k IS NOT NULL AND EXISTS (
            SELECT 1 FROM pg_constraint WHERE conrelid = tbl AND contype IN ('p', 'u', 'x')
            AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = tbl
                     AND attname = 'hpx') = ANY (conkey)) THEN
        RAISE EXCEPTION 'cannot partition % on hpx: a key of it does not include hpx', tbl;
    END IF;
    -- The old table's constraints and indexes go first, so their names are free and the
    -- rows are not indexed twice.
    FOR definition IN
        SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, conname)
        FROM pg_constraint WHERE conrelid = tbl AND contype IN ('p', 'u', 'x', 'f')
        UNION ALL
        SELECT format('DROP INDEX %s', i.indexrelid::regclass)
        FROM pg_index AS i WHERE i.indrelid = tbl
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid
                          AND c.conrelid = tbl)
    LOOP
        EXECUTE definition;
    END LOOP;
    old_name := rel || '_unpartitioned';
    EXECUTE format('ALTER TABLE %I.%I RENAME TO %I', nsp, rel, old_name);
    -- A partitioned table's partitions too, so that the new layout's names are free.
    FOR definition IN
        SELECT format('ALTER TABLE %s RENAME TO %I', i.inhrelid::regclass, c.relname || '_old')
        FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = tbl
    LOOP
        EXECUTE definition;
    END LOOP;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                   'INCLUDING COMMENTS INCLUDING IDENTITY INCLUDING GENERATED '
                   'INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING STATISTICS) %s',
                   nsp, rel, nsp, old_name,
                   CASE WHEN k IS NOT NULL THEN 'PARTITION BY RANGE (hpx)' ELSE '' END);
    IF k IS NOT NULL THEN
        shift := 2 * (29 - k);
        -- (the loop variable is an integer: shifted as a bigint)
        FOR p IN 0 .. 12 * (1 << (2 * k)) - 1 LOOP
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%s) TO (%s)',
                           nsp, rel || '_p' || p, nsp, rel, p::bigint << shift,
                           (p + 1)::bigint << shift);
        END LOOP;
    END IF;
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM %I.%I', nsp, rel, nsp, old_name);
    EXECUTE format('DROP TABLE %I.%I', nsp, old_name);
    FOREACH definition IN ARRAY definitions LOOP
        EXECUTE definition;
    END LOOP;
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, rel, comment);
END
$$;
COMMENT ON PROCEDURE public._hpx_repartition(regclass, int) IS
    'Private: rebuild table tbl range-partitioned on hpx at the pixels of HEALPix order k '
    '(partition <table>_p<pixel>), or as one plain table when k is NULL; rows, '
    'constraints, indexes and comments kept.';
