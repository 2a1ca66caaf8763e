"""Journeys 3 and 4 through the catalog worker (`services.worker.handle_message`): what the TikTok catalog holds
after full syncs and Ecwid events, what the store shows, and when syncing stops (design.md, "Catalog rules")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandboxes.tiktok_catalog import ProductIssue
from tests.fakes import FakeServices, TikTokProduct
from tests.fast.steps import (
    BASE_URL,
    STORE_ID,
    connect_store,
    deliver,
    fresh_services,
    install_store,
    next_message,
    signature,
    state_of,
    store_of,
    webhook,
    work_on,
)
from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.errors import PausedError, TikTokUnavailable
from tiktok_channel.services.connect import finish_connect, start_connect
from tiktok_channel.services.jobs import enqueue_scheduled_syncs, request_sync
from tiktok_channel.services.products import list_products
from tiktok_channel.services.webhooks import receive_webhook


# -- how a test looks at the product -----------------------------------------------------------------------------
def on_tiktok(services: FakeServices) -> dict[str, dict[str, Any]]:
    """The store's TikTok catalog: each sku_id and the fields TikTok holds for it."""
    return {sku: p.fields for sku, p in services.tiktok().catalog_of(str(STORE_ID)).products.items()}


def uploads(services: FakeServices) -> list[list[str]]:
    """The sku_ids of each upload call TikTok received for the store's catalog, in order."""
    return services.tiktok().catalog_of(str(STORE_ID)).uploads


def listed(services: FakeServices, status: str) -> dict[str, list[dict[str, Any]]]:
    """The merchant's list of one status (GET /api/stores/{id}/products): sku_id → reasons."""
    answer = list_products(services, STORE_ID, status, None)
    return {item["sku_id"]: item["reasons"] for item in answer["items"]}


def full_sync(services: FakeServices) -> list[str]:
    """The merchant presses Sync Products; the worker runs the job."""
    request_sync(services, STORE_ID)
    return deliver(services)


def ecwid_event(services: FakeServices, event_type: str, entity_id: int) -> list[str]:
    """Ecwid sends a webhook; the worker applies it."""
    body = webhook(event_type, entity_id)
    receive_webhook(services, json.dumps(body), signature(body))
    return deliver(services)


def sku(product_id: int, combination_id: int | None = None) -> str:
    return str(product_id) if combination_id is None else f"{product_id}-{combination_id}"


@pytest.fixture
def store(services: FakeServices) -> FakeServices:
    """An installed store, not yet connected (its products are added by the test, then `connect`)."""
    install_store(services)
    return services


def connect(services: FakeServices) -> list[str]:
    connect_store(services)
    return deliver(services)


# -- what the first sync puts on TikTok ----------------------------------------------------------------------------
def test_the_first_sync_puts_only_shown_products_on_tiktok_with_variations_as_skus(store: FakeServices):
    ecwid = store.ecwid()
    shown = ecwid.add_category(STORE_ID)
    hidden = ecwid.add_category(STORE_ID, enabled=False)
    under_hidden = ecwid.add_category(STORE_ID, parent_id=hidden)
    shirt = ecwid.add_product(STORE_ID, "Shirt", category_ids=[shown])
    poster = ecwid.add_product(STORE_ID, "Poster")  # in no category: on the store's front page
    both = ecwid.add_product(STORE_ID, "Bag", category_ids=[hidden, shown])
    ecwid.add_product(STORE_ID, "Mug", category_ids=[hidden])
    ecwid.add_product(STORE_ID, "Hat", category_ids=[under_hidden])
    ecwid.add_product(STORE_ID, "Sock", enabled=False)
    tee = ecwid.add_product(
        STORE_ID,
        "Tee",
        20,
        category_ids=[shown],
        variations=[{"options": {"Size": "S"}}, {"options": {"Size": "M"}, "price": 22}],
    )
    small, medium = ecwid.combination_ids(STORE_ID, tee)

    assert connect(store) == ["done"]

    catalog = on_tiktok(store)
    assert set(catalog) == {sku(shirt), sku(poster), sku(both), sku(tee, small), sku(tee, medium)}
    assert catalog[sku(tee, small)]["item_group_id"] == str(tee)
    assert catalog[sku(tee, medium)]["price_info"] == {"price": 22.0, "currency": "USD"}
    assert catalog[sku(tee, medium)]["title"] == "Tee (M)"
    assert "item_group_id" not in catalog[sku(shirt)]
    assert catalog[sku(shirt)]["landing_page"] == {
        "landing_page_url": f"https://store1003.example.com/product-p{shirt}"
    }
    status = store_of(store)
    assert (status.sync.state, status.products.pending, status.products.held_back) == ("idle", 5, 0)
    assert "5 uploaded" in (status.sync.last_result or "")


