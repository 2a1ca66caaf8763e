"""Journey 6: Disconnect and uninstall, over HTTP through the gateway.

The store is taken down here at once (epoch raised, disconnected, out of the sparse index, catalog items
gone, the sku_ids on TikTok kept in the cleanup's chunks); TikTok is told at once when it answers (the
products deleted from the catalog, confirmed by the feed log; the storefront and profile disconnected; the
token revoked), else the catalog worker retries from a "cleanup" message while a cleanup item keeps the
encrypted TikTok token. Uninstall (Ecwid's application.uninstalled, through
the webhook receiver and the worker) does the same and forgets the Ecwid token and the phone number.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidStore
from tests.app_stack import AppStack, app_stack, captured_logs
from tests.test_catalog_sync import connect_and_sync, sync_now

STORE = 1003
OTHER = 2004
PLATFORM = "ECWID"  # the template's default TikTokBusinessPlatform
PHONE = "+14155550123"  # what AppStack.start_connect gives
TIKTOK_DOWN = FaultRule(kind="http_5xx", path_prefix="/open_api/")
PROFILE_DISCONNECT = "/open_api/v1.3/tbp/business_profile/disconnect/"
SHOP_DISCONNECT = "/open_api/v1.3/tbp/shop/connection/disconnect/"
REVOKE = "/open_api/v1.3/oauth2/revoke_token/"
PRODUCT_DELETE = "/open_api/v1.3/catalog/product/delete/"
FEED_LOG = "/open_api/v1.3/catalog/product/log/"
CATALOG_WRITES = ("/open_api/v1.3/catalog/product/upload/", "/open_api/v1.3/catalog/product/delete/")


@pytest.fixture
def quick_retries() -> Iterator[AppStack]:
    """A stack whose worker tries a failed message again after 1 s (then 2 s, …) rather than 30 s."""
    with app_stack(parameters={"RetryBaseSeconds": "1"}) as running:
        yield running


# -- helpers ---------------------------------------------------------------------------------------
def disconnect(stack: AppStack, store_id: int = STORE, session: str | None = None) -> httpx.Response:
    session = session or stack.open_session(store_id)
    return stack.http.post(f"/api/stores/{store_id}/disconnect", headers={"Authorization": f"Bearer {session}"})


def synced_store(stack: AppStack, store_id: int = STORE) -> EcwidStore:
    store = stack.ecwid.add_store(store_id)
    mugs = store.add_category("Mugs")
    store.add_product("Mug", 10, category_ids=[mugs])
    store.add_product("Cup", 5, category_ids=[mugs])
    store.add_product("Tiny print", 8, image=(300, 300, "jpg"))  # held back
    connect_and_sync(stack, store)
    assert stack.sku_items(store_id)
    return store


def tiktok_tokens(stack: AppStack) -> dict[str, bool]:
    """Every TikTok token the sandbox issued → whether it is revoked."""
    with stack.tiktok.lock:
        return {value: token.revoked for value, token in stack.tiktok.tokens.items()}


def profile_connected(stack: AppStack, store_id: int = STORE) -> bool:
    with stack.tiktok.lock:
        return stack.tiktok.business_profiles[(PLATFORM, str(store_id))].connected


def kinds_of_items(stack: AppStack, store_id: int = STORE) -> set[str]:
    """The sort-key families of the store's items (STORE, SKU, RUN, CATEGORIES, STATE, CLEANUP, …)."""
    return {str(item["sk"]).split("#")[0] for item in stack.items(store_id)}


def cleanup_items(stack: AppStack, store_id: int = STORE) -> list[dict[str, Any]]:
    return [item for item in stack.items(store_id) if str(item["sk"]).startswith("CLEANUP#")]


def sku_chunks(stack: AppStack, store_id: int = STORE) -> list[dict[str, Any]]:
    return [item for item in stack.items(store_id) if str(item["sk"]).startswith("CLEANUP_SKUS#")]


def catalog_products(stack: AppStack, catalog_id: str) -> set[str]:
    with stack.tiktok.lock:
        return set(stack.tiktok.catalogs[catalog_id].products)


