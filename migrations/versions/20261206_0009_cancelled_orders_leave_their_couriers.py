"""cancelled orders leave their couriers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:30:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before dispatch.orders took a cancelled order off its courier, cancelling an assigned order
# left its assignment and open stops in place for good: the courier "carried" it and could
# never end the shift. This clears what such cancellations left, as the service now does at
# once. Stops already served stay: they are the courier's history.
CLEAR_CANCELLED = (
    """DELETE FROM route_stops s USING orders o
        WHERE s.order_id = o.id AND o.status = 'cancelled' AND s.status IN ('pending', 'arrived')""",
    """DELETE FROM order_assignments a USING orders o
        WHERE a.order_id = o.id AND o.status = 'cancelled'""",
)


def upgrade() -> None:
    for statement in CLEAR_CANCELLED:
        op.execute(statement)


def downgrade() -> None:
    pass  # nothing to restore: the rows removed described a plan that could never be carried out