def test_the_first_sync_replaces_whatever_the_catalog_held(store: FakeServices):
    kept = store.ecwid().add_product(STORE_ID, "Shirt")
    url = start_connect(store, STORE_ID, "+14155550123", BASE_URL)
    code = store.tiktok().authorize(str(STORE_ID))
    old = {"sku_id": "legacy-7", "title": "Old", "price_info": {"price": 1, "currency": "USD"}}
    store.tiktok().catalog_of(str(STORE_ID)).products["legacy-7"] = TikTokProduct(old, "approved")
    finish_connect(store, auth_code=code, state=state_of(url))

    deliver(store)

    assert set(on_tiktok(store)) == {sku(kept)}


def test_a_store_of_250_products_goes_up_in_full_batches():
    services = fresh_services({"TIKTOK_UPLOAD_BATCH_SIZE": "100"})
    install_store(services)
    products = [services.ecwid().add_product(STORE_ID, f"Product {n}") for n in range(250)]

    connect(services)

    assert [len(batch) for batch in uploads(services)] == [100, 100, 50]
    assert set(on_tiktok(services)) == {sku(p) for p in products}
    assert store_of(services).sync.total == 250


def test_a_sync_that_runs_out_of_time_continues_in_a_next_part(store: FakeServices):
    products = [store.ecwid().add_product(STORE_ID, f"Product {n}") for n in range(250)]
    connect_store(store)
    first = next_message(store)

    outcome = work_on(store, first, seconds=30.0)

    assert outcome == "continued"
    [follow_up] = store.queue.waiting_fields()
    assert (follow_up["job_id"], follow_up["part"], follow_up["mode"]) == (first.fields["job_id"], 1, "replace")
    assert store_of(store).sync.state == "running"
    assert deliver(store) == ["done"]
    assert set(on_tiktok(store)) == {sku(p) for p in products}
    sent = [s for batch in uploads(store) for s in batch]
    assert len(sent) == len(set(sent)) == 250


