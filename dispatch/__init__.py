"""Orders and their state machine, fulfilment assignment, picking; later couriers, routes and dispatch runs."""
