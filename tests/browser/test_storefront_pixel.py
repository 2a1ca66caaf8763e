"""The storefront pixel end to end, in Chromium, against `make run`: Ecwid's storefront (the sandbox's) loads the
app's GET /storefront.js, which loads TikTok's pixel (the sandbox's events.js) only with the shopper's consent and
sends ViewContent, AddToCart, InitiateCheckout and the purchase with catalog sku ids; the catalog worker sends the
same purchase from the order webhook to TikTok's Events API, and the sandbox TikTok counts it once.

The tests share one connected, synced store (demo store 1003) and run in file order: the last one disconnects it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from localrun.stack import ECWID_CLIENT_ID
from tests.app_stack import read_form
from tests.browser.conftest import ARTIFACTS
from tests.local_run import LocalRun

STORE = 1003
SHIRT = "Classic Logo T-Shirt"  # the demo store's product with variations (Size S, M sold out, L)
EMAIL = "Shopper@Example.com "  # typed as a shopper might: the hash is of the trimmed, lower-cased address
EMAIL_HASH = hashlib.sha256(b"shopper@example.com").hexdigest()
ON_TIKTOK = ("listed", "pending", "rejected")  # the app's statuses of SKUs uploaded to the TikTok catalog
T = TypeVar("T")


@dataclass
class Shop:
    """The connected store as the tests see it from outside."""

    headers: dict[str, str]  # the merchant's session on the app's API
    pixel_code: str
    catalog_id: str
    catalog_skus: set[str]
    shirt_id: int
    pixel_script_url: str
    purchase_event: str


def _poll(page: Page | None, check: Callable[[], T | None], timeout: float, what: str) -> T:
    """`check()`'s first truthy answer within `timeout` seconds. With a page, waits through Playwright: the
    context's loopback-only route answers the browser's requests only while Playwright's sync API has control."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


def _catalog_skus(http: httpx.Client, running: LocalRun, catalog_id: str) -> set[str]:
    """The sku ids the store's TikTok catalog holds, as the sandbox TikTok has them."""
    state = http.get(f"{running.tiktok}/_sandbox/tiktok/state").json()
    return set(state["catalogs"][catalog_id]["sku_ids"])


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def shop(running: LocalRun, http: httpx.Client) -> Shop:
    """Demo store 1003 (installed by `make run`) connected to TikTok, its first full sync done (which puts the pixel
    in Ecwid's public app storage), and its storefront asking for tracking consent."""
    opened = http.get(running.open_url)
    assert opened.status_code == 302, opened.text
    payload = parse_qs(urlsplit(opened.headers["location"]).query)["payload"][0]
    session = http.post(f"{running.gateway}/api/session", json={"payload": payload}).json()["session"]
    headers = {"Authorization": f"Bearer {session}"}
    started = http.post(
        f"{running.gateway}/api/stores/{STORE}/connect", json={"phone": "+14155550123"}, headers=headers
    )
    assert started.status_code == 200, started.text
    form = read_form(http.get(started.json()["authorize_url"]).text)
    authorized = http.post(running.tiktok + str(form.action), data={**form.fields, "decision": "connect"})
    assert authorized.status_code == 302, authorized.text
    assert http.get(authorized.headers["location"]).status_code == 302

    def synced() -> dict[str, Any] | None:
        status = http.get(f"{running.gateway}/api/stores/{STORE}", headers=headers).json()
        return status if status["sync"]["last_finished_at"] and status["sync"]["state"] == "idle" else None

    status = _poll(None, synced, 60, "the first full sync")
    assert status["status"] == "connected"
    pixel = http.get(f"{running.gateway}/api/stores/{STORE}/pixel", headers=headers).json()
    assert pixel["storefront_script"] == "installed", pixel
    assert pixel["server_events"] is True  # a US store: on by default
    assert pixel["pixel_code"] == status["tiktok"]["pixel_code"]
    catalog_id = status["tiktok"]["catalog_id"]
    state = http.get(f"{running.tiktok}/_sandbox/tiktok/state").json()
    assert pixel["pixel_code"] in state["catalogs"][catalog_id]["event_sources"]  # the catalog is bound to the pixel

    profile = http.patch(f"{running.ecwid}/_sandbox/stores/{STORE}/profile", json={"ask_consent": True})
    assert profile.status_code == 200, profile.text

    script = http.get(f"{running.gateway}/storefront.js")
    assert script.status_code == 200
    script_url = re.search(r'var PIXEL_SCRIPT_URL = "([^"]+)"', script.text)
    purchase_event = re.search(r'var PURCHASE_EVENT = "([^"]+)"', script.text)
    assert script_url is not None, script.text[:600]
    assert purchase_event is not None, script.text[:600]
    assert script_url.group(1).startswith(running.tiktok + "/")

    skus = _catalog_skus(http, running, catalog_id)
    shirt_ids = {
        item["product_id"]
        for status_name in ON_TIKTOK
        for item in http.get(
            f"{running.gateway}/api/stores/{STORE}/products", params={"status": status_name}, headers=headers
        ).json()["items"]
        if item["title"].startswith(SHIRT)
    }
    assert len(shirt_ids) == 1, shirt_ids
    shirt_id = int(shirt_ids.pop())
    assert {s for s in skus if s.startswith(f"{shirt_id}-")}, "the shirt's variations are in the catalog"
    return Shop(
        headers=headers,
        pixel_code=str(pixel["pixel_code"]),
        catalog_id=str(catalog_id),
        catalog_skus=skus,
        shirt_id=shirt_id,
        pixel_script_url=script_url.group(1),
        purchase_event=purchase_event.group(1),
    )


