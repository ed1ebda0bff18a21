"""The four pages in a real browser against the real stack (uvicorn, PostgreSQL, Redis, a Celery
worker): a customer signs up and orders, staff pick and pack it, dispatch plans it, the courier
picks it up, drives and delivers with the customer's PIN while the customer's map follows the
courier, and the ops page shows the courier and the dispatch run. No console error anywhere."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from core.auth.models import Role
from core.db import session_scope
from dispatch.fleet_models import FleetVehicle
from dispatch.models import OrderFulfilment
from tests.dispatch import fleet_world as fw
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.web.browser import STREETS_DRAWN, Person, open_page, sign_in, wait_for_streets

DOOR = (52.5235, 13.4025)


@dataclass
class City:
    staff: dict[uuid.UUID, str]  # location id -> staff e-mail
    courier_email: str
    courier_id: uuid.UUID
    vehicle_id: uuid.UUID
    dispatcher_email: str


@pytest.fixture
def city(live_server: str, celery_worker: Any) -> City:
    with session_scope() as s:
        fleet = fw.build(s)
        courier = fw.add_courier(s, fleet, start=False, lat=52.5215, lon=13.4005)
        vehicle = s.scalars(select(FleetVehicle).where(FleetVehicle.zone_id == fleet.zone.id)).one()
        dispatcher = create_user(s, role=Role.dispatcher)
        return City(
            staff={loc: user.email for loc, user in fleet.staff.items()},
            courier_email=fleet.users[courier.id].email,
            courier_id=courier.id,
            vehicle_id=vehicle.id,
            dispatcher_email=dispatcher.email,
        )


def _fulfilment_location(order_id: str) -> uuid.UUID:
    with session_scope() as s:
        query = select(OrderFulfilment.location_id).where(OrderFulfilment.order_id == uuid.UUID(order_id))
        return s.scalars(query).one()


def _place_order(customer: Person) -> str:
    page = customer.page
    page.fill("#login input[name=email]", f"shopper-{uuid.uuid4().hex[:8]}@example.test")
    page.fill("#login input[name=password]", DEFAULT_PASSWORD)
    page.fill("#login input[name=display_name]", "Ada Shopper")
    page.click("#signup")
    page.wait_for_selector("#logout")
    page.wait_for_function("() => !document.querySelector('.map-note')?.textContent.startsWith('Loading')")
    page.fill("#lat", str(DOOR[0]))
    page.fill("#lon", str(DOOR[1]))
    page.fill("#address", "Torstraße 1, 3rd floor")
    page.click("#use-point")
    expect(page.locator("#window")).to_contain_text("Delivered between")
    page.locator("#catalogue button.add").first.click()
    page.locator("#catalogue button.add").first.click()
    page.click("#checkout")
    expect(page.locator("#order-status")).to_have_text("placed")
    order_id = page.evaluate("() => JSON.parse(localStorage.getItem('o2o.lastOrder') || 'null')")
    return str(order_id)


def test_order_travels_through_all_four_pages(browser: Browser, live_server: str, city: City) -> None:
    customer = open_page(browser, f"{live_server}/app/customer/", phone=True)
    order_id = _place_order(customer)

    courier = open_page(browser, f"{live_server}/app/courier/?drive_mps=40", phone=True)
    sign_in(courier, city.courier_email, DEFAULT_PASSWORD)
    # The one vehicle of the zone is offered by name and what it carries, not as an id to type.
    expect(courier.page.locator("#vehicle option")).to_have_count(1)
    expect(courier.page.locator("#vehicle option")).to_contain_text("Bike V-")
    courier.page.select_option("#vehicle", str(city.vehicle_id))
    courier.page.click("#start-shift")
    expect(courier.page.locator("#error")).to_be_hidden()
    expect(courier.page.locator("#start-shift")).to_be_hidden()
    expect(courier.page.locator("#courier-status")).to_have_text("available")

    staff = open_page(browser, f"{live_server}/app/staff/", phone=False)
    sign_in(staff, city.staff[_fulfilment_location(order_id)], DEFAULT_PASSWORD)
    ticket = staff.page.locator(f"li.ticket[data-order='{order_id}']")
    ticket.locator("button.start").click()
    expect(ticket.locator("button.pick")).to_be_visible()
    staff.screenshot("staff")
    ticket.locator("button.pick").first.click()
    expect(ticket.locator("button.pack")).to_be_visible()
    ticket.locator("button.pack").click()
    expect(ticket).to_have_count(0)

    # Packing asks for a dispatch cycle; the Celery worker plans the order onto our courier.
    expect(courier.page.locator("#next-kind")).to_have_text("Pick up", timeout=60_000)
    courier.page.click("#arrive")
    courier.page.click("#picked-up")
    expect(courier.page.locator("#next-kind")).to_have_text("Deliver")
    courier.page.click("#arrive")
    expect(courier.page.locator("#arrive")).to_have_count(0)
    expect(courier.page.locator("#next-stop")).not_to_contain_text("null")
    expect(customer.page.locator("#order-status")).to_have_text("picked up", timeout=20_000)
    pin = customer.page.locator("#pin").inner_text()

    courier.page.click("#drive")
    marker = customer.page.locator("#courier-marker")
    expect(marker).to_be_visible(timeout=20_000)
    first = (marker.get_attribute("data-lat"), marker.get_attribute("data-lon"))
    customer.page.wait_for_function(
        "([lat, lon]) => { const m = document.querySelector('#courier-marker');"
        " return m && !m.hidden && (m.dataset.lat !== lat || m.dataset.lon !== lon); }",
        arg=list(first),
    )
    customer.screenshot("customer")

    # Someone the customer shares the link with follows the courier read-only.
    customer.page.click("#share")
    link = customer.page.locator("#share-link a").get_attribute("href")
    assert link is not None
    friend = open_page(browser, link, phone=True)
    expect(friend.page.locator("#courier-marker")).to_be_visible()
    expect(friend.page.locator("#order-status")).to_have_text("arriving")
    # Without an account, the share token alone brings the city's streets under the courier.
    assert wait_for_streets(friend) > STREETS_DRAWN
    friend.screenshot("share")

    ops = open_page(browser, f"{live_server}/app/ops/", phone=False)
    sign_in(ops, city.dispatcher_email, DEFAULT_PASSWORD)
    expect(ops.page.locator(f"#couriers li[data-courier='{city.courier_id}']")).to_be_visible()
    expect(ops.page.locator("#run-list li").first).to_be_visible()
    expect(ops.page.locator("#kpi-open b")).to_have_text("1")
    ops.screenshot("ops")

    courier.screenshot("courier")
    courier.page.click("#drive")
    courier.page.fill("#pin", pin)
    courier.page.click("#delivered")
    expect(courier.page.locator("#next-stop")).to_contain_text("Nothing to do")
    expect(customer.page.locator("#order-status")).to_have_text("delivered", timeout=20_000)
    expect(customer.page.locator("#courier-marker")).to_be_hidden()

    for person in (customer, courier, staff, ops, friend):
        assert person.errors == []
        person.context.close()
