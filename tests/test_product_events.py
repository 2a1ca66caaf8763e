"""Journey 3, every edit at once: the worker's handling of Ecwid events (re-fetch, map, upload or delete).

Events are queued here as the webhook receiver queues them; tests/test_webhook_receiver.py covers how
Ecwid's deliveries become these messages.
"""

from __future__ import annotations

import json
import uuid

import boto3

from sandboxes.ecwid import EcwidStore, Variation
from tests.app_stack import AppStack
from tests.test_catalog_sync import connect_and_sync

STORE = 1003
UPLOAD = "/open_api/v1.3/catalog/product/upload/"


def send_event(
    stack: AppStack,
    event_type: str,
    entity_id: int | str,
    *,
    store_id: int = STORE,
    event_id: str | None = None,
    dedup_id: str | None = None,
) -> str:
    event_id = event_id or str(uuid.uuid4())
    body = {
        "kind": "ecwid_event",
        "store_id": store_id,
        "epoch": 0,
        "event_id": event_id,
        "event_type": event_type,
        "entity_id": str(entity_id),
    }
    boto3.client("sqs").send_message(
        QueueUrl=stack.resources.queues["CatalogQueue"],
        MessageBody=json.dumps(body),
        MessageGroupId=str(store_id),
        MessageDeduplicationId=dedup_id or event_id,
    )
    return event_id


def synced_store(stack: AppStack) -> EcwidStore:
    store = stack.ecwid.add_store(STORE)
    store.add_category("Mugs")
    connect_and_sync(stack, store)
    stack.tiktok.reset_calls()
    return store


def uploaded_skus(stack: AppStack) -> list[str]:
    return [p["sku_id"] for c in stack.tiktok.calls_to(UPLOAD) for p in json.loads(c.body)["products"]]


def test_an_edited_product_reaches_tiktok_alone(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug = store.add_product("Mug", 10)
    store.add_product("Cup", 5)
    connect_and_sync(stack, store)
    stack.tiktok.reset_calls()

    store.update_product(mug, price=12, name="Big mug", image=(1200, 1200, "png"))
    send_event(stack, "product.updated", mug)
    stack.run_worker()

    fields = stack.tiktok_catalog(STORE)[str(mug)]
    assert (fields["title"], fields["price_info"]["price"]) == ("Big mug", 12)
    assert fields["image_url"].endswith(".png")
    assert uploaded_skus(stack) == [str(mug)]


def test_created_and_deleted_products_come_and_go_and_the_counts_follow(stack: AppStack):
    store = synced_store(stack)
    teapot = store.add_product("Teapot", 30)
    send_event(stack, "product.created", teapot)
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(teapot)}
    assert stack.status(STORE)["products"]["pending"] == 1

    store.delete_product(teapot)
    send_event(stack, "product.deleted", teapot)
    stack.run_worker()
    assert stack.tiktok_catalog(STORE) == {}
    assert stack.sku_items(STORE) == {}
    assert stack.status(STORE)["products"]["pending"] == 0