def _events(http: httpx.Client, running: LocalRun, shop: Shop, source: str) -> list[dict[str, Any]]:
    answer = http.get(f"{running.tiktok}/_sandbox/events", params={"pixel_code": shop.pixel_code, "source": source})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["events"])


def _conversions(http: httpx.Client, running: LocalRun, shop: Shop) -> list[dict[str, Any]]:
    answer = http.get(f"{running.tiktok}/_sandbox/conversions", params={"pixel_code": shop.pixel_code})
    return list(answer.json()["conversions"])


def _content_ids(event: dict[str, Any]) -> list[str]:
    properties = event["payload"].get("properties") or {}
    return [str(c["content_id"]) for c in properties.get("contents") or []] + list(properties.get("content_ids") or [])


def _has_ttp(context: BrowserContext) -> bool:
    return any(c["name"] == "_ttp" for c in context.cookies())


def _storefront(running: LocalRun, product_id: int) -> str:
    return f"{running.ecwid}/_sandbox/storefront/{STORE}#!/p/{product_id}"


def _buy(page: Page, size: str, pay: str) -> str:
    """From the product page: choose the size, add to the bag, check out, pay; the order id confirmed."""
    page.get_by_test_id("ec-option-0").select_option(size)
    page.get_by_test_id("ec-add-to-bag").click()
    expect(page.get_by_test_id("ec-bag-count")).to_have_text("1")
    page.get_by_test_id("ec-bag-link").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CART")
    page.get_by_test_id("ec-email").fill(EMAIL)
    page.get_by_test_id("ec-checkout").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CHECKOUT_PAYMENT_DETAILS")
    page.get_by_test_id(pay).click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "ORDER_CONFIRMATION")
    order_id = page.get_by_test_id("ec-order-id").inner_text().strip()
    assert order_id
    return order_id


def _order(http: httpx.Client, running: LocalRun, order_id: str) -> dict[str, Any]:
    orders = http.get(f"{running.ecwid}/_sandbox/stores/{STORE}/orders").json()
    items = orders["items"] if isinstance(orders, dict) else orders
    (found,) = [o for o in items if o["id"] == order_id]
    return dict(found)


def _settled(page: Page, http: httpx.Client, running: LocalRun) -> None:
    """Wait until the sandbox Ecwid has delivered every webhook and the catalog worker has taken every message
    off its queue (the local run console's queue depths), twice in a row."""
    quiet = "CatalogQueue: 0 waiting, 0 in flight"

    def idle() -> bool:
        return (
            not http.get(f"{running.ecwid}/_sandbox/webhooks").json()["pending"]
            and quiet in http.get(f"{running.gateway}/_local/").text
        )

    _poll(page, lambda: idle() and idle(), 30, "the webhooks delivered and the catalog queue empty")


def _pixel_requests(page: Page, shop: Shop) -> list[str]:
    seen: list[str] = []

    def on_request(request: Request) -> None:
        if request.url.startswith(shop.pixel_script_url):
            seen.append(request.url)

    page.on("request", on_request)
    return seen