def catalogs_holding(stack: AppStack, sku_ids: set[str]) -> dict[str, list[str]]:
    """catalog_id → the given SKUs it holds, for every sandbox catalog holding any (each SKU listed once per
    catalog: a catalog keeps one product per sku_id)."""
    with stack.tiktok.lock:
        found = {cid: sorted(set(c.products) & sku_ids) for cid, c in stack.tiktok.catalogs.items()}
    return {cid: skus for cid, skus in found.items() if skus}


def assert_clean_here(stack: AppStack, store_id: int, epoch_before: int) -> dict[str, Any]:
    """The store is disconnected here: what the merchant sees and what DynamoDB holds."""
    item = stack.store_item(store_id)
    assert item["status"] == "disconnected"
    assert int(item["epoch"]) == epoch_before + 1
    for gone in ("tiktok", "pending_connection", "connected_shard", "connection_nonce", "notice"):
        assert gone not in item, gone
    assert item["sync"]["state"] == "idle"
    assert {k: int(v) for k, v in item["products"].items()} == {
        "listed": 0,
        "pending": 0,
        "rejected": 0,
        "held_back": 0,
        "excluded": 0,
        "kept_off": 0,
    }
    assert item["storefront_state"] == "not_applied"
    assert not kinds_of_items(stack, store_id) & {"SKU", "RUN", "CATEGORIES", "STOREFRONT"}
    assert all(entry["store_id"] != store_id for entry in stack.connected_index())
    return item


# -- disconnect --------------------------------------------------------------------------------------
def test_disconnect_cleans_the_store_here_and_on_tiktok(stack: AppStack):
    synced_store(stack)
    before = stack.store_item(STORE)
    assert before["status"] == "connected"
    catalog_id = before["tiktok"]["catalog_id"]
    assert len(catalog_products(stack, catalog_id)) == 2  # the tiny print is held back
    [token] = tiktok_tokens(stack)
    stack.tiktok.reset_calls()

    answer = disconnect(stack)

    assert (answer.status_code, answer.json()) == (200, {"status": "disconnected", "remote_cleanup": "done"})
    # TikTok: the products leave the catalog (the feed log confirms), the storefront and the business profile
    # are disconnected, then the token is revoked.
    assert [c.path for c in stack.tiktok.calls] == [
        PRODUCT_DELETE,
        FEED_LOG,
        SHOP_DISCONNECT,
        PROFILE_DISCONNECT,
        REVOKE,
    ]
    assert catalog_products(stack, catalog_id) == set()
    assert sku_chunks(stack) == []
    assert profile_connected(stack) is False
    assert tiktok_tokens(stack) == {token: True}
    # Here: clean at once, with the Ecwid token and the phone kept (the app stays installed).
    item = assert_clean_here(stack, STORE, int(before["epoch"]))
    assert item["ecwid_token"] == before["ecwid_token"]
    assert item["phone"] == before["phone"]
    assert item["remote_cleanup"]["state"] == "done"
    assert cleanup_items(stack) == []
    status = stack.status(STORE)
    assert status["status"] == "disconnected"
    assert "tiktok" not in status
    assert status["products"] == {"listed": 0, "pending": 0, "rejected": 0, "held_back": 0}
    assert status["sync"]["next_at"] is None

    # The worker's cleanup message finds nothing left to do, and TikTok hears nothing more.
    stack.tiktok.reset_calls()
    stack.run_worker()
    assert stack.tiktok.calls == []
    assert_clean_here(stack, STORE, int(before["epoch"]))


