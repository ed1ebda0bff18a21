"""The catalogue: a category tree (its order is the pick path) and the SKUs sold from it.

SKUs are never deleted — the ledger, reservations and orders refer to them for good — they are
deactivated. A category can be deleted only while it is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.orm import Session

from warehouse import catalogue_repository as repo
from warehouse.models import Category, Sku, TemperatureClass
from warehouse.schemas import (
    MAX_CATEGORY_DEPTH,
    CategoryCreate,
    CategoryNode,
    CategoryUpdate,
    SkuCreate,
    SkuOut,
    SkuPage,
    SkuUpdate,
)
from warehouse.stock_errors import (
    CategoryCycle,
    CategoryHasChildren,
    CategoryInUse,
    CategoryNotFound,
    CategorySlugTaken,
    CategoryTooDeep,
    SkuCodeTaken,
    SkuNotFound,
    UnknownReference,
)

# --- categories -------------------------------------------------------------------------------


def get_category(session: Session, *, category_id: uuid.UUID) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound("No such category.", category_id=str(category_id))
    return category


def create_category(session: Session, *, data: CategoryCreate) -> Category:
    if repo.slug_taken(session, data.slug):
        raise CategorySlugTaken("A category with this slug exists.", slug=data.slug)
    if data.parent_id is not None:
        repo.lock_tree(session)
        _require_parent(session, data.parent_id)
        if repo.depth(session, data.parent_id) + 1 > MAX_CATEGORY_DEPTH:
            raise CategoryTooDeep(f"Categories nest at most {MAX_CATEGORY_DEPTH} deep.")
    category = Category(slug=data.slug, name=data.name, parent_id=data.parent_id, pick_sequence=data.pick_sequence)
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, *, category_id: uuid.UUID, data: CategoryUpdate) -> Category:
    category = get_category(session, category_id=category_id)
    sent = data.model_fields_set
    if data.name is not None:
        category.name = data.name
    if data.pick_sequence is not None:
        category.pick_sequence = data.pick_sequence
    if "parent_id" in sent and data.parent_id != category.parent_id:
        _move(session, category, data.parent_id)
    session.flush()
    return category


def _move(session: Session, category: Category, parent_id: uuid.UUID | None) -> None:
    if parent_id is not None:
        repo.lock_tree(session)
        _require_parent(session, parent_id)
        if parent_id in repo.subtree_ids(session, category.id):
            raise CategoryCycle("A category cannot move under itself or one of its descendants.")
        if repo.depth(session, parent_id) + repo.subtree_height(session, category.id) > MAX_CATEGORY_DEPTH:
            raise CategoryTooDeep(f"Categories nest at most {MAX_CATEGORY_DEPTH} deep.")
    category.parent_id = parent_id


def delete_category(session: Session, *, category_id: uuid.UUID) -> None:
    category = get_category(session, category_id=category_id)
    if repo.has_children(session, category_id):
        raise CategoryHasChildren("Move or delete the subcategories first.")
    if repo.has_skus(session, category_id):
        raise CategoryInUse("SKUs belong to this category; move them first.")
    session.delete(category)
    session.flush()


def category_tree(session: Session) -> list[CategoryNode]:
    """The whole tree, siblings in pick order; each node counts the SKUs directly in it."""
    nodes: dict[uuid.UUID, CategoryNode] = {}
    order: list[tuple[uuid.UUID, uuid.UUID | None]] = []
    for category, sku_count in repo.categories_with_counts(session):
        nodes[category.id] = CategoryNode.model_validate(category).model_copy(update={"sku_count": sku_count})
        order.append((category.id, category.parent_id))
    roots: list[CategoryNode] = []
    for node_id, parent_id in order:
        parent = nodes.get(parent_id) if parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[node_id])
    return roots


def _require_parent(session: Session, parent_id: uuid.UUID) -> None:
    if session.get(Category, parent_id) is None:
        raise UnknownReference("The parent category does not exist.", code="unknown_category")


# --- SKUs ----------------------------------------------------------------------------------------


def get_sku(session: Session, *, sku_id: uuid.UUID) -> Sku:
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise SkuNotFound("No such SKU.", sku_id=str(sku_id))
    return sku


def create_sku(session: Session, *, data: SkuCreate) -> Sku:
    if repo.code_taken(session, data.code):
        raise SkuCodeTaken("A SKU with this code exists.", sku_code=data.code)
    _require_category(session, data.category_id)
    sku = Sku(**data.model_dump())
    session.add(sku)
    session.flush()
    return sku


def update_sku(session: Session, *, sku_id: uuid.UUID, data: SkuUpdate) -> Sku:
    sku = get_sku(session, sku_id=sku_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "category_id" in changes:
        _require_category(session, changes["category_id"])
    for field, value in changes.items():
        setattr(sku, field, value)
    session.flush()
    return sku


def list_skus(
    session: Session,
    *,
    category_id: uuid.UUID | None = None,
    include_subcategories: bool = True,
    query: str | None = None,
    active: bool | None = None,
    temperature: TemperatureClass | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SkuPage:
    """By code. `category_id` covers its subcategories unless `include_subcategories=False`."""
    category_ids: Collection[uuid.UUID] | None = None
    if category_id is not None:
        get_category(session, category_id=category_id)
        category_ids = repo.subtree_ids(session, category_id) if include_subcategories else {category_id}
    skus, total = repo.list_skus(
        session,
        category_ids=category_ids,
        query=query,
        active=active,
        temperature=temperature,
        limit=limit,
        offset=offset,
    )
    return SkuPage(items=[SkuOut.model_validate(s) for s in skus], total=total, limit=limit, offset=offset)


def require_skus(session: Session, sku_ids: Collection[uuid.UUID]) -> None:
    """For bodies that name SKUs: an unknown one is a 422 `unknown_sku` (the URL was fine)."""
    missing = set(sku_ids) - repo.existing_skus(session, sku_ids)
    if missing:
        raise UnknownReference("Unknown SKU.", code="unknown_sku", sku_ids=sorted(str(s) for s in missing))


def _require_category(session: Session, category_id: uuid.UUID) -> None:
    if session.get(Category, category_id) is None:
        raise UnknownReference("The category does not exist.", code="unknown_category")