@pytest.mark.timeout(120)
def test_with_consent_the_pixel_sends_each_step_and_the_purchase_merges_with_the_server_one(
    running: LocalRun, shop: Shop, http: httpx.Client, context: BrowserContext, page: Page
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_before = len(_events(http, running, shop, "browser"))
    requested = _pixel_requests(page, shop)
    page.goto(_storefront(running, shop.shirt_id))
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "PRODUCT")
    expect(page.get_by_test_id("ec-consent-banner")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "storefront-product-with-banner.png"), full_page=True)
    page.wait_for_timeout(300)
    # Before the answer: no pixel, no cookie, nothing sent.
    assert requested == []
    assert not _has_ttp(context)
    assert len(_events(http, running, shop, "browser")) == browser_before

    page.get_by_test_id("ec-consent-accept").click()
    expect(page.get_by_test_id("ec-consent-banner")).to_have_count(0)

    def sent(name: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: [e for e in _events(http, running, shop, "browser")[browser_before:] if e["event"] == name]

    (view,) = _poll(page, sent("ViewContent"), 15, "ViewContent from the browser")
    assert requested
    assert requested[0].startswith(f"{shop.pixel_script_url}?sdkid={shop.pixel_code}")
    _poll(page, lambda: _has_ttp(context), 10, "the _ttp cookie after consent")

    order_id = _buy(page, "L", "ec-pay-card")
    page.screenshot(path=str(ARTIFACTS / "storefront-confirmation.png"), full_page=True)
    event_id = f"ecwid-{STORE}-{order_id}"
    (add,) = _poll(page, sent("AddToCart"), 15, "AddToCart from the browser")
    (checkout,) = _poll(page, sent("InitiateCheckout"), 15, "InitiateCheckout from the browser")
    (purchase,) = _poll(page, sent(shop.purchase_event), 15, f"{shop.purchase_event} from the browser")

    order = _order(http, running, order_id)
    assert order["paymentStatus"] == "PAID"
    (line,) = order["items"]
    large = f"{shop.shirt_id}-{line['combinationId']}"
    assert _content_ids(add) == [large]
    assert _content_ids(checkout) == [large]
    assert _content_ids(purchase) == [large]
    for event in (view, add, checkout, purchase):
        assert event["status"] in ("counted", "merged"), event
        assert event["pixel_code"] == shop.pixel_code
        ids = _content_ids(event)
        assert ids, event
        assert set(ids) <= shop.catalog_skus, (event["event"], ids, sorted(shop.catalog_skus))
    assert purchase["event_id"] == event_id
    assert purchase["payload"]["context"]["user"].get("email") == EMAIL_HASH

    # The catalog worker sends the same purchase from the order webhook: merged, counted once.
    def server_purchase() -> list[dict[str, Any]]:
        return [e for e in _events(http, running, shop, "server") if e["event_id"] == event_id]

    (server,) = _poll(page, server_purchase, 45, "the server's purchase")
    assert server["event"] == shop.purchase_event
    assert server["status"] in ("counted", "merged"), server
    user = server["payload"]["user"]
    emails = user["email"] if isinstance(user["email"], list) else [user["email"]]
    assert emails == [EMAIL_HASH]
    server_contents = server["payload"]["properties"]["contents"]
    assert [c["content_id"] for c in server_contents] == [large]
    counted = [c for c in _conversions(http, running, shop) if c["event_id"] == event_id]
    assert len(counted) == 1, counted
    assert counted[0]["event"] == shop.purchase_event
    assert counted[0]["sources"] == ["browser", "server"]
    assert _events(http, running, shop, "browser")[browser_before:].count(purchase) == 1


@pytest.mark.timeout(90)
def test_without_consent_nothing_loads_and_nothing_is_sent(
    running: LocalRun, shop: Shop, http: httpx.Client, context: BrowserContext, page: Page
) -> None:
    browser_before = len(_events(http, running, shop, "browser"))
    requested = _pixel_requests(page, shop)
    page.goto(_storefront(running, shop.shirt_id))
    expect(page.get_by_test_id("ec-consent-banner")).to_be_visible()
    page.get_by_test_id("ec-consent-decline").click()
    expect(page.get_by_test_id("ec-consent-banner")).to_have_count(0)
    page.get_by_test_id("ec-option-0").select_option("S")
    page.get_by_test_id("ec-add-to-bag").click()
    expect(page.get_by_test_id("ec-bag-count")).to_have_text("1")
    page.get_by_test_id("ec-bag-link").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CART")
    page.get_by_test_id("ec-email").fill(EMAIL)
    page.get_by_test_id("ec-checkout").click()
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "CHECKOUT_PAYMENT_DETAILS")
    page.wait_for_timeout(1_000)  # what a pixel would have sent by now

    assert page.evaluate("Ecwid.getTrackingConsent().userResponse") == "DECLINED"
    assert page.evaluate("window.__ecwidTikTokChannel === true")  # the app's script ran, and held back
    assert page.evaluate("typeof window.ttq") == "undefined"
    assert requested == []
    assert not _has_ttp(context)
    assert len(_events(http, running, shop, "browser")) == browser_before


