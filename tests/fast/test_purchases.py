"""Journey 7, server side (services/purchases.py): a paid order's purchase reaches TikTok's Events API once, from
Ecwid's order webhooks, and only when the merchant's store and the shopper's order allow it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeServices
from tests.fast.steps import (
    BASE_URL,
    STORE_ID,
    connect_store,
    deliver,
    fresh_services,
    install_store,
    signature,
    store_of,
    webhook,
)
from tiktok_channel.errors import TikTokUnavailable
from tiktok_channel.services.disconnect import disconnect_store
from tiktok_channel.services.pixel import pixel_status, set_server_events
from tiktok_channel.services.webhooks import receive_webhook

LEGACY_SCOPES = "read_store_profile read_catalog add_to_cp"
OTHER_STORE = 1004


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def open_shop(services: FakeServices, store_id: int = STORE_ID, **install: Any) -> tuple[int, int, int]:
    """Installed with a shirt and a hoodie in two sizes, connected, first sync done: (shirt, hoodie, size M)."""
    install_store(services, store_id, **install)
    ecwid = services.ecwid()
    shirt = ecwid.add_product(store_id, "Shirt", 25.0)
    hoodie = ecwid.add_product(
        store_id, "Hoodie", 40.0, variations=[{"options": {"Size": "M"}, "price": 42.5}, {"options": {"Size": "L"}}]
    )
    connect_store(services, store_id)
    deliver(services)
    return shirt, hoodie, ecwid.combination_ids(store_id, hoodie)[0]


@pytest.fixture
def shop(services: FakeServices) -> tuple[int, int, int]:
    return open_shop(services)


def order_event(services: FakeServices, event_type: str, order_id: str, *, store_id: int = STORE_ID) -> None:
    """Ecwid sends an order webhook now (a new eventId each time, as Ecwid's created and updated events have)."""
    body = webhook(event_type, 1, order_id=order_id, store_id=store_id)
    body["eventCreated"] = int(services.now)
    assert receive_webhook(services, json.dumps(body), signature(body)) == "queued"


def place(services: FakeServices, shop: tuple[int, int, int], *, paid: bool = True, **fields: Any) -> str:
    shirt, hoodie, size_m = shop
    return services.ecwid().add_order(STORE_ID, [(shirt, None, 2), (hoodie, size_m, 1)], paid=paid, **fields)


def tracked(services: FakeServices) -> list[dict[str, Any]]:
    return [event for _, event in services.tiktok().tracked]


def status(services: FakeServices, store_id: int = STORE_ID) -> dict[str, Any]:
    return pixel_status(services, store_id, BASE_URL)


def pixel_code(services: FakeServices, store_id: int = STORE_ID) -> str:
    connection = store_of(services, store_id).tiktok
    assert connection is not None
    assert connection.pixel_code
    return connection.pixel_code


def test_a_paid_order_reaches_tiktok_once_with_hashed_shopper_data(services: FakeServices, shop: tuple[int, int, int]):
    shirt, hoodie, size_m = shop
    placed_at = services.now - 600
    order_id = place(services, shop, email="  Shopper@Example.COM ", phone="+1 (415) 555-0199", placed_at=placed_at)

    order_event(services, "order.created", order_id)
    deliver(services)

    assert len(services.tiktok().tracked) == 1
    code, event = services.tiktok().tracked[0]
    assert code == pixel_code(services)
    assert event["event"] == "CompletePayment"
    assert event["event_id"] == f"ecwid-{STORE_ID}-{order_id}"
    assert event["event_time"] == int(placed_at)
    assert event["page"] == {"url": f"https://store{STORE_ID}.example.com"}
    properties = event["properties"]
    assert [(c["content_id"], c["price"], c["quantity"]) for c in properties["contents"]] == [
        (str(shirt), 25.0, 2),
        (f"{hoodie}-{size_m}", 42.5, 1),
    ]
    assert (properties["value"], properties["currency"], properties["num_items"]) == (92.5, "USD", 3)
    assert event["user"]["email"] == sha256("shopper@example.com")
    assert event["user"]["phone"] == sha256("+14155550199")
    sent = json.dumps(event).lower()
    for raw in ("shopper@example.com", "4155550199", "555-0199", "(415)", "sam shopper"):
        assert raw not in sent
    record = services.pixels.get_purchase(STORE_ID, order_id)
    assert record is not None
    assert (record.state, record.event_id) == ("sent", f"ecwid-{STORE_ID}-{order_id}")
    assert status(services)["purchases_sent_24h"] == 1


def test_the_same_orders_webhooks_delivered_three_times_send_one_purchase(
    services: FakeServices, shop: tuple[int, int, int]
):
    order_id = place(services, shop)

    for event_type in ("order.created", "order.updated", "order.updated"):
        order_event(services, event_type, order_id)
    deliver(services)

    assert [e["event_id"] for e in tracked(services)] == [f"ecwid-{STORE_ID}-{order_id}"]
    # Repeats cost nothing: the order was read once, TikTok called once.
    assert services.ecwid().calls.count("get_order") == 1
    assert services.tiktok().calls.count("track_events") == 1


def test_an_unpaid_order_is_sent_once_an_update_finds_it_paid(services: FakeServices, shop: tuple[int, int, int]):
    order_id = place(services, shop, paid=False)  # pay later: bank transfer, cash on delivery

    order_event(services, "order.created", order_id)
    order_event(services, "order.updated", order_id)  # e.g. the merchant edits the address
    deliver(services)
    assert tracked(services) == []
    assert services.pixels.get_purchase(STORE_ID, order_id) is None

    services.ecwid().set_payment_status(STORE_ID, order_id, "PAID")
    order_event(services, "order.updated", order_id)
    order_event(services, "order.updated", order_id)
    deliver(services)

    assert [e["event_id"] for e in tracked(services)] == [f"ecwid-{STORE_ID}-{order_id}"]


@pytest.mark.parametrize("payment_status", ["REFUNDED", "PARTIALLY_REFUNDED", "CANCELLED", "INCOMPLETE"])
def test_refunded_and_cancelled_orders_send_nothing(
    services: FakeServices, shop: tuple[int, int, int], payment_status: str
):
    order_id = place(services, shop)
    services.ecwid().set_payment_status(STORE_ID, order_id, payment_status)

    order_event(services, "order.created", order_id)
    order_event(services, "order.updated", order_id)
    deliver(services)

    assert tracked(services) == []
    assert status(services)["purchases_sent_24h"] == 0


def test_a_refund_after_the_purchase_was_sent_sends_nothing_more(services: FakeServices, shop: tuple[int, int, int]):
    order_id = place(services, shop)
    order_event(services, "order.created", order_id)
    deliver(services)

    services.ecwid().set_payment_status(STORE_ID, order_id, "REFUNDED")
    order_event(services, "order.updated", order_id)
    deliver(services)

    assert len(tracked(services)) == 1


def test_an_unknown_order_sends_nothing_and_writes_nothing(services: FakeServices, shop: tuple[int, int, int]):
    before = services.table.snapshot()

    order_event(services, "order.created", "NO-SUCH-ORDER")
    deliver(services)

    assert tracked(services) == []
    assert services.table.snapshot() == before
    assert "last_error" not in status(services)


def test_another_stores_order_named_by_a_webhook_of_this_store_sends_nothing(services: FakeServices):
    open_shop(services)
    their_shirt, _, _ = open_shop(services, OTHER_STORE)
    theirs = services.ecwid().add_order(OTHER_STORE, [(their_shirt, None, 1)])

    order_event(services, "order.created", theirs, store_id=STORE_ID)  # the storeId is not signed
    deliver(services)

    assert tracked(services) == []
    assert services.pixels.get_purchase(STORE_ID, theirs) is None
    assert services.pixels.get_purchase(OTHER_STORE, theirs) is None


def test_a_disconnected_store_sends_nothing(services: FakeServices, shop: tuple[int, int, int]):
    order_id = place(services, shop)
    disconnect_store(services, STORE_ID)
    services.ecwid().calls.clear()

    order_event(services, "order.created", order_id)
    deliver(services)

    assert tracked(services) == []
    assert "get_order" not in services.ecwid().calls
    assert services.pixels.get_purchase(STORE_ID, order_id) is None


def test_a_refused_purchase_is_shown_to_the_merchant_and_not_tried_again(
    services: FakeServices, shop: tuple[int, int, int]
):
    order_id = place(services, shop)
    services.tiktok().event_refusal = "event_source_id: the pixel is inactive."

    order_event(services, "order.created", order_id)
    deliver(services)

    record = services.pixels.get_purchase(STORE_ID, order_id)
    assert record is not None
    assert (record.state, record.reason) == ("refused", "event_source_id: the pixel is inactive.")
    error = status(services)["last_error"]
    assert (error["code"], error["order_id"]) == ("purchase_refused", order_id)
    assert "the pixel is inactive" in error["message"]

    services.tiktok().event_refusal = None
    order_event(services, "order.updated", order_id)
    deliver(services)

    assert tracked(services) == []
    assert services.tiktok().calls.count("track_events") == 1
    assert status(services)["purchases_sent_24h"] == 0


def test_a_purchase_tiktok_failed_to_take_is_sent_once_when_the_worker_tries_again(
    services: FakeServices, shop: tuple[int, int, int]
):
    order_id = place(services, shop)
    services.tiktok().fail("track_events", TikTokUnavailable("TikTok failed with HTTP 503"))
    order_event(services, "order.created", order_id)

    with pytest.raises(TikTokUnavailable):
        deliver(services)
    assert tracked(services) == []
    assert services.queue.delays  # given back with a wait

    services.advance(60)
    order_event(services, "order.updated", order_id)  # and a later event of the same order meanwhile
    deliver(services)

    assert [e["event_id"] for e in tracked(services)] == [f"ecwid-{STORE_ID}-{order_id}"]
    record = services.pixels.get_purchase(STORE_ID, order_id)
    assert record is not None
    assert record.state == "sent"


def test_a_purchase_not_sent_within_48_hours_of_its_first_try_expires(
    services: FakeServices, shop: tuple[int, int, int]
):
    order_id = place(services, shop, placed_at=services.now)
    services.tiktok().fail("track_events", TikTokUnavailable("TikTok failed with HTTP 503"), times=2)
    order_event(services, "order.created", order_id)
    with pytest.raises(TikTokUnavailable):
        deliver(services)
    services.advance(47 * 3600)
    with pytest.raises(TikTokUnavailable):
        deliver(services)  # still within the window: tried again

    services.advance(2 * 3600)  # 49 hours after the first try
    deliver(services)

    assert tracked(services) == []
    record = services.pixels.get_purchase(STORE_ID, order_id)
    assert record is not None
    assert record.state == "expired"
    assert status(services)["last_error"]["code"] == "purchase_expired"

    order_event(services, "order.updated", order_id)
    deliver(services)
    assert tracked(services) == []


def test_an_order_placed_more_than_a_week_ago_is_not_sent(services: FakeServices, shop: tuple[int, int, int]):
    order_id = place(services, shop, placed_at=services.now - 8 * 86_400)

    order_event(services, "order.updated", order_id)  # e.g. paid at last, long after it was placed
    deliver(services)

    assert tracked(services) == []
    assert services.pixels.get_purchase(STORE_ID, order_id) is None


@pytest.mark.parametrize(("country", "currency"), [("GB", "GBP"), ("DE", "EUR"), ("FR", "EUR")])
def test_server_purchases_are_off_by_default_in_consent_first_countries(
    services: FakeServices, country: str, currency: str
):
    shop = open_shop(services, country=country, currency=currency)
    order_id = place(services, shop)

    order_event(services, "order.created", order_id)
    deliver(services)

    assert status(services)["server_events"] is False
    assert tracked(services) == []
    assert services.pixels.get_purchase(STORE_ID, order_id) is None


def test_server_purchases_are_on_by_default_in_the_us(services: FakeServices, shop: tuple[int, int, int]):
    assert status(services)["server_events"] is True


def test_the_merchants_switch_turns_server_purchases_on_and_off(services: FakeServices):
    shop = open_shop(services, country="DE", currency="EUR")

    answer = set_server_events(services, STORE_ID, True, BASE_URL)

    assert answer["server_events"] is True
    order_id = place(services, shop)
    order_event(services, "order.created", order_id)
    deliver(services)
    assert [(e["event_id"], e["properties"]["currency"]) for e in tracked(services)] == [
        (f"ecwid-{STORE_ID}-{order_id}", "EUR")
    ]

    assert set_server_events(services, STORE_ID, False, BASE_URL)["server_events"] is False
    order_event(services, "order.created", place(services, shop))
    deliver(services)
    assert len(tracked(services)) == 1


def test_a_store_installed_before_orders_could_be_read_sends_nothing_and_is_asked_to_grant_access(
    services: FakeServices,
):
    shop = open_shop(services, scope=LEGACY_SCOPES)
    order_id = place(services, shop)
    services.ecwid().calls.clear()

    order_event(services, "order.created", order_id)
    deliver(services)

    assert tracked(services) == []
    assert "get_order" not in services.ecwid().calls
    answer = status(services)
    assert answer["last_error"]["code"] == "orders_scope_missing"
    assert "Grant access" in answer["last_error"]["message"]
    assert answer["missing_scopes"] == ["read_orders", "update_store_profile", "customize_storefront"]
    assert answer["grant_access_url"].startswith("https://")
    assert "read_orders" in answer["grant_access_url"]


def test_a_store_whose_own_ecwid_pixel_fires_this_pixel_gets_no_server_purchase(
    services: FakeServices, shop: tuple[int, int, int]
):
    profile = services.ecwid().stores[STORE_ID].profile
    profile["settings"]["tikTokPixel"] = {"code": pixel_code(services)}
    body = webhook("profile.updated", STORE_ID)
    body["eventCreated"] = int(services.now)
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)

    answer = status(services)
    assert answer["storefront_script"] == "store_pixel_active"
    assert answer["store_pixel_code"] == pixel_code(services)
    assert "public" not in services.ecwid().stores[STORE_ID].storage  # one pixel on the storefront, not two

    order_id = place(services, shop)
    order_event(services, "order.created", order_id)
    deliver(services)
    assert tracked(services) == []


