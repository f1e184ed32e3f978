-- Box: the rows with ra in [ra_min, ra_max] and dec in [dec_min, dec_max] [deg], bounds
-- included; ra_min > ra_max is a box across RA 0/360. The box's corners are its farthest
-- points from (ra0, dec0), so the disc of radius_deg there covers it and gives the index
-- ranges; the coordinate tests then cut the box out of the disc.
public.hpx_radial_query(t.hpx, t.ra, t.dec, %(ra0)s, %(dec0)s, %(radius_deg)s)
AND t.dec BETWEEN %(dec_min)s AND %(dec_max)s
AND (CASE WHEN %(ra_min)s <= %(ra_max)s THEN t.ra BETWEEN %(ra_min)s AND %(ra_max)s
          ELSE t.ra >= %(ra_min)s OR t.ra <= %(ra_max)s END)