def test_an_update_that_finds_the_product_gone_deletes_it(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug = store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    store.delete_product(mug)

    send_event(stack, "product.updated", mug)  # delivered late, after the product was deleted: Ecwid says 404
    stack.run_worker()

    assert stack.tiktok_catalog(STORE) == {}


def test_variations_added_and_removed_follow(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    shirt = store.add_product("Shirt", 20, combinations=[Variation({"Size": "S"}), Variation({"Size": "M"})])
    connect_and_sync(stack, store)
    small, medium = store.products[shirt].combinations

    store.remove_combination(shirt, medium.id)
    large = store.add_combination(shirt, {"Size": "L"}, price=24)
    send_event(stack, "product.updated", shirt)
    stack.run_worker()

    catalog = stack.tiktok_catalog(STORE)
    assert set(catalog) == {f"{shirt}-{small.id}", f"{shirt}-{large}"}
    assert catalog[f"{shirt}-{large}"]["price_info"]["price"] == 24


def test_hiding_a_category_takes_its_products_and_its_subcategories_products_off(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    kitchen = store.add_category("Kitchen")
    mugs = store.add_category("Mugs", parent_id=kitchen)
    pan = store.add_product("Pan", 40, category_ids=[kitchen])
    mug = store.add_product("Mug", 10, category_ids=[mugs])
    shirt = store.add_product("Shirt", 20)
    connect_and_sync(stack, store)

    store.update_category(kitchen, enabled=False)
    send_event(stack, "category.updated", kitchen)
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(shirt)}

    store.update_category(kitchen, enabled=True)
    send_event(stack, "category.updated", kitchen)
    stack.run_worker()
    assert set(stack.tiktok_catalog(STORE)) == {str(shirt), str(pan), str(mug)}

    # A product edited later knows the category is visible without asking Ecwid for categories again.
    stack.ecwid.reset_calls()
    store.update_product(mug, price=11)
    send_event(stack, "product.updated", mug)
    stack.run_worker()
    assert not stack.ecwid.calls_to(f"/api/v3/{STORE}/categories")


def test_a_currency_change_freezes_and_switching_back_resumes_with_a_full_sync(stack: AppStack):
    store = stack.ecwid.add_store(STORE, currency="USD")
    mug = store.add_product("Mug", 10)
    connect_and_sync(stack, store)

    store.set_profile(currency="EUR")
    send_event(stack, "profile.updated", STORE)
    store.update_product(mug, price=15)
    send_event(stack, "product.updated", mug)
    stack.run_worker()
    assert stack.status(STORE)["notice"]["code"] == "catalog_frozen"
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 10

    store.set_profile(currency="USD")
    send_event(stack, "profile.updated", STORE)
    stack.run_worker()  # lifts the freeze and runs the full sync it queued
    assert "notice" not in stack.status(STORE)
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 15


def test_the_same_event_is_applied_once(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug = store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    stack.tiktok.reset_calls()
    store.update_product(mug, price=12)
    event_id = send_event(stack, "product.updated", mug)
    stack.run_worker()
    store.update_product(mug, price=13)  # a later edit whose own event is still on its way
    stack.tiktok.reset_calls()

    send_event(stack, "product.updated", mug, event_id=event_id, dedup_id="redelivered-after-5-minutes")
    stack.run_worker()

    assert stack.tiktok.calls == []
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 12


def test_reordered_and_duplicated_deliveries_converge_on_the_current_product(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug = store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    store.update_product(mug, price=11)
    store.update_product(mug, price=12)

    send_event(stack, "product.updated", mug)  # the later edit's event arrives first
    send_event(stack, "product.updated", mug)
    send_event(stack, "product.updated", mug)
    stack.run_worker()

    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 12
    assert len(stack.tiktok.calls_to(UPLOAD)) == 2  # the first sync, then one upload: the others found no change


def test_events_for_stores_that_do_not_sync_are_acknowledged_and_dropped(stack: AppStack):
    stack.ecwid.add_store(STORE).add_product("Mug", 10)
    assert stack.install(STORE).status_code == 302  # installed, not connected
    send_event(stack, "product.updated", 1)
    send_event(stack, "product.updated", 1, store_id=9999)  # never installed
    stack.tiktok.reset_calls()
    stack.ecwid.reset_calls()

    assert stack.run_worker() == 2
    assert stack.tiktok.calls == []
    assert stack.ecwid.calls == []
    assert stack.queued_messages() == []


def test_a_deleted_category_lets_its_products_show_where_else_they_are(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    archive = store.add_category("Archive", enabled=False)
    mug = store.add_product("Mug", 10, category_ids=[archive])
    connect_and_sync(stack, store)
    assert stack.tiktok_catalog(STORE) == {}
    stack.ecwid.take_webhooks()

    store.delete_category(archive)  # the mug is now in no category, which is shown
    for webhook in stack.ecwid.take_webhooks():
        body = webhook.json()
        send_event(stack, body["eventType"], body["entityId"], event_id=body["eventId"])
    stack.run_worker()

    assert set(stack.tiktok_catalog(STORE)) == {str(mug)}
