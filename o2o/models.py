"""The whole schema in one place: every mapped model, and what Alembic must leave alone.

Alembic's env.py and the drift test both import this, so they compare the same thing.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

from core.auth.models import User
from core.db import Base
from core.events import OutboxEvent

__all__ = ["Base", "OutboxEvent", "User", "include_object"]

# Tables and schemas that PostGIS (and its optional extensions) own; never ours to create or drop.
POSTGIS_TABLES = {"spatial_ref_sys", "geometry_columns", "geography_columns", "layer", "topology"}
POSTGIS_SCHEMAS = {"tiger", "tiger_data", "topology"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and (name in POSTGIS_TABLES or getattr(obj, "schema", None) in POSTGIS_SCHEMAS):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]
