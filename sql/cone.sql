-- Cone search and nearest neighbours over the catalogs: psc_cone, xsc_cone, wdb_cone,
-- psc_nearest. Needs sql/hpx.sql.
--
-- Each function returns the rows of its table with every column of the table, plus
-- dist_arcsec, nearest first. The column list is read from the catalog when this file
-- runs, so the functions must be rebuilt whenever the published views change shape:
-- the release publish step re-runs this file in the transaction that recreates
-- public.psc and public.xsc (twomass.release.publish). Until a release is published,
-- migration 0002 makes public.psc and public.xsc views of the working tables wdb.pts
-- and wdb.ext, and runs this file once.
--
-- The functions are LANGUAGE SQL, STABLE and not STRICT, so a query over
-- psc_cone(constants) is inlined and planned like the equivalent hpx_radial_query,
-- with the index on hpx; NULL arguments give no rows.

DO $cone$
DECLARE
    spec record;
    cols text;
    relid regclass;
BEGIN
    FOR spec IN
        SELECT * FROM (VALUES
            ('psc_cone', 'public.psc', 'Point Source Catalog (published release)'),
            ('xsc_cone', 'public.xsc', 'Extended Source Catalog (published release)'),
            ('wdb_cone', 'wdb.pts', 'working-database point extractions (wdb.pts)')
        ) AS s(fname, rel, what)
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS public.%I(float8, float8, float8) CASCADE',
                       spec.fname);
        relid := to_regclass(spec.rel);
        CONTINUE WHEN relid IS NULL;
        -- "name type" for every column of the relation, in order.
        SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)),
                          ', ' ORDER BY attnum)
        INTO cols
        FROM pg_attribute
        WHERE attrelid = relid AND attnum > 0 AND NOT attisdropped;
        EXECUTE format($f$
            CREATE FUNCTION public.%1$I(ra0_deg float8, dec0_deg float8, radius_arcsec float8)
            RETURNS TABLE (%2$s, dist_arcsec float8)
            LANGUAGE sql STABLE PARALLEL SAFE ROWS 100 AS $body$
                SELECT t.*, public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg) * 3600
                FROM %3$s AS t
                WHERE public.hpx_radial_query(t.hpx, t.ra, t.dec, ra0_deg, dec0_deg,
                                              radius_arcsec / 3600)
                ORDER BY public.hpx_dist(t.ra, t.dec, ra0_deg, dec0_deg)
            $body$$f$, spec.fname, cols, relid);
        EXECUTE format($c$COMMENT ON FUNCTION public.%I(float8, float8, float8) IS %L$c$,
            spec.fname,
            format('Rows of the %s strictly within radius_arcsec [arcsec] of (ra0_deg, '
                   'dec0_deg) [deg], nearest first, with dist_arcsec [arcsec], the distance '
                   'to the centre. Built from the columns of %s when sql/cone.sql ran.',
                   spec.what, spec.rel));
    END LOOP;

    -- psc_nearest: the k nearest catalog rows, at any distance. The radius grows by 4x
    -- from 10 arcsec until the cone holds k rows (the k nearest are then all inside),
    -- or covers the sky.
    DROP FUNCTION IF EXISTS public.psc_nearest(float8, float8, integer) CASCADE;
    IF to_regclass('public.psc') IS NOT NULL THEN
        SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)),
                          ', ' ORDER BY attnum)
        INTO cols
        FROM pg_attribute
        WHERE attrelid = 'public.psc'::regclass AND attnum > 0 AND NOT attisdropped;
        EXECUTE format($f$
            CREATE FUNCTION public.psc_nearest(ra0_deg float8, dec0_deg float8, k integer)
            RETURNS TABLE (%s, dist_arcsec float8)
            LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10 AS $body$
            DECLARE
                radius_arcsec float8 := 10;
                found_rows bigint;
            BEGIN
                IF k < 0 THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = format('k must be >= 0, got %%s', k);
                END IF;
                LOOP
                    SELECT count(*) INTO found_rows
                    FROM public.psc_cone(ra0_deg, dec0_deg, radius_arcsec);
                    EXIT WHEN found_rows >= k OR radius_arcsec >= 180 * 3600;
                    radius_arcsec := least(radius_arcsec * 4, 180 * 3600);
                END LOOP;
                RETURN QUERY SELECT * FROM public.psc_cone(ra0_deg, dec0_deg, radius_arcsec)
                             LIMIT k;
            END
            $body$$f$, cols);
        COMMENT ON FUNCTION public.psc_nearest(float8, float8, integer) IS
            'The k rows of the Point Source Catalog nearest to (ra0_deg, dec0_deg) [deg], '
            'without a radius limit, nearest first, with dist_arcsec [arcsec].';
    END IF;
END
$cone$;
