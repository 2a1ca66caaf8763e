"""Journey 7 over the real adapters: a paid Ecwid order becomes one purchase in TikTok's Events API.

Orders are placed in the sandbox Ecwid, whose order webhooks go through the app's receiver (POST /webhooks/ecwid)
to the catalog queue and the catalog worker, which reads the order with the store's token and sends the purchase
to the sandbox TikTok. What is checked is what a merchant or TikTok would see: the events the sandbox TikTok
received and counted, the store's items in DynamoDB, the answers of GET|PUT /api/stores/{id}/pixel, and the
store's public app storage in the sandbox Ecwid (the storefront script's config).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from sandboxes.ecwid import LEGACY_SCOPES, EcwidStore, EcwidWebhook, Variation
from sandboxes.ecwid_webhooks import sign_webhook
from sandboxes.tiktok_events import SOURCE_SERVER, STATUS_COUNTED, SUPPORTED_CURRENCIES, ReceivedEvent
from tests.app_stack import AppStack, captured_logs, read_form
from tests.test_catalog_sync import connect_and_sync, sync_now
from tests.test_disconnect import disconnect

STORE = 1003
OTHER = 2004
RECEIVER = "/webhooks/ecwid"
TRACK = "/open_api/v1.3/event/track/"
BIND = "/open_api/v1.3/catalog/eventsource/bind/"
ALL_SCOPES = {
    "read_store_profile",
    "read_catalog",
    "add_to_cp",
    "read_orders",
    "update_store_profile",
    "customize_storefront",
}
# As a shopper might type it at checkout: TikTok wants it trimmed and lower-cased, then hashed.
EMAIL = "  Alex.Shopper@Example.COM "
PHONE = "(415) 555-0199"


# -- helpers ---------------------------------------------------------------------------------------------
def shop(stack: AppStack, store_id: int = STORE, country: str = "US", currency: str = "USD") -> EcwidStore:
    """A store with a mug and a shirt in two sizes, connected and synced; the catalog's own webhooks dropped."""
    store = stocked(stack, store_id, country=country, currency=currency)
    connect_and_sync(stack, store)
    stack.ecwid.take_webhooks()  # product and category events the first sync already covered
    return store


def stocked(stack: AppStack, store_id: int, country: str = "US", currency: str = "USD") -> EcwidStore:
    store = stack.ecwid.add_store(store_id, country=country, currency=currency)
    mugs = store.add_category("Mugs")
    store.add_product("Mug", 10, category_ids=[mugs])
    store.add_product(
        "Shirt", 20, category_ids=[mugs], combinations=[Variation({"Size": "S"}), Variation({"Size": "M"})]
    )
    return store


def mug_and_small_shirt(store: EcwidStore) -> list[tuple[int, int | None, int]]:
    mug, shirt = (p.id for p in sorted(store.products.values(), key=lambda p: p.name))
    return [(mug, None, 2), (shirt, store.products[shirt].combinations[0].id, 1)]


def order(stack: AppStack, store: EcwidStore, *, paid: bool = True) -> str:
    placed = stack.ecwid.place_order(store.store_id, mug_and_small_shirt(store), email=EMAIL, phone=PHONE, paid=paid)
    return str(placed["id"])


def post(stack: AppStack, webhooks: Iterable[EcwidWebhook]) -> None:
    """What Ecwid's delivery does: POST each webhook, as recorded, to the app's receiver."""
    for webhook in webhooks:
        answer = stack.http.post(RECEIVER, content=webhook.body, headers=webhook.headers)
        assert (answer.status_code, answer.json()) == (200, {}), answer.text


def deliver(stack: AppStack) -> list[EcwidWebhook]:
    """Deliver every webhook the sandbox Ecwid recorded since, then let the worker run: what was delivered."""
    webhooks = stack.ecwid.take_webhooks()
    post(stack, webhooks)
    stack.run_worker(until_empty=True)
    return webhooks


