"""The catalogue: a category tree without cycles or runaway depth, SKUs that are never deleted."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import create_category, create_sku
from warehouse import catalogue
from warehouse.schemas import MAX_CATEGORY_DEPTH, CategoryCreate, CategoryUpdate, SkuCreate, SkuUpdate
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


def _category(session, slug: str, parent=None, pick_sequence: int = 0):
    return catalogue.create_category(
        session,
        data=CategoryCreate(
            slug=slug, name=slug.title(), parent_id=parent.id if parent else None, pick_sequence=pick_sequence
        ),
    )


def _sku(session, code: str, category, **extra):
    data = SkuCreate(code=code, name=f"Product {code}", category_id=category.id, price_minor=199, weight_g=100,
                     volume_ml=100, **extra)  # fmt: skip
    return catalogue.create_sku(session, data=data)


def test_the_tree_nests_in_pick_order_with_sku_counts(db_session) -> None:
    fresh = _category(db_session, f"fresh-{uuid.uuid4().hex[:6]}", pick_sequence=2)
    dairy = _category(db_session, f"dairy-{uuid.uuid4().hex[:6]}", parent=fresh, pick_sequence=2)
    fruit = _category(db_session, f"fruit-{uuid.uuid4().hex[:6]}", parent=fresh, pick_sequence=1)
    _sku(db_session, f"MILK-{uuid.uuid4().hex[:6]}", dairy)
    tree = {node.id: node for node in catalogue.category_tree(db_session)}
    node = tree[fresh.id]
    assert [child.id for child in node.children] == [fruit.id, dairy.id]
    assert [child.sku_count for child in node.children] == [0, 1]


def test_slugs_are_unique_and_parents_must_exist(db_session) -> None:
    slug = f"bakery-{uuid.uuid4().hex[:6]}"
    _category(db_session, slug)
    with pytest.raises(CategorySlugTaken):
        _category(db_session, slug)
    with pytest.raises(UnknownReference) as raised:
        catalogue.create_category(db_session, data=CategoryCreate(slug="x-1", name="X", parent_id=uuid.uuid4()))
    assert raised.value.code == "unknown_category"


def test_a_category_cannot_move_under_its_own_subtree(db_session) -> None:
    top = _category(db_session, f"top-{uuid.uuid4().hex[:6]}")
    mid = _category(db_session, f"mid-{uuid.uuid4().hex[:6]}", parent=top)
    leaf = _category(db_session, f"leaf-{uuid.uuid4().hex[:6]}", parent=mid)
    for new_parent in (top, leaf):
        with pytest.raises(CategoryCycle):
            catalogue.update_category(db_session, category_id=top.id, data=CategoryUpdate(parent_id=new_parent.id))
    moved = catalogue.update_category(db_session, category_id=leaf.id, data=CategoryUpdate(parent_id=None))
    assert moved.parent_id is None
    renamed = catalogue.update_category(db_session, category_id=mid.id, data=CategoryUpdate(name="Middle"))
    assert (renamed.name, renamed.parent_id) == ("Middle", top.id)  # parent_id not sent: unchanged


def test_the_tree_has_a_depth_limit(db_session) -> None:
    parent = None
    for level in range(MAX_CATEGORY_DEPTH):
        parent = _category(db_session, f"d{level}-{uuid.uuid4().hex[:6]}", parent=parent)
    with pytest.raises(CategoryTooDeep):
        _category(db_session, f"too-deep-{uuid.uuid4().hex[:6]}", parent=parent)
    other = _category(db_session, f"o-{uuid.uuid4().hex[:6]}")
    _category(db_session, f"oc-{uuid.uuid4().hex[:6]}", parent=other)
    assert parent is not None
    with pytest.raises(CategoryTooDeep):  # a two-level subtree under the deepest leaf
        catalogue.update_category(db_session, category_id=other.id, data=CategoryUpdate(parent_id=parent.id))


def test_only_empty_categories_are_deleted(db_session) -> None:
    top = _category(db_session, f"t-{uuid.uuid4().hex[:6]}")
    child = _category(db_session, f"c-{uuid.uuid4().hex[:6]}", parent=top)
    with pytest.raises(CategoryHasChildren):
        catalogue.delete_category(db_session, category_id=top.id)
    sku = _sku(db_session, f"S-{uuid.uuid4().hex[:6]}", child)
    with pytest.raises(CategoryInUse):
        catalogue.delete_category(db_session, category_id=child.id)
    catalogue.update_sku(db_session, sku_id=sku.id, data=SkuUpdate(category_id=top.id))
    catalogue.delete_category(db_session, category_id=child.id)
    with pytest.raises(CategoryNotFound):
        catalogue.get_category(db_session, category_id=child.id)


def test_skus_have_unique_codes_and_a_real_category(db_session) -> None:
    category = create_category(db_session)
    code = f"SKU-{uuid.uuid4().hex[:6]}"
    _sku(db_session, code, category)
    with pytest.raises(SkuCodeTaken):
        _sku(db_session, code, category)
    with pytest.raises(UnknownReference):
        catalogue.create_sku(
            db_session,
            data=SkuCreate(code="NEW-1", name="n", category_id=uuid.uuid4(), price_minor=1, weight_g=1, volume_ml=1),
        )
    with pytest.raises(SkuNotFound):
        catalogue.get_sku(db_session, sku_id=uuid.uuid4())


def test_updates_change_only_what_is_sent_and_deactivate(db_session) -> None:
    sku = create_sku(db_session, price_minor=249)
    updated = catalogue.update_sku(db_session, sku_id=sku.id, data=SkuUpdate(price_minor=299, active=False))
    assert (updated.price_minor, updated.active, updated.name) == (299, False, sku.name)


def test_listing_covers_subcategories_and_filters(db_session) -> None:
    top = _category(db_session, f"t-{uuid.uuid4().hex[:6]}")
    child = _category(db_session, f"c-{uuid.uuid4().hex[:6]}", parent=top)
    tag = uuid.uuid4().hex[:6].upper()
    a = _sku(db_session, f"A-{tag}", top)
    b = _sku(db_session, f"B-{tag}", child)
    catalogue.update_sku(db_session, sku_id=b.id, data=SkuUpdate(active=False))
    assert [s.id for s in catalogue.list_skus(db_session, category_id=top.id).items] == [a.id, b.id]
    only_top = catalogue.list_skus(db_session, category_id=top.id, include_subcategories=False)
    assert [s.id for s in only_top.items] == [a.id]
    assert [s.id for s in catalogue.list_skus(db_session, query=f"b-{tag.lower()}").items] == [b.id]
    assert catalogue.list_skus(db_session, category_id=top.id, active=True).total == 1
    assert catalogue.list_skus(db_session, query="100%_").total == 0  # wildcards are literal
    with pytest.raises(CategoryNotFound):
        catalogue.list_skus(db_session, category_id=uuid.uuid4())
