-- Aggregates of the release QA report (twomass.qa.release_report), one per "-- name:"
-- section. They run in one transaction with search_path = rel_<name>, public, so psc,
-- psc_reject_row and scan_info are the release's tables.
--
-- Every statement returns an aggregate (histogram bins by width_bucket, HEALPix pixels by
-- hpx >> 2*(29 - order), per-night means) or a bounded sample, never a catalog table:
-- the report's cost in Python does not grow with the release (471 million rows for
-- 2MASS). Bin numbers are width_bucket's: 0 below the range, bins + 1 above it.

-- name: scan_corners
-- The chosen scans' 3-band areas (corners 1-4), for the coverage MOC; one row per scan,
-- some 60,000 for the whole sky.
SELECT ra_1, dec_1, ra_2, dec_2, ra_3, dec_3, ra_4, dec_4
FROM scan_info
ORDER BY scan_key;

-- name: density
-- Point sources per HEALPix NESTED pixel of order %(order)s: the order-29 index shifted
-- right by 2 bits per order, which the hpx B-tree and the table's hpx order make a
-- streaming aggregate.
SELECT hpx >> (2 * (29 - %(order)s::integer)) AS pixel, count(*) AS sources
FROM psc
GROUP BY 1
ORDER BY 1;

-- name: depth_histogram
-- Fig. 16 of the survey paper: S/N = 10 magnitudes of the chosen scans per hemisphere and
-- band, in %(bins)s bins from %(lo)s to %(hi)s mag.
SELECT s.hemis, b.band, width_bucket(b.msnr10, %(lo)s, %(hi)s, %(bins)s) AS bin,
       count(*) AS scans
FROM scan_info AS s
CROSS JOIN LATERAL (VALUES ('j', s.j_msnr10), ('h', s.h_msnr10), ('k', s.k_msnr10))
    AS b(band, msnr10)
WHERE b.msnr10 IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: depth_summary
-- Per band: scans with a S/N = 10 magnitude, their median, and how many are at least as
-- deep as the survey's requirement (J 15.8, H 15.1, Ks 14.3 mag).
SELECT b.band, count(b.msnr10) AS scans,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY b.msnr10) AS median_mag,
       count(*) FILTER (WHERE b.msnr10 >= b.required) AS deep_enough
FROM scan_info AS s
CROSS JOIN LATERAL (VALUES ('j', s.j_msnr10, %(j_required)s::real),
                           ('h', s.h_msnr10, %(h_required)s::real),
                           ('k', s.k_msnr10, %(k_required)s::real)) AS b(band, msnr10, required)
GROUP BY 1
ORDER BY 1;

-- name: overlap_pairs
-- Tile overlaps: a sample of the duplicate apparitions (psc_reject reason "duplicate":
-- the same source seen by a second chosen scan), each with the catalog source nearest to
-- it within the match radius, found through the hpx index (hpx_radial_query). Block
-- sampling (SYSTEM) reads only the sampled pages; the rows are in hpx order, so a block
-- is a patch of sky and the sample a scatter of patches. 100 percent takes every pair.
-- Magnitudes are kept only where both apparitions measured the band (rd_flg 1-4: not an
-- upper limit, not a failed measurement).
CREATE TEMPORARY TABLE qa_pair ON COMMIT DROP AS
SELECT c.k_m AS pos_ks,
       CASE WHEN substr(d.rd_flg, 1, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 1, 1) BETWEEN '1' AND '4' THEN c.j_m END AS j_cat,
       CASE WHEN substr(d.rd_flg, 1, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 1, 1) BETWEEN '1' AND '4' THEN d.j_m - c.j_m END AS j_diff,
       CASE WHEN substr(d.rd_flg, 2, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 2, 1) BETWEEN '1' AND '4' THEN c.h_m END AS h_cat,
       CASE WHEN substr(d.rd_flg, 2, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 2, 1) BETWEEN '1' AND '4' THEN d.h_m - c.h_m END AS h_diff,
       CASE WHEN substr(d.rd_flg, 3, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 3, 1) BETWEEN '1' AND '4' THEN c.k_m END AS k_cat,
       CASE WHEN substr(d.rd_flg, 3, 1) BETWEEN '1' AND '4'
             AND substr(c.rd_flg, 3, 1) BETWEEN '1' AND '4' THEN d.k_m - c.k_m END AS k_diff,
       -- RA difference wrapped into [-180, 180] deg, times cos(dec): arcsec on the sky.
       (d.ra - c.ra - 360 * round((d.ra - c.ra) / 360)) * cos(radians(c.dec)) * 3600
           AS ra_diff_arcsec,
       (d.dec - c.dec) * 3600 AS dec_diff_arcsec,
       c.hpx
FROM psc_reject_row AS d TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (21)
CROSS JOIN LATERAL (
    SELECT p.ra, p.dec, p.j_m, p.h_m, p.k_m, p.rd_flg, p.hpx
    FROM psc AS p
    WHERE hpx_radial_query(p.hpx, p.ra, p.dec, d.ra, d.dec, %(match_arcsec)s / 3600.0)
    ORDER BY hpx_dist(p.ra, p.dec, d.ra, d.dec)
    LIMIT 1
) AS c
WHERE d.reject_reason = 'duplicate';

