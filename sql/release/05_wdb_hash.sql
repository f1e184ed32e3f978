-- Step 0: what the build reads. The count and the sum of the 64-bit row hashes
-- (hash_record_extended) of every working table the build reads, per order-10 HEALPix
-- cell of the rows' hpx (hpx >> 38): step 7 (70_meta.sql) sums them into the
-- working-database checksum, and a partition-wise build reads from them which cells
-- hold rows (and, per cell, whether the rows changed since another build). Computed
-- first, so that in a partition-wise build it is read in the build's snapshot.

CREATE UNLOGGED TABLE wdb_hash AS
SELECT 'wdb.scan' AS name, t.hpx >> 38 AS cell, count(*) AS n,
       sum(hash_record_extended(t, 0)) AS h
FROM wdb.scan AS t GROUP BY t.hpx >> 38
UNION ALL
SELECT 'wdb.pts', t.hpx >> 38, count(*), sum(hash_record_extended(t, 0))
FROM wdb.pts AS t GROUP BY t.hpx >> 38
UNION ALL
SELECT 'wdb.ext', t.hpx >> 38, count(*), sum(hash_record_extended(t, 0))
FROM wdb.ext AS t GROUP BY t.hpx >> 38
UNION ALL
-- (the bright-star list, read by step 4's final artifact pass)
SELECT 'wdb.bright_star', t.hpx >> 38, count(*), sum(hash_record_extended(t, 0))
FROM wdb.bright_star AS t GROUP BY t.hpx >> 38;