# -- what later syncs send -----------------------------------------------------------------------------------------
def test_unchanged_skus_are_not_uploaded_again(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt", 25)
    mug = store.ecwid().add_product(STORE_ID, "Mug", 12)
    connect(store)
    assert len(uploads(store)) == 1

    full_sync(store)
    assert len(uploads(store)) == 1

    store.ecwid().update_product(STORE_ID, mug, price=14)
    full_sync(store)
    assert uploads(store)[1:] == [[sku(mug)]]
    assert on_tiktok(store)[sku(mug)]["price_info"]["price"] == 14.0
    assert on_tiktok(store)[sku(shirt)]["price_info"]["price"] == 25.0


def test_a_product_deleted_in_ecwid_is_deleted_from_tiktok_at_the_next_full_sync(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt")
    mug = store.ecwid().add_product(STORE_ID, "Mug")
    connect(store)

    store.ecwid().delete_product(STORE_ID, mug)
    full_sync(store)

    assert set(on_tiktok(store)) == {sku(shirt)}
    assert set(listed(store, "pending")) == {sku(shirt)}
    assert store_of(store).products.pending == 1


def test_hidden_category_products_are_deleted_from_tiktok(store: FakeServices):
    ecwid = store.ecwid()
    kitchen, garden = ecwid.add_category(STORE_ID), ecwid.add_category(STORE_ID)
    mug = ecwid.add_product(STORE_ID, "Mug", category_ids=[kitchen])
    spade = ecwid.add_product(STORE_ID, "Spade", category_ids=[garden])
    both = ecwid.add_product(STORE_ID, "Apron", category_ids=[kitchen, garden])
    connect(store)

    ecwid.update_category(STORE_ID, kitchen, enabled=False)
    full_sync(store)

    assert set(on_tiktok(store)) == {sku(spade), sku(both)}
    assert sku(mug) not in listed(store, "pending")


def test_a_variation_that_went_is_deleted_and_its_siblings_stay(store: FakeServices):
    tee = store.ecwid().add_product(
        STORE_ID, "Tee", variations=[{"options": {"Size": "S"}}, {"options": {"Size": "M"}}]
    )
    small, medium = store.ecwid().combination_ids(STORE_ID, tee)
    connect(store)

    product = store.ecwid().stores[STORE_ID].products[tee]
    store.ecwid().update_product(STORE_ID, tee, combinations=[c for c in product["combinations"] if c["id"] == small])
    full_sync(store)

    assert set(on_tiktok(store)) == {sku(tee, small)}
    assert medium


# -- every edit at once --------------------------------------------------------------------------------------------
def test_an_edit_in_ecwid_reaches_tiktok_at_once(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt", 25)
    connect(store)

    store.ecwid().update_product(STORE_ID, shirt, name="Linen shirt")
    assert ecwid_event(store, "product.updated", shirt) == ["applied"]
    assert on_tiktok(store)[sku(shirt)]["title"] == "Linen shirt"

    created = store.ecwid().add_product(STORE_ID, "Scarf")
    assert ecwid_event(store, "product.created", created) == ["applied"]
    assert sku(created) in on_tiktok(store)

    store.ecwid().delete_product(STORE_ID, shirt)
    assert ecwid_event(store, "product.deleted", shirt) == ["applied"]
    assert set(on_tiktok(store)) == {sku(created)}
    assert store_of(store).products.pending == 1


def test_a_category_hidden_in_ecwid_takes_its_products_off_tiktok_at_once(store: FakeServices):
    kitchen = store.ecwid().add_category(STORE_ID)
    mug = store.ecwid().add_product(STORE_ID, "Mug", category_ids=[kitchen])
    poster = store.ecwid().add_product(STORE_ID, "Poster")
    connect(store)

    store.ecwid().update_category(STORE_ID, kitchen, enabled=False)
    ecwid_event(store, "category.updated", kitchen)
    assert set(on_tiktok(store)) == {sku(poster)}

    store.ecwid().update_category(STORE_ID, kitchen, enabled=True)
    ecwid_event(store, "category.updated", kitchen)
    assert set(on_tiktok(store)) == {sku(poster), sku(mug)}


def test_a_product_event_of_a_store_that_is_not_connected_does_nothing(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt")

    assert ecwid_event(store, "product.updated", shirt) == ["dropped"]
    assert store.tiktok().calls == []


# -- held back, rejected, reviewed ---------------------------------------------------------------------------------
def test_a_product_without_a_large_enough_image_is_held_back_with_advice(store: FakeServices):
    mug = store.ecwid().add_product(STORE_ID, "Mug", image=(320, 320, "jpg"))
    connect(store)

    assert on_tiktok(store) == {}
    [reason] = listed(store, "held_back")[sku(mug)]
    assert "500×500" in reason["message"]
    assert store_of(store).products.held_back == 1

    store.ecwid().update_product(STORE_ID, mug, image=(900, 900, "png"))
    ecwid_event(store, "product.updated", mug)
    assert sku(mug) in on_tiktok(store)
    assert listed(store, "held_back") == {}
    assert (store_of(store).products.held_back, store_of(store).products.pending) == (0, 1)


def test_a_product_that_stops_qualifying_leaves_tiktok_and_is_listed_as_not_uploaded(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt", 25)
    connect(store)

    store.ecwid().update_product(STORE_ID, shirt, price=0)
    ecwid_event(store, "product.updated", shirt)

    assert on_tiktok(store) == {}
    [reason] = listed(store, "held_back")[sku(shirt)]
    assert "price is 0" in reason["message"]


def test_an_image_ecwid_gives_no_size_for_is_read_once_and_remembered(store: FakeServices):
    url = "https://images.example.com/1003/scarf-original"  # no extension, no size: only media.images
    media = {"images": [{"id": "1", "isMain": True, "orderBy": 0, "imageOriginalUrl": url}]}
    scarf = store.ecwid().add_product(STORE_ID, "Scarf", image=None, media=media)
    store.images.sizes[url] = ImageSize(1200, 1200, "JPEG")

    connect(store)
    full_sync(store)

    assert on_tiktok(store)[sku(scarf)]["image_url"] == url
    assert store.images.read == [url]


def test_feed_log_failures_are_recorded_as_rejected_with_tiktoks_reason(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt")
    mug = store.ecwid().add_product(STORE_ID, "Mug")
    issue = ProductIssue("price", "Product price and page price are inconsistent", "Show the same price on both.")
    store.tiktok().ingestion_rules.append(lambda fields: issue if fields["sku_id"] == sku(mug) else None)

    connect(store)

    assert set(on_tiktok(store)) == {sku(shirt)}
    assert listed(store, "rejected") == {
        sku(mug): [
            {"message": "Product price and page price are inconsistent", "suggestion": "Show the same price on both."}
        ]
    }
    assert (store_of(store).products.rejected, store_of(store).products.pending) == (1, 1)

    store.tiktok().ingestion_rules.clear()  # the merchant fixed it; Sync Products sends it again
    full_sync(store)
    assert uploads(store)[-1] == [sku(mug)]
    assert set(on_tiktok(store)) == {sku(shirt), sku(mug)}
    assert listed(store, "rejected") == {}


def test_tiktoks_review_reaches_the_store_at_the_next_sync(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt")
    replica = store.ecwid().add_product(STORE_ID, "Replica watch")
    connect(store)

    store.tiktok().review({sku(replica): ("Prohibited product", "Remove replicas from your catalog.")})
    full_sync(store)

    assert set(listed(store, "listed")) == {sku(shirt)}
    assert listed(store, "rejected") == {
        sku(replica): [{"message": "Prohibited product", "suggestion": "Remove replicas from your catalog."}]
    }
    counts = store_of(store).products
    assert (counts.listed, counts.rejected, counts.pending) == (1, 1, 0)


# -- when syncing stops ----------------------------------------------------------------------------------------------
def test_tiktok_revoking_the_token_marks_the_store_reconnect_needed(store: FakeServices):
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect(store)
    store.tiktok().revoke_all()
    store.ecwid().add_product(STORE_ID, "Mug")

    assert full_sync(store) == ["stopped"]

    status = store_of(store)
    assert status.status == "reconnect_needed"
    assert status.notice is not None
    assert status.notice.code == "reconnect_needed"
    assert store.queue.delays == []  # stopped, not retried
    assert enqueue_scheduled_syncs(store) == 0


@pytest.mark.parametrize("loss", ["token revoked", "store suspended"])
def test_ecwid_access_lost_stops_the_stores_syncs(store: FakeServices, loss: str):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt")
    connect(store)
    if loss == "token revoked":
        store.ecwid().revoke_tokens(STORE_ID)
    else:
        store.ecwid().stores[STORE_ID].suspended = True

    assert ecwid_event(store, "product.updated", shirt) == ["stopped"]

    status = store_of(store)
    assert status.status == "ecwid_access_lost"
    assert status.notice is not None
    assert "Reinstall" in status.notice.message
    assert enqueue_scheduled_syncs(store) == 0
    assert set(on_tiktok(store)) == {sku(shirt)}


def test_a_currency_change_freezes_the_catalog_until_it_is_switched_back(store: FakeServices):
    shirt = store.ecwid().add_product(STORE_ID, "Shirt", 25)
    connect(store)
    before = on_tiktok(store)
    calls = len(store.tiktok().calls)

    store.ecwid().set_currency(STORE_ID, "EUR")
    store.ecwid().update_product(STORE_ID, shirt, price=30)
    assert full_sync(store) == ["frozen"]
    assert ecwid_event(store, "product.updated", shirt) == ["frozen"]

    assert on_tiktok(store) == before
    assert store.tiktok().calls[calls:] == []
    status = store_of(store)
    assert status.status == "connected"
    assert status.notice is not None
    assert status.notice.code == "catalog_frozen"
    assert "EUR" in status.notice.message
    assert "USD" in status.notice.message

    store.ecwid().set_currency(STORE_ID, "USD")
    assert ecwid_event(store, "profile.updated", STORE_ID) == ["unfrozen", "done"]
    assert store_of(store).notice is None
    assert on_tiktok(store)[sku(shirt)]["price_info"]["price"] == 30.0


# -- the worker's handling of messages -----------------------------------------------------------------------------
def test_a_sync_message_of_an_earlier_connection_is_dropped(store: FakeServices):
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect(store)
    calls = len(store.tiktok().calls)
    old = {"kind": "sync", "store_id": STORE_ID, "epoch": 0, "job_id": "from-before", "mode": "full", "part": 0}

    store.queue.put(json.dumps(old), str(STORE_ID), "from-before:0")

    assert work_on(store, next_message(store)) == "dropped"
    assert store.tiktok().calls[calls:] == []


def test_tiktok_asking_to_wait_gives_the_message_back_until_then(store: FakeServices):
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect_store(store)
    store.tiktok().fail("upload_products", PausedError(store.now + 300))

    with pytest.raises(PausedError):
        deliver(store)
    [(_, wait)] = store.queue.delays
    assert wait == pytest.approx(300)
    assert on_tiktok(store) == {}

    store.advance(300)
    assert deliver(store) == ["done"]
    assert len(on_tiktok(store)) == 1


@pytest.mark.parametrize(("receive_count", "wait"), [(1, 30.0), (3, 120.0), (9, 900.0)])
def test_tiktok_unavailable_brings_the_message_back_later_each_time(store: FakeServices, receive_count, wait):
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect_store(store)
    message = next_message(store)
    store.tiktok().fail("upload_products", TikTokUnavailable("TikTok failed with HTTP 503"))

    with pytest.raises(TikTokUnavailable):
        work_on(store, message, receive_count=receive_count)
    assert store.queue.delays == [(message.receipt_handle, wait)]


@pytest.mark.parametrize("body", ["not json", "{}", '{"kind": "order"}', '{"kind": "sync", "store_id": 0}'])
def test_a_malformed_message_is_given_back_at_once_to_reach_the_dead_letter_queue(services: FakeServices, body: str):
    services.queue.put(body, str(STORE_ID), "someone-elses")
    message = next_message(services)

    with pytest.raises(ValueError, match="message"):
        work_on(services, message)
    assert services.queue.delays == [(message.receipt_handle, 0.0)]


@pytest.mark.parametrize("missing", ["bc_id", "catalog_id", "catalog_currency"])
def test_a_connection_missing_a_catalog_id_is_dropped_without_calling_tiktok(store: FakeServices, missing: str):
    """A store item whose connection lost an id (written by hand, or by a connect that never finished) cannot be
    synced: its messages are dropped, and TikTok never receives an empty id."""
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect(store)
    store.table.items[("STORE#1003", "STORE")]["tiktok"].pop(missing)
    calls = len(store.tiktok().calls)

    request_sync(store, STORE_ID)
    assert deliver(store) == ["dropped"]
    assert ecwid_event(store, "product.updated", 1) == ["dropped"]
    assert store.tiktok().calls[calls:] == []


@pytest.mark.parametrize("entity_id", ["²", "١٠٠٣", "１", "-5", "0x10"])
def test_an_event_whose_entity_id_is_not_ascii_digits_is_ignored_not_retried(store: FakeServices, entity_id: str):
    """Ecwid does not sign entityId: one written with other digits is ignored, never a failure sent to the DLQ."""
    store.ecwid().add_product(STORE_ID, "Shirt")
    connect(store)
    calls = len(store.tiktok().calls)
    body = webhook("product.updated", entity_id)
    receive_webhook(store, json.dumps(body), signature(body))

    assert deliver(store) == ["ignored"]
    assert store.tiktok().calls[calls:] == []
