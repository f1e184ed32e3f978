"""Everything that writes night products: the 2MAPPS pixel stages and the simulator."""
