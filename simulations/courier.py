"""One simulated courier: starts the shift, follows the route the dispatcher wrote (reading it as
the app does), rides along the streets sending GPS pings, and reports arrivals, pick-ups,
deliveries and failures through the stop-event use cases; idles, takes a break, goes home."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import simpy
from sqlalchemy.orm import Session

from core.errors import DomainError
from dispatch import routes, shifts, stop_events
from dispatch.fleet_schemas import DeliveredIn, RouteOut, StopOut
from dispatch.pins import delivery_pin
from dispatch.route_models import StopKind, StopStatus
from routing.types import Point
from simulations.movement import Leg, Streets
from simulations.runtime import Sim
from simulations.world import CourierPlan

Process = Generator[simpy.Event, Any, None]
IDLE_WAIT_S = 900  # an idle courier looks at the app at least this often (updates are pushed)
STORE_POLL_S = 120  # waiting at the counter for the bags: look at the app at least this often
MIN_CHUNK_S = 2.0
RETRY_S = 20  # a pick-up refused although the bags are here: try again this often
PICKUP_SERVICE_S = 60
DOOR_SERVICE_S = 90
BREAK_S = 20 * 60
OPEN = (StopStatus.pending, StopStatus.arrived)


class Rider:
    def __init__(self, sim: Sim, plan: CourierPlan, streets: Streets, *, ping_every_s: float, chunk_s: float) -> None:
        self.sim, self.plan, self.streets = sim, plan, streets
        self.ping_every_s, self.chunk_s = ping_every_s, chunk_s
        self.position = Point(*plan.home)
        self.base = Point(*plan.base)
        self.record = sim.records.courier(plan.courier_id)
        self.rng = sim.stream(f"courier:{plan.number}")
        self.waker: simpy.Event | None = None
        # The app's copy of the open stops, in order. The app reads the route again only when
        # the server says it changed (a message: a re-plan, a cancellation) or refuses one of
        # its taps; its own taps it applies to its copy, as the real app does with the answer.
        self.route: list[StopOut] | None = None
        self.break_taken = False
        self.on_shift = False
        self.busy = False
        self.began = 0.0

    def wake(self) -> None:
        """A message from the server: the route changed (read it again) — get going."""
        self.route = None
        if self.waker is not None and not self.waker.triggered:
            self.waker.succeed()

    def run(self) -> Process:
        env, plan = self.sim.env, self.plan
        if plan.shift_start_s > env.now:
            yield env.timeout(plan.shift_start_s - env.now)
        with self.sim.step("courier stop events") as session:
            shifts.start_shift(session, user_id=plan.user_id, vehicle_id=plan.vehicle_id)
        self.sim.ping(plan.user_id, [(self.sim.now(), self.position.lat, self.position.lon)])
        self.on_shift, self.began = True, env.now
        while True:
            stops = self._open_stops()
            if stops:
                busy_from, self.busy = env.now, True
                yield from self._serve(stops[0])
                self.record.busy_s += env.now - busy_from
                self.busy = False
                continue
            if self._going_home() and self._end_shift():
                break
            if self._break_due():
                yield from self._take_break()
                continue
            if self.position != self.base:
                # Back to the store they are based at, where the next orders are packed; a new
                # route (the app's update) turns them round on the way.
                yield from self._ride(self.base, None, interruptible=True)
                continue
            self.waker = env.event()
            yield self.waker | env.timeout(self._idle_s())
            self.waker = None
        self.close(env.now)

    def close(self, now: float) -> None:
        """Book the shift time worked so far (at the shift's end, or when the run stops)."""
        if self.on_shift:
            self.record.on_shift_s += now - self.began
            self.on_shift = False

    # -- the route ---------------------------------------------------------------------------

    def _open_stops(self) -> list[StopOut]:
        if self.route is None:
            with self.sim.step("courier route reads") as session:
                route = routes.my_route(session, user_id=self.plan.user_id)
            self.route = open_stops(route)
        return self.route

    def _serve(self, stop: StopOut) -> Process:
        yield from self._ride(Point(stop.lat, stop.lon), stop.kind)
        try:
            with self.sim.step("courier stop events") as session:
                stop_events.arrive(session, user_id=self.plan.user_id, stop_id=stop.id)
        except DomainError:
            self.route = None  # re-planned away while we rode: the app reads where to go now
            return
        if stop.kind is StopKind.pickup:
            yield from self._pick_up(stop)
        elif stop.kind is StopKind.dropoff:
            yield from self._hand_over(stop)
        else:  # goods of a failed delivery handed back at the store
            yield self.sim.env.timeout(PICKUP_SERVICE_S)
            self._tap(
                stop, lambda s: stop_events.delivered(s, user_id=self.plan.user_id, stop_id=stop.id, proof=_pin(stop))
            )

    def _pick_up(self, stop: StopOut) -> Process:
        env = self.sim.env
        arrived = env.now
        waited = False
        yield env.timeout(PICKUP_SERVICE_S)
        while True:
            bags = self.sim.bags.get(stop.order_id)
            if bags is not None:
                pick_up = partial(stop_events.picked_up, user_id=self.plan.user_id, stop_id=stop.id, bags=bags)
                result = self._tap(stop, pick_up)
                if result is not False:
                    order = self.sim.records.orders.get(stop.order_id)
                    if order is not None:
                        order.picked_up_s = env.now  # a split order: the last part's pick-up stays
                    break
            if not any(s.id == stop.id for s in self._open_stops()):
                return  # the order went to someone else (or was cancelled) while we waited
            waited = True
            # Staff hand the bags over when packed; a re-plan (the app's route update) or a
            # long wait makes the courier look at the app again.
            self.waker = env.event()
            if bags is None:
                yield self.sim.handover(stop.order_id) | self.waker | env.timeout(STORE_POLL_S)
            else:  # packed here but refused (the other store of a split order is not ready yet)
                yield self.waker | env.timeout(RETRY_S)
            self.waker = None
        if waited:
            self.sim.records.late_pick_waits += 1
            self.sim.records.late_pick_wait_s += env.now - arrived - PICKUP_SERVICE_S

    def _hand_over(self, stop: StopOut) -> Process:
        yield self.sim.env.timeout(DOOR_SERVICE_S)
        order = self.sim.records.orders.get(stop.order_id)
        absent = self.rng.random() < self.sim.scenario.absent_share
        user = self.plan.user_id
        if absent:
            self._tap(stop, lambda s: stop_events.failed(s, user_id=user, stop_id=stop.id, reason="customer_absent"))
            return
        deliver = partial(stop_events.delivered, user_id=user, stop_id=stop.id, proof=_pin(stop))
        if self._tap(stop, deliver) is False:
            return
        if order is not None:
            order.delivered_s = self.sim.env.now

    def _tap(self, stop: StopOut, action: Callable[[Session], object]) -> object:
        """A tap that closes `stop`: taken, the stop leaves the app's copy of the route; refused,
        the app reads the route again."""
        result = self._attempt(action)
        if result is False:
            self.route = None
        elif self.route is not None:
            self.route = [s for s in self.route if s.id != stop.id]
        return result

    def _attempt(self, action: Callable[[Session], object]) -> object:
        """One stop event; a refusal (409: re-planned, not ready) is an answer, not a crash."""
        try:
            with self.sim.step("courier stop events") as session:
                return action(session)
        except DomainError:
            return False

    # -- riding and pinging ------------------------------------------------------------------

    def _ride(self, target: Point, kind: StopKind | None, *, interruptible: bool = False) -> Process:
        """Ride to `target` (a stop of `kind`, or back to base), pinging along the way; an
        `interruptible` ride stops where the courier is when the app wakes them."""
        if target == self.position:
            return
        env = self.sim.env
        leg = self.streets.leg(self.position, target, self.plan.kind.value, speed=self.sim.speed, rng=self.rng)
        done, woken = 0.0, False
        while done < leg.seconds and not woken:
            step = min(self.chunk_s, leg.seconds - done)
            if leg.seconds - done - step < MIN_CHUNK_S:
                step = leg.seconds - done  # no sliver of a chunk: the app sends at most a fix a second
            if interruptible:
                began, waker = env.now, env.event()
                self.waker = waker
                yield waker | env.timeout(step)
                self.waker = None
                woken = waker.triggered
                if woken:  # (not otherwise: now − began can fall a hair short of step in floats)
                    step = min(step, env.now - began)
            else:
                yield env.timeout(step)
            fixes = self._fixes(leg, done, done + step)
            done += step
            if step >= 1.0:  # turned round at once: nothing new to report
                self.sim.ping(self.plan.user_id, fixes)
        metres = leg.metres * (min(1.0, done / leg.seconds) if leg.seconds > 0 else 1.0)
        self.record.metres += metres
        if kind is StopKind.pickup:
            self.record.metres_to_store += metres
            self.record.store_visits += 1
        elif kind is StopKind.dropoff:
            self.record.metres_to_door += metres
        self.position = target if done >= leg.seconds else leg.at(done / leg.seconds)

    def _fixes(self, leg: Leg, start: float, end: float) -> list[tuple[datetime, float, float]]:
        """GPS fixes every `ping_every_s` over the piece of the leg just ridden (the app batches them)."""
        now = self.sim.now()
        fixes = []
        t = start + self.ping_every_s
        while t < end - 1.0:  # the service takes at most a fix a second
            at = leg.at(t / leg.seconds)
            fixes.append((now - timedelta(seconds=end - t), at.lat, at.lon))
            t += self.ping_every_s
        last = leg.at(end / leg.seconds)
        fixes.append((now, last.lat, last.lon))
        return fixes

    # -- shift -------------------------------------------------------------------------------

    def _idle_s(self) -> float:
        """How long an idle courier waits for the app to call: until going home or a break is due,
        at most IDLE_WAIT_S (route updates wake them at once)."""
        now, plan = self.sim.env.now, self.plan
        due = [now + IDLE_WAIT_S, plan.shift_end_s]
        if plan.offline_at_s is not None:
            due.append(plan.offline_at_s)
        if plan.takes_break and not self.break_taken:
            due.append((plan.shift_start_s + plan.shift_end_s) / 2)
        return max(RETRY_S, min(due) - now)

    def _going_home(self) -> bool:
        now, plan = self.sim.env.now, self.plan
        return now >= plan.shift_end_s or (plan.offline_at_s is not None and now >= plan.offline_at_s)

    def _end_shift(self) -> bool:
        return self._attempt(lambda s: shifts.end_shift(s, user_id=self.plan.user_id)) is not False

    def _break_due(self) -> bool:
        plan = self.plan
        middle = (plan.shift_start_s + plan.shift_end_s) / 2
        return plan.takes_break and not self.break_taken and self.sim.env.now >= middle

    def _take_break(self) -> Process:
        self.break_taken = True
        if self._attempt(lambda s: shifts.set_break(s, user_id=self.plan.user_id, on=True)) is False:
            return
        yield self.sim.env.timeout(BREAK_S)
        self._attempt(lambda s: shifts.set_break(s, user_id=self.plan.user_id, on=False))


def open_stops(route: RouteOut) -> list[StopOut]:
    """The stops of `route` still to serve, in route order (what the app lists)."""
    return sorted((s for s in route.stops if s.status in OPEN), key=lambda s: s.seq)


def _pin(stop: StopOut) -> DeliveredIn:
    # The customer reads the PIN out at the door (their app shows it while the order is on its way).
    return DeliveredIn(pin=delivery_pin(stop.order_id))
