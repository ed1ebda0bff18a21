"""Edge for customers: catalogue, checkout, orders, substitutions (later: tracking, returns)."""
