-- Step 6, third part: keys and spatial indexes of the release tables.

-- Keys and spatial indexes; the tables are already in hpx order, CLUSTER ON records it.
-- (add_key: a partitioned table's key includes hpx.)
CALL add_key('psc', 'psc_pkey', 'pts_key');
CREATE INDEX psc_hpx_idx ON psc (hpx);
CREATE INDEX psc_designation_idx ON psc (designation);
CREATE INDEX psc_scan_key_idx ON psc (scan_key);
CALL cluster_on('psc', 'psc_hpx_idx');
CALL add_key('psc_reject_row', 'psc_reject_pkey', 'pts_key');
CREATE INDEX psc_reject_hpx_idx ON psc_reject_row (hpx);
CREATE INDEX psc_reject_scan_key_idx ON psc_reject_row (scan_key);
CALL cluster_on('psc_reject_row', 'psc_reject_hpx_idx');
CALL add_key('xsc', 'xsc_pkey', 'ext_key');
CREATE INDEX xsc_hpx_idx ON xsc (hpx);
CREATE INDEX xsc_scan_key_idx ON xsc (scan_key);
CALL cluster_on('xsc', 'xsc_hpx_idx');
CALL add_key('xsc_reject_row', 'xsc_reject_pkey', 'ext_key');
CREATE INDEX xsc_reject_hpx_idx ON xsc_reject_row (hpx);
CALL cluster_on('xsc_reject_row', 'xsc_reject_hpx_idx');
ALTER TABLE scan_info ADD CONSTRAINT scan_info_pkey PRIMARY KEY (scan_key);
CREATE INDEX scan_info_hpx_idx ON scan_info (hpx);
ALTER TABLE scan_info CLUSTER ON scan_info_hpx_idx;
