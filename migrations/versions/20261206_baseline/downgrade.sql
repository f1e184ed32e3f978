-- Downgrade of the baseline revision: remove every object twomass made. Frozen.

-- Release schemas (rel_<name>) and the public views of the published one.
DO $drop$
DECLARE
    target text;
BEGIN
    FOR target IN SELECT schema_name FROM twomass_meta.release LOOP
        EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', target);
    END LOOP;
    FOR target IN SELECT unnest(ARRAY['psc', 'xsc', 'scan_info', 'psc_reject', 'xsc_reject'])
    LOOP
        EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', target);
    END LOOP;
END
$drop$;

-- The functions of hpx.sql, flags.sql and cone.sql.
DO $drop$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND (p.proname LIKE 'hpx\_%' OR p.proname LIKE '\_hpx\_%'
               OR p.proname LIKE 'tmass\_%'
               OR p.proname IN ('psc_cone', 'xsc_cone', 'wdb_cone', 'psc_nearest'))
    LOOP
        EXECUTE format('DROP FUNCTION %s CASCADE', f);
    END LOOP;
END
$drop$;

DROP SCHEMA wdb CASCADE;
DROP TABLE twomass_meta.release;
DROP TABLE twomass_meta.database;
