-- Step 6: materialize the release tables.
--
-- psc         the 60 Point Source Catalog columns in the 2MASS All-Sky order, names and
--             types (Explanatory Supplement sec. 2.2a), then hpx for spatial queries;
--             cc_flg is the final flag of step 4's artifact pass where it set one;
-- psc_reject  every working point row not in psc, same columns plus reject_reason, the
--             first rule it failed: scan_not_selected, edge, artifact, no_valid_band,
--             snr, psfchi, ndet, duplicate, artifact_final. Columns only a catalog row
--             has (prox, pxpa, pxcntr, gal_contam, ext_key) are NULL, designation has no
--             collision suffix, use_src/dup_src are NULL unless the row reached step 3,
--             and pts_key continues after the last psc key. The rows are stored in
--             psc_reject_row; the view psc_reject adds designation, ph_qual and
--             glon/glat, pure functions of the stored columns, when it is read (a
--             reject table is mostly read a few rows at a time, and computing them for
--             every reject would double the cost of writing it);
-- xsc, xsc_reject  the same for extended sources (key XSC columns; xsc_reject_row);
-- scan_info   the Scan Information Table row of every chosen scan (sec. 6.1).
-- Rows are written in hpx order and each table is marked clustered on its hpx index.
-- psc, psc_reject_row, xsc and xsc_reject_row then take the working database's layout
-- (62_views.sql, partition_like_wdb): partitioned by sky (on hpx, at its HEALPix order)
-- or plain tables (sql/partitions.sql); the rows keep their order within each partition.
-- Designations (ASCII) have collation "C": byte order, whatever the database's locale,
-- and an index on them builds twice as fast.
-- Only the rows of the sky the view "part" owns (hpx_lo <= hpx <= hpx_hi: a scan by its
-- centre) are written: all of them in a single-table build, one HEALPix pixel's in a
-- partition-wise build, which also sets the reject keys' start (part.psc_reject_key0,
-- part.xsc_reject_key0; NULL: after the last catalog key).
-- coadd_key = scan_key * 1000 + coadd (no Atlas Image table exists in the working
-- database; this keeps the key unique and stable).

CREATE TABLE psc AS
SELECT p.ra, p.dec, p.err_maj, p.err_min, p.err_ang,
       (tmass_designation(p.ra, p.dec) || coalesce(n.suffix, ''))::char(17) COLLATE "C"
           AS designation,
       p.j_m, p.j_cmsig, p.j_msigcom, p.j_snr,
       p.h_m, p.h_cmsig, p.h_msigcom, p.h_snr,
       p.k_m, p.k_cmsig, p.k_msigcom, p.k_snr,
       tmass_ph_qual(p.rd_flg, p.j_m, p.j_snr, p.j_cmsig, p.j_psfchi,
                     p.h_m, p.h_snr, p.h_cmsig, p.h_psfchi,
                     p.k_m, p.k_snr, p.k_cmsig, p.k_psfchi, p.ndet,
                     spec.psfchi_max::real, spec.ndet_min_ratio::real, spec.ndet_min_frames,
                     spec.ndet_bright_j_mag::real, spec.ndet_bright_h_mag::real,
                     spec.ndet_bright_k_mag::real)::char(3) AS ph_qual,
       p.rd_flg, p.bl_flg, coalesce(mf.cc_flg, p.cc_flg) AS cc_flg, p.ndet,
       nn.prox, nn.pxpa, nn.pxcntr, coalesce(g.gal_contam, 0)::smallint AS gal_contam,
       p.mp_flg, c.key AS pts_key, s.hemis, s.date, s.scan,
       tmass_glon(p.ra, p.dec)::real AS glon,
       tmass_glat(p.ra, p.dec)::real AS glat, p.x_scan, p.jdate,
       p.j_psfchi, p.h_psfchi, p.k_psfchi,
       p.j_m_stdap, p.j_msig_stdap, p.h_m_stdap, p.h_msig_stdap, p.k_m_stdap, p.k_msig_stdap,
       p.dist_edge_ns, p.dist_edge_ew, p.dist_edge_flg, c.dup_src, c.use_src,
       p.a, p.dist_opt, p.phi_opt, p.b_m_opt, p.vr_m_opt, p.nopt_mchs,
       g.ext_key, p.scan_key, (p.scan_key * 1000 + p.coadd)::integer AS coadd_key, p.coadd,
       p.hpx
