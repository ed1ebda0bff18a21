"""Reading transfers: pages and details for operators and staff, and the in-transit figures
that stock views add to what is on the shelves."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from warehouse import transfer_repository as repo
from warehouse.models import Transfer, TransferStatus
from warehouse.transfer_errors import TransferNotFound
from warehouse.transfer_schemas import MAX_PAGE, TransferLineOut, TransferOut, TransferPage


def get_transfer(
    session: Session, *, transfer_id: uuid.UUID, receiving_location_id: uuid.UUID | None = None
) -> TransferOut:
    transfer = repo.get_transfer(session, transfer_id)
    if transfer is None or (receiving_location_id is not None and transfer.to_location_id != receiving_location_id):
        raise TransferNotFound("No such transfer.")
    return describe(session, transfer)


def list_transfers(
    session: Session,
    *,
    statuses: Collection[TransferStatus] = (),
    from_location_id: uuid.UUID | None = None,
    to_location_id: uuid.UUID | None = None,
    short_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> TransferPage:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    items, total = repo.list_transfers(
        session,
        statuses=statuses,
        from_location_id=from_location_id,
        to_location_id=to_location_id,
        short_only=short_only,
        limit=limit,
        offset=offset,
    )
    return TransferPage(items=describe_many(session, items), total=total, limit=limit, offset=offset)


def describe(session: Session, transfer: Transfer) -> TransferOut:
    return describe_many(session, [transfer])[0]


def describe_many(session: Session, transfers: Sequence[Transfer]) -> list[TransferOut]:
    views = repo.line_views(session, [t.id for t in transfers])
    out = []
    for transfer in transfers:
        lines = [
            TransferLineOut(
                sku_id=v.sku_id,
                sku_code=v.sku_code,
                sku_name=v.sku_name,
                qty=v.qty,
                qty_received=v.qty_received,
                qty_lost=None if v.qty_received is None else v.qty - v.qty_received,
            )
            for v in views[transfer.id]
        ]
        out.append(
            TransferOut(
                id=transfer.id,
                from_location_id=transfer.from_location_id,
                to_location_id=transfer.to_location_id,
                status=transfer.status,
                reason=transfer.reason,
                planned_at=transfer.planned_at,
                dispatched_at=transfer.dispatched_at,
                expected_at=transfer.expected_at,
                received_at=transfer.received_at,
                created_by=transfer.created_by,
                lines=lines,
                total_qty=sum(line.qty for line in lines),
                lost_qty=sum(line.qty_lost or 0 for line in lines),
            )
        )
    return out


def in_transit_quantities(
    session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID] | None = None
) -> dict[uuid.UUID, int]:
    """Units on their way to `location_id` (Σ qty of its incoming in_transit lines), per SKU.
    SKUs with nothing in transit are absent. For stock views: on hand + in transit."""
    totals = repo.incoming_quantities(
        session, statuses=(TransferStatus.in_transit,), location_ids=[location_id], sku_ids=sku_ids
    )
    return {sku: qty for (_, sku), qty in totals.items()}


def in_transit_totals(
    session: Session,
    *,
    location_ids: Collection[uuid.UUID] | None = None,
    sku_ids: Collection[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """The same per (destination, sku), for many locations at once (`None` = all)."""
    return repo.incoming_quantities(
        session, statuses=(TransferStatus.in_transit,), location_ids=location_ids, sku_ids=sku_ids
    )