def test_purchases_sent_in_the_last_24_hours_are_counted(services: FakeServices, shop: tuple[int, int, int]):
    for _ in range(2):
        order_event(services, "order.created", place(services, shop, placed_at=services.now))
    deliver(services)
    assert status(services)["purchases_sent_24h"] == 2

    services.advance(12 * 3600)
    order_event(services, "order.created", place(services, shop, placed_at=services.now))
    deliver(services)
    assert status(services)["purchases_sent_24h"] == 3

    services.advance(13 * 3600)  # the first two were sent 25 hours ago
    assert status(services)["purchases_sent_24h"] == 1
    services.advance(12 * 3600)
    assert status(services)["purchases_sent_24h"] == 0


# -- any order of Ecwid's webhooks ----------------------------------------------------------------------------------
order_plans = st.lists(st.booleans(), min_size=1, max_size=4)  # per order: paid at some point, or never


@settings(max_examples=40, deadline=None)
@given(
    pays=order_plans,
    events=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["order.created", "order.updated"])), max_size=12),
    paid_after=st.lists(st.integers(0, 12), min_size=4, max_size=4),
    delivered_every=st.integers(1, 4),
)
def test_any_sequence_of_order_webhooks_sends_one_purchase_per_paid_order(
    pays: list[bool], events: list[tuple[int, str]], paid_after: list[int], delivered_every: int
):
    services = fresh_services()
    shop = open_shop(services)
    orders = [place(services, shop, paid=False, placed_at=services.now) for _ in pays]
    ecwid = services.ecwid()

    for step, (index, event_type) in enumerate([*events, (-1, "")]):
        for paying, (order_id, will_pay) in enumerate(zip(orders, pays, strict=True)):
            if will_pay and paid_after[paying] == step:
                ecwid.set_payment_status(STORE_ID, order_id, "PAID")
                order_event(services, "order.updated", order_id)  # Ecwid tells of the payment
        if event_type and index < len(orders):
            order_event(services, event_type, orders[index])
        if step % delivered_every == 0:
            deliver(services)
        services.advance(30)
    for order_id, will_pay in zip(orders, pays, strict=True):
        if will_pay and ecwid.stores[STORE_ID].orders[order_id]["paymentStatus"] != "PAID":
            ecwid.set_payment_status(STORE_ID, order_id, "PAID")  # paid after the last drawn event
            order_event(services, "order.updated", order_id)
    deliver(services)

    sent = sorted(e["event_id"] for e in tracked(services))
    assert sent == sorted(f"ecwid-{STORE_ID}-{o}" for o, will_pay in zip(orders, pays, strict=True) if will_pay)
