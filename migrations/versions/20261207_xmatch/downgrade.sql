-- Downgrade of revision 20261207: drop the cross-match functions it added. Frozen.
DROP FUNCTION IF EXISTS public.hpx_xmatch_nearest(regclass, regclass, float8, integer, text, text);
DROP FUNCTION IF EXISTS public.hpx_xmatch(regclass, regclass, float8, text, text);
DROP FUNCTION IF EXISTS public._hpx_estimated_rows(regclass);
DROP FUNCTION IF EXISTS public._hpx_cells_near(float8, float8, integer, integer, integer, integer,
                                               float8, float8, float8);
DROP FUNCTION IF EXISTS public._hpx_cell(integer, integer, float8, float8);
DROP FUNCTION IF EXISTS public._hpx_zone(float8, float8);
DROP FUNCTION IF EXISTS public._hpx_zones(float8);
DROP FUNCTION IF EXISTS public._hpx_zone_half_width(integer, float8, float8);
DROP FUNCTION IF EXISTS public._hpx_zone_buckets(integer, float8);