def test_queued_jobs_and_webhooks_of_the_old_connection_do_nothing(stack: AppStack):
    store = synced_store(stack)
    session = stack.open_session(STORE)
    queued = stack.http.post(f"/api/stores/{STORE}/sync", headers={"Authorization": f"Bearer {session}"})
    assert queued.status_code == 202
    mug = next(p.id for p in store.products.values() if p.name == "Mug")
    store.update_product(mug, price=99)
    webhooks = [w for w in stack.ecwid.take_webhooks() if w.event_type == "product.updated"]
    assert webhooks
    for webhook in webhooks:
        assert stack.http.post("/webhooks/ecwid", content=webhook.body, headers=webhook.headers).status_code == 200
    epoch = int(stack.store_item(STORE)["epoch"])

    assert disconnect(stack, session=session).json()["remote_cleanup"] == "done"
    stack.tiktok.reset_calls()
    stack.run_worker()  # the sync job, the product event, and the cleanup

    assert stack.tiktok.calls == []
    assert_clean_here(stack, STORE, epoch)
    # The schedule does not pick the store up either: it is not in the sparse index.
    scheduled = stack.lambdas["ScheduledSyncFunction"].invoke(
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    )
    assert scheduled == {"queued": 0}
    answer = stack.http.post(f"/api/stores/{STORE}/sync", headers={"Authorization": f"Bearer {session}"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "not_connected")


def test_disconnect_while_tiktok_is_down_finishes_in_the_background(quick_retries: AppStack):
    stack = quick_retries
    synced_store(stack)
    epoch = int(stack.store_item(STORE)["epoch"])
    catalog_id = stack.store_item(STORE)["tiktok"]["catalog_id"]
    skus = catalog_products(stack, catalog_id)
    [token] = tiktok_tokens(stack)
    stack.tiktok.faults.add(TIKTOK_DOWN)

    answer = disconnect(stack)

    assert (answer.status_code, answer.json()) == (200, {"status": "disconnected", "remote_cleanup": "pending"})
    item = assert_clean_here(stack, STORE, epoch)  # clean here at once
    assert item["remote_cleanup"]["state"] == "pending"
    [cleanup] = cleanup_items(stack)  # the SKU chunk is not a cleanup item
    [chunk] = sku_chunks(stack)
    assert set(chunk["sku_ids"]) == skus
    assert int(chunk["ttl"]) == int(cleanup["ttl"])
    assert catalog_products(stack, catalog_id) == skus  # still on TikTok until TikTok answers
    ciphertext = bytes(cleanup["access_token"])
    assert token.encode() not in ciphertext
    assert token not in repr(cleanup)  # only KMS ciphertext is kept
    assert int(cleanup["ttl"]) > time.time()
    assert int(cleanup["attempts"]) == 1
    assert "503" in cleanup["last_error"]
    assert tiktok_tokens(stack) == {token: False}

    stack.run_worker()  # TikTok still down: the message comes back after the worker's backoff
    [cleanup] = cleanup_items(stack)
    assert int(cleanup["attempts"]) == 2
    assert stack.store_item(STORE)["remote_cleanup"]["attempts"] == 2

    stack.tiktok.faults.clear()
    time.sleep(1.5)  # RetryBaseSeconds = 1: the first retry waits 1 s
    assert stack.run_worker() == 1

    assert cleanup_items(stack) == []
    assert sku_chunks(stack) == []
    assert catalog_products(stack, catalog_id) == set()
    assert tiktok_tokens(stack) == {token: True}
    assert profile_connected(stack) is False
    outcome = stack.store_item(STORE)["remote_cleanup"]
    assert (outcome["state"], int(outcome["attempts"])) == ("done", 3)
    assert "503" in outcome["last_error"]
    assert_clean_here(stack, STORE, epoch)


def test_a_token_tiktok_already_revoked_means_done(stack: AppStack):
    synced_store(stack)
    epoch = int(stack.store_item(STORE)["epoch"])
    for token in tiktok_tokens(stack):
        stack.tiktok.revoke(token)
    stack.tiktok.reset_calls()

    answer = disconnect(stack)

    assert (answer.status_code, answer.json()) == (200, {"status": "disconnected", "remote_cleanup": "done"})
    assert [c.path for c in stack.tiktok.calls] == [PRODUCT_DELETE]  # 40105: nothing hangs on that token
    assert cleanup_items(stack) == []
    assert sku_chunks(stack) == []  # nothing can be deleted with it: forgotten with the item
    assert_clean_here(stack, STORE, epoch)


def test_disconnecting_twice_is_harmless(stack: AppStack):
    synced_store(stack)
    epoch = int(stack.store_item(STORE)["epoch"])
    session = stack.open_session(STORE)
    assert disconnect(stack, session=session).json() == {"status": "disconnected", "remote_cleanup": "done"}
    stack.tiktok.reset_calls()

    again = disconnect(stack, session=session)

    assert (again.status_code, again.json()) == (200, {"status": "disconnected", "remote_cleanup": "done"})
    assert stack.tiktok.calls == []
    assert_clean_here(stack, STORE, epoch)  # the epoch went up once
    stack.run_worker()
    assert_clean_here(stack, STORE, epoch)


def test_disconnecting_twice_while_tiktok_is_down_keeps_one_cleanup(stack: AppStack):
    synced_store(stack)
    epoch = int(stack.store_item(STORE)["epoch"])
    stack.tiktok.faults.add(TIKTOK_DOWN)
    assert disconnect(stack).json()["remote_cleanup"] == "pending"

    again = disconnect(stack)

    assert (again.status_code, again.json()) == (200, {"status": "disconnected", "remote_cleanup": "pending"})
    [cleanup] = cleanup_items(stack)
    assert int(cleanup["attempts"]) == 2  # tried again at once
    assert_clean_here(stack, STORE, epoch)

    stack.tiktok.faults.clear()
    assert disconnect(stack).json() == {"status": "disconnected", "remote_cleanup": "done"}
    assert cleanup_items(stack) == []
    assert all(tiktok_tokens(stack).values())


def test_a_store_that_never_connected_disconnects_without_calling_tiktok(stack: AppStack):
    stack.ecwid.add_store(STORE)
    assert stack.install(STORE).status_code == 302

    answer = disconnect(stack)

    assert (answer.status_code, answer.json()) == (200, {"status": "disconnected", "remote_cleanup": "done"})
    assert stack.tiktok.calls == []
    assert stack.store_item(STORE)["status"] == "disconnected"


def test_reconnecting_after_a_disconnect_starts_clean(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug = store.add_product("Mug", 10)
    cup = store.add_product("Cup", 5)
    connect_and_sync(stack, store)
    catalog_id = stack.store_item(STORE)["tiktok"]["catalog_id"]
    assert disconnect(stack).json()["remote_cleanup"] == "done"
    disconnected_epoch = int(stack.store_item(STORE)["epoch"])
    assert catalog_products(stack, catalog_id) == set()  # the disconnect removed the products from TikTok
    # While disconnected: the merchant deletes a product and adds one.
    store.delete_product(cup)
    teapot = store.add_product("Teapot", 30)
    stack.ecwid.take_webhooks()

    session = stack.open_session(STORE)
    started = stack.start_connect(STORE, session)
    assert started.status_code == 200, started.text
    assert stack.callback(stack.authorize_on_tiktok(started.json()["authorize_url"])).status_code == 302

    item = stack.store_item(STORE)
    assert (item["status"], int(item["epoch"])) == ("connected", disconnected_epoch + 1)
    assert stack.connected_index() != []
    [message] = [m["body"] for m in stack.queued_messages() if m["body"]["kind"] == "sync"]
    assert (message["mode"], message["epoch"]) == ("replace", disconnected_epoch + 1)
    stack.run_worker()

    assert stack.store_item(STORE)["tiktok"]["catalog_id"] == catalog_id  # found again, not made anew
    bc_id = stack.store_item(STORE)["tiktok"]["bc_id"]
    with stack.tiktok.lock:
        assert [cid for cid, c in stack.tiktok.catalogs.items() if c.bc_id == bc_id] == [catalog_id]
    # One catalog holds the store's products, each once (a catalog keeps one product per sku_id).
    assert catalogs_holding(stack, {str(mug), str(cup), str(teapot)}) == {catalog_id: sorted([str(mug), str(teapot)])}
    assert set(stack.tiktok_catalog(STORE)) == {str(mug), str(teapot)}
    assert set(stack.sku_items(STORE)) == {str(mug), str(teapot)}
    assert stack.status(STORE, session)["products"]["pending"] == 2
    # A later sync works as usual for the new connection.
    store.update_product(mug, price=11)
    sync_now(stack, session=session)
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 11


# -- uninstall ---------------------------------------------------------------------------------------
def deliver_uninstall(stack: AppStack, store_id: int = STORE) -> None:
    """The merchant removes the app in Ecwid: Ecwid's own signed webhook reaches the receiver."""
    stack.ecwid.uninstall(store_id)
    [webhook] = [w for w in stack.ecwid.take_webhooks() if w.event_type == "application.uninstalled"]
    answer = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=webhook.headers)
    assert (answer.status_code, answer.json()) == (200, {})


def test_uninstall_disconnects_and_forgets_the_ecwid_token_and_the_phone(stack: AppStack):
    synced_store(stack)
    before = stack.store_item(STORE)
    assert before["phone"]
    catalog_id = before["tiktok"]["catalog_id"]
    assert catalog_products(stack, catalog_id)
    [token] = tiktok_tokens(stack)
    payload = stack.ecwid.app_payload(STORE)

    deliver_uninstall(stack)
    stack.run_worker()

    assert catalog_products(stack, catalog_id) == set()
    assert sku_chunks(stack) == []

    item = assert_clean_here(stack, STORE, int(before["epoch"]))
    for gone in ("ecwid_token", "phone", "email", "ecwid_scope"):
        assert gone not in item, gone
    assert tiktok_tokens(stack) == {token: True}
    assert profile_connected(stack) is False
    assert cleanup_items(stack) == []
    for attempt in (payload, stack.ecwid.app_payload(STORE)):
        answer = stack.http.post("/api/session", json={"payload": attempt})
        assert answer.status_code == 401
    assert stack.queued_messages() == []


def test_only_an_uninstall_ecwid_confirms_takes_the_store_down(stack: AppStack):
    """Ecwid signs only eventCreated.eventId: a signature from an event the app ignores, put on an uninstall body
    naming another store, passes the receiver; the worker asks Ecwid with the store's token and changes nothing."""
    synced_store(stack, STORE)
    stack.ecwid.add_store(OTHER)  # the attacker's own store, which gets Ecwid's signed webhooks too
    before = stack.store_item(STORE)
    [token] = tiktok_tokens(stack)
    stack.ecwid.emit(OTHER, "customer.created", 5)
    [ignored] = [w for w in stack.ecwid.take_webhooks() if w.event_type == "customer.created"]
    assert stack.http.post("/webhooks/ecwid", content=ignored.body, headers=ignored.headers).status_code == 200
    forged = {**ignored.json(), "eventType": "application.uninstalled", "storeId": STORE, "entityId": str(STORE)}

    with captured_logs(stack) as records:
        answer = stack.http.post("/webhooks/ecwid", json=forged, headers=ignored.headers)
        assert (answer.status_code, answer.json()) == (200, {})
        stack.tiktok.reset_calls()
        stack.run_worker()

    after = stack.store_item(STORE)
    for kept in ("status", "epoch", "ecwid_token", "tiktok", "phone", "connected_shard"):
        assert after[kept] == before[kept], kept
    assert stack.sku_items(STORE)
    assert stack.tiktok.calls_to("/open_api/") == []
    assert tiktok_tokens(stack) == {token: False}
    assert profile_connected(stack) is True
    assert stack.http.post("/api/session", json={"payload": stack.ecwid.app_payload(STORE)}).status_code == 200
    output = "\n".join(records.texts)
    assert "Uninstall event ignored" in output
    assert stack.ecwid.token_for(STORE) not in output

    # The merchant really removes the app: Ecwid refuses the token, and the same store is taken down.
    deliver_uninstall(stack)
    stack.run_worker()

    item = assert_clean_here(stack, STORE, int(before["epoch"]))
    assert "ecwid_token" not in item
    assert tiktok_tokens(stack) == {token: True}
    assert profile_connected(stack) is False


def test_uninstall_of_a_store_that_never_connected(stack: AppStack):
    stack.ecwid.add_store(STORE)
    assert stack.install(STORE).status_code == 302
    session = stack.open_session(STORE)
    assert stack.start_connect(STORE, session).status_code == 200  # gave a phone, never finished on TikTok

    deliver_uninstall(stack)
    stack.run_worker()

    item = stack.store_item(STORE)
    assert item["status"] == "disconnected"
    assert "ecwid_token" not in item
    assert "phone" not in item
    assert stack.tiktok.calls_to("/open_api/") == []
    assert [i["status"] for i in stack.items(STORE) if str(i["sk"]).startswith("STATE#")] == ["failed"]
    answer = stack.start_connect(STORE, session)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "store_not_found")
    assert stack.http.post("/api/session", json={"payload": stack.ecwid.app_payload(STORE)}).status_code == 401


