-- Step 3 (Explanatory Supplement sec. 5.4, Wheelock 2002 "final release" duplicate
-- resolution): keep exactly one apparition of every source seen in more than one chosen
-- scan, chosen purely geometrically, and set use_src / dup_src.
--
-- 1. Every candidate (table cand: the working rows that passed step 2, artifacts already
--    excluded, of both catalogs) is tested against the edges of the other chosen scans
--    whose areas can overlap its own (scan_pair and scan_edge, step 1): "app_cover"
--    lists the other scans that cover it deeper than their safety border less the match
--    radius (and 2" for rounding). Only these candidates, in table "app", can have
--    another apparition: its partner lies beyond that scan's border and within the match
--    radius. Every other candidate is a single apparition (use_src = 1, dup_src = 0)
--    without further work.
-- 2. Apparitions in different chosen scans closer than psc_match_arcsec (2") for point
--    sources / xsc_match_arcsec (5") for extended ones are matches.
-- 3. Matches are grouped into connected components (a source split in one scan links
--    several apparitions). dup_src of every member of a group:
--      1 simple match: no scan has more than one apparition in the group;
--      3 one scan has the source split (a1 <-> b1, b2);
--      4 two or more scans split and every cross-scan pair matched (a1,a2 <-> b1,b2);
--      5 any other confused chain (a1 <-> b1 <-> a2 <-> b2 ...).
--    The apparition farthest from its own tile's edges wins: largest figure of merit
--    min(dist_edge_ns, dist_edge_ew); exact ties (UNCONFIRMED, none documented) go to the
--    earlier scan by (date, hemis, scan), then the lower id. The winner's scan wins the
--    group: every apparition of that scan in the group gets use_src = 1 (within one scan
--    the apparitions of a confused group are distinct detections, so a pair both scans
--    resolve stays a pair), every apparition of the other scans use_src = 0. A simple
--    match (dup_src 1) keeps its one winner; a triangle (dup_src 3) keeps one apparition
--    or two, according to which scan wins; a resolved pair (4) keeps both; a chain (5)
--    keeps the winning scan's stars.
-- 4. A candidate matched by nothing (dup_src = 0) lying where another chosen scan covers
--    the sky beyond that scan's safety border was missed by that scan: a virtual
--    apparition is placed there with the figure of merit of the position in the other
--    scan (its distance from that scan's nearest edge, truncated to whole arcsec like
--    dist_edge_*). If a virtual apparition is strictly farther from its edges the real
--    one gets use_src = 0 (it stays in the catalog: use_src = 0 AND dup_src = 0);
--    otherwise use_src = 1. Virtual apparitions are not placed for matched groups.

-- Other chosen scans covering each candidate: the distance from their nearest edge by
-- four dot products with the inward edge normals.
CREATE UNLOGGED TABLE app_cover AS
SELECT c.cat, c.k, p.scan_b AS scan_key, d.depth
FROM cand AS c
JOIN scan_pair AS p ON p.scan_a = c.scan_key
JOIN scan_edge AS e ON e.scan_key = p.scan_b
CROSS JOIN spec
CROSS JOIN LATERAL (
    SELECT asind(greatest(-1, least(1, e.n1x * c.x + e.n1y * c.y + e.n1z * c.z,
                                       e.n2x * c.x + e.n2y * c.y + e.n2z * c.z,
                                       e.e1x * c.x + e.e1y * c.y + e.e1z * c.z,
                                       e.e2x * c.x + e.e2y * c.y + e.e2z * c.z))) * 3600
           AS depth
) AS d
WHERE d.depth > CASE c.cat WHEN 'P' THEN spec.psc_edge_arcsec - spec.psc_match_arcsec
                           ELSE spec.xsc_edge_arcsec - spec.xsc_match_arcsec END - 2;
ANALYZE app_cover;

-- The candidates that can have another apparition (table app) and their matches
-- (app_edge: pairs of one catalog in different chosen scans closer than psc_match_arcsec
-- or xsc_match_arcsec), by a sky-cell hash join (sql/lib/cross_matches.sql).
CALL match_apparitions();

-- Connected components: the label of a node is the smallest key it reaches through
-- matches (a recursive closure). Its size is the sum of the squares of the group sizes,
-- and a group is a handful of apparitions of one source, so this costs less than
-- repeated passes of label propagation over all matches.
CREATE UNLOGGED TABLE app_label AS
WITH RECURSIVE reach (cat, k, node) AS (
    SELECT DISTINCT cat, ka, ka FROM app_edge
    UNION
    SELECT r.cat, r.k, e.kb
    FROM reach AS r
    JOIN app_edge AS e ON e.cat = r.cat AND e.ka = r.node
)
SELECT cat, k, min(node) AS label FROM reach GROUP BY cat, k;
ALTER TABLE app_label ADD PRIMARY KEY (cat, k);
ANALYZE app_label;

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

-- Virtual apparitions of unmatched candidates: the other scans covering them beyond
-- their border; the best one's figure of merit, per candidate.
CREATE UNLOGGED TABLE virtual_apparition AS
SELECT v.cat, v.k, max(floor(v.depth)) AS fom
FROM app_cover AS v
CROSS JOIN spec
WHERE spec.virtual_apparitions
  AND v.depth > CASE v.cat WHEN 'P' THEN spec.psc_edge_arcsec ELSE spec.xsc_edge_arcsec END
  AND NOT EXISTS (SELECT 1 FROM app_label AS l WHERE l.cat = v.cat AND l.k = v.k)
GROUP BY v.cat, v.k;

-- Members of the matched groups: every apparition of the winner's scan use_src = 1.
CREATE UNLOGGED TABLE group_member AS
SELECT m.cat, m.k, (m.scan_key = m.winning_scan)::integer::smallint AS use_src, m.dup_src
FROM (
    SELECT a.cat, a.k, a.scan_key, d.dup_src,
           first_value(a.scan_key) OVER (PARTITION BY a.cat, l.label
                                         ORDER BY a.fom DESC, c.date, c.hemis, c.scan, a.id)
               AS winning_scan
    FROM app AS a
    JOIN app_label AS l ON l.cat = a.cat AND l.k = a.k
    JOIN group_dup AS d ON d.cat = l.cat AND d.label = l.label
    JOIN chosen_scan AS c ON c.scan_key = a.scan_key
) AS m;
ANALYZE virtual_apparition;
ANALYZE group_member;

-- use_src / dup_src of every candidate: a view, read in steps 5 and 6 for the catalog
-- rows and for the rejected candidates.
CREATE VIEW app_status AS
SELECT c.cat, c.scan_key, c.id, c.k, c.hpx, c.ra, c.dec, c.x, c.y, c.z, c.cc_flg,
       CASE WHEN g.k IS NOT NULL THEN g.use_src
            WHEN v.fom > c.fom THEN 0
            ELSE 1 END::smallint AS use_src,
       coalesce(g.dup_src, 0)::smallint AS dup_src
FROM cand AS c
LEFT JOIN group_member AS g ON g.cat = c.cat AND g.k = c.k
LEFT JOIN virtual_apparition AS v ON v.cat = c.cat AND v.k = c.k;
