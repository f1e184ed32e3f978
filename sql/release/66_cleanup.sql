-- Step 6, last part (single-table build only: a partition-wise build drops its work
-- schemas whole).

-- The working tables and the functions of the build (sql/lib) are not part of the
-- release.
DROP VIEW pts_filter, ext_filter, app_final, app_status, mapcor, cat_keys;
DROP VIEW w_pts, w_ext, w_scan, part;  -- (the builder's views of wdb and of the sky it owns)
DROP TABLE chosen_scan, scan_pair, scan_edge, app, cand, app_cover, app_edge, app_label,
           group_dup, virtual_apparition, group_member, cand_reject, cat_row, cat_nn,
           cat_suffix, xsc_shape, gal_ellipse, xsc_point, psc_inside, psc_galaxy,
           mapcor_pair, mapcor_flag;  -- (mapcor_parent: kept by step 7)
CALL drop_build_routines();

ANALYZE psc;
ANALYZE psc_reject_row;
ANALYZE xsc;
ANALYZE xsc_reject_row;
ANALYZE scan_info;
