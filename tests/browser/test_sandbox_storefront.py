"""The sandbox Ecwid's storefront in Chromium: an app script (served through Playwright, no network) sees the
storefront JS API of ecwid-api.md "Storefront JavaScript" while a shopper answers the cookie banner, picks a
variation, checks out paying later and lands on the order confirmation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from sandboxes.ecwid import EcwidSandbox

CLIENT_ID = "tiktok-channel-local"
APP_JS_URL = "http://127.0.0.1:9/tiktok-channel/storefront.js"
APP_JS = """
window.__events = [];
Ecwid.OnAPILoaded.add(function () {
  window.__events.push({ kind: "api", owner: Ecwid.getOwnerId(), widgets: Ecwid.getInitializedWidgets(),
    config: Ecwid.getAppPublicConfig("tiktok-channel-local"), other: Ecwid.getAppPublicConfig("someone-else"),
    consent: Ecwid.getTrackingConsent(), lang: Ecwid.getStorefrontLang(), money: Ecwid.formatCurrency(1234.5) });
  Ecwid.OnPageLoaded.add(function (page) { window.__events.push({ kind: "page", page: page }); });
  Ecwid.OnCartChanged.add(function (cart) { window.__events.push({ kind: "cart", cart: cart }); });
  Ecwid.OnOrderPlaced.add(function (order) { window.__events.push({ kind: "order", order: order }); });
  Ecwid.OnConsentChanged.add(function (c) { window.__events.push({ kind: "consent", consent: c }); });
});
"""


@pytest.fixture
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox(client_id=CLIENT_ID, custom_js_url=APP_JS_URL)
    sandbox.start()
    yield sandbox
    sandbox.stop()


def _events(page: Page, kind: str) -> list[Any]:
    return [e for e in page.evaluate("window.__events") if e["kind"] == kind]


def test_a_shopper_buys_a_variation_and_the_app_script_sees_each_step(ecwid: EcwidSandbox, page: Page) -> None:
    store = ecwid.add_demo_store()
    ecwid.token_for(store.store_id)
    store.app_storage["public"] = json.dumps({"pixelCode": "CPIXEL1"})
    store.set_profile(ask_consent=True)
    shirt = next(p for p in store.products.values() if p.sku == "TS-LOGO")
    small, _, large = shirt.combinations

    def serve_app_js(route: Route) -> None:
        route.fulfill(status=200, content_type="application/javascript", body=APP_JS)

    page.route(APP_JS_URL, serve_app_js)
    page.goto(f"{ecwid.base_url}/_sandbox/storefront/1003#!/p/{shirt.id}?variation={large.id}")
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "PRODUCT")
    expect(page.get_by_test_id("ec-product-price")).to_have_text("$27.00")
    page.wait_for_function("window.__events.some(e => e.kind === 'page')")

    (api,) = _events(page, "api")
    assert api["owner"] == 1003
    assert api["widgets"] == ["ProductBrowser"]
    assert api["config"] == store.app_storage["public"]
    assert api["other"] is None
    assert api["consent"] == {"userResponse": "UNDEFINED", "askConsent": True}
    assert (api["lang"], api["money"]) == ("en", "$1,234.50")
    (landing,) = _events(page, "page")
    assert landing["page"]["type"] == "PRODUCT"
    assert landing["page"]["productId"] == shirt.id
    assert landing["page"]["variationId"] == large.id
    assert landing["page"]["hasPrevious"] is False
    assert _events(page, "cart")[0]["cart"]["items"] == []  # the cart's init

    page.get_by_test_id("ec-consent-accept").click()
    expect(page.get_by_test_id("ec-consent-banner")).to_have_count(0)
    assert _events(page, "consent")[-1]["consent"] == {"userResponse": "ACCEPTED", "askConsent": True}

    page.get_by_test_id("ec-option-0").select_option("S")
    expect(page.get_by_test_id("ec-product-price")).to_have_text("$25.00")
    page.get_by_test_id("ec-quantity").fill("2")
    page.get_by_test_id("ec-add-to-bag").click()
    expect(page.get_by_test_id("ec-bag-count")).to_have_text("2")
    cart = _events(page, "cart")[-1]["cart"]
    assert cart["productsQuantity"] == 2
    (item,) = cart["items"]
    assert item["options"] == {"Size": "S"}
    assert item["product"]["variation"] == small.id
    assert (item["product"]["id"], item["product"]["sku"], item["product"]["price"]) == (shirt.id, "TS-LOGO-S", 25)
    totals = page.evaluate("new Promise(resolve => Ecwid.Cart.calculateTotal(resolve))")
    assert (totals["subtotal"], totals["total"], totals["tax"]) == (50, 50, 0)

    page.get_by_test_id("ec-bag-link").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CART")
    page.get_by_test_id("ec-email").fill("shopper@example.com")
    page.get_by_test_id("ec-checkout").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CHECKOUT_PAYMENT_DETAILS")
    page.get_by_test_id("ec-pay-later").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "ORDER_CONFIRMATION")
    order_id = page.get_by_test_id("ec-order-id").inner_text()

    token = ecwid.token_for(1003)
    rest = httpx.get(
        f"{ecwid.base_url}/api/v3/1003/orders/{order_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert rest["paymentStatus"] == "AWAITING_PAYMENT"
    assert rest["items"][0]["combinationId"] == small.id
    assert rest["id"] == cart["id"]  # the order kept the cart's id
    (placed,) = _events(page, "order")
    assert placed["order"]["vendorNumber"] == order_id
    assert placed["order"]["paymentStatus"] == "AWAITING_PAYMENT"
    assert placed["order"]["customer"]["email"] == "shopper@example.com"
    page.wait_for_function("window.__events.some(e => e.kind === 'page' && e.page.type === 'ORDER_CONFIRMATION')")
    confirmation = _events(page, "page")[-1]["page"]
    assert confirmation == {"type": "ORDER_CONFIRMATION", "orderId": order_id, "hasPrevious": True}
    assert _events(page, "cart")[-1]["cart"]["items"] == []  # emptied after the order

    page.reload()  # the consent answer lasts the browser session: no banner again
    page.wait_for_function("window.__events && window.__events.some(e => e.kind === 'api')")
    assert _events(page, "api")[0]["consent"]["userResponse"] == "ACCEPTED"
    expect(page.get_by_test_id("ec-consent-banner")).to_have_count(0)
