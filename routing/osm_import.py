"""Read an OpenStreetMap XML extract (`.osm`, `.osm.bz2`, `.osm.gz`) into a `StreetNetwork`, offline.

osmnx parses the file (`graph_from_xml`); it applies no network-type filter, so this module keeps
the ways whose `highway` class some profile may use (routing.profiles.HIGHWAY_CLASSES) and reads
their direction and access tags itself:
- osmnx is told that every way is one-way (`settings.all_oneway`), so each segment arrives once,
  in the way's direction (osmnx reverses `oneway=-1` ways), with the raw `oneway` tag kept;
- one-way: `oneway=yes/true/1/-1/reverse`, roundabouts, motorways without an `oneway` tag;
  contraflow cycling: `oneway:bicycle=no` or `cycleway[:side]=opposite*`;
- access: `access`, then `vehicle`, then `motor_vehicle`, then `motorcar`/`moped`/`bicycle`, the
  most specific tag winning; `destination`/`delivery` count as allowed (couriers deliver).
Clipped extracts whose ways reference missing nodes are repaired by splitting those ways.
"""

from __future__ import annotations

import bz2
import gzip
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np

from routing.profiles import HIGHWAY_CODE
from routing.street_network import StreetNetwork
from routing.types import PROFILES, Profile

# The `oneway` values osmnx itself treats as one-way (and reverses for -1/reverse/T), mirrored so
# that our flag and osmnx's node order agree.
_ONEWAY: Final = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
_ALLOWED: Final = frozenset({"yes", "designated", "permissive", "destination", "delivery", "customers"})
_DENIED: Final = frozenset({"no", "private", "agricultural", "forestry", "emergency", "psv", "bus", "military"})
# Access keys from general to specific, and the profiles each one governs.
_ACCESS_KEYS: Final[tuple[tuple[str, tuple[Profile, ...]], ...]] = (
    ("access", PROFILES),
    ("vehicle", PROFILES),
    ("motor_vehicle", ("scooter", "car")),
    ("motorcar", ("car",)),
    ("moped", ("scooter",)),
    ("bicycle", ("bike",)),
)
_CONTRAFLOW_KEYS: Final = ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")
_WAY_TAGS: Final = (
    "highway",
    "oneway",
    "junction",
    "oneway:bicycle",
    *_CONTRAFLOW_KEYS,
    *(key for key, _ in _ACCESS_KEYS),
)


def read_osm(path: str | Path) -> StreetNetwork:
    """The routable streets of an OSM XML file; nodes used by no kept street are dropped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        graph = _load(path)
    except ValueError as exc:
        if "missing nodes" not in str(exc):
            raise
        with tempfile.TemporaryDirectory(prefix="o2o-osm-") as tmp:
            repaired = Path(tmp) / "repaired.osm"
            _split_at_missing_nodes(path, repaired)
            graph = _load(repaired)
    return _network(graph)


@contextmanager
def _osmnx_settings(ox: Any) -> Iterator[None]:
    """osmnx reads module-level settings; set ours for the call and restore the caller's after."""
    saved = (ox.settings.all_oneway, list(ox.settings.useful_tags_way))
    ox.settings.all_oneway = True
    ox.settings.useful_tags_way = sorted({*saved[1], *_WAY_TAGS})
    try:
        yield
    finally:
        ox.settings.all_oneway, ox.settings.useful_tags_way = saved


def _load(path: Path) -> Any:
    import osmnx as ox  # here, not at the top: importing osmnx takes seconds, most users never need it

    with _osmnx_settings(ox):
        return ox.graph_from_xml(path, simplify=False, retain_all=True)


def _tag(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, list):  # osmnx merges tags into lists only when simplifying; be safe
        value = value[0] if value else None
    return None if value is None else str(value)


def is_oneway(tags: Mapping[str, Any]) -> bool:
    """Whether traffic may only go in the way's (osmnx-oriented) direction."""
    oneway = _tag(tags, "oneway")
    if oneway is not None:
        return oneway in _ONEWAY
    return _tag(tags, "junction") in ("roundabout", "circular") or _tag(tags, "highway") == "motorway"


def has_bike_contraflow(tags: Mapping[str, Any]) -> bool:
    """Whether bikes may ride against the way's one-way direction."""
    if _tag(tags, "oneway:bicycle") == "no":
        return True
    return any((_tag(tags, key) or "").startswith("opposite") for key in _CONTRAFLOW_KEYS)


def access_mask(tags: Mapping[str, Any]) -> int:
    """Bit i set: PROFILES[i] may use the way according to its access tags."""
    allowed = dict.fromkeys(PROFILES, True)
    for key, profiles in _ACCESS_KEYS:
        value = _tag(tags, key)
        if value in _ALLOWED or value in _DENIED:
            for profile in profiles:
                allowed[profile] = value in _ALLOWED
    return sum(1 << i for i, profile in enumerate(PROFILES) if allowed[profile])


def _network(graph: Any) -> StreetNetwork:
    index: dict[int, int] = {}
    rows: list[tuple[int, int, int, bool, bool, int]] = []
    for a, b, data in graph.edges(data=True):
        code = HIGHWAY_CODE.get(_tag(data, "highway") or "")
        if code is None or a == b:
            continue
        u = index.setdefault(a, len(index))
        v = index.setdefault(b, len(index))
        rows.append((u, v, code, is_oneway(data), has_bike_contraflow(data), access_mask(data)))
    nodes = list(index)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    return StreetNetwork(
        lat=np.array([graph.nodes[n]["y"] for n in nodes], dtype=np.float64),
        lon=np.array([graph.nodes[n]["x"] for n in nodes], dtype=np.float64),
        u=np.array(columns[0], dtype=np.int64),
        v=np.array(columns[1], dtype=np.int64),
        highway=np.array(columns[2], dtype=np.int64),
        oneway=np.array(columns[3], dtype=np.bool_),
        bike_contraflow=np.array(columns[4], dtype=np.bool_),
        access=np.array(columns[5], dtype=np.uint8),
    )


def _read_bytes(path: Path) -> bytes:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.decompress(path.read_bytes())
    if name.endswith(".gz"):
        return gzip.decompress(path.read_bytes())
    return path.read_bytes()


def _split_at_missing_nodes(source: Path, target: Path) -> None:
    """Copy `source` to plain OSM XML `target`, splitting every way where it leaves the extract.

    Dropping a missing reference instead would join two nodes that are not adjacent on the street.
    The extra pieces get fresh negative ids (osmnx keys ways by id).
    """
    root = ET.fromstring(_read_bytes(source))  # a local file the operator chose
    known = {el.get("id") for el in root.iter("node")}
    fresh = -1
    for way in list(root.iter("way")):
        refs = [nd.get("ref") for nd in way.findall("nd")]
        if all(ref in known for ref in refs):
            continue
        runs: list[list[str]] = [[]]
        for ref in refs:
            if ref in known and ref is not None:
                runs[-1].append(ref)
            elif runs[-1]:
                runs.append([])
        pieces = [run for run in runs if len(run) >= 2]
        tags = way.findall("tag")
        root.remove(way)
        for i, run in enumerate(pieces):
            way_id = way.get("id", "0")
            if i:
                way_id, fresh = str(fresh), fresh - 1
            piece = ET.SubElement(root, "way", id=way_id)
            piece.extend(ET.Element("nd", ref=ref) for ref in run)
            piece.extend(tags)
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
