-- Cone: the rows strictly within radius_deg [deg] of (ra0, dec0) [deg]. hpx_radial_query
-- is inlined with constant arguments, so the planner reads only the hpx index ranges
-- that cover the disc, then keeps the rows that pass the exact distance test.
public.hpx_radial_query(t.hpx, t.ra, t.dec, %(ra0)s, %(dec0)s, %(radius_deg)s)
