"""split-order pickups, declined offers, ad-hoc shifts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:30:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_STOP = "status IN ('pending', 'arrived')"


def upgrade() -> None:
    # A split order has one open pickup per store: the open-stop key gains the location.
    op.drop_index("uq_route_stops_open", table_name="route_stops", postgresql_where=sa.text(OPEN_STOP))
    op.create_index(
        "uq_route_stops_open",
        "route_stops",
        ["order_id", "kind", "location_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_STOP),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "declined_offers",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("courier_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_declined_offers_courier_id_couriers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_declined_offers_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", "courier_id", name=op.f("pk_declined_offers")),
    )
    op.add_column("dispatch_zones", sa.Column("adhoc_shift_minutes", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint(
        op.f("ck_dispatch_zones_adhoc_shift_range"), "dispatch_zones", "adhoc_shift_minutes BETWEEN 0 AND 720"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_dispatch_zones_adhoc_shift_range"), "dispatch_zones", type_="check")
    op.drop_column("dispatch_zones", "adhoc_shift_minutes")
    op.drop_table("declined_offers")
    op.drop_index("uq_route_stops_open", table_name="route_stops", postgresql_where=sa.text(OPEN_STOP))
    op.create_index(
        "uq_route_stops_open", "route_stops", ["order_id", "kind"], unique=True, postgresql_where=sa.text(OPEN_STOP)
    )
