"""The sandbox Ecwid's orders: placement, the REST reads and the order webhooks as ecwid-api.md "Orders (for
purchase events)" and "Webhooks" describe, over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandboxes.ecwid import LEGACY_SCOPES, EcwidSandbox, EcwidStore


@pytest.fixture
def demo(ecwid: EcwidSandbox) -> EcwidStore:
    store = ecwid.add_demo_store()
    ecwid.token_for(store.store_id)
    ecwid.take_webhooks()
    return store


def _product(store: EcwidStore, sku: str) -> int:
    return next(p.id for p in store.products.values() if p.sku == sku)


def _combination(store: EcwidStore, sku: str) -> tuple[int, int]:
    for product in store.products.values():
        for combination in product.combinations:
            if combination.sku == sku:
                return product.id, combination.id
    raise KeyError(sku)


def _get(http: httpx.Client, ecwid: EcwidSandbox, path: str, store_id: int = 1003, **params: Any) -> httpx.Response:
    token = ecwid.token_for(store_id)
    return http.get(f"/api/v3/{store_id}{path}", params=params, headers={"Authorization": f"Bearer {token}"})


def _events(ecwid: EcwidSandbox) -> list[dict[str, Any]]:
    return [w.json() for w in ecwid.take_webhooks()]


def test_a_placed_order_reads_back_with_the_documented_fields(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    shirt, large = _combination(demo, "TS-LOGO-L")
    mug = _product(demo, "MUG-CER")
    placed = ecwid.place_order(
        1003,
        [(shirt, large, 1), (mug, None, 2)],
        email="shopper@example.com",
        phone="+15550100",
        name="Jane Roe",
        ip_address="203.0.113.9",
        user_agent="Mozilla/5.0 test",
        referer_url="https://example.com/shop",
    )
    assert re.fullmatch(r"[A-Z0-9]{5}", placed["id"])
    order = _get(http, ecwid, f"/orders/{placed['id']}").json()
    assert order == placed
    assert isinstance(order["internalId"], int)
    assert order["paymentStatus"] == "PAID"
    assert order["fulfillmentStatus"] == "AWAITING_PROCESSING"
    assert order["email"] == "shopper@example.com"
    assert order["ipAddress"] == "203.0.113.9"
    assert order["customerUserAgent"] == "Mozilla/5.0 test"
    assert order["refererUrl"] == "https://example.com/shop"
    assert order["billingPerson"]["firstName"] == "Jane"
    assert order["billingPerson"]["lastName"] == "Roe"
    assert order["billingPerson"]["phone"] == "+15550100"
    assert order["billingPerson"]["countryCode"] == "US"
    assert order["shippingPerson"]["name"] == "Jane Roe"
    assert "currency" not in order
    assert order["createTimestamp"] == order["updateTimestamp"] == ecwid.timestamp()
    assert (order["subtotal"], order["tax"], order["total"], order["discount"]) == (56, 0, 56, 0)
    assert order["pricesIncludeTax"] is False

    shirt_item, mug_item = order["items"]
    assert shirt_item["productId"] == shirt
    assert shirt_item["combinationId"] == large
    assert shirt_item["sku"] == "TS-LOGO-L"
    assert shirt_item["price"] == 27  # the variation's own price, as its page shows it
    assert shirt_item["productPrice"] == 25
    assert shirt_item["selectedOptions"][0]["name"] == "Size"
    assert shirt_item["selectedOptions"][0]["value"] == "L"
    assert shirt_item["categoryId"] == demo.products[shirt].default_category_id
    assert shirt_item["imageUrl"].startswith(ecwid.base_url + "/images/1003/")
    assert "combinationId" not in mug_item
    assert (mug_item["sku"], mug_item["quantity"], mug_item["price"]) == ("MUG-CER", 2, 14.5)
    # What the storefront shows is what the order charges (no tax shown inside prices in the demo store).
    assert ecwid.page_prices(f"{shirt}-{large}") == (27.0, None)


def test_prices_in_a_store_with_tax_inside_prices(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    demo.set_profile(tax_in_prices=20, prices_include_tax=True)  # gross prices: typed with the tax inside
    hoodie = _product(demo, "HD-ORG")
    order = ecwid.place_order(1003, [(hoodie, None, 1)], email="a@example.com")
    item = order["items"][0]
    assert (item["price"], item["priceWithoutTax"], item["tax"]) == (49, 40.83, 8.17)
    assert (order["subtotal"], order["subtotalWithoutTax"], order["tax"], order["total"]) == (49, 40.83, 8.17, 49)
    assert order["pricesIncludeTax"] is True

    demo.set_profile(prices_include_tax=False)  # net prices: the tax comes on top at checkout
    order = ecwid.place_order(1003, [(hoodie, None, 1)], email="a@example.com")
    item = order["items"][0]
    assert (item["price"], item["priceWithoutTax"], item["tax"]) == (49, 49, 9.8)
    assert (order["subtotal"], order["tax"], order["total"]) == (49, 9.8, 58.8)


def test_search_filters_paging_and_response_fields(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    mug = _product(demo, "MUG-CER")
    first = ecwid.place_order(1003, [(mug, None, 1)], email="one@example.com")
    ecwid.clock.advance(100)
    second = ecwid.place_order(1003, [(mug, None, 1)], email="two@example.com", paid=False)
    ecwid.clock.advance(100)
    third = ecwid.place_order(1003, [(mug, None, 1)], email="three@example.com")

    everything = _get(http, ecwid, "/orders").json()
    assert (everything["total"], everything["count"], everything["offset"], everything["limit"]) == (3, 3, 0, 100)
    assert [o["id"] for o in everything["items"]] == [third["id"], second["id"], first["id"]]  # newest first

    by_ids = _get(http, ecwid, "/orders", ids=f"{first['id']},{third['internalId']}").json()
    assert {o["id"] for o in by_ids["items"]} == {first["id"], third["id"]}
    awaiting = _get(http, ecwid, "/orders", paymentStatus="AWAITING_PAYMENT").json()
    assert [o["id"] for o in awaiting["items"]] == [second["id"]]
    created = _get(http, ecwid, "/orders", createdFrom=second["createTimestamp"]).json()
    assert {o["id"] for o in created["items"]} == {second["id"], third["id"]}

    ecwid.clock.advance(100)
    ecwid.set_payment_status(1003, first["id"], "CANCELLED")
    updated = _get(http, ecwid, "/orders", updatedFrom=ecwid.timestamp()).json()
    assert [o["id"] for o in updated["items"]] == [first["id"]]

    paged = _get(http, ecwid, "/orders", offset=1, limit=1).json()
    assert (paged["total"], paged["count"], paged["items"][0]["id"]) == (3, 1, second["id"])
    too_many = _get(http, ecwid, "/orders", limit=101)
    assert too_many.status_code == 400
    assert "limit" in too_many.json()["errorMessage"]

    trimmed = _get(http, ecwid, "/orders", responseFields="total,items(id,total,items(sku,price))").json()
    assert trimmed == {
        "total": 3,
        "items": [
            {"id": o["id"], "total": 14.5, "items": [{"sku": "MUG-CER", "price": 14.5}]} for o in (third, second, first)
        ],
    }
    one = _get(http, ecwid, f"/orders/{first['id']}", responseFields="id,paymentStatus").json()
    assert one == {"id": first["id"], "paymentStatus": "CANCELLED"}


def test_one_order_by_id_or_internal_id_and_only_in_its_store(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    order = ecwid.place_order(1003, [(_product(demo, "MUG-CER"), None, 1)], email="a@example.com")
    by_internal = _get(http, ecwid, f"/orders/{order['internalId']}")
    assert by_internal.json()["id"] == order["id"]

    missing = _get(http, ecwid, "/orders/NOPE1")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "ORDER_NOT_FOUND"
    assert "NOPE1" in missing.json()["errorMessage"]

    ecwid.add_store(2002)
    elsewhere = _get(http, ecwid, f"/orders/{order['id']}", store_id=2002)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["errorCode"] == "ORDER_NOT_FOUND"
    assert _get(http, ecwid, "/orders", store_id=2002).json()["total"] == 0


def test_reading_orders_needs_read_orders(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    order = ecwid.place_order(1003, [(_product(demo, "MUG-CER"), None, 1)], email="a@example.com")
    legacy = ecwid.issue_token(1003, LEGACY_SCOPES).token
    for path in (f"/orders/{order['id']}", "/orders"):
        refused = http.get(f"/api/v3/1003{path}", headers={"Authorization": f"Bearer {legacy}"})
        assert refused.status_code == 403
        assert refused.json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"


def test_order_webhooks_through_payment_and_refund(ecwid: EcwidSandbox, demo: EcwidStore) -> None:
    mug = _product(demo, "MUG-CER")
    order = ecwid.place_order(1003, [(mug, None, 1)], email="a@example.com", paid=False)
    created = [e for e in _events(ecwid) if e["eventType"].startswith("order.")]
    assert len(created) == 1
    assert created[0]["entityId"] == order["internalId"]
    assert created[0]["storeId"] == 1003
    assert created[0]["data"] == {
        "orderId": order["id"],
        "newPaymentStatus": "AWAITING_PAYMENT",
        "newFulfillmentStatus": "AWAITING_PROCESSING",
    }

    paid = ecwid.set_payment_status(1003, order["id"], "PAID")
    assert paid["paymentStatus"] == "PAID"
    (event,) = _events(ecwid)
    assert event["eventType"] == "order.updated"
    assert event["entityId"] == order["internalId"]
    assert event["data"] == {
        "orderId": order["id"],
        "oldPaymentStatus": "AWAITING_PAYMENT",
        "newPaymentStatus": "PAID",
        "oldFulfillmentStatus": "AWAITING_PROCESSING",
        "newFulfillmentStatus": "AWAITING_PROCESSING",
    }

    partly = ecwid.set_payment_status(1003, order["id"], "PARTIALLY_REFUNDED", refunded_amount=4.5)
    assert partly["refundedAmount"] == 4.5
    refunded = ecwid.set_payment_status(1003, order["id"], "REFUNDED")
    assert refunded["refundedAmount"] == refunded["total"] == 14.5
    events = _events(ecwid)
    assert [(e["data"]["oldPaymentStatus"], e["data"]["newPaymentStatus"]) for e in events] == [
        ("PAID", "PARTIALLY_REFUNDED"),
        ("PARTIALLY_REFUNDED", "REFUNDED"),
    ]

    ecwid.delete_order(1003, order["id"])
    (deleted,) = _events(ecwid)
    assert deleted["eventType"] == "order.deleted"
    assert deleted["entityId"] == order["internalId"]
    assert "data" not in deleted


def test_a_checkout_takes_stock_and_fires_product_updated(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    shirt, small = _combination(demo, "TS-LOGO-S")
    mug = _product(demo, "MUG-CER")
    sticker = _product(demo, "STK-PACK")  # unlimited
    ecwid.place_order(1003, [(shirt, small, 2), (mug, None, 3), (sticker, None, 1)], email="a@example.com")
    events = _events(ecwid)
    assert [e["eventType"] for e in events] == ["order.created", "product.updated", "product.updated"]
    assert {e["entityId"] for e in events[1:]} == {shirt, mug}
    product = _get(http, ecwid, f"/products/{shirt}").json()
    assert next(c for c in product["combinations"] if c["id"] == small)["quantity"] == 10
    assert _get(http, ecwid, f"/products/{mug}").json()["quantity"] == 22

    # More than the stock holds, or a sold-out variation: refused, nothing recorded.
    with pytest.raises(ValueError, match="stock"):
        ecwid.place_order(1003, [(mug, None, 23)], email="a@example.com")
    _, medium = _combination(demo, "TS-LOGO-M")
    with pytest.raises(ValueError, match="stock"):
        ecwid.place_order(1003, [(shirt, medium, 1)], email="a@example.com")
    assert _events(ecwid) == []
    assert _get(http, ecwid, "/orders").json()["total"] == 1


def test_a_store_installed_with_the_old_scopes_gets_no_order_webhooks(ecwid: EcwidSandbox, demo: EcwidStore) -> None:
    ecwid.revoke_tokens(1003)
    ecwid.issue_token(1003, LEGACY_SCOPES)
    mug = _product(demo, "MUG-CER")
    order = ecwid.place_order(1003, [(mug, None, 1)], email="a@example.com")
    ecwid.set_payment_status(1003, order["id"], "REFUNDED")
    assert [e["eventType"] for e in _events(ecwid)] == ["product.updated"]


def test_control_routes_place_and_update_orders(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    shirt, small = _combination(demo, "TS-LOGO-S")
    placed = http.post(
        "/_sandbox/stores/1003/orders",
        json={"items": [[shirt, small, 1]], "email": "c@example.com", "paid": False, "phone": "+15550101"},
    )
    assert placed.status_code == 200
    order = placed.json()
    assert order["paymentStatus"] == "AWAITING_PAYMENT"
    assert order["items"][0]["combinationId"] == small

    moved = http.patch(f"/_sandbox/stores/1003/orders/{order['id']}", json={"paymentStatus": "PAID"})
    assert moved.json()["paymentStatus"] == "PAID"
    assert _get(http, ecwid, f"/orders/{order['id']}").json()["paymentStatus"] == "PAID"
    assert http.patch(f"/_sandbox/stores/1003/orders/{order['id']}", json={"paymentStatus": "NOPE"}).status_code == 400
    assert http.patch("/_sandbox/stores/1003/orders/ZZZZZ", json={"paymentStatus": "PAID"}).status_code == 404
    refused = http.post("/_sandbox/stores/1003/orders", json={"items": [[shirt, small, 1]], "email": "not-an-email"})
    assert refused.status_code == 400
    listed = http.get("/_sandbox/stores/1003/orders").json()
    assert [o["id"] for o in listed] == [order["id"]]
    assert http.delete(f"/_sandbox/stores/1003/orders/{order['id']}").json() == {"ok": True}
    assert _get(http, ecwid, f"/orders/{order['id']}").status_code == 404


def test_order_ids_carry_the_store_prefix(ecwid: EcwidSandbox, demo: EcwidStore) -> None:
    demo.order_id_prefix = "SALE-"
    order = ecwid.place_order(1003, [(_product(demo, "MUG-CER"), None, 1)], email="a@example.com")
    assert re.fullmatch(r"SALE-[A-Z0-9]{5}", order["id"])