-- name: repeatability
-- Photometric repeatability per band and catalog-magnitude bin (%(bins)s bins from %(lo)s
-- to %(hi)s mag): pairs, rms of the difference, and a robust sigma, 1.4826 x the median
-- absolute difference (insensitive to the few blends and mismatches). For two
-- measurements of equal quality, one measurement's scatter is the difference's / sqrt 2.
SELECT b.band, width_bucket(b.mag, %(lo)s, %(hi)s, %(bins)s) AS bin, count(*) AS pairs,
       sqrt(avg(b.diff * b.diff)) AS rms_mag,
       1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(b.diff)) AS robust_sigma_mag,
       avg(b.diff) AS mean_mag
FROM qa_pair AS q
CROSS JOIN LATERAL (VALUES ('j', q.j_cat, q.j_diff), ('h', q.h_cat, q.h_diff),
                           ('k', q.k_cat, q.k_diff)) AS b(band, mag, diff)
WHERE b.diff IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: repeatability_bright
-- The same for all pairs with catalog magnitude below %(mag_max)s mag, per band.
SELECT b.band, count(*) AS pairs, sqrt(avg(b.diff * b.diff)) AS rms_mag,
       1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(b.diff)) AS robust_sigma_mag
FROM qa_pair AS q
CROSS JOIN LATERAL (VALUES ('j', q.j_cat, q.j_diff), ('h', q.h_cat, q.h_diff),
                           ('k', q.k_cat, q.k_diff)) AS b(band, mag, diff)
WHERE b.diff IS NOT NULL AND b.mag < %(mag_max)s
GROUP BY 1
ORDER BY 1;

-- name: astrometric_overlaps
-- Position differences of the same pairs per catalog Ks bin (Fig. 20's "adjacent tiles"
-- curve): rms per coordinate [arcsec].
SELECT width_bucket(pos_ks, %(lo)s, %(hi)s, %(bins)s) AS bin, count(*) AS pairs,
       sqrt(avg(ra_diff_arcsec * ra_diff_arcsec)) AS ra_rms_arcsec,
       sqrt(avg(dec_diff_arcsec * dec_diff_arcsec)) AS dec_rms_arcsec
FROM qa_pair
WHERE pos_ks IS NOT NULL
GROUP BY 1
ORDER BY 1;

-- name: overlap_summary
-- All sampled pairs, and the position rms per coordinate of those with catalog Ks below
-- %(ks_max)s mag (the survey paper quotes <= 100 mas for Ks < 14).
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE pos_ks < %(ks_max)s) AS bright_pairs,
       sqrt(avg(ra_diff_arcsec * ra_diff_arcsec) FILTER (WHERE pos_ks < %(ks_max)s))
           AS ra_rms_arcsec,
       sqrt(avg(dec_diff_arcsec * dec_diff_arcsec) FILTER (WHERE pos_ks < %(ks_max)s))
           AS dec_rms_arcsec
FROM qa_pair;

-- name: overlap_points
-- Points for the scatter plots: the first %(limit)s pairs in hpx order (the sample is
-- already spread over the sky).
SELECT j_cat, j_diff, h_cat, h_diff, k_cat, k_diff, pos_ks, ra_diff_arcsec, dec_diff_arcsec
FROM qa_pair
ORDER BY hpx
LIMIT %(limit)s;

-- name: scan_choice
-- Every working-database scan by QA score and what happened to it in this release:
-- chosen; loaded after the build; below the spec's min_scan_qual; or its tile's choice
-- went to a scan ranked higher (sql/release/10_scan_selection.sql).
SELECT s.qual,
       CASE WHEN c.scan_key IS NOT NULL THEN 'chosen'
            WHEN n.ingested_at > %(built_at)s THEN 'loaded after the build'
            WHEN s.qual < %(min_scan_qual)s THEN 'below min_scan_qual'
            ELSE 'another scan of its tile chosen' END AS outcome,
       count(*) AS scans
FROM wdb.scan AS s
JOIN wdb.night AS n ON n.night_key = s.night_key
LEFT JOIN scan_info AS c ON c.scan_key = s.scan_key
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: nights
-- Per night (hemisphere, date) of the chosen scans: mean QA score, aperture zero points,
-- S/N = 10 magnitudes and the mid-night Julian Date, for the figures against time (the
-- survey paper's Figs. 6 and 7).
SELECT hemis, date, count(*) AS scans, avg(jdate) AS jdate, avg(qual) AS qual,
       avg(j_zp_ap) AS j_zp_ap, avg(h_zp_ap) AS h_zp_ap, avg(k_zp_ap) AS k_zp_ap,
       avg(j_msnr10) AS j_msnr10, avg(h_msnr10) AS h_msnr10, avg(k_msnr10) AS k_msnr10
FROM scan_info
GROUP BY 1, 2
ORDER BY 2, 1;
