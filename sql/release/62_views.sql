-- Step 6, second part: the views of the reject tables (psc_reject, xsc_reject), which
-- add to the stored rows (psc_reject_row, xsc_reject_row, 60_materialize.sql) the
-- columns that are pure functions of them.

-- The release tables take the working database's layout first (a view on a table would
-- keep it from being repartitioned): partitioned by sky or plain (partition_like_wdb).
CALL partition_like_wdb('psc');
CALL partition_like_wdb('psc_reject_row');
CALL partition_like_wdb('xsc');
CALL partition_like_wdb('xsc_reject_row');

-- The PSC columns of a reject row, in release order; designation, ph_qual and glon/glat
-- are functions of the stored columns, evaluated when read (ph_qual with the release's
-- own thresholds, from its spec view, as in psc).
CREATE VIEW psc_reject AS
SELECT ra, dec, err_maj, err_min, err_ang,
       tmass_designation(ra, dec)::char(17) COLLATE "C" AS designation,
       j_m, j_cmsig, j_msigcom, j_snr, h_m, h_cmsig, h_msigcom, h_snr,
       k_m, k_cmsig, k_msigcom, k_snr,
       tmass_ph_qual(rd_flg, j_m, j_snr, j_cmsig, j_psfchi, h_m, h_snr, h_cmsig, h_psfchi,
                     k_m, k_snr, k_cmsig, k_psfchi, ndet,
                     spec.psfchi_max::real, spec.ndet_min_ratio::real, spec.ndet_min_frames,
                     spec.ndet_bright_j_mag::real, spec.ndet_bright_h_mag::real,
                     spec.ndet_bright_k_mag::real)::char(3) AS ph_qual,
       rd_flg, bl_flg, cc_flg, ndet,
       NULL::real AS prox, NULL::smallint AS pxpa, NULL::integer AS pxcntr,
       NULL::smallint AS gal_contam, mp_flg, pts_key, hemis, date, scan,
       tmass_glon(ra, dec)::real AS glon, tmass_glat(ra, dec)::real AS glat, x_scan, jdate,
       j_psfchi, h_psfchi, k_psfchi,
       j_m_stdap, j_msig_stdap, h_m_stdap, h_msig_stdap, k_m_stdap, k_msig_stdap,
       dist_edge_ns, dist_edge_ew, dist_edge_flg, dup_src, use_src,
       a, dist_opt, phi_opt, b_m_opt, vr_m_opt, nopt_mchs,
       NULL::integer AS ext_key, scan_key, coadd_key, coadd, hpx, reject_reason
FROM psc_reject_row
CROSS JOIN spec;

CREATE VIEW xsc_reject AS
SELECT ext_key, tmass_designation(ra, dec)::char(17) COLLATE "C" AS designation, jdate,
       NULL::integer AS pts_key, night_key, scan_key, coadd_key,
       hemis, date, scan, coadd, id, x_coadd, y_coadd,
       ra, dec, sup_ra, sup_dec, tmass_glon(ra, dec)::real AS glon,
       tmass_glat(ra, dec)::real AS glat, density, r_k20fe,
       j_m_k20fe, j_msig_k20fe, j_flg_k20fe, h_m_k20fe, h_msig_k20fe, h_flg_k20fe,
       k_m_k20fe, k_msig_k20fe, k_flg_k20fe,
       j_m_7, j_msig_7, h_m_7, h_msig_7, k_m_7, k_msig_7,
       r_3sig, j_ba, j_phi, h_ba, h_phi, k_ba, k_phi, sup_ba, sup_phi,
       r_ext, j_m_ext, j_msig_ext, h_m_ext, h_msig_ext, k_m_ext, k_msig_ext,
       e_score, g_score, vc, cc_flg, dup_src, use_src,
       NULL::real AS prox, NULL::smallint AS pxpa, NULL::integer AS pxcntr,
       dist_edge_ns, dist_edge_ew, dist_edge_flg, mp_flg, hpx, reject_reason
FROM xsc_reject_row;
