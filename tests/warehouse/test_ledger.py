"""The ledger primitive: guarded level changes, each with its ledger line."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.factories import create_location, create_sku, stock
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.ledger import move
from warehouse.models import MovementKind, StockLevel, StockMovement


def test_a_move_changes_the_level_and_writes_its_ledger_line(db_session) -> None:
    store, sku = create_location(db_session), create_sku(db_session)
    stock(db_session, store, sku, 10)
    level = move(db_session, location_id=store.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=3)
    assert (level.on_hand, level.reserved, level.available) == (10, 3, 7)
    kinds = db_session.scalars(
        select(StockMovement.kind).where(StockMovement.sku_id == sku.id).order_by(StockMovement.id)
    ).all()
    assert kinds == [MovementKind.receipt, MovementKind.reserve]


def test_a_move_that_would_oversell_changes_nothing(db_session) -> None:
    store, sku = create_location(db_session), create_sku(db_session)
    stock(db_session, store, sku, 2)
    with pytest.raises(InsufficientStock) as raised:
        move(db_session, location_id=store.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=3)
    assert raised.value.extra["available"] == 2
    level = db_session.get(StockLevel, (store.id, sku.id))
    assert (level.on_hand, level.reserved) == (2, 0)


def test_a_sku_the_location_does_not_stock_is_reported_as_such(db_session) -> None:
    store, sku = create_location(db_session), create_sku(db_session)
    with pytest.raises(UnknownStockLevel):
        move(db_session, location_id=store.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=1)


def test_the_database_refuses_a_raw_update_below_zero(db_session) -> None:
    store, sku = create_location(db_session), create_sku(db_session)
    stock(db_session, store, sku, 1)
    with pytest.raises(Exception, match="ck_stock_levels_reserved_within_on_hand"), db_session.begin_nested():
        db_session.execute(
            text("UPDATE stock_levels SET on_hand = -1 WHERE location_id = :l AND sku_id = :s"),
            {"l": store.id, "s": sku.id},
        )


def test_the_database_refuses_coordinates_out_of_range_and_nan(db_session) -> None:
    for lat, lon in ((100.0, 10.0), (10.0, 200.0), (float("nan"), 10.0), (10.0, float("inf"))):
        with pytest.raises(Exception, match="ck_locations_coordinates_in_range"), db_session.begin_nested():
            create_location(db_session, lat=lat, lon=lon, with_zone=False)


def test_the_database_refuses_a_bowtie_zone(db_session) -> None:
    bowtie = {
        "type": "MultiPolygon",
        "coordinates": [[[[13.0, 52.0], [13.1, 52.1], [13.1, 52.0], [13.0, 52.1], [13.0, 52.0]]]],
    }
    with pytest.raises(Exception, match="ck_locations_service_zone_valid"), db_session.begin_nested():
        create_location(db_session, zone=bowtie)


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        ("lat = 100", "ck_locations_coordinates_in_range"),
        ("lon = -180.5", "ck_locations_coordinates_in_range"),
        ("lat = 'NaN'", "ck_locations_coordinates_in_range"),
        ("lon = 'Infinity'", "ck_locations_coordinates_in_range"),
        # A bowtie: PostGIS would store it, with area 0 and covering nothing.
        (
            "service_zone = ST_GeogFromText('SRID=4326;MULTIPOLYGON(((13 52,13.1 52.1,13.1 52,13 52.1,13 52)))')",
            "ck_locations_service_zone_valid",
        ),
        # Three collinear corners: closed, four positions, but no area.
        (
            "service_zone = ST_GeogFromText('SRID=4326;MULTIPOLYGON(((13 52,13.1 52.1,13.2 52.2,13 52)))')",
            "ck_locations_service_zone_valid",
        ),
    ],
)
def test_a_raw_update_of_a_location_cannot_store_what_the_api_refuses(db_session, assignment, constraint) -> None:
    store = create_location(db_session)
    with pytest.raises(Exception, match=constraint), db_session.begin_nested():
        db_session.execute(text(f"UPDATE locations SET {assignment} WHERE id = :id"), {"id": store.id})
    db_session.refresh(store)
    assert (store.lat, store.lon) == (52.52, 13.405)
