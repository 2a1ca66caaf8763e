"""Journey 6's first remote step (services/disconnect_catalog.py): a disconnect removes the store's products from
its TikTok catalog, confirmed by the feed log, before the profile is disconnected and the token revoked; at once
when TikTok answers, else by the worker's cleanup message; never anything of a newer connection's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import FakeServices, TikTokCatalog
from tests.fast.steps import (
    BASE_URL,
    PHONE,
    STORE_ID,
    connect_store,
    deliver,
    install_store,
    next_message,
    signature,
    state_of,
    store_of,
    webhook,
    work_on,
)
from tiktok_channel.errors import TikTokUnavailable
from tiktok_channel.models.cleanup import CleanupItem
from tiktok_channel.models.tiktok import FeedLog
from tiktok_channel.services import connect
from tiktok_channel.services.disconnect import disconnect_store
from tiktok_channel.services.disconnect_catalog import CatalogDeleteUnconfirmed
from tiktok_channel.services.webhooks import receive_webhook

STEPS = ["delete_products", "feed_log", "disconnect_shop", "disconnect_business_profile", "revoke_token"]


@pytest.fixture
def selling(services: FakeServices) -> FakeServices:
    """Connected, with three products on TikTok (one with two variations)."""
    install_store(services)
    services.ecwid().add_product(STORE_ID, "Shirt", variations=[{"options": {"Size": "S"}}, {"options": {"Size": "M"}}])
    services.ecwid().add_product(STORE_ID, "Mug")
    services.ecwid().add_product(STORE_ID, "Cup")
    connect_store(services)
    deliver(services)
    assert len(on_tiktok(services)) == 4
    return services


def on_tiktok(services: FakeServices) -> set[str]:
    return set(services.tiktok().catalog_of(str(STORE_ID)).products)


def tiktok_calls_since(services: FakeServices, start: int) -> list[str]:
    return services.tiktok().calls[start:]


def only_cleanup(services: FakeServices) -> CleanupItem:
    [item] = services.cleanups.pending(STORE_ID)
    return item


def test_disconnect_deletes_the_products_from_the_catalog_first(selling: FakeServices):
    skus = on_tiktok(selling)
    catalog = selling.tiktok().catalog_of(str(STORE_ID))
    start = len(selling.tiktok().calls)

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "done"

    assert catalog.products == {}
    assert [set(call) for call in catalog.deletes] == [skus]  # one call, every SKU on TikTok
    assert tiktok_calls_since(selling, start) == STEPS  # confirmed by the feed log, then the profile, the token
    assert selling.cleanups.pending(STORE_ID) == []
    assert selling.cleanups.chunks(STORE_ID) == []
    assert not [key for key in selling.table.items if key[1].startswith(("SKU#", "CLEANUP"))]
    assert deliver(selling) == ["done"]  # the worker's message finds nothing left
    assert tiktok_calls_since(selling, start) == STEPS


def test_only_skus_on_tiktok_are_deleted(selling: FakeServices):
    shirt = next(iter(selling.ecwid().stores[STORE_ID].products))
    held_back = selling.ecwid().add_product(STORE_ID, "Tiny print", image=(300, 300, "jpg"))
    body = webhook("product.created", held_back)
    receive_webhook(selling, json.dumps(body), signature(body))
    deliver(selling)
    records = {r.sku_id: r for r in selling.catalog.all_skus(STORE_ID)}
    assert [r.on_tiktok for r in records.values() if r.product_id == held_back] == [False]
    assert any(r.product_id == shirt for r in records.values())

    disconnect_store(selling, STORE_ID)

    [deleted] = selling.tiktok().catalog_of(str(STORE_ID)).deletes
    assert set(deleted) == {sku for sku, r in records.items() if r.on_tiktok}


def test_a_slow_tiktok_leaves_the_deletion_to_the_worker_which_converges(selling: FakeServices):
    token_calls = len(selling.tiktok().calls)
    selling.tiktok().fail("delete_products", TikTokUnavailable("TikTok failed with HTTP 503"), times=2)

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "pending"

    # Here the store is clean at once; TikTok still holds the products, and the cleanup keeps their sku_ids.
    assert list(selling.catalog.all_skus(STORE_ID)) == []
    assert len(on_tiktok(selling)) == 4
    [chunk] = selling.cleanups.chunks(STORE_ID)
    assert set(chunk.sku_ids) == on_tiktok(selling)
    item = only_cleanup(selling)
    assert item.outcomes == {}  # nothing after the deletion was tried: the token is still needed
    assert tiktok_calls_since(selling, token_calls) == ["delete_products"]

    with pytest.raises(TikTokUnavailable):
        deliver(selling)  # TikTok still down: the worker's backoff
    assert deliver(selling) == ["done"]

    assert on_tiktok(selling) == set()
    assert selling.cleanups.pending(STORE_ID) == []
    assert selling.cleanups.chunks(STORE_ID) == []
    assert tiktok_calls_since(selling, token_calls)[-len(STEPS) :] == STEPS
    outcome = store_of(selling).remote_cleanup
    assert outcome is not None
    assert (outcome.state, outcome.attempts) == ("done", 3)


def test_a_deletion_the_feed_log_does_not_confirm_is_sent_again(selling: FakeServices, monkeypatch):
    tiktok = selling.tiktok()
    real = tiktok.feed_log
    answers = iter(["PROCESSING"] * 4 + ["FAILED"])

    def feed_log(token: str, **ids: Any) -> FeedLog:
        status = next(answers, None)
        log = real(token, **ids)
        return log if status is None else log.model_copy(update={"process_status": status})

    monkeypatch.setattr(tiktok, "feed_log", feed_log)
    monkeypatch.setattr("tiktok_channel.services.disconnect_catalog.time.sleep", lambda _: None)

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "pending"  # still processing: not confirmed
    assert len(selling.cleanups.chunks(STORE_ID)) == 1
    with pytest.raises(CatalogDeleteUnconfirmed):
        deliver(selling)  # TikTok's feed task FAILED: nothing of it is committed
    assert len(selling.cleanups.chunks(STORE_ID)) == 1
    assert "CatalogDeleteUnconfirmed" in (only_cleanup(selling).last_error or "")

    assert deliver(selling) == ["done"]

    assert on_tiktok(selling) == set()
    assert len(tiktok.catalog_of(str(STORE_ID)).deletes) == 3  # the same SKUs again: harmless
    assert selling.cleanups.chunks(STORE_ID) == []


def large_store(services: FakeServices, products: int) -> TikTokCatalog:
    """Connected and synced with `products` products: answers its TikTok catalog."""
    install_store(services)
    for index in range(products):
        services.ecwid().add_product(STORE_ID, f"Product {index}")
    connect_store(services)
    deliver(services)
    catalog = services.tiktok().catalog_of(str(STORE_ID))
    assert len(catalog.products) == products
    return catalog


def test_a_large_store_is_deleted_in_calls_of_at_most_1000(services: FakeServices):
    catalog = large_store(services, 2_500)
    skus = set(catalog.products)

    assert disconnect_store(services, STORE_ID).remote_cleanup == "done"

    assert [len(call) for call in catalog.deletes] == [1000, 1000, 500]
    assert set().union(*catalog.deletes) == skus
    assert catalog.products == {}
    assert services.cleanups.chunks(STORE_ID) == []


def test_the_worker_writes_the_rest_of_the_chunks_before_deleting(services: FakeServices):
    catalog = large_store(services, 1_200)
    skus = set(catalog.products)
    budget = iter([True] * 40)  # the request's purge has time for one page of 1,000 SKU items (40 checks)

    def time_left(*_: Any, **__: Any) -> bool:
        return next(budget, False)

    real_purge = services.cleanups.purge_catalog

    def short_purge(store_id: int, **options: Any) -> bool:
        options["time_left"] = time_left
        return real_purge(store_id, **options)

    services.cleanups.purge_catalog = short_purge  # type: ignore[method-assign]
    assert disconnect_store(services, STORE_ID).remote_cleanup == "pending"
    services.cleanups.purge_catalog = real_purge  # type: ignore[method-assign]

    assert catalog.deletes == []  # not before every SKU is in a chunk
    assert [len(c.sku_ids) for c in services.cleanups.chunks(STORE_ID)] == [1000]
    assert deliver(services) == ["done"]

    assert [len(call) for call in catalog.deletes] == [1000, 200]
    assert set().union(*catalog.deletes) == skus
    assert catalog.products == {}
    assert list(services.catalog.all_skus(STORE_ID)) == []


def test_a_late_cleanup_after_a_reconnect_to_the_same_catalog_deletes_nothing_of_the_new_connection(
    selling: FakeServices,
):
    catalog = selling.tiktok().catalog_of(str(STORE_ID))
    selling.tiktok().fail("delete_products", TikTokUnavailable("TikTok failed with HTTP 503"))
    assert disconnect_store(selling, STORE_ID).remote_cleanup == "pending"
    old = only_cleanup(selling)
    late = next_message(selling)  # e.g. in the dead-letter queue, redriven after the reconnect
    old_token = selling.cipher.decrypt(old.access_token, store_id=STORE_ID, field="tiktok_token")

    connect_store(selling)
    deliver(selling)  # the new connection's first sync
    store = store_of(selling)
    assert store.tiktok is not None
    assert store.tiktok.catalog_id == catalog.catalog_id
    products = dict(catalog.products)
    assert len(products) == 4
    deletes = len(catalog.deletes)

    assert work_on(selling, late) == "done"

    assert catalog.products == products
    assert len(catalog.deletes) == deletes
    assert selling.cleanups.pending(STORE_ID) == []
    assert selling.cleanups.chunks(STORE_ID) == []
    # The old token goes; the new connection's profile and storefront stay.
    tiktok = selling.tiktok()
    assert tiktok.tokens[old_token].revoked
    assert tiktok.profiles[("ECWID", str(STORE_ID))].connected
    new_token = selling.cipher.decrypt(store.tiktok.access_token, store_id=STORE_ID, field="tiktok_token")
    assert not tiktok.tokens[new_token].revoked
    assert "disconnect_business_profile" not in tiktok.calls[-3:]


def test_a_late_cleanup_after_a_reconnect_to_another_catalog_empties_the_old_one(selling: FakeServices):
    old_catalog = selling.tiktok().catalog_of(str(STORE_ID))
    selling.tiktok().fail("delete_products", TikTokUnavailable("TikTok failed with HTTP 503"))
    disconnect_store(selling, STORE_ID)
    late = next_message(selling)
    # TikTok's hosted setup makes the store another catalog this time (here: for another region).
    url = connect.start_connect(selling, STORE_ID, PHONE, BASE_URL)
    code = selling.tiktok().authorize(str(STORE_ID), region="CA", store_name=store_of(selling).store_name)
    connect.finish_connect(selling, auth_code=code, state=state_of(url))
    deliver(selling)
    store = store_of(selling)
    assert store.tiktok is not None
    new_catalog = selling.tiktok().catalogs[store.tiktok.catalog_id or ""]
    assert new_catalog.catalog_id != old_catalog.catalog_id
    assert len(old_catalog.products) == 4

    assert work_on(selling, late) == "done"

    assert old_catalog.products == {}
    assert len(new_catalog.products) == 4


def test_uninstall_removes_the_products_from_tiktok_too(selling: FakeServices):
    catalog = selling.tiktok().catalog_of(str(STORE_ID))
    selling.ecwid().revoke_tokens(STORE_ID)
    body = webhook("application.uninstalled", str(STORE_ID))
    receive_webhook(selling, json.dumps(body), signature(body))

    assert deliver(selling)[0] == "uninstalled"

    assert catalog.products == {}
    assert selling.cleanups.pending(STORE_ID) == []
    assert selling.cleanups.chunks(STORE_ID) == []


def test_a_cleanup_written_before_the_catalog_step_completes_without_deleting(selling: FakeServices):
    selling.tiktok().fail("delete_products", TikTokUnavailable("TikTok failed with HTTP 503"))
    disconnect_store(selling, STORE_ID)
    [(key, stored)] = [(k, v) for k, v in selling.table.items.items() if k[1].startswith("CLEANUP#")]
    del stored["bc_id"], stored["catalog_id"]  # as the release before this step wrote it
    calls = len(selling.tiktok().calls)

    assert deliver(selling) == ["done"]

    assert "delete_products" not in selling.tiktok().calls[calls:]
    assert key not in selling.table.items
    assert selling.cleanups.chunks(STORE_ID) == []  # forgotten with the item


def test_chunks_are_never_read_as_cleanup_items(selling: FakeServices):
    selling.tiktok().fail("delete_products", TikTokUnavailable("TikTok failed with HTTP 503"))
    disconnect_store(selling, STORE_ID)

    [item] = selling.cleanups.pending(STORE_ID)
    assert (item.source, item.catalog_id) == ("connection", selling.tiktok().catalog_of(str(STORE_ID)).catalog_id)
    [chunk] = selling.cleanups.chunks(STORE_ID)
    assert chunk.cleanup_id == item.cleanup_id
    assert not f"CLEANUP_SKUS#{chunk.cleanup_id}#{chunk.first_sku}".startswith("CLEANUP#")


@pytest.mark.parametrize("profile", [True, False], ids=["hosted-setup", "app-made-catalog"])
def test_reconnecting_ends_with_one_catalog_holding_each_product_once(services: FakeServices, profile: bool):
    install_store(services)
    shirt = services.ecwid().add_product(STORE_ID, "Shirt")
    services.ecwid().add_product(STORE_ID, "Mug")
    connect_store(services, profile=profile)
    deliver(services)
    store = store_of(services)
    assert store.tiktok is not None
    catalog_id, bc_id = store.tiktok.catalog_id, store.tiktok.bc_id
    disconnect_store(services, STORE_ID)
    deliver(services)
    assert services.tiktok().catalogs[catalog_id or ""].products == {}

    connect_store(services, profile=profile)
    deliver(services)

    store = store_of(services)
    assert store.tiktok is not None
    assert store.tiktok.catalog_id == catalog_id  # found again: same currency
    tiktok = services.tiktok()
    assert [c.catalog_id for c in tiktok.catalogs.values() if c.bc_id == bc_id] == [catalog_id]
    assert len(tiktok.created_catalogs) == (0 if profile else 1)  # the app made one, the first time only
    skus = [sku for sku in tiktok.catalogs[catalog_id or ""].products]
    assert sorted(skus) == sorted({r.sku_id for r in services.catalog.all_skus(STORE_ID)})
    assert str(shirt) in skus