def pixel_code(stack: AppStack, store_id: int = STORE) -> str:
    return str(stack.store_item(store_id)["tiktok"]["pixel_code"])


def catalog_id(stack: AppStack, store_id: int = STORE) -> str:
    return str(stack.store_item(store_id)["tiktok"]["catalog_id"])


def server_events(stack: AppStack, code: str | None = None) -> list[ReceivedEvent]:
    return stack.tiktok.received_events(code, source=SOURCE_SERVER)


def pixel(stack: AppStack, store_id: int = STORE) -> dict[str, Any]:
    """GET /api/stores/{id}/pixel, as the store's page asks."""
    answer = stack.http.get(f"/api/stores/{store_id}/pixel", headers=bearer(stack, store_id))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def switch_server_events(stack: AppStack, on: bool, store_id: int = STORE) -> dict[str, Any]:
    answer = stack.http.put(
        f"/api/stores/{store_id}/pixel", json={"server_events": on}, headers=bearer(stack, store_id)
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def bearer(stack: AppStack, store_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.open_session(store_id)}"}


def order_items(stack: AppStack, store_id: int = STORE) -> dict[str, dict[str, Any]]:
    """order id → the store's ORDER# item (one per order whose purchase the server handled)."""
    return {
        str(item["sk"]).removeprefix("ORDER#"): item
        for item in stack.items(store_id)
        if str(item["sk"]).startswith("ORDER#")
    }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def order_webhook(stack: AppStack, secret: str | None = None, **changes: Any) -> EcwidWebhook:
    """An `order.created` webhook of STORE, signed with the app's secret (or `secret`), `changes` over its body."""
    body: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "eventCreated": stack.ecwid.timestamp(),
        "storeId": STORE,
        "entityId": 150_000_999,
        "eventType": "order.created",
        "data": {"orderId": "ZZZZZ", "newPaymentStatus": "PAID", "newFulfillmentStatus": "AWAITING_PROCESSING"},
        **changes,
    }
    return sign_webhook(secret or stack.ecwid.client_secret, body)


# -- one purchase per paid order ----------------------------------------------------------------------------
def test_a_paid_order_reaches_tiktok_once_with_hashed_match_keys_and_catalog_skus(stack: AppStack, capsys: Any):
    with captured_logs(stack) as logs:
        store = shop(stack)
        code = pixel_code(stack)
        order_id = order(stack, store)
        delivered = deliver(stack)

    assert "order.created" in [w.event_type for w in delivered]
    [event] = server_events(stack)
    assert (event.pixel_code, event.status, event.event_id) == (code, STATUS_COUNTED, f"ecwid-{STORE}-{order_id}")
    user, properties = event.payload["user"], event.payload["properties"]
    assert user["email"] == sha256("alex.shopper@example.com")
    assert user["phone"] == sha256("+14155550199")
    content_ids = [item["content_id"] for item in properties["contents"]]
    [(mug, _, _), (shirt, small, _)] = mug_and_small_shirt(store)
    assert content_ids == [str(mug), f"{shirt}-{small}"]
    assert set(content_ids) <= set(stack.tiktok_catalog(STORE))
    assert (properties["currency"], properties["value"], properties["num_items"]) == ("USD", 40, 3)
    assert [c.event_id for c in stack.tiktok.conversions(code)] == [event.event_id]

    sent_to_tiktok = "\n".join(call.body.decode("utf-8", "replace") for call in stack.tiktok.calls)
    printed = capsys.readouterr()
    logged = "\n".join(logs.texts) + printed.out + printed.err
    assert "Webhook event queued" in logged, "the functions' logs were not captured"
    for personal in (EMAIL, EMAIL.strip(), EMAIL.strip().lower(), "555-0199", "4155550199"):
        assert personal not in sent_to_tiktok
        assert personal not in logged

    assert order_items(stack)[order_id]["state"] == "sent"
    shown = pixel(stack)
    assert shown["pixel_code"] == code
    assert (shown["server_events"], shown["purchases_sent_24h"], shown["missing_scopes"]) == (True, 1, [])
    assert shown.get("last_error") is None


