"""Edge for store staff: pick lists, pick/substitute/pack, receiving, stock counts."""
