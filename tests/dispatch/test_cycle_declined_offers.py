"""A courier who declined an offer, or let it time out, is not offered that order again."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from core import clock
from dispatch import cycle, offers
from dispatch.route_models import DeclinedOffer, DispatchExplanation, OrderAssignment
from tests.dispatch import fleet_world as fw

DOOR = (52.524, 13.404)


def _plan(db_session, fleet: fw.Fleet) -> None:
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)


def _offered_to(db_session, oid: uuid.UUID) -> uuid.UUID | None:
    a = db_session.get(OrderAssignment, oid, populate_existing=True)
    return None if a is None else a.courier_id


def _packed(db_session, fleet: fw.Fleet) -> uuid.UUID:
    oid = fw.order(db_session, fleet, lat=DOOR[0], lon=DOOR[1])
    fw.pack(db_session, fleet, oid)
    return oid


def test_a_declined_order_goes_to_another_courier_and_never_back(db_session) -> None:
    fleet = fw.build(db_session, require_accept=True)
    near = fw.add_courier(db_session, fleet, lat=DOOR[0], lon=DOOR[1])
    far = fw.add_courier(db_session, fleet, lat=52.50, lon=13.38)
    oid = _packed(db_session, fleet)
    _plan(db_session, fleet)
    assert _offered_to(db_session, oid) == near.id

    offers.decline(db_session, user_id=fleet.users[near.id].id, order_id=oid)
    declined = db_session.scalars(select(DeclinedOffer)).one()
    assert (declined.order_id, declined.courier_id, declined.reason) == (oid, near.id, "declined")
    for _ in range(3):  # and in every later cycle, although `near` stays the closest
        _plan(db_session, fleet)
        assert _offered_to(db_session, oid) == far.id


def test_an_offer_left_to_time_out_counts_as_declined(db_session) -> None:
    fleet = fw.build(db_session, require_accept=True)
    near = fw.add_courier(db_session, fleet, lat=DOOR[0], lon=DOOR[1])
    oid = _packed(db_session, fleet)
    _plan(db_session, fleet)
    assert _offered_to(db_session, oid) == near.id

    assert offers.expire(db_session, zone_id=fleet.zone.id, now=clock.now() + timedelta(minutes=5)) == 1
    assert db_session.scalars(select(DeclinedOffer.reason)).one() == "timed_out"
    _plan(db_session, fleet)
    # Nobody else is on shift: the order waits, with the reason on record for the dispatcher.
    assert _offered_to(db_session, oid) is None
    why = db_session.scalars(
        select(DispatchExplanation.decision)
        .where(DispatchExplanation.order_id == oid)
        .order_by(DispatchExplanation.created_at.desc())
    ).first()
    assert why is not None
    assert why.startswith("Not assigned")
