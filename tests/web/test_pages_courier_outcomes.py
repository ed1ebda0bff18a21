"""When a delivery does not go to plan, in the browser against the real stack (uvicorn, PostgreSQL,
Redis, a Celery worker planning): a courier declines an offered order and dispatch offers it to
the other courier; a customer refuses at the door, the courier reports it with a reason, the
customer's page shows the failed delivery and the courier is sent back to the store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from core.db import session_scope
from dispatch.route_models import AssignmentState, DeclinedOffer, OrderAssignment
from tests.dispatch import fleet_world as fw
from tests.factories import DEFAULT_PASSWORD
from tests.waiting import wait_for
from tests.web.browser import open_page, sign_in

DOOR = (52.524, 13.404)
PLANNED_S = 60.0  # the worker's first cycle after packing; generous for a loaded machine


@dataclass
class Round:
    order_id: uuid.UUID
    customer_email: str
    couriers: dict[uuid.UUID, str]  # courier id -> e-mail


def _round(*, require_accept: bool, couriers: int) -> Round:
    """Committed for real: couriers on shift in one zone, and one packed order, which asks the
    Celery worker for a dispatch cycle."""
    with session_scope() as s:
        fleet = fw.build(s, require_accept=require_accept)
        for i in range(couriers):
            fw.add_courier(s, fleet, lat=52.5215 + i * 0.004, lon=13.4005)
        order_id = fw.order(s, fleet, lat=DOOR[0], lon=DOOR[1])
        fw.pack(s, fleet, order_id)
        emails = {c.id: fleet.users[c.id].email for c in fleet.couriers}
        return Round(order_id, fleet.customer.email, emails)


def _assignment(order_id: uuid.UUID) -> tuple[uuid.UUID, AssignmentState] | None:
    with session_scope() as s:
        a = s.get(OrderAssignment, order_id)
        return (a.courier_id, a.state) if a is not None else None


def _offered_to(order_id: uuid.UUID, *, not_to: uuid.UUID | None = None) -> uuid.UUID:
    def offered() -> bool:
        found = _assignment(order_id)
        return found is not None and found[1] is AssignmentState.offered and found[0] != not_to

    assert wait_for(offered, timeout=PLANNED_S)
    found = _assignment(order_id)
    assert found is not None
    return found[0]


def test_courier_declines_an_offer_and_it_goes_to_the_other_courier(
    browser: Browser, live_server: str, celery_worker: Any
) -> None:
    world = _round(require_accept=True, couriers=2)
    first = _offered_to(world.order_id)
    courier = open_page(browser, f"{live_server}/app/courier/", phone=True)
    sign_in(courier, world.couriers[first], DEFAULT_PASSWORD)
    page = courier.page
    expect(page.locator("#next-kind")).to_have_text("Pick up", timeout=PLANNED_S * 1000)
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("#next-stop")).to_contain_text("Nothing to do right now.")
    expect(page.locator("#stops li")).to_have_count(0)

    second = _offered_to(world.order_id, not_to=first)
    assert second in world.couriers
    with session_scope() as s:
        declined = s.scalars(select(DeclinedOffer.courier_id).where(DeclinedOffer.order_id == world.order_id))
        assert list(declined) == [first]
    # The next cycle does not bring the declined order back to this courier's page.
    expect(page.locator("#next-stop")).to_contain_text("Nothing to do right now.")
    assert courier.errors == []
    courier.context.close()


def test_refused_at_the_door_the_customer_sees_the_failure_and_the_goods_go_back(
    browser: Browser, live_server: str, celery_worker: Any
) -> None:
    world = _round(require_accept=False, couriers=1)
    ((courier_id, courier_email),) = world.couriers.items()
    courier = open_page(browser, f"{live_server}/app/courier/", phone=True)
    sign_in(courier, courier_email, DEFAULT_PASSWORD)
    page = courier.page
    expect(page.locator("#next-kind")).to_have_text("Pick up", timeout=PLANNED_S * 1000)
    page.click("#arrive")
    page.click("#picked-up")
    expect(page.locator("#next-kind")).to_have_text("Deliver")

    customer = open_page(browser, f"{live_server}/app/customer/", phone=True)
    sign_in(customer, world.customer_email, DEFAULT_PASSWORD)
    customer.page.locator("#orders").get_by_role("button", name="Open").click()
    expect(customer.page.locator("#order-status")).to_have_text("picked up", timeout=20_000)

    page.locator("#next-stop summary").click()
    page.select_option("#fail-reason", "refused")
    page.click("#failed")
    expect(customer.page.locator("#order-status")).to_have_text("failed delivery", timeout=20_000)
    expect(customer.page.locator("#orders")).to_contain_text("failed delivery")
    # The failure asks for a cycle, which plans the way back to the store.
    expect(page.locator("#next-kind")).to_have_text("Return to store", timeout=PLANNED_S * 1000)
    assert _assignment(world.order_id) == (courier_id, AssignmentState.confirmed)
    for person in (courier, customer):
        assert person.errors == []
        person.context.close()