FROM cat_row AS c
JOIN w_pts AS p ON work_key(p.scan_key, p.id) = c.k
JOIN w_scan AS s ON s.scan_key = p.scan_key
CROSS JOIN spec
CROSS JOIN part AS spec_part
LEFT JOIN cat_suffix AS n ON n.cat = c.cat AND n.key = c.key
LEFT JOIN cat_nn AS nn ON nn.cat = c.cat AND nn.key = c.key
LEFT JOIN psc_galaxy AS g ON g.pts_key = c.key
LEFT JOIN mapcor_flag AS mf ON mf.k = c.k  -- (the final artifact pass's flags, step 4)
WHERE c.cat = 'P' AND c.hpx BETWEEN spec_part.hpx_lo AND spec_part.hpx_hi
ORDER BY c.key;

-- Candidates rejected in steps 3-4 (duplicate, artifact_final), with the use_src /
-- dup_src they had there; a small table, so that the planner hashes it.
CREATE UNLOGGED TABLE cand_reject AS
SELECT cat, k, reason, use_src, dup_src FROM app_final WHERE reason IS NOT NULL;
ANALYZE cand_reject;

-- Rejected point rows: the first rule each failed (step 2, view pts_filter), or the
-- reason of cand_reject.
CREATE TABLE psc_reject_row AS
SELECT p.ra, p.dec, p.err_maj, p.err_min, p.err_ang,
       p.j_m, p.j_cmsig, p.j_msigcom, p.j_snr,
       p.h_m, p.h_cmsig, p.h_msigcom, p.h_snr,
       p.k_m, p.k_cmsig, p.k_msigcom, p.k_snr,
       p.rd_flg, p.bl_flg, coalesce(mf.cc_flg, p.cc_flg) AS cc_flg, p.ndet, p.mp_flg,
       -- (the reason as a last sort key, which never decides as (hpx, scan_key, id) is
       -- unique: so that the parallel workers compute it for their sorts; otherwise it
       -- is computed after the numbering, in one process)
       (coalesce(part.psc_reject_key0, (SELECT count(*) FROM cat_row WHERE cat = 'P'))
        + row_number() OVER (ORDER BY p.hpx, p.scan_key, p.id, coalesce(p.reason, f.reason))
       )::integer AS pts_key,
       s.hemis, s.date, s.scan, p.x_scan, p.jdate,
       p.j_psfchi, p.h_psfchi, p.k_psfchi,
       p.j_m_stdap, p.j_msig_stdap, p.h_m_stdap, p.h_msig_stdap, p.k_m_stdap, p.k_msig_stdap,
       p.dist_edge_ns, p.dist_edge_ew, p.dist_edge_flg, f.dup_src, f.use_src,
       p.a, p.dist_opt, p.phi_opt, p.b_m_opt, p.vr_m_opt, p.nopt_mchs,
       p.scan_key, (p.scan_key * 1000 + p.coadd)::integer AS coadd_key, p.coadd,
       p.hpx, coalesce(p.reason, f.reason) AS reject_reason
FROM pts_filter AS p
LEFT JOIN cand_reject AS f ON f.cat = 'P' AND f.k = work_key(p.scan_key, p.id)
LEFT JOIN mapcor_flag AS mf ON mf.k = work_key(p.scan_key, p.id)
JOIN w_scan AS s ON s.scan_key = p.scan_key
CROSS JOIN part
WHERE (p.reason IS NOT NULL OR f.reason IS NOT NULL)
  AND p.hpx BETWEEN part.hpx_lo AND part.hpx_hi
ORDER BY p.hpx, p.scan_key, p.id;

CREATE TABLE xsc AS
SELECT c.key AS ext_key,
       (tmass_designation(x.ra, x.dec) || coalesce(n.suffix, ''))::char(17) COLLATE "C"
           AS designation,
       x.jdate, pc.pts_key, s.night_key, x.scan_key,
       (x.scan_key * 1000 + x.coadd)::integer AS coadd_key,
       s.hemis, s.date, s.scan, x.coadd, x.id, x.x_coadd, x.y_coadd,
       x.ra, x.dec, x.sup_ra, x.sup_dec, tmass_glon(x.ra, x.dec)::real AS glon,
       tmass_glat(x.ra, x.dec)::real AS glat,
       x.density, x.r_k20fe,
       x.j_m_k20fe, x.j_msig_k20fe, x.j_flg_k20fe, x.h_m_k20fe, x.h_msig_k20fe, x.h_flg_k20fe,
       x.k_m_k20fe, x.k_msig_k20fe, x.k_flg_k20fe,
       x.j_m_7, x.j_msig_7, x.h_m_7, x.h_msig_7, x.k_m_7, x.k_msig_7,
       x.r_3sig, x.j_ba, x.j_phi, x.h_ba, x.h_phi, x.k_ba, x.k_phi, x.sup_ba, x.sup_phi,
       x.r_ext, x.j_m_ext, x.j_msig_ext, x.h_m_ext, x.h_msig_ext, x.k_m_ext, x.k_msig_ext,
       x.e_score, x.g_score, x.vc, x.cc_flg, c.dup_src, c.use_src,
       nn.prox, nn.pxpa, nn.pxcntr, x.dist_edge_ns, x.dist_edge_ew, x.dist_edge_flg,
       x.mp_flg, x.hpx
FROM cat_row AS c
JOIN w_ext AS x ON x.scan_key = c.scan_key AND x.id = c.id
JOIN w_scan AS s ON s.scan_key = x.scan_key
LEFT JOIN cat_suffix AS n ON n.cat = c.cat AND n.key = c.key
LEFT JOIN cat_nn AS nn ON nn.cat = c.cat AND nn.key = c.key
LEFT JOIN xsc_point AS pc ON pc.ext_key = c.key
CROSS JOIN part
WHERE c.cat = 'X' AND c.hpx BETWEEN part.hpx_lo AND part.hpx_hi
ORDER BY c.key;

CREATE TABLE xsc_reject_row AS
SELECT (coalesce(part.xsc_reject_key0, (SELECT count(*) FROM cat_row WHERE cat = 'X'))
        + row_number() OVER (ORDER BY x.hpx, x.scan_key, x.id, coalesce(x.reason, f.reason))
       )::integer AS ext_key,  -- (the reason as a last sort key: as for psc_reject_row)
       x.jdate, s.night_key, x.scan_key, (x.scan_key * 1000 + x.coadd)::integer AS coadd_key,
       s.hemis, s.date, s.scan, x.coadd, x.id, x.x_coadd, x.y_coadd,
       x.ra, x.dec, x.sup_ra, x.sup_dec, x.density, x.r_k20fe,
       x.j_m_k20fe, x.j_msig_k20fe, x.j_flg_k20fe, x.h_m_k20fe, x.h_msig_k20fe, x.h_flg_k20fe,
       x.k_m_k20fe, x.k_msig_k20fe, x.k_flg_k20fe,
       x.j_m_7, x.j_msig_7, x.h_m_7, x.h_msig_7, x.k_m_7, x.k_msig_7,
       x.r_3sig, x.j_ba, x.j_phi, x.h_ba, x.h_phi, x.k_ba, x.k_phi, x.sup_ba, x.sup_phi,
       x.r_ext, x.j_m_ext, x.j_msig_ext, x.h_m_ext, x.h_msig_ext, x.k_m_ext, x.k_msig_ext,
       x.e_score, x.g_score, x.vc, x.cc_flg, f.dup_src, f.use_src,
       x.dist_edge_ns, x.dist_edge_ew, x.dist_edge_flg, x.mp_flg, x.hpx,
       coalesce(x.reason, f.reason) AS reject_reason
FROM ext_filter AS x
LEFT JOIN cand_reject AS f ON f.cat = 'X' AND f.k = work_key(x.scan_key, x.id)
JOIN w_scan AS s ON s.scan_key = x.scan_key
CROSS JOIN part
WHERE (x.reason IS NOT NULL OR f.reason IS NOT NULL)
  AND x.hpx BETWEEN part.hpx_lo AND part.hpx_hi
ORDER BY x.hpx, x.scan_key, x.id;

CREATE TABLE scan_info AS
SELECT s.scan_key, s.hemis, s.date, s.scan, s.tile, s.ra, s.dec,
       tmass_glon(s.ra, s.dec)::real AS glon,
       tmass_glat(s.ra, s.dec)::real AS glat,
       s.ra_1, s.dec_1, s.ra_2, s.dec_2, s.ra_3, s.dec_3, s.ra_4, s.dec_4,
       s.sd, s.qual, s.hgl, s.cld, s.xph, s.anom, s.ut, s.jdate, s.airm, s.zd, s.ha,
       s.rh, s.air_temp, s.tel_temp, s.focus, s.hry, s.c_strat,
       s.j_zp_ap, s.h_zp_ap, s.k_zp_ap, s.j_zperr_ap, s.h_zperr_ap, s.k_zperr_ap,
       s.j_n_snr10, s.h_n_snr10, s.k_n_snr10, s.n_ext,
       s.j_shape_avg, s.h_shape_avg, s.k_shape_avg, s.j_shape_rms, s.h_shape_rms, s.k_shape_rms,
       s.j_2mrat, s.h_2mrat, s.k_2mrat, s.j_psp, s.h_psp, s.k_psp,
       s.j_pts_noise, s.h_pts_noise, s.k_pts_noise, s.j_msnr10, s.h_msnr10, s.k_msnr10,
       s.hpx
FROM w_scan AS s
JOIN chosen_scan AS c ON c.scan_key = s.scan_key
CROSS JOIN part
WHERE s.hpx BETWEEN part.hpx_lo AND part.hpx_hi
ORDER BY s.hpx, s.scan_key;
