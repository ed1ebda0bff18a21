"""`o2o seed` builds a realistic network: tiers, overlapping zones covering the city, stock that
replays from the ledger, demo accounts — the same one for the same seed, and visible to operators."""

from __future__ import annotations

import bz2
import gzip
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from core.auth.models import Role, User
from core.errors import InvalidInput
from core.geo import GeoPoint
from o2o.osm_extent import osm_bbox
from o2o.seed import DEMO_PASSWORD, NetworkAlreadySeeded, seed
from o2o.seed_cli import command
from stores import service as stores
from stores.models import Location, LocationKind
from warehouse.models import Category, Sku, StockLevel, TemperatureClass

SKUS = 12
SHOPS = (LocationKind.store, LocationKind.dark_store)


@pytest.fixture
def seeded(db_session):
    return seed(db_session, seed=7, center=None, osm=None, skus=SKUS)


def locations_by_kind(session) -> dict[LocationKind, list[Location]]:
    found: dict[LocationKind, list[Location]] = {}
    for location in session.scalars(select(Location)):
        found.setdefault(location.kind, []).append(location)
    return found


def test_every_tier_is_there_and_each_store_hangs_off_its_nearest_distribution_centre(db_session, seeded) -> None:
    kinds = locations_by_kind(db_session)
    central, dcs = kinds[LocationKind.central_warehouse], kinds[LocationKind.distribution_centre]
    shops = kinds[LocationKind.store] + kinds[LocationKind.dark_store]
    assert len(central) == 1
    assert 2 <= len(dcs) <= 3
    assert 10 <= len(shops) <= 20
    assert len(kinds[LocationKind.dark_store]) >= 2
    assert seeded.locations == Counter({kind.value: len(found) for kind, found in kinds.items()})
    assert central[0].parent_id is None
    assert all(dc.parent_id == central[0].id for dc in dcs)
    for shop in shops:
        scale = math.cos(math.radians(shop.lat))
        nearest = min(dcs, key=lambda dc: math.hypot(dc.lat - shop.lat, (dc.lon - shop.lon) * scale))
        assert shop.parent_id == nearest.id


_ZONES = text(
    """
    SELECT l.code, ST_IsValid(l.service_zone::geometry) AS valid, ST_Covers(l.service_zone, l.geom) AS covers_self,
           ST_Area(l.service_zone) AS area,
           (SELECT count(*) FROM locations o
             WHERE o.id <> l.id AND o.service_zone IS NOT NULL
               AND ST_Intersects(o.service_zone, l.service_zone)) AS neighbours
      FROM locations l WHERE l.service_zone IS NOT NULL
    """
)


def test_zones_are_valid_overlap_their_neighbours_and_cover_the_city(db_session, seeded) -> None:
    rows = db_session.execute(_ZONES).all()
    assert len(rows) == seeded.zones == sum(n for k, n in seeded.locations.items() if k != "central_warehouse")
    for row in rows:
        assert row.valid, row.code
        assert row.covers_self, row.code
        assert row.neighbours >= 1, row.code
        # Round zones of roughly 2–3 km radius.
        assert math.pi * 1_800**2 < row.area < math.pi * 3_300**2, row.code
    # Every point of the inner city (a grid over 70 % of the box) can be delivered to.
    south, west, north, east = seeded.bbox
    lat0, lon0 = (south + north) / 2, (west + east) / 2
    for i in range(-5, 6):
        for j in range(-5, 6):
            point = GeoPoint(lat=lat0 + 0.07 * i * (north - south), lon=lon0 + 0.07 * j * (east - west))
            assert stores.candidates_covering(db_session, point, limit=1), point


def test_the_catalogue_is_a_tree_of_priced_products(db_session, seeded) -> None:
    skus = db_session.scalars(select(Sku)).all()
    assert len(skus) == seeded.skus == SKUS
    categories = {category.id: category for category in db_session.scalars(select(Category))}
    for sku in skus:
        leaf = categories[sku.category_id]
        assert leaf.parent_id in categories, "every product sits in a subcategory of a department"
        assert 9 <= sku.price_minor <= 5_000
        assert sku.price_minor % 10 == 9
        assert sku.weight_g > 0
        assert sku.volume_ml > 0
        assert 1 <= sku.max_order_qty <= 20
    assert {sku.temperature for sku in skus} == set(TemperatureClass)
    dairy = [sku for sku in skus if categories[categories[sku.category_id].parent_id].slug == "dairy-and-eggs"]
    assert dairy
    assert all(sku.temperature is TemperatureClass.chilled for sku in dairy)


_REPLAY_MISMATCHES = text(
    """
    SELECT l.location_id, l.sku_id FROM stock_levels l
      LEFT JOIN (SELECT location_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                   FROM stock_movements GROUP BY location_id, sku_id) m USING (location_id, sku_id)
     WHERE m.on_hand IS DISTINCT FROM l.on_hand OR m.reserved IS DISTINCT FROM l.reserved
    """
)


