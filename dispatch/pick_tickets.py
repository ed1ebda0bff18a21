"""Pick tickets: one location's part of an order as the picker sees it, lines in walking order.

A pick step (accept, start, pick, pack) has already loaded everything its ticket shows — the
order, its parts, its lines with their SKUs and pick path — so `ticket` only renders; the pick
list loads many tickets' worth in a fixed number of queries.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from dispatch import repository as repo
from dispatch.models import Order, OrderFulfilment, OrderLine
from dispatch.repository import PickCatalogue
from dispatch.schemas import PickLineOut, PickTicket, Window
from dispatch.views import substitute_out


def tickets(session: Session, *, location_id: uuid.UUID, fulfilments: Sequence[OrderFulfilment]) -> list[PickTicket]:
    """Tickets for several fulfilments of one location, in the order given, in four queries."""
    order_ids = [f.order_id for f in fulfilments]
    by_id = repo.orders_by_id(session, order_ids)
    all_lines = repo.lines_of(session, order_ids)
    parts = Counter(f.order_id for f in repo.fulfilments_of(session, order_ids))
    sku_ids = {line.sku_id for line in all_lines} | {
        line.substitute_sku_id for line in all_lines if line.substitute_sku_id
    }
    catalogue = repo.pick_catalogue(session, location_id=location_id, sku_ids=sku_ids)
    return [
        ticket(by_id[f.order_id], f, lines=all_lines, catalogue=catalogue, split=parts[f.order_id] > 1)
        for f in fulfilments
    ]


def ticket(
    order: Order,
    fulfilment: OrderFulfilment,
    *,
    lines: Sequence[OrderLine],
    catalogue: PickCatalogue,
    split: bool,
) -> PickTicket:
    """Render `fulfilment`'s ticket from rows already loaded (no queries). `lines` may hold other
    lines too (the whole order, other orders): only this fulfilment's are shown."""
    path, skus = catalogue.path, catalogue.skus
    mine = [line for line in lines if line.fulfilment_id == fulfilment.id]
    walk = sorted(mine, key=lambda line: (*path.get(line.sku_id, (1 << 30, "", line.sku_code)), line.line_no))
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
