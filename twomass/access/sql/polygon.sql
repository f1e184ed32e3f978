-- Polygon: the rows inside the polygon of vertices {ra1, dec1, ra2, dec2, ...} [deg],
-- great-circle edges, within a hemisphere (hpx_poly_query, Q3C's q3c_poly_query).
public.hpx_poly_query(t.hpx, t.ra, t.dec, %(poly)s::float8[])
