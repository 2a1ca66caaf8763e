"""For any store (Hypothesis draws its categories, products, variations, prices, names and images), the TikTok
catalog ends equal to the SKUs the catalog rules say qualify, after the first sync and after any edits delivered
as Ecwid's webhooks; a full sync afterwards then has nothing left to send."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeServices
from tests.fast.steps import (
    STORE_ID,
    connect_store,
    deliver,
    fresh_services,
    install_store,
    signature,
    store_of,
    webhook,
)
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.webhooks import receive_webhook

NAMES = ["Shirt", "Linen dress", "", "   "]
PRICES = [0, 0.004, 0.005, 1, 19.99, 250]
IMAGES: list[tuple[int, int, str] | None] = [
    None,
    (499, 900, "jpg"),
    (500, 500, "png"),
    (1200, 800, "jpg"),
    (900, 900, "gif"),
]

products = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES),
        "price": st.sampled_from(PRICES),
        "image": st.sampled_from(IMAGES),
        "enabled": st.booleans(),
        "categories": st.lists(st.integers(0, 3), max_size=2, unique=True),
        "variations": st.lists(st.sampled_from([None, 0, 12.5]), max_size=3),
    }
)
categories = st.lists(st.tuples(st.booleans(), st.none() | st.integers(0, 3)), min_size=4, max_size=4)
edits = st.lists(
    st.one_of(
        st.tuples(st.just("price"), st.integers(0, 7), st.sampled_from(PRICES)),
        st.tuples(st.just("image"), st.integers(0, 7), st.sampled_from(IMAGES)),
        st.tuples(st.just("name"), st.integers(0, 7), st.sampled_from(NAMES)),
        st.tuples(st.just("enabled"), st.integers(0, 7), st.booleans()),
        st.tuples(st.just("delete"), st.integers(0, 7), st.none()),
        st.tuples(st.just("category"), st.integers(0, 3), st.booleans()),
    ),
    max_size=6,
)


def build(services: FakeServices, drawn_categories: list[Any], drawn_products: list[dict[str, Any]]) -> list[int]:
    """The drawn store in the fake Ecwid: its categories (a parent only among those made before) and products."""
    ecwid = services.ecwid()
    category_ids: list[int] = []
    for enabled, parent in drawn_categories:
        parent_id = category_ids[parent] if parent is not None and parent < len(category_ids) else None
        category_ids.append(ecwid.add_category(STORE_ID, enabled=enabled, parent_id=parent_id))
    product_ids = []
    for drawn in drawn_products:
        variations = [
            {"options": {"Size": f"S{n}"}, **({} if p is None else {"price": p})}
            for n, p in enumerate(drawn["variations"])
        ]
        product_ids.append(
            ecwid.add_product(
                STORE_ID,
                drawn["name"],
                drawn["price"],
                image=drawn["image"],
                enabled=drawn["enabled"],
                category_ids=[category_ids[i] for i in drawn["categories"]],
                variations=variations,
            )
        )
    return product_ids


def expected(services: FakeServices) -> tuple[set[str], int]:
    """What the catalog rules (design.md) say: the SKUs on TikTok, and how many are held back."""
    data = services.ecwid().stores[STORE_ID]

    def hidden(category_id: int) -> bool:
        category = data.categories.get(category_id)
        while category is not None:
            if not category["enabled"]:
                return True
            category = data.categories.get(category.get("parentId", 0))
        return False

    on_tiktok, held_back = set(), 0
    for product in data.products.values():
        if not product["enabled"] or (product["categoryIds"] and all(hidden(c) for c in product["categoryIds"])):
            continue
        image = product.get("originalImage")
        image_ok = (
            image is not None and min(image["width"], image["height"]) >= 500 and image["url"].endswith(("jpg", "png"))
        )
        offers = [(str(product["id"]), product["price"])]
        if product["combinations"]:
            offers = [(f"{product['id']}-{c['id']}", c.get("price", product["price"])) for c in product["combinations"]]
        for sku_id, price in offers:
            cents = Decimal(str(price)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if product["name"].strip() and cents > 0 and image_ok:
                on_tiktok.add(sku_id)
            else:
                held_back += 1
    return on_tiktok, held_back


def on_tiktok(services: FakeServices) -> set[str]:
    return set(services.tiktok().catalog_of(str(STORE_ID)).products)


def send(services: FakeServices, event_type: str, entity_id: int) -> None:
    body = webhook(event_type, entity_id)
    receive_webhook(services, json.dumps(body), signature(body))


@settings(max_examples=100, deadline=None)
@given(drawn_categories=categories, drawn_products=st.lists(products, max_size=8))
def test_the_first_sync_puts_exactly_the_qualifying_skus_on_tiktok(drawn_categories, drawn_products):
    services = fresh_services()
    install_store(services)
    build(services, drawn_categories, drawn_products)

    connect_store(services)
    deliver(services)

    skus, held_back = expected(services)
    assert on_tiktok(services) == skus
    counts = store_of(services).products
    assert (counts.pending, counts.held_back) == (len(skus), held_back)


@settings(max_examples=100, deadline=None)
@given(drawn_categories=categories, drawn_products=st.lists(products, min_size=1, max_size=8), drawn_edits=edits)
def test_edits_delivered_as_webhooks_converge_and_leave_a_full_sync_nothing_to_send(
    drawn_categories, drawn_products, drawn_edits
):
    services = fresh_services()
    install_store(services)
    product_ids = build(services, drawn_categories, drawn_products)
    category_ids = list(services.ecwid().stores[STORE_ID].categories)
    connect_store(services)
    deliver(services)
    ecwid = services.ecwid()

    for kind, index, value in drawn_edits:
        if kind == "category":
            ecwid.update_category(STORE_ID, category_ids[index], enabled=value)
            send(services, "category.updated", category_ids[index])
            continue
        product_id = product_ids[index % len(product_ids)]
        if product_id not in ecwid.stores[STORE_ID].products:
            continue
        if kind == "delete":
            ecwid.delete_product(STORE_ID, product_id)
            send(services, "product.deleted", product_id)
        else:
            ecwid.update_product(STORE_ID, product_id, **{kind: value})
            send(services, "product.updated", product_id)
    deliver(services)

    skus, held_back = expected(services)
    assert on_tiktok(services) == skus
    counts = store_of(services).products
    assert (counts.pending + counts.rejected + counts.listed, counts.held_back) == (len(skus), held_back)
    uploads = len(services.tiktok().catalog_of(str(STORE_ID)).uploads)
    request_sync(services, STORE_ID)
    deliver(services)
    assert len(services.tiktok().catalog_of(str(STORE_ID)).uploads) == uploads
    assert on_tiktok(services) == skus
