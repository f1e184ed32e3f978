-- Step 6, third part: keys and spatial indexes of the release tables.

-- Keys and spatial indexes; the tables are already in hpx order, CLUSTER ON records it.
ALTER TABLE psc ADD CONSTRAINT psc_pkey PRIMARY KEY (pts_key);
CREATE INDEX psc_hpx_idx ON psc (hpx);
CREATE INDEX psc_designation_idx ON psc (designation);
CREATE INDEX psc_scan_key_idx ON psc (scan_key);
ALTER TABLE psc CLUSTER ON psc_hpx_idx;
ALTER TABLE psc_reject_row ADD CONSTRAINT psc_reject_pkey PRIMARY KEY (pts_key);
CREATE INDEX psc_reject_hpx_idx ON psc_reject_row (hpx);
CREATE INDEX psc_reject_scan_key_idx ON psc_reject_row (scan_key);
ALTER TABLE psc_reject_row CLUSTER ON psc_reject_hpx_idx;
ALTER TABLE xsc ADD CONSTRAINT xsc_pkey PRIMARY KEY (ext_key);
CREATE INDEX xsc_hpx_idx ON xsc (hpx);
CREATE INDEX xsc_scan_key_idx ON xsc (scan_key);
ALTER TABLE xsc CLUSTER ON xsc_hpx_idx;
ALTER TABLE xsc_reject_row ADD CONSTRAINT xsc_reject_pkey PRIMARY KEY (ext_key);
CREATE INDEX xsc_reject_hpx_idx ON xsc_reject_row (hpx);
ALTER TABLE xsc_reject_row CLUSTER ON xsc_reject_hpx_idx;
ALTER TABLE scan_info ADD CONSTRAINT scan_info_pkey PRIMARY KEY (scan_key);
CREATE INDEX scan_info_hpx_idx ON scan_info (hpx);
ALTER TABLE scan_info CLUSTER ON scan_info_hpx_idx;
