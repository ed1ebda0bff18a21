"""The simulated courier app keeps its copy of the route, as the real one does: it reads the route
again when the server says it changed or refuses a tap, and is never behind the server."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from dispatch import routes
from dispatch.fleet_schemas import RouteOut, StopOut
from simulations.courier import Rider, open_stops


def test_the_apps_copy_of_the_route_is_the_servers(simulate, monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[tuple[list[uuid.UUID], list[uuid.UUID]]] = []
    reads = 0
    read_route = routes.my_route
    own_copy = Rider._open_stops

    def counted(session: Session, *, user_id: uuid.UUID) -> RouteOut:
        nonlocal reads
        reads += 1
        return read_route(session, user_id=user_id)

    def checked(self: Rider) -> list[StopOut]:
        copy = own_copy(self)
        # What the server holds at this moment (a read-only look that changes nothing).
        with self.sim.step(None) as session:
            server = read_route(session, user_id=self.plan.user_id)
        looks.append(([s.id for s in copy], [s.id for s in open_stops(server)]))
        return copy

    monkeypatch.setattr(routes, "my_route", counted)
    monkeypatch.setattr(Rider, "_open_stops", checked)
    result = simulate(seed=4)
    assert result.kpis["delivered"] > 0
    assert sum(1 for copy, _ in looks if copy) >= 10, looks  # with stops on it, not only idle
    assert all(copy == server for copy, server in looks)
    assert reads < len(looks)  # the copy saved reads: the app does not ask before every stop
