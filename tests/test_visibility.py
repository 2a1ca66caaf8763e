"""Issue 14, item 1 through the real adapters: `PUT /api/stores/{storeId}/products/visibility` on the local gateway,
the sandbox Ecwid and TikTok over HTTP, DynamoDB through moto. What the sandbox TikTok catalog holds is the outcome.
"""

from __future__ import annotations

from typing import Any

import httpx

from sandboxes.ecwid import Variation
from tests.app_stack import AppStack, assert_error
from tests.test_catalog_sync import connect_and_sync, sync_now

STORE = 1003
OTHER = 2004
DELETE = "/open_api/v1.3/catalog/product/delete/"


def put(stack: AppStack, session: str, body: dict[str, Any], store_id: int = STORE) -> httpx.Response:
    return stack.http.put(
        f"/api/stores/{store_id}/products/visibility", json=body, headers={"Authorization": f"Bearer {session}"}
    )


def deliver_webhooks(stack: AppStack) -> None:
    """Ecwid's deliveries: every webhook the sandbox recorded since, to the app's receiver, then the worker."""
    for webhook in stack.ecwid.take_webhooks():
        answer = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=webhook.headers)
        assert answer.status_code == 200, answer.text
    stack.run_worker(until_empty=True)


def kept_off_list(stack: AppStack, session: str) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        params = {"status": "kept_off", **({"cursor": cursor} if cursor else {})}
        answer = stack.http.get(
            f"/api/stores/{STORE}/products", params=params, headers={"Authorization": f"Bearer {session}"}
        )
        assert answer.status_code == 200, answer.text
        found |= {item["sku_id"] for item in answer.json()["items"]}
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found


def test_a_product_switched_off_leaves_the_tiktok_catalog_and_stays_off_until_switched_on(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    shown = store.add_category("Tops")
    tee = store.add_product(
        "Tee", 20.0, category_ids=[shown], combinations=[Variation({"Size": "S"}), Variation({"Size": "M"})]
    )
    mug = store.add_product("Mug", 9.0, category_ids=[shown])
    connect_and_sync(stack, store)
    stack.ecwid.take_webhooks()  # what the first sync already covered
    assert len(stack.tiktok_catalog(STORE)) == 3
    session = stack.open_session(STORE)

    answer = put(stack, session, {"product_ids": [tee], "show": False})
    assert (answer.status_code, answer.json()) == (200, {"updated": 1})
    stack.run_worker()

    assert set(stack.tiktok_catalog(STORE)) == {str(mug)}
    assert kept_off_list(stack, session) == {str(tee)}
    assert stack.status(STORE)["products"]["kept_off"] == 1

    # A later edit, a category change and a full sync keep it off.
    store.update_product(tee, name="Tee, new colours")
    deliver_webhooks(stack)
    store.update_category(shown, name="T-shirts")
    deliver_webhooks(stack)
    sync_now(stack, STORE, session)
    assert set(stack.tiktok_catalog(STORE)) == {str(mug)}

    assert put(stack, session, {"product_ids": [tee], "show": True}).json() == {"updated": 1}
    stack.run_worker()
    assert len(stack.tiktok_catalog(STORE)) == 3
    assert kept_off_list(stack, session) == set()


def test_a_bulk_switch_of_150_products_takes_one_job_and_one_delete_call(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    stickers = [store.add_product(f"Sticker {i}", 3.0) for i in range(150)]  # two Ecwid pages of products
    poster = store.add_product("Poster", 15.0)
    connect_and_sync(stack, store)
    session = stack.open_session(STORE)
    stack.tiktok.reset_calls()

    answer = put(stack, session, {"product_ids": stickers, "show": False})

    assert (answer.status_code, answer.json()) == (200, {"updated": 150})
    assert [m["body"]["kind"] for m in stack.queued_messages()] == ["visibility"]
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(poster)}
    assert len(stack.tiktok.calls_to(DELETE)) == 1
    assert len(kept_off_list(stack, session)) == 150


def test_a_category_switch_covers_its_products_and_those_added_later(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    sale = store.add_category("Sale")
    other = store.add_category("Mugs")
    old = store.add_product("Old tee", 10.0, category_ids=[sale])
    both = store.add_product("Bag", 30.0, category_ids=[sale, other])
    connect_and_sync(stack, store)
    stack.ecwid.take_webhooks()
    session = stack.open_session(STORE)

    answer = put(stack, session, {"category_id": sale, "show": False})
    assert (answer.status_code, answer.json()) == (200, {"updated": 2})
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(both)}  # also in a shown category: it stays

    later = store.add_product("Clearance socks", 4.0, category_ids=[sale])
    deliver_webhooks(stack)
    assert set(stack.tiktok_catalog(STORE)) == {str(both)}
    categories = stack.http.get(f"/api/stores/{STORE}/categories", headers={"Authorization": f"Bearer {session}"})
    assert {c["id"]: c["kept_off"] for c in categories.json()["items"]} == {sale: True, other: False}

    assert put(stack, session, {"category_id": sale, "show": True}).json() == {"updated": 3}
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(old), str(both), str(later)}


def test_bad_requests_change_nothing_and_another_stores_session_is_refused(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    tee = store.add_product("Tee", 20.0)
    stack.ecwid.add_store(OTHER).add_product("Mug", 9.0)
    connect_and_sync(stack, store)
    session = stack.open_session(STORE)
    stack.install(OTHER)
    other_session = stack.open_session(OTHER)
    items_before = stack.items(STORE)

    assert_error(put(stack, session, {"product_ids": [tee, 123456789], "show": False}), 400, "unknown_products")
    assert_error(put(stack, session, {"category_id": 987654, "show": False}), 400, "unknown_category")
    for body in (
        {"product_ids": [], "show": False},
        {"product_ids": [tee], "category_id": 1, "show": False},
        {"product_ids": [tee]},
        {"product_ids": ["1"], "show": False},
        {"product_ids": [tee], "show": "no"},
        {"product_ids": list(range(1, 502)), "show": False},
        {"product_ids": [2**63], "show": False},
        {"category_id": 2**64, "show": True},
    ):
        assert put(stack, session, body).status_code == 400, body
    assert_error(put(stack, other_session, {"product_ids": [tee], "show": False}), 403, "wrong_store")

    assert stack.items(STORE) == items_before
    assert stack.queued_messages() == []
    assert set(stack.tiktok_catalog(STORE)) == {str(tee)}
