"""The travel times the dispatch cycle plans with: street graph when the city has one, else
straight lines (DESIGN.md §5).

`O2O_DISPATCH_STREET_OSM` names an OpenStreetMap extract of the city; the graph is built (or read
from `O2O_DISPATCH_STREET_CACHE_DIR`) once per process. Tests and benchmarks may plug any
`TravelTimes` in with `set_travel_times`.
"""

from __future__ import annotations

from functools import lru_cache

from dispatch.config import get_dispatch_settings
from routing import Haversine, TravelTimes

_override: TravelTimes | None = None


def set_travel_times(travel: TravelTimes | None) -> None:
    """Swap the process-wide travel times (a synthetic city's street graph, a test's)."""
    global _override
    _override = travel


def travel_times() -> TravelTimes:
    if _override is not None:
        return _override
    return _configured()


@lru_cache(maxsize=1)
def _configured() -> TravelTimes:
    settings = get_dispatch_settings()
    if settings.street_osm is not None and settings.street_osm.exists():
        from routing.street_graph import StreetGraph

        return StreetGraph.from_osm(settings.street_osm, cache_dir=settings.street_cache_dir)
    return Haversine()
