"""Issue 5's walk, in one go over HTTP through the local gateway: connect → apply → decisions (one store
approved, another rejected) → connect storefront → disconnect with TikTok down → cleanup completes once it
is back → webhooks ignored → reconnect → replace sync → uninstall; the sandbox TikTok and DynamoDB are
checked at each step."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sandboxes.common import FaultRule
from tests.app_stack import AppStack, app_stack
from tests.test_catalog_sync import connect_and_sync
from tests.test_disconnect import cleanup_items, deliver_uninstall, disconnect, profile_connected, tiktok_tokens
from tests.test_storefront import apply, decide, start_storefront_connect, storefront

US_STORE = 1003
OTHER_US_STORE = 1004


@pytest.fixture
def walk_stack() -> Iterator[AppStack]:
    with app_stack(parameters={"RetryBaseSeconds": "1"}) as running:
        yield running


def test_the_whole_walk_from_connect_to_uninstall(walk_stack: AppStack):
    stack = walk_stack
    store = stack.ecwid.add_store(US_STORE, country="US", currency="USD")
    mug = store.add_product("Mug", 10)
    other = stack.ecwid.add_store(OTHER_US_STORE, country="US", currency="USD")
    other.add_product("Lamp", 40)

    # connect (and the first sync)
    connect_and_sync(stack, store)
    connect_and_sync(stack, other)
    assert set(stack.tiktok_catalog(US_STORE)) == {str(mug)}
    session = stack.open_session(US_STORE)
    other_session = stack.open_session(OTHER_US_STORE)

    # apply
    assert apply(stack, US_STORE, session).status_code == 201
    assert apply(stack, OTHER_US_STORE, other_session).status_code == 201
    assert storefront(stack, US_STORE, session)["state"] == "submitted"

    # decisions: approved, and the other store rejected
    assert decide(stack, US_STORE, "approved")["ok"] is True
    assert decide(stack, OTHER_US_STORE, "rejected", note="Not enough order history")["ok"] is True
    assert storefront(stack, US_STORE, session)["state"] == "approved"
    rejected = storefront(stack, OTHER_US_STORE, other_session)
    assert rejected["state"] == "rejected"
    assert start_storefront_connect(stack, OTHER_US_STORE, other_session).status_code == 409

    # connect storefront
    stack.tiktok.approve_shop(str(US_STORE))
    authorize_url = start_storefront_connect(stack, US_STORE, session).json()["authorize_url"]
    assert stack.callback(stack.authorize_on_tiktok(authorize_url)).status_code == 302
    assert storefront(stack, US_STORE, session)["state"] == "connected"
    assert stack.tiktok.shop_connections[str(US_STORE)].connected is True
    assert stack.store_item(US_STORE)["storefront_state"] == "connected"

    # disconnect with TikTok down: clean here at once, remote cleanup pending
    epoch = int(stack.store_item(US_STORE)["epoch"])
    catalog_id = stack.store_item(US_STORE)["tiktok"]["catalog_id"]
    revoked_before = sum(tiktok_tokens(stack).values())
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix="/open_api/"))
    answer = disconnect(stack, US_STORE, session)
    assert answer.json() == {"status": "disconnected", "remote_cleanup": "pending"}
    item = stack.store_item(US_STORE)
    assert (item["status"], int(item["epoch"])) == ("disconnected", epoch + 1)
    assert stack.sku_items(US_STORE) == {}
    assert f"STORE#{US_STORE}" not in {i["pk"] for i in stack.connected_index()}
    assert cleanup_items(stack, US_STORE)
    assert profile_connected(stack, US_STORE) is True  # TikTok has not heard of it yet

    # cleanup completes when TikTok is back
    stack.tiktok.faults.clear()
    time.sleep(1.5)  # RetryBaseSeconds = 1
    stack.run_worker()
    assert cleanup_items(stack, US_STORE) == []
    assert profile_connected(stack, US_STORE) is False
    assert stack.tiktok.shop_connections[str(US_STORE)].connected is False
    assert sum(tiktok_tokens(stack).values()) == revoked_before + 1  # the connection's token

    # webhooks for the disconnected store are acknowledged and change nothing
    stack.ecwid.take_webhooks()
    teapot = store.add_product("Teapot", 30)
    store.delete_product(mug)
    for webhook in stack.ecwid.take_webhooks():  # Ecwid's own signed deliveries, through the receiver
        delivered = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=webhook.headers)
        assert delivered.status_code == 200
    stack.tiktok.reset_calls()
    stack.run_worker()
    assert stack.tiktok.calls == []
    assert set(stack.tiktok_catalog(OTHER_US_STORE)) == {str(p) for p in other.products}

    # reconnect: a new epoch, the same catalog (emptied by the disconnect), filled by the first sync
    authorize_url = stack.start_connect(US_STORE, stack.open_session(US_STORE)).json()["authorize_url"]
    assert stack.callback(stack.authorize_on_tiktok(authorize_url)).status_code == 302
    item = stack.store_item(US_STORE)
    assert (item["status"], int(item["epoch"])) == ("connected", epoch + 2)
    assert item["tiktok"]["catalog_id"] == catalog_id
    assert stack.tiktok_catalog(US_STORE) == {}  # the disconnect took the mug off TikTok
    stack.run_worker()
    assert set(stack.tiktok_catalog(US_STORE)) == {str(teapot)}

    # uninstall: the same as a disconnect, and the Ecwid token and the phone are gone
    deliver_uninstall(stack, US_STORE)
    stack.run_worker()
    item = stack.store_item(US_STORE)
    assert item["status"] == "disconnected"
    assert "ecwid_token" not in item
    assert "phone" not in item
    assert stack.sku_items(US_STORE) == {}
    assert f"STORE#{US_STORE}" not in {i["pk"] for i in stack.connected_index()}
    answer = stack.http.post("/api/session", json={"payload": stack.ecwid.app_payload(US_STORE)})
    assert answer.status_code == 401
    assert stack.store_item(OTHER_US_STORE)["status"] == "connected"  # the other store is untouched
