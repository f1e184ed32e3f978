-- Downgrade of revision 20261209: drop the bright-star list. Frozen.
DROP TABLE IF EXISTS wdb.bright_star;
