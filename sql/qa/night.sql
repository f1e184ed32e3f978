-- Queries of the night QA report (twomass.qa.night_report) for a night already in the
-- working database, one per "-- name:" section. A night has some 50-100 scans, so its
-- scan rows are read whole; its extractions only as counts.

-- name: night_scans
-- The night's scans in observing order, with the centre of their planned tile and the
-- scan that the release rules would choose for that tile among every loaded scan: the
-- ranking of sql/release/10_scan_selection.sql with the default spec (highest QA score,
-- then the deeper mean S/N = 10 magnitude, then the higher mean zero point, then the
-- earlier scan).
WITH night AS (
    SELECT night_key FROM wdb.night WHERE hemis = %(hemis)s AND date = %(date)s
), tile_choice AS (
    SELECT DISTINCT ON (s.tile) s.tile, s.scan_key, s.hemis, s.date, s.scan, s.qual
    FROM wdb.scan AS s
    WHERE s.tile IN (SELECT tile FROM wdb.scan WHERE night_key IN (SELECT night_key FROM night))
      AND s.qual >= %(min_scan_qual)s
    ORDER BY s.tile, s.qual DESC,
             (s.j_msnr10 + s.h_msnr10 + s.k_msnr10) / 3 DESC NULLS LAST,
             (s.j_zp_ap + s.h_zp_ap + s.k_zp_ap) / 3 DESC NULLS LAST,
             s.date, s.hemis, s.scan
)
SELECT s.*, t.ra AS tile_ra, t.dec AS tile_dec,
       c.scan_key AS choice_scan_key,
       to_char(c.date, 'YYYY-MM-DD') || c.hemis || ' scan ' || c.scan AS choice_label,
       c.qual AS choice_qual
FROM wdb.scan AS s
LEFT JOIN wdb.tile AS t ON t.tile = s.tile
LEFT JOIN tile_choice AS c ON c.tile = s.tile
WHERE s.night_key IN (SELECT night_key FROM night)
ORDER BY s.scan;

-- name: scan_rows
-- Point extractions per scan of the night (the BRIN index on scan_key finds them).
SELECT scan_key, count(*) AS extractions
FROM wdb.pts
WHERE scan_key = ANY(%(scan_keys)s)
GROUP BY 1;

-- name: density
-- Point extractions of the night per HEALPix NESTED pixel of order %(order)s.
SELECT hpx >> (2 * (29 - %(order)s::integer)) AS pixel, count(*) AS extractions
FROM wdb.pts
WHERE scan_key = ANY(%(scan_keys)s)
GROUP BY 1
ORDER BY 1;
