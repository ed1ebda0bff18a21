"""Pick tickets: one location's part of an order as the picker sees it, lines in walking order."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from dispatch import repository as repo
from dispatch.models import Order, OrderFulfilment, OrderLine
from dispatch.schemas import PickLineOut, PickTicket, Window
from dispatch.views import substitute_out
from warehouse.models import Sku


def tickets(session: Session, *, location_id: uuid.UUID, fulfilments: Sequence[OrderFulfilment]) -> list[PickTicket]:
    """Tickets for several fulfilments of one location, in the order given, in a fixed number of queries."""
    order_ids = [f.order_id for f in fulfilments]
    by_id = repo.orders_by_id(session, order_ids)
    all_lines = repo.lines_of(session, order_ids)
    parts = Counter(f.order_id for f in repo.fulfilments_of(session, order_ids))
    sku_ids = {line.sku_id for line in all_lines} | {
        line.substitute_sku_id for line in all_lines if line.substitute_sku_id
    }
    skus = repo.skus_by_id(session, sku_ids)
    path = repo.pick_path(session, location_id=location_id, sku_ids=sku_ids)
    return [
        _render(
            by_id[f.order_id],
            f,
            [line for line in all_lines if line.fulfilment_id == f.id],
            skus,
            path,
            parts[f.order_id] > 1,
        )
        for f in fulfilments
    ]


def ticket(session: Session, order: Order, fulfilment: OrderFulfilment) -> PickTicket:
    return tickets(session, location_id=fulfilment.location_id, fulfilments=[fulfilment])[0]


def _render(
    order: Order,
    fulfilment: OrderFulfilment,
    lines: list[OrderLine],
    skus: dict[uuid.UUID, Sku],
    path: dict[uuid.UUID, tuple[int, str, str]],
    split: bool,
) -> PickTicket:
    walk = sorted(lines, key=lambda line: (*path.get(line.sku_id, (1 << 30, "", line.sku_code)), line.line_no))
    return PickTicket(
        order_id=order.id,
        order_status=order.status,
        fulfilment_status=fulfilment.status,
        courier_expected_at=fulfilment.courier_expected_at,
        start_by=fulfilment.courier_expected_at - timedelta(seconds=fulfilment.pick_s),
        promised_window=Window(start=order.promised_from, end=order.promised_to),
        substitution=order.substitution.value,
        note=order.note,
        split=split,
        lines=[
            PickLineOut(
                line_no=line.line_no,
                sku_id=line.sku_id,
                sku_code=line.sku_code,
                name=line.name,
                qty=line.qty,
                bin=path.get(line.sku_id, (0, "", ""))[1],
                aisle=path.get(line.sku_id, (0, "", ""))[0],
                temperature=skus[line.sku_id].temperature.value if line.sku_id in skus else "ambient",
                state=line.state,
                picked_qty=line.picked_qty,
                substitute=substitute_out(line, skus),
            )
            for line in walk
        ],
        ready_at=fulfilment.ready_at,
        bags=fulfilment.bags,
        cold_chain=fulfilment.cold_chain,
    )