def test_the_same_order_delivered_three_times_and_updated_is_one_purchase(stack: AppStack):
    store = shop(stack)
    order_id = order(stack, store)
    webhooks = deliver(stack)
    for _ in range(2):  # Ecwid delivering the very same requests again (it retries, and may repeat itself)
        post(stack, webhooks)
        stack.run_worker(until_empty=True)
    stack.ecwid.update_order(STORE, order_id, fulfillment_status="SHIPPED")  # order.updated: a new event
    [updated] = deliver(stack)

    assert updated.event_type == "order.updated"
    assert [e.event_id for e in server_events(stack)] == [f"ecwid-{STORE}-{order_id}"]
    assert len(stack.tiktok.calls_to(TRACK)) == 1
    assert len(stack.tiktok.conversions(pixel_code(stack))) == 1
    assert list(order_items(stack)) == [order_id]
    assert pixel(stack)["purchases_sent_24h"] == 1


def test_an_offline_order_is_sent_once_it_is_paid(stack: AppStack):
    store = shop(stack)
    order_id = order(stack, store, paid=False)
    deliver(stack)
    assert server_events(stack) == []
    assert order_items(stack) == {}  # nothing to remember for an unpaid order

    stack.ecwid.set_payment_status(STORE, order_id, "PAID")
    [paid] = deliver(stack)

    assert paid.json()["data"]["newPaymentStatus"] == "PAID"
    [event] = server_events(stack)
    assert (event.event_id, event.status) == (f"ecwid-{STORE}-{order_id}", STATUS_COUNTED)
    assert order_items(stack)[order_id]["state"] == "sent"
    assert pixel(stack)["purchases_sent_24h"] == 1


def test_refunded_and_cancelled_orders_send_nothing(stack: AppStack):
    store = shop(stack)
    refunded = order(stack, store)  # paid, then refunded before the worker read it
    stack.ecwid.set_payment_status(STORE, refunded, "REFUNDED")
    partly = order(stack, store)
    stack.ecwid.set_payment_status(STORE, partly, "PARTIALLY_REFUNDED")
    cancelled = order(stack, store, paid=False)
    stack.ecwid.set_payment_status(STORE, cancelled, "CANCELLED")

    delivered = deliver(stack)

    assert [w.event_type for w in delivered].count("order.updated") == 3
    assert server_events(stack) == []
    assert stack.tiktok.calls_to(TRACK) == []
    assert order_items(stack) == {}
    assert pixel(stack)["purchases_sent_24h"] == 0


