"""Locations of every tier, their service zones, opening hours and pick capacity."""