def test_uninstall_while_tiktok_is_down_is_cleaned_up_later(quick_retries: AppStack):
    stack = quick_retries
    synced_store(stack)
    [token] = tiktok_tokens(stack)
    stack.tiktok.faults.add(TIKTOK_DOWN)

    deliver_uninstall(stack)
    stack.run_worker()

    item = stack.store_item(STORE)
    assert (item["status"], "ecwid_token" in item, "phone" in item) == ("disconnected", False, False)
    assert len(cleanup_items(stack)) == 1
    stack.tiktok.faults.clear()
    time.sleep(1.5)
    stack.run_worker()
    assert cleanup_items(stack) == []
    assert tiktok_tokens(stack) == {token: True}


def test_a_reinstalled_store_can_connect_again(stack: AppStack):
    store = synced_store(stack)
    epoch = int(stack.store_item(STORE)["epoch"])
    deliver_uninstall(stack)
    stack.run_worker()

    assert stack.install(STORE).status_code == 302
    assert stack.store_item(STORE)["status"] == "installed"
    connect = stack.start_connect(STORE, stack.open_session(STORE))
    assert stack.callback(stack.authorize_on_tiktok(connect.json()["authorize_url"])).status_code == 302
    stack.run_worker()

    item = stack.store_item(STORE)
    assert (item["status"], int(item["epoch"])) == ("connected", epoch + 2)
    assert set(stack.tiktok_catalog(STORE)) == {str(p.id) for p in store.products.values() if p.name != "Tiny print"}


