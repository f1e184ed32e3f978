-- Step 3 (Explanatory Supplement sec. 5.4, Wheelock 2002 "final release" duplicate
-- resolution): keep exactly one apparition of every source seen in more than one chosen
-- scan, chosen purely geometrically, and set use_src / dup_src.
--
-- 1. The candidates (working rows that passed step 2; artifacts already excluded) of both
--    catalogs go into one table "app"; node key k = scan_key * 2^32 + id.
-- 2. Apparitions in different chosen scans closer than psc_match_arcsec (2") for point
--    sources / xsc_match_arcsec (5") for extended ones are matches (a hash join on sky
--    cells, step 05: linear in the number of candidates).
-- 3. Matches are grouped into connected components (a source split in one scan links
--    several apparitions). dup_src of every member of a group:
--      1 simple match: no scan has more than one apparition in the group;
--      3 one scan has the source split (a1 <-> b1, b2);
--      4 two or more scans split and every cross-scan pair matched (a1,a2 <-> b1,b2);
--      5 any other confused chain (a1 <-> b1 <-> a2 <-> b2 ...).
--    The apparition farthest from its own tile's edges wins: largest figure of merit
--    min(dist_edge_ns, dist_edge_ew); exact ties (UNCONFIRMED, none documented) go to the
--    earlier scan by (date, hemis, scan), then the lower id. Winner use_src = 1, every
--    other member use_src = 0.
-- 4. A candidate matched by nothing (dup_src = 0) lying where another chosen scan covers
--    the sky beyond that scan's safety border was missed by that scan: a virtual
--    apparition is placed there with the figure of merit of the position in the other
--    scan (computed from its corners with tmass_edge_distance, truncated to whole arcsec
--    like dist_edge_*). If a virtual apparition is strictly farther from its edges the
--    real one gets use_src = 0 (it stays in the catalog: use_src = 0 AND dup_src = 0);
--    otherwise use_src = 1. Virtual apparitions are not placed for matched groups.

CREATE UNLOGGED TABLE app_grid AS
SELECT 2 * greatest(psc_match_arcsec, xsc_match_arcsec) / 3600.0 AS cell_deg FROM spec;
CREATE UNLOGGED TABLE app_zone AS SELECT z.* FROM app_grid AS g, sky_zones(g.cell_deg) AS z;
ALTER TABLE app_zone ADD PRIMARY KEY (zone);

CREATE UNLOGGED TABLE app AS
SELECT c.cat, c.scan_key, c.id, c.k, c.hpx, c.ra, c.dec, c.fom, c.cc_flg,
       z.zone, z.n, z.n_below, z.n_above, sky_cell(z.zone, z.n, c.ra, g.cell_deg) AS cell
FROM (SELECT 'P'::char(1) AS cat, scan_key, id, scan_key::bigint * 4294967296 + id AS k,
             hpx, ra, dec, fom, cc_flg::text AS cc_flg
      FROM pts_work WHERE reason IS NULL
      UNION ALL
      SELECT 'X'::char(1), scan_key, id, scan_key::bigint * 4294967296 + id,
             hpx, ra, dec, fom, cc_flg::text
      FROM ext_work WHERE reason IS NULL) AS c
CROSS JOIN app_grid AS g
JOIN app_zone AS z ON z.zone = sky_zone(c.dec, g.cell_deg);
ANALYZE app;

-- Matches, each pair once (a.k < b.k), then both directions: every candidate probed into
-- the cells its match disc reaches, joined by hash with the candidates of those cells.
-- Radii and cell size are bound as parameters of a dynamic statement, so the planner
-- sees constants and filters the probes before the join.
CREATE UNLOGGED TABLE app_edge (cat char(1), ka bigint, kb bigint);
DO $$
DECLARE
    cat_radius record;
BEGIN
    FOR cat_radius IN SELECT 'P' AS cat, psc_match_arcsec / 3600.0 AS radius_deg FROM spec
                      UNION ALL
                      SELECT 'X', xsc_match_arcsec / 3600.0 FROM spec
    LOOP
        EXECUTE $q$
            INSERT INTO app_edge
            SELECT $1, a.k, b.k
            FROM app AS a
            CROSS JOIN LATERAL sky_cells_near(a.ra, a.dec, a.zone, a.n, a.n_below, a.n_above,
                                              $2, $3) AS near
            JOIN app AS b ON b.cell = near
            WHERE a.cat = $1 AND b.cat = $1 AND b.scan_key <> a.scan_key AND a.k < b.k
              AND hpx_dist(a.ra, a.dec, b.ra, b.dec) < $2
        $q$ USING cat_radius.cat, cat_radius.radius_deg, (SELECT cell_deg FROM app_grid);
    END LOOP;
END
$$;
INSERT INTO app_edge SELECT cat, kb, ka FROM app_edge;
CREATE UNIQUE INDEX ON app (cat, k);
CREATE INDEX ON app_edge (cat, ka);
ANALYZE app_edge;

-- Connected components by minimum-label propagation: every matched node starts with its
-- own key and repeatedly takes the smallest label of its neighbours; groups are small,
-- so this converges in a few passes.
CREATE UNLOGGED TABLE app_label AS SELECT DISTINCT cat, ka AS k, ka AS label FROM app_edge;
ALTER TABLE app_label ADD PRIMARY KEY (cat, k);
DO $$
BEGIN
    LOOP
        UPDATE app_label AS l
        SET label = m.label
        FROM (SELECT e.cat, e.ka AS k, min(n.label) AS label
              FROM app_edge AS e
              JOIN app_label AS n ON n.cat = e.cat AND n.k = e.kb
              GROUP BY e.cat, e.ka) AS m
        WHERE l.cat = m.cat AND l.k = m.k AND m.label < l.label;
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$;

CREATE UNLOGGED TABLE group_dup AS
WITH per_scan AS (
    SELECT a.cat, l.label, a.scan_key, count(*) AS n
    FROM app_label AS l JOIN app AS a ON a.cat = l.cat AND a.k = l.k
    GROUP BY a.cat, l.label, a.scan_key
), per_group AS (
    SELECT cat, label, sum(n) AS n, sum(n * n) AS n2, count(*) FILTER (WHERE n > 1) AS n_split
    FROM per_scan GROUP BY cat, label
), pairs AS (
    SELECT l.cat, l.label, count(*) / 2 AS n_pairs
    FROM app_edge AS e JOIN app_label AS l ON l.cat = e.cat AND l.k = e.ka
    GROUP BY l.cat, l.label
)
SELECT g.cat, g.label,
       CASE WHEN g.n_split = 0 THEN 1
            WHEN g.n_split = 1 THEN 3
            WHEN p.n_pairs = (g.n * g.n - g.n2) / 2 THEN 4
            ELSE 5 END::smallint AS dup_src
FROM per_group AS g JOIN pairs AS p ON p.cat = g.cat AND p.label = g.label;

-- Virtual apparitions of unmatched candidates: cheap box pre-filter on the neighbouring
-- chosen scans first (materialized), the exact edge distances only for what survives.
CREATE UNLOGGED TABLE virtual_apparition AS
WITH near_edge AS MATERIALIZED (
    SELECT a.cat, a.k, c.scan_key, a.ra, a.dec,
           c.ra_1, c.dec_1, c.ra_2, c.dec_2, c.ra_3, c.dec_3, c.ra_4, c.dec_4
    FROM app AS a
    JOIN scan_pair AS p ON p.scan_a = a.scan_key
    JOIN scan_box AS b ON b.scan_key = p.scan_b
    JOIN chosen_scan AS c ON c.scan_key = p.scan_b
    WHERE (SELECT virtual_apparitions FROM spec)
      AND NOT EXISTS (SELECT 1 FROM app_label AS l WHERE l.cat = a.cat AND l.k = a.k)
      AND a.dec BETWEEN b.dec_lo AND b.dec_hi
      AND tmass_dra(a.ra, c.ra) BETWEEN b.dra_lo AND b.dra_hi
)
SELECT n.cat, n.k, n.scan_key, floor(least(e.dist_ns, e.dist_ew)) AS fom
FROM near_edge AS n
CROSS JOIN spec
CROSS JOIN LATERAL tmass_edge_distance(n.ra, n.dec, n.ra_1, n.dec_1, n.ra_2, n.dec_2,
                                       n.ra_3, n.dec_3, n.ra_4, n.dec_4) AS e
WHERE least(e.dist_ns, e.dist_ew) > CASE n.cat WHEN 'P' THEN spec.psc_edge_arcsec
                                               ELSE spec.xsc_edge_arcsec END;
CREATE INDEX ON virtual_apparition (cat, k);

-- use_src / dup_src of every candidate.
CREATE UNLOGGED TABLE app_status AS
SELECT a.cat, a.scan_key, a.id, a.k, a.hpx, a.ra, a.dec, a.cc_flg,
       CASE WHEN row_number() OVER (PARTITION BY a.cat, l.label
                                    ORDER BY a.fom DESC, c.date, c.hemis, c.scan, a.id) = 1
            THEN 1 ELSE 0 END::smallint AS use_src,
       d.dup_src
FROM app AS a
JOIN app_label AS l ON l.cat = a.cat AND l.k = a.k
JOIN group_dup AS d ON d.cat = l.cat AND d.label = l.label
JOIN chosen_scan AS c ON c.scan_key = a.scan_key;

INSERT INTO app_status
SELECT a.cat, a.scan_key, a.id, a.k, a.hpx, a.ra, a.dec, a.cc_flg,
       CASE WHEN EXISTS (SELECT 1 FROM virtual_apparition AS v
                         WHERE v.cat = a.cat AND v.k = a.k AND v.fom > a.fom)
            THEN 0 ELSE 1 END::smallint,
       0::smallint
FROM app AS a
WHERE NOT EXISTS (SELECT 1 FROM app_label AS l WHERE l.cat = a.cat AND l.k = a.k);