@pytest.mark.timeout(120)
def test_an_order_paid_later_is_sent_once_by_the_server_when_paid(
    running: LocalRun, shop: Shop, http: httpx.Client, context: BrowserContext, page: Page
) -> None:
    page.goto(_storefront(running, shop.shirt_id))
    page.get_by_test_id("ec-consent-accept").click()
    browser_before = len(_events(http, running, shop, "browser"))
    order_id = _buy(page, "S", "ec-pay-later")
    event_id = f"ecwid-{STORE}-{order_id}"
    assert _order(http, running, order_id)["paymentStatus"] == "AWAITING_PAYMENT"

    # The browser reached the checkout (its InitiateCheckout arrived) and sends no purchase for an unpaid order.
    _poll(
        page,
        lambda: [
            e for e in _events(http, running, shop, "browser")[browser_before:] if e["event"] == "InitiateCheckout"
        ],
        15,
        "InitiateCheckout from the browser",
    )
    _settled(page, http, running)  # the order.created webhook, handled
    names = [e["event"] for e in _events(http, running, shop, "browser")[browser_before:]]
    assert shop.purchase_event not in names, names
    assert [e for e in _events(http, running, shop, "server") if e["event_id"] == event_id] == []

    paid = http.patch(f"{running.ecwid}/_sandbox/stores/{STORE}/orders/{order_id}", json={"paymentStatus": "PAID"})
    assert paid.status_code == 200, paid.text

    def server_purchase() -> list[dict[str, Any]]:
        return [e for e in _events(http, running, shop, "server") if e["event_id"] == event_id]

    (server,) = _poll(page, server_purchase, 45, "the server's purchase once paid")
    assert server["event"] == shop.purchase_event
    assert server["status"] == "counted"
    assert {c["content_id"] for c in server["payload"]["properties"]["contents"]} <= shop.catalog_skus
    # Once: the payment's order.updated is the only trigger, and a later update sends nothing more.
    http.patch(
        f"{running.ecwid}/_sandbox/stores/{STORE}/orders/{order_id}",
        json={"paymentStatus": "PAID", "fulfillmentStatus": "SHIPPED"},
    )
    _settled(page, http, running)
    assert len(server_purchase()) == 1
    names = [e["event"] for e in _events(http, running, shop, "browser")[browser_before:]]
    assert shop.purchase_event not in names, names
    counted = [c for c in _conversions(http, running, shop) if c["event_id"] == event_id]
    assert [c["sources"] for c in counted] == [["server"]]


@pytest.mark.timeout(120)
def test_after_disconnect_the_storefront_loads_no_pixel_and_no_purchase_is_sent(
    running: LocalRun, shop: Shop, http: httpx.Client, context: BrowserContext, page: Page
) -> None:
    gone = http.post(f"{running.gateway}/api/stores/{STORE}/disconnect", headers=shop.headers)
    assert gone.status_code == 200, gone.text
    pixel = http.get(f"{running.gateway}/api/stores/{STORE}/pixel", headers=shop.headers).json()
    assert pixel["storefront_script"] == "not_installed", pixel
    browser_before = len(_events(http, running, shop, "browser"))
    server_before = len(_events(http, running, shop, "server"))

    requested = _pixel_requests(page, shop)
    page.goto(_storefront(running, shop.shirt_id))
    expect(page.locator("#ec-page")).to_have_attribute("data-page-type", "PRODUCT")
    assert page.evaluate("id => Ecwid.getAppPublicConfig(id)", ECWID_CLIENT_ID) is None  # taken off the storefront
    page.get_by_test_id("ec-consent-accept").click()
    order_id = _buy(page, "S", "ec-pay-card")
    assert _order(http, running, order_id)["paymentStatus"] == "PAID"
    _settled(page, http, running)  # the order.created webhook, handled

    assert requested == []
    assert page.evaluate("typeof window.ttq") == "undefined"
    assert not _has_ttp(context)
    assert len(_events(http, running, shop, "browser")) == browser_before
    assert len(_events(http, running, shop, "server")) == server_before
    assert [e for e in _events(http, running, shop, "server") if e["event_id"] == f"ecwid-{STORE}-{order_id}"] == []