def test_stock_replays_from_the_ledger_and_thins_out_down_the_tiers(db_session, seeded) -> None:
    assert db_session.execute(_REPLAY_MISMATCHES).all() == []
    assert db_session.scalar(select(func.count()).select_from(StockLevel)) == seeded.stock_levels
    kinds = {location.id: location.kind for location in db_session.scalars(select(Location))}
    by_sku: dict[object, dict[LocationKind, list[StockLevel]]] = {}
    for level in db_session.scalars(select(StockLevel)):
        assert 0 <= level.reorder_point < level.target_level
        by_sku.setdefault(level.sku_id, {}).setdefault(kinds[level.location_id], []).append(level)
    low = 0
    for tiers in by_sku.values():
        central = tiers[LocationKind.central_warehouse][0].on_hand
        dcs = [level.on_hand for level in tiers[LocationKind.distribution_centre]]
        shops = [level for kind in SHOPS for level in tiers.get(kind, [])]
        assert central > max(dcs) > max(level.on_hand for level in shops)
        low += sum(1 for level in shops if level.on_hand <= level.reorder_point)
    assert low > 0, "some store lines start low, so replenishment has work"
    # Dark stores carry the whole range.
    dark = sum(len(tiers.get(LocationKind.dark_store, [])) for tiers in by_sku.values())
    assert dark == SKUS * seeded.locations["dark_store"]


def test_demo_accounts_sign_in_and_see_the_seeded_network(client, db_session, seeded) -> None:
    users = db_session.scalars(select(User).where(User.email.like("%@o2o.example"))).all()
    roles = Counter(user.role for user in users)
    assert (roles[Role.admin], roles[Role.dispatcher]) == (1, 1)
    assert roles[Role.customer] >= 3
    shops = [loc.id for kind in SHOPS for loc in locations_by_kind(db_session).get(kind, [])]
    assert sorted(str(u.location_id) for u in users if u.role is Role.staff) == sorted(map(str, shops))
    assert ("admin", "admin@o2o.example") in seeded.logins

    token = client.post("/auth/token", json={"email": "admin@o2o.example", "password": DEMO_PASSWORD}).json()
    response = client.get("/ops/network.geojson", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200
    features = response.json()["features"]
    points = [f for f in features if f["properties"]["feature"] == "location"]
    zones = [f for f in features if f["properties"]["feature"] == "service_zone"]
    assert len(points) == sum(seeded.locations.values())
    assert len(zones) == seeded.zones
    codes = {f["properties"]["code"]: f["properties"] for f in points}
    for properties in codes.values():
        if properties["kind"] in ("store", "dark_store"):
            assert codes[properties["parent"]]["kind"] == "distribution_centre"
    south, west, north, east = seeded.bbox
    shop_points = [f["geometry"]["coordinates"] for f in points if f["properties"]["kind"] in ("store", "dark_store")]
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in shop_points)


def snapshot(session) -> tuple[Any, ...]:
    network = session.execute(
        text(
            "SELECT l.code, l.kind, l.lat, l.lon, p.code AS parent, ST_AsText(l.service_zone) AS zone,"
            " l.opening_hours::text, l.pick_staff FROM locations l LEFT JOIN locations p ON p.id = l.parent_id"
            " ORDER BY l.code"
        )
    ).all()
    catalogue = session.execute(text("SELECT code, name, price_minor, weight_g FROM skus ORDER BY code")).all()
    levels = session.execute(
        text(
            "SELECT l.code, s.code, v.on_hand, v.reorder_point, v.target_level FROM stock_levels v"
            " JOIN locations l ON l.id = v.location_id JOIN skus s ON s.id = v.sku_id ORDER BY 1, 2"
        )
    ).all()
    return tuple(map(tuple, network)), tuple(map(tuple, catalogue)), tuple(map(tuple, levels))


def test_the_same_seed_builds_the_same_network_and_another_seed_another(db_session, make_user) -> None:
    courier = make_user(role=Role.courier)
    seed(db_session, seed=11, center=None, osm=None, skus=6)
    first = snapshot(db_session)
    with pytest.raises(NetworkAlreadySeeded, match="--reset"):
        seed(db_session, seed=11, center=None, osm=None, skus=6)
    seed(db_session, seed=11, center=None, osm=None, skus=6, reset=True)
    assert snapshot(db_session) == first
    seed(db_session, seed=12, center=None, osm=None, skus=6, reset=True)
    assert snapshot(db_session)[0] != first[0]
    # A reset replaces the demo's own accounts and leaves everybody else's alone.
    assert db_session.get(User, courier.id) is not None
    assert db_session.scalar(select(func.count()).select_from(User).where(User.email == "admin@o2o.example")) == 1


def test_the_network_can_be_built_around_another_centre(db_session) -> None:
    report = seed(db_session, seed=3, center=(-33.9249, 18.4241), osm=None, skus=3)
    assert report.center == (-33.9249, 18.4241)
    assert report.timezone == "UTC"
    south, west, north, east = report.bbox
    for location in db_session.scalars(select(Location).where(Location.kind.in_(SHOPS))):
        assert south <= location.lat <= north
        assert west <= location.lon <= east


