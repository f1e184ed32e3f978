-- Step 1 (Explanatory Supplement sec. 5.1, "scan selection"): one scan per tile.
--
-- Runs with search_path = <release schema>, public; the one-row table "spec" holds the
-- thresholds of this build. For every tile the scan with the highest QA score (qual)
-- is chosen. Ties (same score) are ranked by sensitivity and then zero point, as the
-- scan-selection page lists them without weights (UNCONFIRMED formula, spec field
-- scan_sensitivity):
--   msnr10: higher mean J/H/Ks S/N=10 magnitude (deeper scan) first;
--   psp:    lower mean photometric sensitivity parameter (seeing x background^0.29) first;
-- then the higher mean aperture zero point (more transparent sky), then the earlier scan
-- by its natural key (date, hemis, scan), so the choice never depends on load order.
-- The coverage iteration of 2MASS (swapping scans to close gaps) is not reproduced.

CREATE UNLOGGED TABLE chosen_scan AS
SELECT DISTINCT ON (s.tile)
       s.scan_key, s.tile, s.hemis, s.date, s.scan, s.ra, s.dec, s.hpx, s.qual, s.jdate,
       s.ra_1, s.dec_1, s.ra_2, s.dec_2, s.ra_3, s.dec_3, s.ra_4, s.dec_4
FROM wdb.scan AS s
CROSS JOIN spec
WHERE s.qual >= spec.min_scan_qual
ORDER BY s.tile,
         s.qual DESC,
         CASE spec.scan_sensitivity
             WHEN 'msnr10' THEN (s.j_msnr10 + s.h_msnr10 + s.k_msnr10) / 3
             ELSE -(s.j_psp + s.h_psp + s.k_psp) / 3
         END DESC NULLS LAST,
         (s.j_zp_ap + s.h_zp_ap + s.k_zp_ap) / 3 DESC NULLS LAST,
         s.date, s.hemis, s.scan;

ALTER TABLE chosen_scan ADD PRIMARY KEY (scan_key);

-- Bounding box of every chosen scan's 3-band area, in RA measured from the scan centre
-- (so boxes across RA = 0 need no special case), widened by 60" because the edges are
-- great circles, not lines of constant RA and Dec. It is only a cheap pre-filter before
-- the exact edge-distance test of the duplicate step.
CREATE UNLOGGED TABLE scan_box AS
SELECT c.scan_key,
       least(d1, d2, d3, d4) - 60 / 3600.0 / greatest(cosd(hi), 1e-6) AS dra_lo,
       greatest(d1, d2, d3, d4) + 60 / 3600.0 / greatest(cosd(hi), 1e-6) AS dra_hi,
       least(c.dec_1, c.dec_2, c.dec_3, c.dec_4) - 60 / 3600.0 AS dec_lo,
       greatest(c.dec_1, c.dec_2, c.dec_3, c.dec_4) + 60 / 3600.0 AS dec_hi,
       -- radius of a circle round the centre that holds the whole area [deg]
       greatest(hpx_dist(c.ra, c.dec, c.ra_1, c.dec_1), hpx_dist(c.ra, c.dec, c.ra_2, c.dec_2),
                hpx_dist(c.ra, c.dec, c.ra_3, c.dec_3), hpx_dist(c.ra, c.dec, c.ra_4, c.dec_4))
           AS radius_deg
FROM chosen_scan AS c,
     LATERAL (SELECT tmass_dra(c.ra_1, c.ra), tmass_dra(c.ra_2, c.ra),
                     tmass_dra(c.ra_3, c.ra), tmass_dra(c.ra_4, c.ra),
                     least(89.99, greatest(abs(c.dec_1), abs(c.dec_2), abs(c.dec_3),
                                           abs(c.dec_4)) + 60 / 3600.0)
             ) AS d(d1, d2, d3, d4, hi);
ALTER TABLE scan_box ADD PRIMARY KEY (scan_key);

-- Pairs of chosen scans whose areas can overlap: the only scans that may hold another
-- apparition of a source, or miss it. A sky-cell hash join (step 05) of the scan centres
-- within twice the largest scan radius, then the test on the two radii and on the two
-- bounding boxes (a box that wraps in RA, near a pole, overlaps everything).
CREATE UNLOGGED TABLE scan_pair (scan_a integer, scan_b integer);
DO $$
DECLARE
    radius_deg float8 := least(45, 2 * (SELECT max(radius_deg) FROM scan_box));
BEGIN
    EXECUTE $q$
        WITH cell AS MATERIALIZED (
            SELECT c.scan_key, c.ra, c.dec, b.radius_deg, z.zone, z.n, z.n_below, z.n_above,
                   z.half_width,
                   sky_cell(z.zone, z.n, c.ra, 2 * $1) AS cell
            FROM chosen_scan AS c
            JOIN scan_box AS b ON b.scan_key = c.scan_key
            JOIN sky_zones(2 * $1) AS z ON z.zone = sky_zone(c.dec, 2 * $1)
        )
        INSERT INTO scan_pair
        SELECT a.scan_key, b.scan_key
        FROM cell AS a
        CROSS JOIN LATERAL unnest(sky_cells_near(a.ra, a.dec, a.zone, a.n, a.n_below, a.n_above,
                                          a.half_width, $1, 2 * $1)) AS near
        JOIN cell AS b ON b.cell = near
        JOIN scan_box AS ba ON ba.scan_key = a.scan_key
        JOIN scan_box AS bb ON bb.scan_key = b.scan_key
        CROSS JOIN LATERAL (SELECT tmass_dra(b.ra, a.ra) AS dra) AS o
        WHERE b.scan_key <> a.scan_key
          AND hpx_dist(a.ra, a.dec, b.ra, b.dec) <= a.radius_deg + b.radius_deg
          -- the bounding boxes overlap (RA of b's box measured from a's centre)
          AND ba.dec_lo <= bb.dec_hi AND bb.dec_lo <= ba.dec_hi
          AND (ba.dra_hi - ba.dra_lo >= 180 OR bb.dra_hi - bb.dra_lo >= 180
               OR (ba.dra_lo <= o.dra + bb.dra_hi AND o.dra + bb.dra_lo <= ba.dra_hi))
    $q$ USING coalesce(radius_deg, 1);
END
$$;
CREATE INDEX ON scan_pair (scan_a);
ANALYZE chosen_scan;
ANALYZE scan_box;
ANALYZE scan_pair;

-- The inward unit normals of the four edges of every chosen scan's area
-- (tmass_edge_normals), computed once per scan so that the duplicate step tests positions
-- against other scans with four dot products.
CREATE UNLOGGED TABLE scan_edge AS
SELECT c.scan_key, e.*
FROM chosen_scan AS c
CROSS JOIN LATERAL tmass_edge_normals(c.ra_1, c.dec_1, c.ra_2, c.dec_2,
                                      c.ra_3, c.dec_3, c.ra_4, c.dec_4) AS e;
ALTER TABLE scan_edge ADD PRIMARY KEY (scan_key);
ANALYZE scan_edge;
