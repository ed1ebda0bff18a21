"""All SQL of the catalogue: the category tree and SKUs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import func, literal, or_, select, text
from sqlalchemy.orm import Session

from warehouse.models import Category, Sku, TemperatureClass

# First key of the two-key advisory lock that serialises moves in the category tree: two
# concurrent moves (A under B, B under A) would each pass the cycle check alone.
_TREE_LOCK_NAMESPACE = 0x7E92


def lock_tree(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), 0)"), {"ns": _TREE_LOCK_NAMESPACE})


def slug_taken(session: Session, slug: str) -> bool:
    return session.scalar(select(Category.id).where(Category.slug == slug)) is not None


def code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(Sku.id).where(Sku.code == code)) is not None


def subtree_ids(session: Session, root_id: uuid.UUID) -> set[uuid.UUID]:
    """The category and everything below it."""
    tree = select(Category.id).where(Category.id == root_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Category.id).where(Category.parent_id == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


def depth(session: Session, category_id: uuid.UUID) -> int:
    """1 for a root category, 2 for its children, …"""
    chain = (
        select(Category.parent_id, literal(1).label("depth"))
        .where(Category.id == category_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        select(Category.parent_id, (chain.c.depth + 1).label("depth")).where(Category.id == chain.c.parent_id)
    )
    return int(session.scalar(select(func.max(chain.c.depth))) or 0)


def subtree_height(session: Session, root_id: uuid.UUID) -> int:
    """1 for a leaf, 2 for a category with children only, …"""
    tree = select(Category.id, literal(1).label("level")).where(Category.id == root_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Category.id, (tree.c.level + 1).label("level")).where(Category.parent_id == tree.c.id))
    return int(session.scalar(select(func.max(tree.c.level))) or 0)


def has_children(session: Session, category_id: uuid.UUID) -> bool:
    return session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1)) is not None


def has_skus(session: Session, category_id: uuid.UUID) -> bool:
    return session.scalar(select(Sku.id).where(Sku.category_id == category_id).limit(1)) is not None


def categories_with_counts(session: Session) -> list[tuple[Category, int]]:
    counts = select(Sku.category_id, func.count().label("n")).group_by(Sku.category_id).subquery()
    stmt = (
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.pick_sequence, Category.name)
    )
    return [(category, int(n)) for category, n in session.execute(stmt)]


def existing_skus(session: Session, sku_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not sku_ids:
        return set()
    return set(session.scalars(select(Sku.id).where(Sku.id.in_(list(sku_ids)))))


def list_skus(
    session: Session,
    *,
    category_ids: Collection[uuid.UUID] | None,
    query: str | None,
    active: bool | None,
    temperature: TemperatureClass | None,
    limit: int,
    offset: int,
) -> tuple[list[Sku], int]:
    stmt = select(Sku)
    if category_ids is not None:
        stmt = stmt.where(Sku.category_id.in_(list(category_ids)))
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Sku.code.ilike(pattern, escape="\\"), Sku.name.ilike(pattern, escape="\\")))
    if active is not None:
        stmt = stmt.where(Sku.active.is_(active))
    if temperature is not None:
        stmt = stmt.where(Sku.temperature == temperature)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows: Any = session.scalars(stmt.order_by(Sku.code).limit(limit).offset(offset))
    return list(rows), total
