"""The sandbox Ecwid's storefront page and checkout route (ecwid-api.md "Storefront JavaScript"), over HTTP.
The page's JavaScript itself runs in Chromium in tests/browser/test_sandbox_storefront.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.ecwid import LEGACY_SCOPES, EcwidSandbox, EcwidStore
from tests.sandboxes.ecwid_app import CLIENT_ID, SECRET

APP_JS = "https://cdn.tiktok-channel.example/storefront.js?v=1"


@pytest.fixture
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox(client_id=CLIENT_ID, client_secret=SECRET, custom_js_url=APP_JS)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def http(ecwid: EcwidSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ecwid.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture
def demo(ecwid: EcwidSandbox) -> EcwidStore:
    return ecwid.add_demo_store()


def _embedded(page: str) -> dict[str, Any]:
    match = re.search(r"window\.__ECWID_SANDBOX__ = (.*?);</script>", page)
    assert match is not None, "the storefront embeds its configuration"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _app_scripts(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"></script>', page)


def test_an_installed_store_loads_the_app_script_with_its_public_config_embedded(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    ecwid.token_for(1003)
    demo.app_storage["public"] = json.dumps({"pixelCode": "CPIXEL1", "note": "</script><b>"})
    response = http.get("/_sandbox/storefront/1003")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert _app_scripts(page) == [APP_JS.replace("&", "&amp;")]
    assert page.index("window.Ecwid = {") < page.index(f'<script src="{APP_JS}"')  # after the API script
    config = _embedded(page)
    assert config["storeId"] == 1003
    assert config["clientId"] == CLIENT_ID
    assert config["publicConfig"] == demo.app_storage["public"]  # embedded: no network call needed
    assert config["publicConfigForm"] == "string"
    assert "</script><b>" not in page  # the value cannot close the script element
    names = {p["name"] for p in config["products"]}
    assert "Classic Logo T-Shirt" in names
    assert "Wool Beanie" not in names  # disabled
    shirt = next(p for p in config["products"] if p["name"] == "Classic Logo T-Shirt")
    assert [c["sku"] for c in shirt["combinations"]] == ["TS-LOGO-S", "TS-LOGO-M", "TS-LOGO-L"]
    assert [c["inStock"] for c in shirt["combinations"]] == [True, False, True]
    assert shirt["combinations"][2]["shownPriceFormatted"] == "$27.00"
    for test_id in ("ec-page", "ec-bag-count"):
        assert f'data-testid="{test_id}"' in page


def test_no_app_script_or_public_config_where_the_app_is_not_installed_or_lacks_the_scope(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    demo.app_storage["public"] = "config"
    page = http.get("/_sandbox/storefront/1003").text
    assert _app_scripts(page) == []
    assert _embedded(page)["publicConfig"] is None

    ecwid.issue_token(1003, LEGACY_SCOPES)  # installed before the app asked for customize_storefront
    page = http.get("/_sandbox/storefront/1003").text
    assert _app_scripts(page) == []
    assert _embedded(page)["publicConfig"] == "config"

    ecwid.issue_token(1003)
    assert _app_scripts(http.get("/_sandbox/storefront/1003").text) == [APP_JS.replace("&", "&amp;")]
    ecwid.uninstall(1003)
    assert _app_scripts(http.get("/_sandbox/storefront/1003").text) == []

    ecwid.issue_token(1003)
    ecwid.custom_js_url = None
    assert _app_scripts(http.get("/_sandbox/storefront/1003").text) == []
    assert http.get("/_sandbox/storefront/4040").status_code == 404


def test_storefront_options_route(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    ecwid.token_for(1003)
    changed = http.patch(
        "/_sandbox/storefront",
        json={"custom_js_url": "http://127.0.0.1:9999/app.js", "public_config_form": "object"},
    )
    assert changed.status_code == 200
    assert changed.json()["public_config_form"] == "object"
    page = http.get("/_sandbox/storefront/1003").text
    assert _app_scripts(page) == ["http://127.0.0.1:9999/app.js"]
    assert _embedded(page)["publicConfigForm"] == "object"
    assert http.patch("/_sandbox/storefront", json={"public_config_form": "xml"}).status_code == 400
    assert http.patch("/_sandbox/storefront", json={"nope": 1}).status_code == 400


def test_consent_setting_reaches_the_page(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    assert _embedded(http.get("/_sandbox/storefront/1003").text)["askConsent"] is False
    demo.set_profile(ask_consent=True)
    assert _embedded(http.get("/_sandbox/storefront/1003").text)["askConsent"] is True


def test_checkout_route_places_an_order_the_rest_api_and_webhooks_see(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(1003)
    ecwid.take_webhooks()
    shirt = next(p for p in demo.products.values() if p.sku == "TS-LOGO")
    large = shirt.combinations[2]
    mug = next(p for p in demo.products.values() if p.sku == "MUG-CER")
    answer = http.post(
        "/_sandbox/storefront/1003/checkout",
        json={
            "items": [
                {"productId": shirt.id, "combinationId": large.id, "quantity": 1},
                {"productId": mug.id, "quantity": 2},
            ],
            "email": "buyer@example.com",
            "name": "Sam Buyer",
            "phone": "+15550199",
            "paid": False,
            "orderId": "CART1",
            "refererUrl": "http://127.0.0.1/_sandbox/storefront/1003#!/checkout",
        },
        headers={"User-Agent": "StorefrontTest/1.0"},
    )
    assert answer.status_code == 200
    order, placed = answer.json()["order"], answer.json()["placed"]
    assert order["id"] == "CART1"  # the id the cart reserved
    rest = http.get("/api/v3/1003/orders/CART1", headers={"Authorization": f"Bearer {token}"}).json()
    assert rest == order
    assert rest["paymentStatus"] == "AWAITING_PAYMENT"
    assert rest["customerUserAgent"] == "StorefrontTest/1.0"
    assert rest["ipAddress"] == "127.0.0.1"

    assert placed["vendorNumber"] == "CART1"
    assert placed["orderNumber"] == order["internalId"]
    assert placed["paymentStatus"] == "AWAITING_PAYMENT"
    assert (placed["total"], placed["subtotal"], placed["tax"], placed["shipping"]) == (56, 56, 0, 0)
    assert placed["date"] == str(order["createTimestamp"])
    assert placed["customer"] == {"name": "Sam Buyer", "email": "buyer@example.com"}
    assert placed["billingPerson"]["phone"] == "+15550199"
    assert placed["items"][0]["options"] == {"Size": "L"}
    assert placed["items"][0]["product"]["sku"] == "TS-LOGO-L"
    assert placed["items"][0]["product"]["price"] == 27
    assert placed["items"][0]["product"]["url"].endswith(f"-p{shirt.id}")
    assert "currency" not in placed

    events = [w.json() for w in ecwid.take_webhooks()]
    assert events[0]["eventType"] == "order.created"
    assert events[0]["data"]["orderId"] == "CART1"

    # The same cart id again: a fresh id; a sold-out variation: refused.
    again = http.post(
        "/_sandbox/storefront/1003/checkout",
        json={"items": [{"productId": mug.id, "quantity": 1}], "email": "b@example.com", "orderId": "CART1"},
    )
    assert again.json()["order"]["id"] != "CART1"
    sold_out = http.post(
        "/_sandbox/storefront/1003/checkout",
        json={
            "items": [{"productId": shirt.id, "combinationId": shirt.combinations[1].id, "quantity": 1}],
            "email": "b@example.com",
        },
    )
    assert sold_out.status_code == 400
    assert "stock" in sold_out.json()["error"]
