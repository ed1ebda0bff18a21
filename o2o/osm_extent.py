"""Where an OpenStreetMap extract lies: its node extent, read as a stream (.osm, .osm.gz, .osm.bz2).

The seed only needs a bounding box to place a network on a real city, so this reads node
coordinates without building a street graph (and without depending on the routing package).
"""

from __future__ import annotations

import bz2
import gzip
import io
import xml.etree.ElementTree as ET
from array import array
from collections.abc import Iterator
from pathlib import Path

from core.errors import InvalidInput
from core.geo import is_valid_lat_lon


def _open(path: Path) -> bz2.BZ2File | gzip.GzipFile | io.BufferedReader:
    if path.name.endswith(".bz2"):
        return bz2.BZ2File(path, "rb")
    if path.name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def _node_coordinates(path: Path) -> Iterator[tuple[float, float]]:
    with _open(path) as stream:
        root: ET.Element | None = None
        for event, element in ET.iterparse(stream, events=("start", "end")):
            if root is None:
                root = element
            if event != "end" or element is root:
                continue
            if element.tag == "node":
                position = _node_position(element)
                if position is not None:
                    yield position
            if element.tag in ("node", "way", "relation"):
                # Streaming: drop what has been read, or a country extract would fill memory.
                root.clear()


def _node_position(node: ET.Element) -> tuple[float, float] | None:
    # Deleted nodes in change files carry no position; a broken one is skipped, not fatal.
    try:
        lat, lon = float(node.get("lat", "nan")), float(node.get("lon", "nan"))
    except ValueError:
        return None
    return (lat, lon) if is_valid_lat_lon(lat, lon) else None


def osm_bbox(path: Path) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the file's nodes, ignoring the outer 1 % on each side: ways
    that cross the extract's border drag in nodes kilometres away from the town."""
    lats, lons = array("d"), array("d")
    try:
        for lat, lon in _node_coordinates(path):
            lats.append(lat)
            lons.append(lon)
    except (ET.ParseError, OSError, EOFError) as exc:
        raise InvalidInput(f"{path.name} is not a readable OSM XML file: {exc}", code="osm_unreadable") from exc
    if len(lats) < 3:
        raise InvalidInput(f"{path.name} holds no usable nodes.", code="osm_without_nodes")
    trim = len(lats) // 100
    la, lo = sorted(lats), sorted(lons)
    return la[trim], lo[trim], la[-1 - trim], lo[-1 - trim]