# --- OpenStreetMap ------------------------------------------------------------------------------


def write_osm(path: Path, nodes: list[tuple[float, float]]) -> Path:
    body = "".join(f'<node id="{i + 1}" lat="{lat}" lon="{lon}" version="1"/>' for i, (lat, lon) in enumerate(nodes))
    xml = f'<?xml version="1.0"?><osm version="0.6"><bounds minlat="0" minlon="0" maxlat="1" maxlon="1"/>{body}'
    xml += '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way></osm>'
    opener = {".bz2": bz2.open, ".gz": gzip.open}.get(path.suffix, open)
    with opener(path, "wt") as handle:
        handle.write(xml)
    return path


@pytest.mark.parametrize("name", ["town.osm", "town.osm.gz", "town.osm.bz2"])
def test_the_bbox_of_an_osm_file_comes_from_its_nodes(tmp_path, name) -> None:
    path = write_osm(tmp_path / name, [(43.73, 7.41), (43.75, 7.44), (43.74, 7.42)])
    assert osm_bbox(path) == (43.73, 7.41, 43.75, 7.44)


def test_stray_nodes_far_outside_the_town_do_not_stretch_its_bbox(tmp_path) -> None:
    grid = [(43.72 + 0.0003 * (i % 100), 7.40 + 0.0004 * (i // 100)) for i in range(1_000)]
    path = write_osm(tmp_path / "town.osm.gz", [*grid, (43.51, 7.38), (43.99, 7.60)])
    south, west, north, east = osm_bbox(path)
    assert (south, north) == pytest.approx((43.7203, 43.7497), abs=1e-3)
    assert (west, east) == pytest.approx((7.4, 7.4036), abs=1e-3)


def test_stores_are_placed_over_the_area_of_an_osm_extract(db_session, tmp_path) -> None:
    grid = [(43.725 + 0.00025 * (i % 100), 7.405 + 0.0003 * (i // 100)) for i in range(10_000)]
    path = write_osm(tmp_path / "town.osm.bz2", grid)
    report = seed(db_session, seed=5, center=None, osm=path, skus=3)
    south, west, north, east = osm_bbox(path)
    assert report.bbox == pytest.approx((south, west, north, east), abs=1e-6)
    shops = db_session.scalars(select(Location).where(Location.kind.in_(SHOPS))).all()
    assert all(south <= shop.lat <= north and west <= shop.lon <= east for shop in shops)
    # A town of about 3 × 2.4 km gets smaller zones than a big city, still covering its centre.
    assert stores.candidates_covering(db_session, GeoPoint(lat=(south + north) / 2, lon=(west + east) / 2), limit=1)


@pytest.mark.shared_data
def test_the_shared_monaco_extract_gives_a_town_sized_area() -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "osm" / "monaco.osm.gz"
    if not path.exists():
        pytest.skip("shared OSM extracts not available")
    south, west, north, east = osm_bbox(path)
    assert 43.70 < south < north < 43.77
    assert 7.39 < west < east < 7.45


def test_a_file_without_nodes_or_not_osm_at_all_is_refused(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="no usable nodes"):
        osm_bbox(write_osm(tmp_path / "empty.osm", []))
    broken = tmp_path / "broken.osm.gz"
    broken.write_bytes(b"<osm><node lat=")
    with pytest.raises(InvalidInput, match="not a readable OSM XML file"):
        osm_bbox(broken)
    truncated = tmp_path / "truncated.osm"
    truncated.write_text('<osm><node id="1" lat="1" lon="2"/>')
    with pytest.raises(InvalidInput, match="not a readable OSM XML file"):
        osm_bbox(truncated)


# --- the command --------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("seed")(command)
    return app


def test_the_command_seeds_refuses_to_seed_twice_and_resets_on_request(committed_db) -> None:
    runner = CliRunner()
    first = runner.invoke(cli(), ["--seed", "3", "--skus", "8"])
    assert first.exit_code == 0, first.output
    assert "admin@o2o.example" in first.output
    assert DEMO_PASSWORD in first.output
    again = runner.invoke(cli(), ["--seed", "3", "--skus", "8"])
    assert again.exit_code == 1
    assert "--reset" in again.output
    reset = runner.invoke(cli(), ["--seed", "4", "--skus", "8", "--reset"])
    assert reset.exit_code == 0, reset.output
    with committed_db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM skus")) == 8
        assert conn.scalar(text("SELECT count(*) FROM users WHERE email = 'admin@o2o.example'")) == 1


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--center", "north"], 2, "LAT,LON"),
        (["--center", "1,2,3"], 2, "LAT,LON"),
        (["--center", "95,13"], 1, "lat"),
        (["--center", "52.5,13.4", "--osm", __file__], 2, "not both"),
        (["--osm", "/no/such/file.osm"], 2, "does not exist"),
    ],
)
def test_the_command_rejects_bad_options(committed_db, args, exit_code, message) -> None:
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
