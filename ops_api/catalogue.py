"""`/ops/categories` and `/ops/skus`: dispatchers and admins keep the catalogue — the category tree
(its order is the stores' pick path) and the SKUs. SKUs are deactivated, never deleted."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from warehouse import catalogue
from warehouse.models import TemperatureClass
from warehouse.schemas import (
    MAX_OFFSET,
    MAX_PAGE,
    CategoryCreate,
    CategoryNode,
    CategoryOut,
    CategoryUpdate,
    SkuCreate,
    SkuOut,
    SkuPage,
    SkuUpdate,
)

router = APIRouter(prefix="/ops", tags=["ops: catalogue"])

Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]


@router.get("/categories")
def category_tree(session: DbSession, _: Operator) -> list[CategoryNode]:
    """The whole tree, siblings in pick order, with the number of SKUs directly in each."""
    return catalogue.category_tree(session)


@router.post("/categories", status_code=status.HTTP_201_CREATED)
def create_category(body: CategoryCreate, session: DbSession, _: Operator) -> CategoryOut:
    return CategoryOut.model_validate(catalogue.create_category(session, data=body))


@router.get("/categories/{category_id}")
def get_category(category_id: uuid.UUID, session: DbSession, _: Operator) -> CategoryOut:
    return CategoryOut.model_validate(catalogue.get_category(session, category_id=category_id))


@router.patch("/categories/{category_id}")
def update_category(category_id: uuid.UUID, body: CategoryUpdate, session: DbSession, _: Operator) -> CategoryOut:
    """Rename, reorder or move (`"parent_id": null` = to the root); a move under its own
    subtree is a 422 `category_cycle`."""
    return CategoryOut.model_validate(catalogue.update_category(session, category_id=category_id, data=body))


@router.delete("/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_category(category_id: uuid.UUID, session: DbSession, _: Operator) -> Response:
    """Only an empty category (no subcategories, no SKUs) can be deleted."""
    catalogue.delete_category(session, category_id=category_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/skus")
def list_skus(
    session: DbSession,
    _: Operator,
    category_id: uuid.UUID | None = None,
    include_subcategories: bool = True,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of the code or name")] = None,
    active: bool | None = None,
    temperature: TemperatureClass | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SkuPage:
    return catalogue.list_skus(
        session,
        category_id=category_id,
        include_subcategories=include_subcategories,
        query=q,
        active=active,
        temperature=temperature,
        limit=limit,
        offset=offset,
    )


@router.post("/skus", status_code=status.HTTP_201_CREATED)
def create_sku(body: SkuCreate, session: DbSession, _: Operator) -> SkuOut:
    return SkuOut.model_validate(catalogue.create_sku(session, data=body))


@router.get("/skus/{sku_id}")
def get_sku(sku_id: uuid.UUID, session: DbSession, _: Operator) -> SkuOut:
    return SkuOut.model_validate(catalogue.get_sku(session, sku_id=sku_id))


@router.patch("/skus/{sku_id}")
def update_sku(sku_id: uuid.UUID, body: SkuUpdate, session: DbSession, _: Operator) -> SkuOut:
    """Change what is sent; `"active": false` takes the SKU off sale (it stays in the ledger)."""
    return SkuOut.model_validate(catalogue.update_sku(session, sku_id=sku_id, data=body))
