"""Scale-out: partitions of the hpx-partitioned tables on other PostgreSQL servers."""
