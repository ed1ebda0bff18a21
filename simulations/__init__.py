"""SimPy city simulation driving the real services (DESIGN.md §6)."""
