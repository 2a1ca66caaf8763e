"""The merchant's TikTok page over HTTP: GET /app, and the product lists it reads (GET …/products)."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.app_stack import AppStack
from tiktok_channel.adapters.catalog_repository import DynamoCatalogRepository
from tiktok_channel.models.catalog import Reason, SkuRecord
from tiktok_channel.services.products import PAGE_SIZE

STORE = 1003
OTHER_STORE = 2004
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ")


def _install(stack: AppStack, store_id: int = STORE) -> None:
    if store_id not in stack.ecwid.stores:
        stack.ecwid.add_store(store_id, country="US", currency="USD")
    assert stack.install(store_id).status_code == 302


def _headers(session: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session}"}


def _foreign_payload(store_id: int, access_token: str) -> str:
    """A well-formed payload encrypted with another app's key (Ecwid made it for some other app)."""
    plaintext = json.dumps({"store_id": store_id, "lang": "en", "access_token": access_token}).encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(b"another-apps-key"), modes.CBC(iv)).encryptor()
    raw = iv + encryptor.update(padded) + encryptor.finalize()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- GET /app ----------------------------------------------------------------------------------
def test_the_page_opens_with_a_genuine_payload_and_carries_no_session(stack: AppStack):
    _install(stack)
    payload = stack.ecwid.app_payload(STORE)
    page = stack.http.get("/app", params={"payload": payload, "app_state": "", "cache-killer": "x1"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'data-store-id="1003"' in html
    for wording in (
        "Phone number for TikTok Business Tools",
        "+ Connect TikTok Account",
        "Products on TikTok",
        "Pending review",
        "Not uploaded",
        "Sync Products",
        "Apply for TikTok Storefront",
        "Connect TikTok Storefront",
        "Disconnect",
        "Manage TikTok Products",
        "Counts are products and variations",
        "accepts applications only from merchants it has already onboarded",
    ):
        assert wording in html, wording
    # The script opens the session itself; the HTML holds neither a session nor the payload.
    assert JWT.search(html) is None
    assert payload not in html
    assert "/api/session" in html
    assert "replaceState" in html

    headers = page.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    policy = headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'nonce="{nonce.group(1)}"' in html
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors https://my.ecwid.com https://*.ecwid.com" in policy
    assert "unsafe-inline" not in policy
    assert "https://d35z3p2poghz10.cloudfront.net" in policy  # Ecwid's app CSS and SDK
    assert re.search(r"<script[^>]*ecwid-app\.js", html)
    assert "ecwid-app-ui.css" in html
    # Every script on the page is allowed by the policy: the nonce is on each of them.
    for tag in re.findall(r"<script[^>]*>", html):
        assert f'nonce="{nonce.group(1)}"' in tag, tag

    again = stack.http.get("/app", params={"payload": payload})
    assert again.headers["content-security-policy"] != policy  # a fresh nonce each time


def _assert_plain_page(answer, status: int) -> None:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in answer.text
    assert JWT.search(answer.text) is None
    assert "Ecwid admin" in answer.text
    assert "frame-ancestors" in answer.headers["content-security-policy"]


def test_a_bad_tampered_or_foreign_payload_gets_a_plain_page(stack: AppStack):
    _install(stack)
    payload = stack.ecwid.app_payload(STORE)
    token = stack.ecwid.current_token(STORE)
    assert token is not None
    stack.ecwid.add_store(OTHER_STORE, country="US", currency="USD")  # not installed here

    for bad in (
        payload[:-4] + "AAAA",  # tampered: the last block no longer decrypts to valid padding
        "not a payload at all",
        _foreign_payload(STORE, token.token),  # another app's key
        stack.ecwid.app_payload(OTHER_STORE),  # a store that has not installed this app
    ):
        answer = stack.http.get("/app", params={"payload": bad})
        _assert_plain_page(answer, 401)
        assert "We could not confirm it is you" in answer.text
        assert "reinstall the app" in answer.text

    _assert_plain_page(stack.http.get("/app"), 400)
    assert "Open this page from your Ecwid admin" in stack.http.get("/app").text


def test_a_payload_from_before_a_reinstall_no_longer_opens_the_page(stack: AppStack):
    _install(stack)
    old = stack.ecwid.app_payload(STORE)
    _install(stack)  # Ecwid issues a new token; the old payload carries the old one
    _assert_plain_page(stack.http.get("/app", params={"payload": old}), 401)
    assert stack.http.get("/app", params={"payload": stack.ecwid.app_payload(STORE)}).status_code == 200


# -- GET /api/stores/{storeId}/products ----------------------------------------------------------
def _put_skus(stack: AppStack, store_id: int, records: list[SkuRecord]) -> None:
    DynamoCatalogRepository(boto3.client("dynamodb"), stack.table).put_skus(store_id, records)


def _list(stack: AppStack, session: str, store_id: int = STORE, **params: str):
    return stack.http.get(f"/api/stores/{store_id}/products", params=params, headers=_headers(session))


def test_products_are_listed_per_status_page_by_page(stack: AppStack):
    _install(stack)
    session = stack.open_session(STORE)
    rejected = 2 * PAGE_SIZE + 7
    records = [
        SkuRecord(
            sku_id=f"{700000000 + n}",
            product_id=700000000 + n,
            title=f"Replica watch {n}",
            status="rejected",
            hash="h",
            reasons=[Reason(message="Prohibited product", suggestion="Remove replicas")],
        )
        for n in range(rejected)
    ]
    records += [SkuRecord(sku_id=f"8000{n}", product_id=8000 + n, title="Mug", status="listed") for n in range(3)]
    _put_skus(stack, STORE, records)

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        answer = _list(stack, session, status="rejected", **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= PAGE_SIZE
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [item["sku_id"] for item in seen] == sorted(r.sku_id for r in records if r.status == "rejected")
    assert seen[0] == {
        "sku_id": "700000000",
        "product_id": 700000000,
        "title": "Replica watch 0",
        "status": "rejected",
        "reasons": [{"message": "Prohibited product", "suggestion": "Remove replicas"}],
        "brand_from_store_name": False,  # contract.md: the list item says whether the store's name stood in
    }

    listed = _list(stack, session, status="listed").json()
    assert [i["sku_id"] for i in listed["items"]] == ["80000", "80001", "80002"]
    assert listed["next_cursor"] is None
    assert _list(stack, session, status="pending").json() == {"items": [], "next_cursor": None}

    # A SKU whose status moves leaves one list and joins the other (one write: the item itself).
    _put_skus(stack, STORE, [records[0].model_copy(update={"status": "listed", "reasons": []})])
    assert "700000000" in [i["sku_id"] for i in _list(stack, session, status="listed").json()["items"]]
    first = _list(stack, session, status="rejected").json()["items"][0]
    assert first["sku_id"] == "700000001"


def test_a_full_page_that_ends_the_list_has_no_next_page(stack: AppStack):
    _install(stack)
    session = stack.open_session(STORE)
    _put_skus(
        stack, STORE, [SkuRecord(sku_id=str(n), product_id=n, status="pending") for n in range(100, 100 + PAGE_SIZE)]
    )
    body = _list(stack, session, status="pending").json()
    assert len(body["items"]) == PAGE_SIZE
    assert body["next_cursor"] is None


def test_the_lists_show_what_the_sync_wrote(stack: AppStack):
    stack.ecwid.add_demo_store(STORE)
    assert stack.connect(STORE).status_code == 302
    stack.run_worker()
    session = stack.open_session(STORE)
    counts = stack.status(STORE, session)["products"]

    held_back = _list(stack, session, status="held_back").json()["items"]
    assert len(held_back) == counts["held_back"] > 0
    mug = next(item for item in held_back if item["title"] == "Enamel Camping Mug")
    assert mug["status"] == "held_back"
    assert "500" in mug["reasons"][0]["message"]
    assert len(_list(stack, session, status="pending").json()["items"]) == counts["pending"] > 0


@pytest.mark.parametrize("status", ["", "approved", "LISTED", "held-back"])
def test_an_unknown_status_is_refused(stack: AppStack, status: str):
    _install(stack)
    answer = _list(stack, stack.open_session(STORE), status=status)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_status"


def test_a_missing_status_is_refused(stack: AppStack):
    _install(stack)
    answer = stack.http.get(f"/api/stores/{STORE}/products", headers=_headers(stack.open_session(STORE)))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_status"


def test_a_bad_or_foreign_cursor_is_refused(stack: AppStack):
    _install(stack)
    _install(stack, OTHER_STORE)
    session = stack.open_session(STORE)
    records = [SkuRecord(sku_id=str(n), product_id=n, status="pending") for n in range(1000, 1000 + PAGE_SIZE + 5)]
    _put_skus(stack, STORE, records)
    _put_skus(stack, OTHER_STORE, records)
    cursor = _list(stack, session, status="pending").json()["next_cursor"]
    assert cursor

    body, _, mac = cursor.partition(".")
    forged_body = base64.urlsafe_b64encode(b"1001").decode().rstrip("=")
    other_session = stack.open_session(OTHER_STORE)
    other_cursor = _list(stack, other_session, OTHER_STORE, status="pending").json()["next_cursor"]
    for bad in (
        "garbage",
        "a.b",
        f"{forged_body}.{mac}",  # another position under the same signature
        f"{body}.{mac[:-2]}xx",
        cursor.replace(".", ""),
        other_cursor,  # another store's cursor
    ):
        answer = _list(stack, session, status="pending", cursor=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "invalid_cursor"
        assert "Reload the TikTok page" in answer.json()["error"]["message"]
    # A cursor of one status does not page another.
    assert _list(stack, session, status="listed", cursor=cursor).status_code == 400
    assert _list(stack, session, status="pending", cursor=cursor).status_code == 200


def test_the_lists_follow_the_session_rules(stack: AppStack):
    _install(stack)
    _install(stack, OTHER_STORE)
    path = f"/api/stores/{STORE}/products"

    missing = stack.http.get(path, params={"status": "listed"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "session_required"
    invalid = stack.http.get(path, params={"status": "listed"}, headers=_headers("not-a-session"))
    assert invalid.status_code == 401
    assert invalid.json()["error"]["code"] == "session_invalid"
    other = stack.http.get(path, params={"status": "listed"}, headers=_headers(stack.open_session(OTHER_STORE)))
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "wrong_store"
    # The session check comes first: a bad status from a stranger is still a 401.
    assert stack.http.get(path, params={"status": "nope"}).status_code == 401


def test_a_repeated_query_parameter_reaches_the_service_as_api_gateway_sends_it(stack: AppStack):
    """API Gateway joins a repeated parameter with a comma; the page and the lists answer that value in their own
    words (a plain page, `invalid_status`), never a validation error of the edge."""
    _install(stack)
    payload = stack.ecwid.app_payload(STORE)
    _assert_plain_page(stack.http.get(f"/app?payload={payload}&payload={payload}"), 401)
    session = stack.open_session(STORE)
    answer = stack.http.get(f"/api/stores/{STORE}/products?status=listed&status=pending", headers=_headers(session))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_status"


@pytest.mark.parametrize("content_type", ["text/plain", "Application/JSON", "application/vnd.api+json", None])
def test_a_json_body_opens_a_session_whatever_its_content_type_says(stack: AppStack, content_type: str | None):
    _install(stack)
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"payload": stack.ecwid.app_payload(STORE)})
    answer = stack.http.post("/api/session", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["store_id"] == STORE
