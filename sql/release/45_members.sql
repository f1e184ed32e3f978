-- Step 5, first part: the catalog rows and their keys, view cat_keys (read by step 5,
-- 50_value_added.sql, into table cat_row).
--
-- pts_key / ext_key number the catalog rows 1..n in (hpx, scan_key, id) order, so they
-- depend only on the working-database contents and the spec, never on load order.
-- Only the rows the view "part" owns are numbered (hpx_lo <= hpx <= hpx_hi: the whole
-- sky in a single-table build). A partition-wise build (twomass/release/partitioned.py)
-- runs steps 2-4 and this view per HEALPix pixel over the pixel's rows plus a margin,
-- stores the numbered rows of the pixel, adds to every key the number of catalog rows
-- of the pixels before it, and then replaces this view by those rows, within the
-- pixel's margin, with their final keys: the numbering is the one global step between
-- the two halves of the rules.

CREATE VIEW cat_keys AS
SELECT a.cat, a.scan_key, a.id, a.k, a.hpx, a.ra, a.dec, a.x, a.y, a.z, a.use_src,
       a.dup_src,
       row_number() OVER (PARTITION BY a.cat ORDER BY a.hpx, a.scan_key, a.id)::integer AS key
FROM app_final AS a
CROSS JOIN part
WHERE a.reason IS NULL AND a.hpx BETWEEN part.hpx_lo AND part.hpx_hi;
