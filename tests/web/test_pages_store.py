"""Store work in the browser: staff substitute a missing product, the customer accepts the
substitute on their phone, and staff book an incoming transfer from the distribution centre."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from core.auth.models import Role
from core.db import session_scope
from stores.models import LocationKind
from tests.factories import (
    DEFAULT_PASSWORD,
    create_category,
    create_location,
    create_sku,
    create_user,
    place_order,
    stock,
)
from tests.web.browser import open_page, sign_in
from warehouse import transfers
from warehouse.models import StockLevel
from warehouse.transfer_schemas import TransferLineIn


@dataclass
class Store:
    store_id: uuid.UUID
    staff: str
    customer: str
    order_id: str
    butter: uuid.UUID  # the substitute
    flour: uuid.UUID  # on its way from the DC
    dispatcher: str


@pytest.fixture
def store(live_server: str) -> Store:
    with session_scope() as s:
        dc = create_location(s, kind=LocationKind.distribution_centre, lat=52.50, lon=13.38, with_zone=False)
        shop = create_location(s, lat=52.52, lon=13.405, parent=dc)
        category = create_category(s)
        milk, butter, flour = (create_sku(s, category=category, price_minor=250) for _ in range(3))
        for sku in (milk, butter):
            stock(s, shop, sku, 30)
        stock(s, dc, flour, 100)
        customer = create_user(s)
        order = place_order(s, customer=customer, lines=[(milk, 2)], substitution="contact")
        transfer = transfers.create_transfer(
            s, from_location_id=dc.id, to_location_id=shop.id, lines=[TransferLineIn(sku_id=flour.id, qty=12)]
        )
        transfers.dispatch_transfer(s, transfer_id=transfer.id)
        staff = create_user(s, role=Role.staff, location_id=shop.id)
        dispatcher = create_user(s, role=Role.dispatcher)
        return Store(shop.id, staff.email, customer.email, order["id"], butter.id, flour.id, dispatcher.email)


def _on_hand(location_id: uuid.UUID, sku_id: uuid.UUID) -> int:
    with session_scope() as s:
        level = s.get(StockLevel, (location_id, sku_id))
        return level.on_hand if level else 0


def test_staff_substitute_the_customer_accepts_and_staff_receive_a_transfer(
    browser: Browser, live_server: str, store: Store
) -> None:
    staff = open_page(browser, f"{live_server}/app/staff/", phone=False)
    sign_in(staff, store.staff, DEFAULT_PASSWORD)
    ticket = staff.page.locator(f"li.ticket[data-order='{store.order_id}']")
    ticket.locator("button.start").click()
    ticket.locator("button.substitute").click()
    ticket.get_by_label("Substitute product").select_option(str(store.butter))
    ticket.get_by_role("button", name="Use substitute").click()
    expect(ticket).to_contain_text("(proposed)")

    customer = open_page(browser, f"{live_server}/app/customer/", phone=True)
    sign_in(customer, store.customer, DEFAULT_PASSWORD)
    customer.page.locator("#orders").get_by_role("button", name="Open").click()
    customer.page.locator("#order").get_by_role("button", name="Accept").click()
    expect(customer.page.locator("#order")).to_contain_text("– approved")
    expect(customer.page.locator("#order")).not_to_contain_text("null")
    expect(ticket).to_contain_text("(approved)", timeout=15_000)  # the pick list polls

    ops = open_page(browser, f"{live_server}/app/ops/", phone=False)
    sign_in(ops, store.dispatcher, DEFAULT_PASSWORD)
    expect(ops.page.locator("#stock")).to_contain_text("12 units")
    expect(ops.page.locator("#open-orders")).to_contain_text("picking")

    transfer = staff.page.locator("#transfers")
    expect(transfer).to_contain_text("12 units")
    transfer.get_by_role("button", name="Book receipt").click()
    expect(transfer).to_contain_text("Nothing on its way")
    assert _on_hand(store.store_id, store.flour) == 12
    expect(ops.page.locator("#stock")).to_contain_text("received", timeout=15_000)  # the panel polls
    for person in (staff, customer, ops):
        assert person.errors == []
        person.context.close()


def test_customer_taps_a_door_on_the_map_and_cancels_an_order_before_pickup(
    browser: Browser, live_server: str, store: Store
) -> None:
    customer = open_page(browser, f"{live_server}/app/customer/", phone=True)
    sign_in(customer, store.customer, DEFAULT_PASSWORD)
    page = customer.page
    page.wait_for_function("() => document.querySelector('.map-note')?.textContent !== 'Loading map…'")
    page.locator("#map canvas").click()  # the middle of the map: the network's centre
    expect(page.locator("#lat")).not_to_have_value("")
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    assert 52.45 < lat < 52.55
    assert 13.35 < lon < 13.45
    page.locator("#orders").get_by_role("button", name="Open").click()
    page.click("#cancel")
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#orders")).to_contain_text("cancelled")
    assert customer.errors == []
