"""Edge for dispatchers and admins: network, zones, SKUs, stock, transfers, live map, KPIs."""