# -- bad input ---------------------------------------------------------------------------------------------
def test_forged_and_malformed_order_webhooks_are_answered_and_queue_nothing(stack: AppStack):
    shop(stack)
    forged = order_webhook(stack, secret="another-apps-client-secret")
    answer = stack.http.post(RECEIVER, content=forged.body, headers=forged.headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_signature")

    unusable = [
        order_webhook(stack, data={"newPaymentStatus": "PAID"}),  # no orderId
        order_webhook(stack, data=None),
        order_webhook(stack, data={"orderId": None}),
        order_webhook(stack, data={"orderId": ""}),
        order_webhook(stack, data={"orderId": " K8XTQ"}),
        order_webhook(stack, data={"orderId": "K8X\nTQ"}),
        order_webhook(stack, data={"orderId": "X" * 65}),
        order_webhook(stack, data={"orderId": ["K8XTQ"]}),
        order_webhook(stack, data={"orderId": {"id": "K8XTQ"}}),
        order_webhook(stack, eventType="order.updated", data="K8XTQ"),
    ]
    post(stack, unusable)  # each answered 200 {}: authentic, so Ecwid must not retry it

    assert stack.queued() == 0
    assert server_events(stack) == []


def test_unknown_junk_and_another_stores_order_ids_send_and_write_nothing(stack: AppStack):
    shop(stack)
    other = stack.ecwid.add_store(OTHER)
    cup = other.add_product("Cup", 5)
    theirs = stack.ecwid.place_order(OTHER, [(cup, None, 1)], email="someone@example.org")["id"]
    stack.ecwid.take_webhooks()
    mine_before = stack.items(STORE)
    stack.ecwid.reset_calls()

    post(
        stack,
        [
            order_webhook(stack, data={"orderId": "ZZZZZ"}),  # no such order
            order_webhook(stack, data={"orderId": theirs}),  # store B's order, named under store A
            order_webhook(stack, data={"orderId": "../../profile"}),  # printable junk, read as an id
            order_webhook(stack, data={"orderId": "?limit=1&x=%2F"}),
            order_webhook(stack, data={"orderId": 150_000_001}),  # a number: read as its digits
        ],
    )
    assert stack.run_worker(until_empty=True) == 5

    assert server_events(stack) == []
    assert stack.tiktok.calls_to(TRACK) == []
    assert stack.items(STORE) == mine_before
    assert stack.items(OTHER) == []
    order_reads = stack.ecwid.calls_to(f"/api/v3/{STORE}/orders/")
    assert len(order_reads) == 5  # each id asked of the named store only, with its own token
    assert not stack.ecwid.calls_to(f"/api/v3/{OTHER}/")
    assert stack.queued() == 0
    shown = pixel(stack)
    assert (shown["purchases_sent_24h"], shown.get("last_error")) == (0, None)


def test_a_purchase_tiktok_refuses_is_shown_with_its_reason_and_not_retried(stack: AppStack):
    store = shop(stack)
    stack.tiktok.supported_currencies = SUPPORTED_CURRENCIES - {"USD"}
    order_id = order(stack, store)
    deliver(stack)
    stack.ecwid.update_order(STORE, order_id, fulfillment_status="SHIPPED")  # another event for the same order
    deliver(stack)

    [refused] = server_events(stack)
    assert refused.status == "refused"
    assert len(stack.tiktok.calls_to(TRACK)) == 1  # neither the worker nor the second event tried again
    assert stack.queued() == 0
    assert stack.tiktok.conversions() == []
    assert order_items(stack)[order_id]["state"] == "refused"
    shown = pixel(stack)
    assert shown["purchases_sent_24h"] == 0
    error = shown["last_error"]
    assert (error["code"], error["order_id"]) == ("purchase_refused", order_id)
    assert "currency" in error["message"]
    assert "USD" in error["message"]  # TikTok's own reason, passed on


# -- the storefront config and the catalog binding -----------------------------------------------------
def test_the_catalog_is_bound_once_the_storefront_gets_the_pixel_and_disconnect_takes_it_off(stack: AppStack):
    store = shop(stack)
    code, catalog = pixel_code(stack), catalog_id(stack)
    assert stack.tiktok.bindings(catalog) == [code]
    assert len(stack.tiktok.calls_to(BIND)) == 1
    config = stack.ecwid.public_config(STORE)
    assert config is not None
    assert json.loads(config) == {"pixel_code": code, "currency": "USD"}
    assert pixel(stack)["storefront_script"] == "installed"

    sync_now(stack)
    assert stack.tiktok.bindings(catalog) == [code]
    assert len(stack.tiktok.calls_to(BIND)) == 1
    assert stack.ecwid.public_config(STORE) == config

    assert disconnect(stack).status_code == 200
    stack.run_worker(until_empty=True)
    assert stack.ecwid.public_config(STORE) is None
    shown = pixel(stack)
    assert (shown["pixel_code"], shown["storefront_script"]) == (None, "not_installed")

    order(stack, store)
    deliver(stack)
    assert server_events(stack) == []
    assert order_items(stack) == {}


# -- a store installed before the app asked for orders -----------------------------------------------------
def install_with(stack: AppStack, store_id: int, authorize_url: str) -> httpx.Response:
    """Press Install on the sandbox Ecwid's page at `authorize_url`; the app's callback's answer."""
    page = stack.browser.get(authorize_url)
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    fields = {**form.fields, "store_id": str(store_id), "decision": "allow"}
    back = stack.browser.post(form.target(stack.ecwid.base_url), data=fields)
    assert back.status_code == 302, back.text
    return stack.http.get(back.headers["location"])


def test_a_legacy_store_syncs_is_asked_for_the_missing_scopes_and_gets_the_pixel_once_granted(stack: AppStack):
    store = stocked(stack, STORE)
    callback = f"{stack.url}/oauth/ecwid/callback"
    legacy = f"{stack.ecwid.base_url}/api/oauth/authorize?" + urlencode(
        {"client_id": stack.ecwid.client_id, "redirect_uri": callback, "response_type": "code", "scope": LEGACY_SCOPES}
    )
    assert install_with(stack, STORE, legacy).status_code == 302
    started = stack.start_connect(STORE, stack.open_session(STORE))
    assert started.status_code == 200, started.text
    assert stack.callback(stack.authorize_on_tiktok(started.json()["authorize_url"])).status_code == 302
    stack.run_worker(until_empty=True)
    stack.ecwid.take_webhooks()

    [(mug, _, _), (shirt, small, _)] = mug_and_small_shirt(store)
    assert set(stack.tiktok_catalog(STORE)) >= {str(mug), f"{shirt}-{small}"}
    order(stack, store)
    assert [w for w in stack.ecwid.take_webhooks() if w.event_type.startswith("order.")] == []
    assert stack.ecwid.public_config(STORE) is None
    shown = pixel(stack)
    assert shown["missing_scopes"] == ["read_orders", "update_store_profile", "customize_storefront"]
    assert shown["storefront_script"] == "not_installed"
    grant = urlsplit(shown["grant_access_url"])
    assert f"{grant.scheme}://{grant.netloc}{grant.path}" == f"{stack.ecwid.base_url}/api/oauth/authorize"
    query = parse_qs(grant.query)
    assert set(query["scope"][0].split()) == ALL_SCOPES
    assert (query["client_id"], query["redirect_uri"]) == ([stack.ecwid.client_id], [callback])
    assert shown["last_error"]["code"] == "storefront_scope_missing"

    assert install_with(stack, STORE, shown["grant_access_url"]).status_code == 302  # the merchant grants
    sync_now(stack)
    code = pixel_code(stack)
    assert json.loads(stack.ecwid.public_config(STORE) or "null") == {"pixel_code": code, "currency": "USD"}
    shown = pixel(stack)
    assert (shown["missing_scopes"], shown["storefront_script"]) == ([], "installed")
    assert shown.get("grant_access_url") is None
    assert shown.get("last_error") is None  # what the setup could not do before, it did now

    order_id = order(stack, store)  # orders now come with their webhooks, and become purchases
    deliver(stack)
    assert [e.event_id for e in server_events(stack, code)] == [f"ecwid-{STORE}-{order_id}"]


# -- the server events switch ------------------------------------------------------------------------------
def test_server_events_switched_off_send_nothing(stack: AppStack):
    store = shop(stack)
    assert switch_server_events(stack, False)["server_events"] is False
    order(stack, store)
    deliver(stack)

    assert server_events(stack) == []
    assert order_items(stack) == {}
    assert pixel(stack)["server_events"] is False


def test_a_uk_store_sends_nothing_until_the_merchant_switches_server_events_on(stack: AppStack):
    store = shop(stack, country="GB", currency="GBP")
    assert pixel(stack)["server_events"] is False
    order(stack, store)
    deliver(stack)
    assert server_events(stack) == []

    assert switch_server_events(stack, True)["server_events"] is True
    order_id = order(stack, store)
    deliver(stack)
    [event] = server_events(stack)
    assert (event.event_id, event.payload["properties"]["currency"]) == (f"ecwid-{STORE}-{order_id}", "GBP")
