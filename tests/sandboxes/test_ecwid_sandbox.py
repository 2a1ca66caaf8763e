"""The sandbox Ecwid behaves like Ecwid's API as ecwid-api.md describes it, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from PIL import Image

from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidSandbox, EcwidStore, Variation
from tests.sandboxes.ecwid_app import CLIENT_ID, SECRET

REDIRECT = "https://app.example/oauth/ecwid/callback"
# Response samples from Ecwid's API documentation, kept with the tests so a clone has them.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "ecwid-doc-samples"


def api(http: httpx.Client, token: str | None, path: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"/api/v3{path}", params=params, headers=headers)


def exchange(
    http: httpx.Client, code: str, store_id: int = 1003, secret: str = SECRET, redirect_uri: str = REDIRECT
) -> httpx.Response:
    return http.post(
        f"/api/oauth/token/{store_id}",
        data={
            "client_id": CLIENT_ID,
            "client_secret": secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": "authorization_code",
        },
    )


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


# -- OAuth ----------------------------------------------------------------------------------------
def test_install_page_lets_the_merchant_pick_a_store_and_install(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    page = http.get(
        "/api/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "read_catalog add_to_cp",
        },
    )
    assert page.status_code == 200
    assert '<select name="store_id">' in page.text
    assert "Awesome store" in page.text
    assert 'value="allow">Install' in page.text
    assert 'value="deny">Cancel' in page.text

    form = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "read_catalog add_to_cp", "store_id": "1003"}
    allowed = http.post("/api/oauth/authorize", data={**form, "decision": "allow"})
    assert allowed.status_code == 302
    location = urlsplit(allowed.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["store_id"] == ["1003"]

    token = exchange(http, query["code"][0])
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"].lower() == "bearer"
    assert body["store_id"] == 1003
    assert set(body["scope"].split()) == {"read_store_profile", "read_catalog", "add_to_cp"}
    assert body["public_token"].startswith("public_")
    assert api(http, body["access_token"], "/1003/profile").status_code == 200
    assert [w.event_type for w in ecwid.take_webhooks()] == ["application.installed"]

    denied = http.post("/api/oauth/authorize", data={**form, "decision": "deny"})
    assert parse_qs(urlsplit(denied.headers["location"]).query) == {"error": ["access_denied"]}


def test_install_page_rejects_an_unknown_app(http: httpx.Client, demo: EcwidStore) -> None:
    page = http.get(
        "/api/oauth/authorize", params={"client_id": "someone-else", "redirect_uri": REDIRECT, "response_type": "code"}
    )
    assert page.status_code == 400


def test_code_is_single_use_and_reuse_disables_the_first_token(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    code = ecwid.create_auth_code(1003, REDIRECT)
    first = exchange(http, code).json()["access_token"]
    assert api(http, first, "/1003/products").status_code == 200

    again = exchange(http, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert api(http, first, "/1003/products").status_code == 403


def test_code_exchange_rejects_bad_credentials_expiry_and_mismatches(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    ecwid.add_store(2002)
    code = ecwid.create_auth_code(1003, REDIRECT)
    wrong_secret = exchange(http, code, secret="not-the-secret-at-all")
    assert wrong_secret.status_code == 400
    assert wrong_secret.json()["error"] == "invalid_client"
    assert exchange(http, "no-such-code").json()["error"] == "invalid_grant"
    assert (
        exchange(http, ecwid.create_auth_code(1003, REDIRECT), redirect_uri="https://evil.example/cb").json()["error"]
        == "invalid_grant"
    )
    assert exchange(http, ecwid.create_auth_code(1003, REDIRECT), store_id=2002).json()["error"] == "invalid_grant"

    ecwid.clock.advance(601)
    expired = exchange(http, code)  # untouched by the wrong-secret attempt, but now too old
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_token_exchange_get_form_is_switched_off(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    code = ecwid.create_auth_code(1003, REDIRECT)
    response = http.get(
        "/api/oauth/token/1003",
        params={
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "code": code,
            "redirect_uri": REDIRECT,
            "grant_type": "authorization_code",
        },
    )
    assert response.status_code == 405
    assert exchange(http, code).status_code == 200


# -- profile and products -------------------------------------------------------------------------
def test_profile_has_the_sample_shape(ecwid: EcwidSandbox, http: httpx.Client) -> None:
    ecwid.add_store(
        1003,
        country="GB",
        currency="GBP",
        store_name="Awesome store",
        store_url="https://example.com",
        email="info@example.com",
    )
    profile = api(http, ecwid.token_for(1003), "/1003/profile").json()
    expected = sample("store-profile-response.json")
    for section in ("generalInfo", "settings", "company", "formatsAndUnits", "languages"):
        assert set(expected[section]) <= set(profile[section]) | {
            "starterSite",
            "snapPixelId",
            "pinterestTagId",
            "googleTagId",
            "googleEventId",
            "showAcceptMarketingCheckbox",
            "acceptMarketingCheckboxDefaultValue",
            "acceptMarketingCheckboxCustomText",
            "askConsentToTrackInStorefront",
        }
    assert profile["generalInfo"] == {**profile["generalInfo"], "storeId": 1003, "storeUrl": "https://example.com"}
    assert (profile["company"]["countryCode"], profile["company"]["email"]) == ("GB", "info@example.com")
    assert profile["formatsAndUnits"]["currency"] == "GBP"
    assert profile["settings"]["storeName"] == "Awesome store"


def test_product_has_the_sample_shape(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    token = ecwid.token_for(1003)
    items = api(http, token, "/1003/products", keyword="T-Shirt").json()["items"]
    product = items[0]
    expected = sample("products-search-response.json")["items"][0]
    missing = (
        set(expected)
        - set(product)
        - {
            "thumbnailUrl",
            "tax",
            "wholesalePrices",
            "favorites",
            "shipping",
            "compareToPrice",
            "compareToPriceFormatted",
            "compareToPriceDiscount",
            "compareToPriceDiscountFormatted",
            "compareToPriceDiscountPercent",
            "compareToPriceDiscountPercentFormatted",
            "quantity",
        }
    )
    assert not missing
    assert "quantity" not in product
    assert product["unlimited"] is True
    assert "compareToPrice" not in product
    assert {a["type"] for a in product["attributes"]} == {"BRAND"}
    combination = product["combinations"][0]
    # The demo's sizes inherit the product's price: Ecwid omits an inherited price and shows the displayed one.
    assert {"id", "combinationNumber", "sku", "options", "defaultDisplayedPrice", "unlimited", "inStock"} <= set(
        combination
    )
    assert combination["options"][0]["name"] == "Size"
    assert combination["quantity"] == 12
    assert product["combinations"][1]["inStock"] is False
    assert product["media"]["images"][0]["isMain"] is True
    assert product["originalImage"]["width"] == 1200
    assert len(product["galleryImages"]) == 2

    hoodie = api(http, token, "/1003/products", sku="HD-ORG").json()["items"][0]
    assert hoodie["compareToPrice"] == 69
    assert hoodie["quantity"] == 8
    keychain = api(http, token, "/1003/products", sku="KEY-LTH").json()["items"][0]
    assert "originalImage" not in keychain
    assert "galleryImages" not in keychain
    assert keychain["media"]["images"][0]["imageOriginalUrl"].endswith("_900x900.jpg")


def test_products_page_and_filter(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    token = ecwid.token_for(1003)
    first = api(http, token, "/1003/products", limit=5).json()
    assert (first["total"], first["count"], first["offset"], first["limit"]) == (12, 5, 0, 5)
    rest = api(http, token, "/1003/products", offset=5).json()
    assert (rest["count"], rest["limit"]) == (7, 100)
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert len(set(ids)) == 12

    assert api(http, token, "/1003/products", limit=101).status_code == 400
    assert api(http, token, "/1003/products", inStock="maybe").status_code == 400
    assert api(http, token, "/1003/products", sortBy="RANDOM").status_code == 400

    picked = api(http, token, "/1003/products", productId=f"{ids[3]},{ids[0]},999").json()
    assert sorted(p["id"] for p in picked["items"]) == sorted([ids[0], ids[3]])
    assert api(http, token, "/1003/products", enabled="false").json()["total"] == 1
    out_of_stock = {p["sku"] for p in api(http, token, "/1003/products", inStock="false").json()["items"]}
    assert out_of_stock == {"MUG-TRV"}
    by_variation_sku = api(http, token, "/1003/products", sku="TS-LOGO-M").json()["items"]
    assert [p["sku"] for p in by_variation_sku] == ["TS-LOGO"]
    mugs = next(c for c in demo.categories.values() if c.name == "Mugs")
    assert api(http, token, "/1003/products", category=mugs.id).json()["total"] == 3
    front_page = api(http, token, "/1003/products", category=0).json()["items"]
    assert [p["sku"] for p in front_page] == ["STK-PACK"]


def test_sort_orders_are_stable_and_updated_filters_use_the_sandbox_clock(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(1003)
    ascending = [p["id"] for p in api(http, token, "/1003/products", sortBy="ADDED_TIME_ASC").json()["items"]]
    assert ascending == sorted(ascending)  # all created in the same second: ties break on the id
    paged = [
        p["id"]
        for offset in range(0, 12, 5)
        for p in api(http, token, "/1003/products", sortBy="ADDED_TIME_ASC", offset=offset, limit=5).json()["items"]
    ]
    assert paged == ascending

    ecwid.clock.advance(120)
    since = ecwid.timestamp()
    demo.update_product(ascending[4], price=99)
    newest = api(http, token, "/1003/products", sortBy="UPDATED_TIME_DESC", limit=1).json()["items"][0]
    assert newest["id"] == ascending[4]
    assert newest["updateTimestamp"] == since
    assert [p["id"] for p in api(http, token, "/1003/products", updatedFrom=since).json()["items"]] == [ascending[4]]
    names = [p["name"] for p in api(http, token, "/1003/products", sortBy="NAME_ASC").json()["items"]]
    assert names == sorted(names, key=str.lower)


def test_deleted_product_answers_404_and_is_listed_as_deleted(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(1003)
    product_id = next(iter(demo.products))
    assert api(http, token, f"/1003/products/{product_id}").json()["id"] == product_id
    demo.delete_product(product_id)
    gone = api(http, token, f"/1003/products/{product_id}")
    assert gone.status_code == 404
    assert gone.json()["errorCode"] == "PRODUCT_NOT_FOUND"
    deleted = api(http, token, "/1003/products/deleted", from_date=ecwid.timestamp() - 5).json()
    assert deleted["total"] == 1
    assert deleted["items"][0]["id"] == product_id
    assert api(http, token, "/1003/products/deleted", from_date=ecwid.timestamp() + 5).json()["total"] == 0


def test_hidden_categories_are_excluded_unless_asked_for(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(1003)
    visible = api(http, token, "/1003/categories").json()
    assert "Archive" not in {c["name"] for c in visible["items"]}
    assert all("productIds" not in c for c in visible["items"])
    everything = api(http, token, "/1003/categories", hidden_categories="true", productIds="true").json()
    archive = next(c for c in everything["items"] if c["name"] == "Archive")
    assert archive["enabled"] is False
    assert len(archive["productIds"]) == 1
    assert everything["total"] == visible["total"] + 1
    expected_keys = set(sample("categories-search-response.json")["items"][0])
    image_keys = {"hdThumbnailUrl", "thumbnailUrl", "imageUrl", "originalImageUrl", "originalImage", "thumbnail"}
    assert expected_keys - image_keys <= set(archive)

    poster = api(http, token, f"/1003/products/{archive['productIds'][0]}").json()
    assert poster["categories"] == [{"id": archive["id"], "enabled": False}]
    child = demo.add_category("Old mugs", parent_id=archive["id"])
    assert [
        c["id"]
        for c in api(http, token, "/1003/categories", parent=archive["id"], hidden_categories="true").json()["items"]
    ] == [child]
    assert demo.is_hidden(child)


# -- access errors and the rate limit ------------------------------------------------------------------
def test_token_errors_answer_like_ecwid(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    other = ecwid.add_store(2002)
    token = ecwid.token_for(1003)
    for response in (
        api(http, None, "/1003/products"),
        http.get("/api/v3/1003/products", params={"token": token}),
        api(http, "secret_made_up", "/1003/products"),
        api(http, ecwid.token_for(other.store_id), "/1003/products"),
    ):
        assert response.status_code == 403
        assert response.json()["errorCode"] == "INVALID_API_TOKEN"

    ecwid.suspend(1003)
    suspended = api(http, token, "/1003/products")
    assert suspended.status_code == 402
    assert suspended.json()["errorCode"] == "STORE_IS_SUSPENDED"
    ecwid.suspend(1003, suspended=False)
    ecwid.revoke_tokens(1003)
    assert api(http, token, "/1003/profile").json()["errorCode"] == "INVALID_API_TOKEN"
    assert ecwid.token_for(1003) != token

    profile_only = ecwid.issue_token(1003, scope="read_store_profile").token
    assert api(http, profile_only, "/1003/profile").status_code == 200
    assert api(http, profile_only, "/1003/products").json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"


@pytest.mark.parametrize("who", ["merchant", "app"])
def test_after_an_uninstall_the_old_token_is_refused_as_ecwid_refuses_it(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore, who: str
) -> None:
    """What the worker asks before it believes an application.uninstalled event (ecwid-api.md: 403, not 401)."""
    old = ecwid.token_for(1003)
    assert api(http, old, "/1003/profile").status_code == 200
    ecwid.take_webhooks()
    if who == "merchant":
        ecwid.uninstall(1003)
    else:  # the app uninstalls itself
        deleted = http.delete(
            "/api/v3/1003/application", params={"namespace": CLIENT_ID}, headers={"Authorization": f"Bearer {old}"}
        )
        assert deleted.status_code == 200

    [uninstalled] = ecwid.take_webhooks()
    assert (uninstalled.event_type, uninstalled.json()["entityId"]) == ("application.uninstalled", "1003")
    assert verify(uninstalled.headers, uninstalled.body, SECRET)
    ecwid.suspend(1003)  # a dead token is refused before anything about the store is told
    for path in ("/1003/profile", "/1003/products"):
        refused = api(http, old, path)
        assert (refused.status_code, refused.json()["errorCode"]) == (403, "INVALID_API_TOKEN")
        assert refused.json()["errorMessage"]
    ecwid.suspend(1003, suspended=False)
    reinstalled = ecwid.token_for(1003)  # installed again: a new token works, the old one stays refused
    assert api(http, reinstalled, "/1003/profile").status_code == 200
    assert api(http, old, "/1003/profile").status_code == 403


def test_rate_limit_answers_429_until_the_minute_passes(http: httpx.Client) -> None:
    ecwid = EcwidSandbox(client_id=CLIENT_ID, client_secret=SECRET, rate_limit_per_minute=5, retry_after_seconds=7)
    ecwid.start()
    try:
        ecwid.add_store(1003)
        token = ecwid.token_for(1003)
        with httpx.Client(base_url=ecwid.base_url) as client:
            assert [api(client, token, "/1003/profile").status_code for _ in range(5)] == [200] * 5
            limited = api(client, token, "/1003/profile")
            assert limited.status_code == 429
            assert limited.headers["Retry-After"] == "7"
            assert limited.json()["errorCode"] == "RATE_LIMITED"
            ecwid.clock.advance(61)
            assert api(client, token, "/1003/profile").status_code == 200

            ecwid.faults.add(FaultRule("rate_limit", path_prefix="/api/v3/", count=1))
            injected = api(client, token, "/1003/profile")
            assert (injected.status_code, injected.headers["Retry-After"]) == (429, "7")
            assert injected.json()["errorCode"] == "RATE_LIMITED"
    finally:
        ecwid.stop()


def test_a_rate_limit_fault_can_ask_for_its_own_retry_after(ecwid: EcwidSandbox, http: httpx.Client):
    ecwid.add_store(1003)
    token = ecwid.token_for(1003)
    # As the local run and tests in another process set it: the control endpoint's JSON.
    http.post(
        "/_sandbox/faults",
        json={"rules": [{"kind": "rate_limit", "path_prefix": "/api/v3/1003/products", "retry_after_seconds": 60}]},
    ).raise_for_status()

    limited = api(http, token, "/1003/products/1")

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "60")
    assert limited.json()["errorCode"] == "RATE_LIMITED"
    assert api(http, token, "/1003/profile").status_code == 200  # only the rule's paths
    ecwid.faults.set([FaultRule("rate_limit", path_prefix="/api/v3/", count=1)])
    assert api(http, token, "/1003/profile").headers["Retry-After"] == str(ecwid.retry_after_seconds)


# -- images -----------------------------------------------------------------------------------------
def test_images_are_real_files_of_the_advertised_size(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(1003)
    product = api(http, token, "/1003/products", sku="HD-ORG").json()["items"][0]
    original = http.get(product["originalImage"]["url"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(original.content)).size == (1500, 1500)
    for header in ("etag", "last-modified", "cache-control", "content-length"):
        assert header in original.headers
    assert original.headers["accept-ranges"] == "bytes"
    small = http.get(product["media"]["images"][0]["image160pxUrl"])
    assert Image.open(io.BytesIO(small.content)).size == (160, 160)

    head = http.get(product["originalImage"]["url"], headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert len(head.content) == 100
    assert head.headers["content-range"] == f"bytes 0-99/{len(original.content)}"
    assert http.head(product["originalImage"]["url"]).headers["content-length"] == str(len(original.content))
    beyond = http.get(product["originalImage"]["url"], headers={"Range": f"bytes={len(original.content)}-"})
    assert beyond.status_code == 416
    assert http.get(product["originalImage"]["url"].replace("1500x1500", "1501x1501")).status_code == 404


def test_media_variants_scale_the_longer_side_and_never_upscale(ecwid: EcwidSandbox, http: httpx.Client) -> None:
    store = ecwid.add_store(1003)
    store.add_product("Tall", 5, image=(600, 1200, "png"))
    token = ecwid.token_for(1003)
    media = api(http, token, "/1003/products").json()["items"][0]["media"]["images"][0]
    sizes = {
        key: Image.open(io.BytesIO(http.get(media[key]).content)).size
        for key in ("image160pxUrl", "image400pxUrl", "image800pxUrl", "image1500pxUrl", "imageOriginalUrl")
    }
    assert sizes == {
        "image160pxUrl": (80, 160),
        "image400pxUrl": (200, 400),
        "image800pxUrl": (400, 800),
        "image1500pxUrl": (600, 1200),
        "imageOriginalUrl": (600, 1200),
    }


# -- admin page payload -------------------------------------------------------------------------------
def decrypt_payload(payload: str, client_secret: str) -> dict[str, Any]:
    """ecwid-api.md's recipe, written out independently of the sandbox."""
    standard = payload.replace("-", "+").replace("_", "/")
    raw = base64.b64decode(standard + "=" * (-len(standard) % 4))
    iv, ciphertext = raw[:16], raw[16:]
    decryptor = Cipher(algorithms.AES(client_secret[:16].encode("ascii")), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    data: dict[str, Any] = json.loads(unpadder.update(padded) + unpadder.finalize())
    return data


def test_app_payload_decrypts_as_documented(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    payload = ecwid.app_payload(1003, lang="fr", view_mode="POPUP")
    assert "=" not in payload
    assert "+" not in payload
    assert "/" not in payload
    data = decrypt_payload(payload, SECRET)
    assert data["store_id"] == 1003
    assert data["lang"] == "fr"
    assert data["view_mode"] == "POPUP"
    assert data["access_token"] == ecwid.token_for(1003)
    assert data["public_token"].startswith("public_")
    assert ecwid.app_payload(1003) != ecwid.app_payload(1003)  # a fresh IV every time

    opened = http.get("/_sandbox/stores/1003/open-app", params={"app_url": "https://app.example/app?x=1"})
    assert opened.status_code == 302
    query = parse_qs(urlsplit(opened.headers["location"]).query)
    assert query["x"] == ["1"]
    assert decrypt_payload(query["payload"][0], SECRET)["access_token"] == ecwid.token_for(1003)
    stores = http.get("/_sandbox/stores").json()
    assert stores == [
        {
            "id": 1003,
            "name": "Awesome store",
            "country": "US",
            "currency": "USD",
            "products": 12,
            "suspended": False,
            "installed": True,
        }
    ]


# -- webhooks ---------------------------------------------------------------------------------------
def verify(headers: dict[str, str], body: bytes, client_secret: str) -> bool:
    event = json.loads(body)
    message = f"{event['eventCreated']}.{event['eventId']}".encode()
    expected = base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["X-Ecwid-Webhook-Signature"])


def test_edits_record_signed_webhooks(ecwid: EcwidSandbox, demo: EcwidStore) -> None:
    assert ecwid.take_webhooks() == []  # the demo store existed before the app
    category = demo.add_category("Posters")
    product = demo.add_product("Poster", 15, category_ids=[category], image=(1000, 1500, "jpg"))
    demo.update_category(category, enabled=False)
    demo.add_combination(product, {"Size": "A2"}, price=20)
    demo.delete_product(product)
    demo.delete_category(category)
    demo.set_profile(currency="EUR")
    webhooks = ecwid.take_webhooks()
    assert [(w.json()["eventType"], w.json()["entityId"]) for w in webhooks] == [
        ("category.created", category),
        ("product.created", product),
        ("category.updated", category),
        ("category.updated", category),
        ("product.updated", product),
        ("product.deleted", product),
        ("category.updated", category),
        ("category.deleted", category),
        ("profile.updated", 1003),
    ]
    for webhook in webhooks:
        assert verify(webhook.headers, webhook.body, SECRET)
        assert set(webhook.json()) == {"eventId", "eventCreated", "storeId", "entityId", "eventType"}
    assert ecwid.take_webhooks() == []
    headers, body = ecwid.sign_webhook({"eventId": "x", "eventCreated": 1, "storeId": "1003"})
    assert verify(headers, body, SECRET)


class _Receiver:
    """A tiny webhook endpoint that answers with the statuses it is told to."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers.items()), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/ecwid"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhooks_are_delivered_and_failures_retried_on_ecwids_schedule(ecwid: EcwidSandbox, demo: EcwidStore) -> None:
    receiver = _Receiver([500])
    try:
        ecwid.webhook_url = receiver.url
        demo.update_product(next(iter(demo.products)), quantity=3)
        assert ecwid.deliver_webhooks() == [500]
        assert ecwid.deliver_webhooks() == []  # not due again for 15 minutes
        ecwid.clock.advance(15 * 60)
        assert ecwid.deliver_webhooks() == [200]
        assert ecwid.webhooks == []
        assert len(ecwid.delivered_webhooks) == 1
        path, headers, body = receiver.received[-1]
        assert path == "/webhooks/ecwid?eventtype=product.updated"
        assert verify({"X-Ecwid-Webhook-Signature": headers["X-Ecwid-Webhook-Signature"]}, body, SECRET)
    finally:
        receiver.close()


# -- stores built in bulk -----------------------------------------------------------------------------
def test_synthetic_store_of_50000_products_builds_fast_and_pages(ecwid: EcwidSandbox, http: httpx.Client) -> None:
    started = time.perf_counter()
    store = ecwid.build_synthetic_store(5001, products=50_000, seed=7)
    assert time.perf_counter() - started < 5
    assert ecwid.take_webhooks() == []
    products = list(store.products.values())
    assert sum(1 for p in products if len(p.combinations) == 3) == 10_000
    assert sum(1 for p in products if p.category_ids and all(store.is_hidden(c) for c in p.category_ids)) == 2_500
    assert sum(1 for p in products if p.image and max(p.image.width, p.image.height) < 500) == 1_500
    assert sum(1 for p in products if p.media_only_images) == 2_500

    token = ecwid.token_for(5001)
    seen: list[int] = []
    for offset in (0, 100, 49_900):
        page = api(http, token, "/5001/products", sortBy="ADDED_TIME_ASC", offset=offset, limit=100).json()
        assert page["total"] == 50_000
        assert page["count"] == 100
        seen += [p["id"] for p in page["items"]]
    assert seen == sorted(seen)
    assert len(set(seen)) == 300
    assert seen[0] == min(store.products)
    assert seen[-1] == max(store.products)


def test_synthetic_store_is_deterministic_and_pages_completely(http: httpx.Client) -> None:
    def build() -> tuple[EcwidSandbox, EcwidStore]:
        sandbox = EcwidSandbox(client_id=CLIENT_ID, client_secret=SECRET)
        return sandbox, sandbox.build_synthetic_store(42, products=1000, seed=3)

    (first, one), (_, two) = build(), build()
    assert [(p.name, p.price, p.category_ids) for p in one.products.values()] == [
        (p.name, p.price, p.category_ids) for p in two.products.values()
    ]
    first.start()
    try:
        token = first.token_for(42)
        with httpx.Client(base_url=first.base_url) as client:
            ids = [
                p["id"]
                for offset in range(0, 1000, 100)
                for p in api(client, token, "/42/products", sortBy="UPDATED_TIME_ASC", offset=offset).json()["items"]
            ]
        assert sorted(ids) == sorted(one.products)
    finally:
        first.stop()


def test_control_routes_edit_the_store_for_the_local_run(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    product_id = next(p.id for p in demo.products.values() if p.sku == "MUG-ENM")
    fixed = http.patch(f"/_sandbox/stores/1003/products/{product_id}", json={"image": [1000, 1000, "jpg"]})
    assert fixed.status_code == 200
    image = demo.products[product_id].image
    assert image is not None
    assert (image.width, image.height) == (1000, 1000)
    assert http.patch(f"/_sandbox/stores/1003/products/{product_id}", json={"colour": "red"}).status_code == 400
    added = http.post(
        "/_sandbox/stores/1003/products", json={"name": "New", "price": 3, "combinations": [{"options": {"Size": "S"}}]}
    )
    assert added.json()["result"] in demo.products
    assert [w.event_type for w in ecwid.take_webhooks()] == ["product.updated", "product.created"]


def test_admin_page_edits_send_webhooks_only_for_real_changes(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    page = http.get("/_sandbox/stores/1003/admin")
    assert page.status_code == 200
    assert "Enamel Camping Mug" in page.text
    product = next(p for p in demo.products.values() if p.sku == "MUG-ENM")
    form = {
        "name": product.name,
        "price": "18",
        "compare_to_price": "",
        "quantity": "",
        "image": "320x320 jpg",
        "enabled": "on",
    }
    assert http.post(f"/_sandbox/stores/1003/admin/products/{product.id}", data=form).status_code == 302
    assert ecwid.take_webhooks() == []
    http.post(f"/_sandbox/stores/1003/admin/products/{product.id}", data={**form, "image": "1200x1200"})
    assert product.image is not None
    assert (product.image.width, product.image.height) == (1200, 1200)
    assert [w.event_type for w in ecwid.take_webhooks()] == ["product.updated"]
    archive = next(c for c in demo.categories.values() if c.name == "Archive")
    http.post(f"/_sandbox/stores/1003/admin/categories/{archive.id}", data={"enabled": "on"})
    assert archive.enabled


def test_variation_image_comes_as_urls_without_dimensions(ecwid: EcwidSandbox, http: httpx.Client) -> None:
    store = ecwid.add_store(1003)
    product_id = store.add_product(
        "Shirt",
        10,
        sku="SH",
        combinations=[
            Variation({"Color": "Red"}, image=(700, 900, "jpg"), quantity=2),
            Variation({"Color": "Blue"}, price=12, compare_to_price=15),
        ],
    )
    product = api(http, ecwid.token_for(1003), f"/1003/products/{product_id}").json()
    red, blue = product["combinations"]
    assert "originalImage" not in red
    assert Image.open(io.BytesIO(http.get(red["originalImageUrl"]).content)).size == (700, 900)
    assert (red["sku"], red["quantity"], red["defaultDisplayedPrice"], red["inStock"]) == ("SH-1", 2, 10, True)
    assert "price" not in red  # inherited from the product
    assert "quantity" not in blue
    assert (blue["price"], blue["compareToPrice"], blue["unlimited"]) == (12, 15, True)
    assert "imageUrl" not in blue
