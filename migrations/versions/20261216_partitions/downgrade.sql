-- Downgrade of revision 20261216: wdb.pts and wdb.ext plain tables again (rows moved),
-- without the procedure and the frozen partition order. Frozen.

CALL public._hpx_repartition('wdb.pts', NULL);
CALL public._hpx_repartition('wdb.ext', NULL);
DROP PROCEDURE public._hpx_repartition(regclass, int);
ALTER TABLE twomass_meta.database DROP COLUMN partition_order;
