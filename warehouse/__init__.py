"""SKUs and categories, stock levels, reservations, the stock ledger, transfers, replenishment."""
