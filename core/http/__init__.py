"""HTTP helpers shared by the edge packages: deps, role guards, problem+json, health, limits."""