# -- who may disconnect, and what the logs say -------------------------------------------------------------
def test_a_session_for_another_store_cannot_disconnect_it(stack: AppStack):
    synced_store(stack, STORE)
    synced_store(stack, OTHER)
    session = stack.open_session(STORE)

    answer = disconnect(stack, OTHER, session=session)

    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "wrong_store")
    unauthenticated = stack.http.post(f"/api/stores/{OTHER}/disconnect")
    assert unauthenticated.status_code == 401
    assert stack.store_item(OTHER)["status"] == "connected"
    assert stack.sku_items(OTHER)
    assert profile_connected(stack, OTHER) is True


def test_disconnect_and_uninstall_log_no_token_or_phone(quick_retries: AppStack, capsys):
    stack = quick_retries
    synced_store(stack, STORE)
    synced_store(stack, OTHER)
    ecwid_tokens = {stack.ecwid.token_for(STORE), stack.ecwid.token_for(OTHER)}

    with captured_logs(stack) as records:
        stack.tiktok.faults.add(TIKTOK_DOWN)
        assert disconnect(stack).json()["remote_cleanup"] == "pending"
        deliver_uninstall(stack, OTHER)
        stack.run_worker()
        stack.tiktok.faults.clear()
        time.sleep(2.5)
        stack.run_worker()

    assert all(tiktok_tokens(stack).values())
    printed = capsys.readouterr()
    output = "\n".join(records.texts) + printed.out + printed.err
    assert "Store disconnected" in output, "the logs were not captured"
    assert "Store uninstalled" in output, "the logs were not captured"
    secrets = {*tiktok_tokens(stack), *ecwid_tokens, PHONE, PHONE.removeprefix("+")}
    assert sorted(s for s in secrets if s in output) == []
