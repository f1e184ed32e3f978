-- Cross-match of an uploaded table (the temporary table {upload}: row_id, ra, dec, hpx,
-- radius_arcsec) with a catalog relation: the pairs come from hpx_xmatch (or
-- hpx_xmatch_nearest) at the largest radius of the upload, in one set-based join; each
-- pair is then kept only within its own row's radius. For the nearest match this is
-- exact too: when a row's nearest neighbour lies beyond its own radius, no neighbour
-- lies within it. Unordered: the caller sorts the answer (upload order, nearest first)
-- in Arrow, which is cheaper than sorting rows of every catalog column here.
SELECT x.id_a AS row_id, {columns}, x.dist_arcsec
FROM {pairs} AS x
JOIN {upload} AS u ON u.row_id = x.id_a
JOIN {relation} AS c ON c.{key} = x.id_b
WHERE x.dist_arcsec < u.radius_arcsec
