"""The sandbox TikTok behaves like TikTok's Business API as tiktok-api.md describes it, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from sandboxes.common import FaultRule, Request, Response, Sandbox
from sandboxes.tiktok import PortalError, TikTokSandbox
from sandboxes.tiktok_catalog import fetch_image_status
from sandboxes.tiktok_models import SCOPE_AD_ACCOUNT, SCOPE_BUSINESS_CENTER

API = "/open_api/v1.3"
APP_ID = "7000000000000000001"
SECRET = "sandbox-secret"
KEY = "external-data-key"
PLATFORM = "ECWID"
REDIRECT = "https://app.example/oauth/tiktok/callback"


def external_data(key: str | None = KEY, **overrides: Any) -> str:
    data: dict[str, Any] = {
        "external_business_id": "1003",
        "business_platform": PLATFORM,
        "country_region": "FR",
        "currency": "EUR",
        "store_name": "Rita's Shop",
        "website_url": "https://rita.example",
        "email": "rita@example.com",
        "phone_number": "+33100000000",
        "locale": "fr",
        "timestamp": 1700000000000,
        "version": "1.0",
    }
    data.update(overrides)
    if key is not None:
        message = "&".join(
            f"{k}={data[k]}" for k in ("version", "timestamp", "locale", "business_platform", "external_business_id")
        )
        data["hmac"] = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.fixture
def tiktok() -> Iterator[TikTokSandbox]:
    sandbox = TikTokSandbox(app_id=APP_ID, secret=SECRET, external_data_key=KEY, review_delay_seconds=60.0)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def client(tiktok: TikTokSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tiktok.base_url, timeout=5.0) as http:
        yield http


def call(client: httpx.Client, method: str, endpoint: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
    headers = {"Access-Token": token} if token else {}
    response = client.request(method, API + endpoint, headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    return body


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert body["code"] == 0, body
    data: dict[str, Any] = body["data"]
    return data


def exchange(client: httpx.Client, code: str) -> dict[str, Any]:
    return call(client, "POST", "/oauth2/access_token/", json={"app_id": APP_ID, "secret": SECRET, "auth_code": code})


def connect(tiktok: TikTokSandbox, client: httpx.Client, setup: str = "business_profile", **store: Any) -> str:
    code = tiktok.authorize(state="s1", redirect_uri=REDIRECT, external_data=external_data(**store), setup=setup)
    return str(ok(exchange(client, code))["access_token"])


def profile(client: httpx.Client, token: str, external_business_id: str = "1003") -> dict[str, Any]:
    return ok(
        call(
            client,
            "GET",
            "/tbp/business_profile/get/",
            token,
            params={"business_platform": PLATFORM, "external_business_id": external_business_id, "full_data": 1},
        )
    )


def product(sku_id: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sku_id": sku_id,
        "item_group_id": "g1",
        "title": f"Blue mug {sku_id}",
        "description": "A mug.",
        "availability": "IN_STOCK",
        "image_url": "https://img.example/mug.jpg",
        "additional_image_urls": ["https://img.example/mug-2.jpg"],
        "brand": "Rita",
        "product_detail": {"condition": "NEW"},
        "price_info": {"price": 12.5, "currency": "EUR"},
        "landing_page": {"landing_page_url": f"https://rita.example/p/{sku_id}"},
    }
    item.update(overrides)
    return item


class Store:
    """A connected store: token plus the ids the hosted setup produced."""

    def __init__(self, tiktok: TikTokSandbox, client: httpx.Client) -> None:
        self.client = client
        self.token = connect(tiktok, client)
        data = profile(client, self.token)
        self.bc_id, self.catalog_id = data["bc_id"], data["catalog_id"]

    def ids(self) -> dict[str, str]:
        return {"bc_id": self.bc_id, "catalog_id": self.catalog_id}

    def upload(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        return call(
            self.client, "POST", "/catalog/product/upload/", self.token, json={**self.ids(), "products": products}
        )

    def log(self, feed_log_id: str) -> dict[str, Any]:
        data = ok(
            call(
                self.client,
                "GET",
                "/catalog/product/log/",
                self.token,
                params={**self.ids(), "feed_log_id": feed_log_id},
            )
        )
        return dict(data["product_feed_log"])

    def get(self, **params: Any) -> dict[str, Any]:
        return call(self.client, "GET", "/catalog/product/get/", self.token, params={**self.ids(), **params})


@pytest.fixture
def store(tiktok: TikTokSandbox, client: httpx.Client) -> Store:
    return Store(tiktok, client)


# -- authorize and OAuth --------------------------------------------------------------------------
def test_authorize_form_business_profile_setup(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    params = {"app_id": APP_ID, "state": "st", "redirect_uri": REDIRECT, "external_data": external_data()}
    page = client.get("/portal/auth", params=params)
    assert page.status_code == 200
    assert "Rita&#x27;s Shop" in page.text
    assert 'value="advertiser_only"' in page.text

    answer = client.post("/portal/auth", data={**params, "setup": "business_profile", "decision": "connect"})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == "app.example"
    assert query["state"] == ["st"]

    token_data = ok(exchange(client, query["auth_code"][0]))
    assert token_data["advertiser_ids"]
    assert token_data["scope"]
    assert "refresh_token" not in token_data
    assert "expires_in" not in token_data
    data = profile(client, token_data["access_token"])
    assert data["status"] == 2
    assert data["store_name"] == "Rita's Shop"
    assert data["adv_id"] == token_data["advertiser_ids"][0]
    assert data["pixel_code"].startswith("C")
    catalog = tiktok.catalogs[data["catalog_id"]]
    assert (catalog.region_code, catalog.currency, catalog.name) == ("FR", "EUR", "Rita's Shop")
    assert tiktok.business_profiles[(PLATFORM, "1003")].bc_id == data["bc_id"] == catalog.bc_id
    assert tiktok.tokens[token_data["access_token"]].bc_ids == [data["bc_id"]]


def test_advertiser_only_setup_has_no_business_profile(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client, setup="advertiser_only")
    assert profile(client, token) == {}
    bcs = ok(call(client, "GET", "/bc/get/", token))
    assert len(bcs["list"]) == 1
    assert bcs["list"][0]["bc_info"]["bc_id"] in tiktok.business_centers
    assert bcs["page_info"]["total_number"] == 1
    advertisers = ok(
        call(client, "GET", "/oauth2/advertiser/get/", token, params={"app_id": APP_ID, "secret": SECRET})
    )["list"]
    assert [a["advertiser_id"] for a in advertisers] == tiktok.tokens[token].advertiser_ids
    assert tiktok.catalogs == {}
    assert tiktok.pixels == {}
    assert tiktok.business_profiles == {}


def test_cancel_returns_without_code(client: httpx.Client) -> None:
    answer = client.post(
        "/portal/auth",
        data={
            "app_id": APP_ID,
            "state": "st",
            "redirect_uri": REDIRECT,
            "external_data": external_data(),
            "decision": "cancel",
        },
    )
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert answer.status_code == 302
    assert "auth_code" not in query
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st"]


def test_external_data_hmac_and_app_id_are_checked(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    forged = external_data(key="another-key")
    page = client.get("/portal/auth", params={"app_id": APP_ID, "redirect_uri": REDIRECT, "external_data": forged})
    assert page.status_code == 400
    assert "verified" in page.text
    with pytest.raises(PortalError):
        tiktok.authorize(state="s", redirect_uri=REDIRECT, external_data=forged)
    unknown = client.get(
        "/portal/auth", params={"app_id": "123", "redirect_uri": REDIRECT, "external_data": external_data()}
    )
    assert unknown.status_code == 400
    assert "not registered" in unknown.text
    assert tiktok.authorize(state="s", redirect_uri=REDIRECT, external_data=external_data())


def test_auth_code_is_single_use_and_expires(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    code = tiktok.authorize(state="s", redirect_uri=REDIRECT, external_data=external_data())
    wrong_secret = call(
        client, "POST", "/oauth2/access_token/", json={"app_id": APP_ID, "secret": "nope", "auth_code": code}
    )
    assert wrong_secret["code"] == 40001
    ok(exchange(client, code))
    assert exchange(client, code)["code"] == 40110
    assert exchange(client, "not-a-code")["code"] == 40110

    late = tiktok.authorize(state="s", redirect_uri=REDIRECT, external_data=external_data())
    tiktok.clock.advance(3601)
    assert exchange(client, late)["code"] == 40110


def test_revoked_or_missing_token_answers_40105(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client)
    ok(call(client, "GET", "/bc/get/", token))
    ok(call(client, "POST", "/oauth2/revoke_token/", json={"app_id": APP_ID, "secret": SECRET, "access_token": token}))
    assert tiktok.tokens[token].revoked
    assert call(client, "GET", "/bc/get/", token)["code"] == 40105
    assert call(client, "GET", "/bc/get/")["code"] == 40105
    assert call(client, "GET", "/bc/get/", "unknown")["code"] == 40105


def test_missing_scope_or_foreign_business_center_answers_40001(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    theirs = connect(tiktok, client, external_business_id="2000")
    other_bc = profile(client, theirs, "2000")["bc_id"]
    tiktok.default_scope = [SCOPE_AD_ACCOUNT, SCOPE_BUSINESS_CENTER]
    mine = connect(tiktok, client)
    assert call(client, "GET", "/catalog/get/", mine, params={"bc_id": other_bc})["code"] == 40001
    assert call(client, "GET", "/bc/get/", mine)["code"] == 0
    tiktok.default_scope = list(tiktok.tokens[theirs].scope)
    full = connect(tiktok, client)
    assert call(client, "GET", "/catalog/get/", full, params={"bc_id": other_bc})["code"] == 40001


def test_reconnect_reuses_account_and_catalog_in_same_currency(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    first = profile(client, connect(tiktok, client))
    again = profile(client, connect(tiktok, client))
    assert (again["bc_id"], again["catalog_id"], again["pixel_code"]) == (
        first["bc_id"],
        first["catalog_id"],
        first["pixel_code"],
    )
    moved = profile(client, connect(tiktok, client, currency="USD"))
    assert moved["bc_id"] == first["bc_id"]
    assert moved["catalog_id"] != first["catalog_id"]
    assert tiktok.catalogs[moved["catalog_id"]].currency == "USD"


def test_profile_and_shop_connection(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client)
    query = {"business_platform": PLATFORM, "external_business_id": "1003"}

    def shop_connect() -> int:
        data = ok(call(client, "GET", "/tbp/shop/connection/get_status/", token, params=query))
        return int(data["connect_info"]["connect_status"]["connect"])

    assert shop_connect() != 2
    tiktok.approve_shop("1003")
    token = connect(tiktok, client)
    assert shop_connect() == 2
    ok(call(client, "POST", "/tbp/shop/connection/disconnect/", token, json=query))
    assert shop_connect() != 2
    ok(call(client, "POST", "/tbp/business_profile/disconnect/", token, json=query))
    assert profile(client, token) == {}
    assert not tiktok.business_profiles[(PLATFORM, "1003")].connected
    unknown = call(
        client,
        "POST",
        "/tbp/business_profile/disconnect/",
        token,
        json={"business_platform": PLATFORM, "external_business_id": "999"},
    )
    assert unknown["code"] == 40002


# -- catalogs and pixels ----------------------------------------------------------------------------
def test_catalog_create_and_list(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client, setup="advertiser_only")
    bc_id = tiktok.tokens[token].bc_ids[0]
    body = {
        "bc_id": bc_id,
        "name": "Rita's Shop",
        "catalog_type": "ECOM",
        "catalog_conf": {"region_code": "FR", "currency": "EUR"},
    }
    catalog_id = ok(call(client, "POST", "/catalog/create/", token, json=body))["catalog_id"]
    assert call(client, "POST", "/catalog/create/", token, json={**body, "name": "x" * 129})["code"] == 40002
    assert call(client, "POST", "/catalog/create/", token, json={**body, "name": ""})["code"] == 40002
    missing_conf = call(client, "POST", "/catalog/create/", token, json={**body, "catalog_conf": None})
    assert missing_conf["code"] == 40002
    assert "catalog_conf" in missing_conf["message"]
    malformed = client.post(API + "/catalog/create/", headers={"Access-Token": token}, content=b"{")
    assert malformed.json()["code"] == 40000

    listed = ok(call(client, "GET", "/catalog/get/", token, params={"bc_id": bc_id}))
    assert listed["list"] == [
        {
            "catalog_id": catalog_id,
            "catalog_name": "Rita's Shop",
            "catalog_type": "ECOM",
            "catalog_conf": {"region_code": "FR", "currency": "EUR"},
            "create_time": listed["list"][0]["create_time"],
        }
    ]
    assert listed["page_info"] == {"page": 1, "page_size": 10, "total_number": 1, "total_page": 1}
    assert tiktok.catalog_for(bc_id) is tiktok.catalogs[catalog_id]


def test_pixel_create_and_list(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client, setup="advertiser_only")
    advertiser_id = tiktok.tokens[token].advertiser_ids[0]
    created = ok(
        call(
            client, "POST", "/pixel/create/", token, json={"advertiser_id": advertiser_id, "pixel_name": "Rita's Shop"}
        )
    )
    assert tiktok.pixels[created["pixel_code"]].pixel_id == created["pixel_id"]
    too_long = call(
        client, "POST", "/pixel/create/", token, json={"advertiser_id": advertiser_id, "pixel_name": "p" * 41}
    )
    assert too_long["code"] == 40002
    assert "pixel_name" in too_long["message"]
    foreign = call(client, "POST", "/pixel/create/", token, json={"advertiser_id": "1", "pixel_name": "x"})
    assert foreign["code"] == 40001
    listed = ok(call(client, "GET", "/pixel/list/", token, params={"advertiser_id": advertiser_id}))
    assert listed["pixels"] == [
        {"pixel_id": created["pixel_id"], "pixel_code": created["pixel_code"], "pixel_name": "Rita's Shop"}
    ]


# -- products ---------------------------------------------------------------------------------------
def test_upload_stores_valid_products_and_logs_invalid_ones(tiktok: TikTokSandbox, store: Store) -> None:
    products = [
        product("1"),
        product("2", price_info={"price": "9.90", "currency": "EUR", "sale_price": 8}),
        product("3", price_info={"price": 10, "currency": "USD"}),
        product("5", availability="SOMETIMES"),
        product("6", price_info={"price": 10, "currency": "EUR", "sale_price": 11}),
        product("7\U0001f600"),
        product("8", additional_image_link=[f"https://img.example/{i}.jpg" for i in range(11)]),
        product("9", image_url="ftp://img.example/x.jpg"),
        product("10", landing_page={}),
        product("1"),
    ]
    log = store.log(ok(store.upload(products))["feed_log_id"])
    assert log["process_status"] == "SUCCESS"
    assert (log["add_count"], log["update_count"], log["error_count"]) == (2, 0, 8)
    errors = log["feed_log_data"]["error_affected_products"]
    by_field = {e["field"]: e for e in errors}
    assert set(by_field) == {
        "currency",
        "title",  # the emoji SKU's title carries its emoji
        "availability",
        "sale_price",
        "sku_id",
        "additional_image_link",
        "image_url",
        "landing_page_url",
    }
    assert by_field["currency"]["affected_product_item_list"][0]["sku_id"] == "3"
    assert "EUR" in by_field["currency"]["suggestion"]
    assert by_field["currency"]["issue"]
    sku_issues = {e["issue"]: e["affected_product_item_list"] for e in errors if e["field"] == "sku_id"}
    emoji_sku = "7\U0001f600"
    assert sku_issues == {
        # `index` counts rows of a file with a header: 2 is the first product of the request.
        "Invalid value: sku_id": [{"sku_id": emoji_sku, "index": 7, "title": f"Blue mug {emoji_sku}"}],
        "Duplicate value: sku_id": [{"sku_id": "1", "index": 11, "title": "Blue mug 1"}],
    }
    assert set(tiktok.catalogs[store.catalog_id].products) == {"1", "2"}
    assert tiktok.catalogs[store.catalog_id].products["1"].audit_status == "processing"


def test_upload_logs_titles_with_emoji_or_control_characters_and_bad_gtins(tiktok: TikTokSandbox, store: Store) -> None:
    products = [
        product("1", title="Summer Tee", global_trade_item_number="036000291452"),
        product("2", title="\U0001f525 Summer Tee \u2600\ufe0f"),
        product("3", title="Summer\u200bTee"),
        product("4", title="Summer\x07Tee"),
        product("5", global_trade_item_number="123"),
        product("6", global_trade_item_number="036000291453"),
        product("7", global_trade_item_number="96385074"),
        product("8", global_trade_item_number="4006381333931"),
        product("9", global_trade_item_number="10012345678902"),
    ]
    log = store.log(ok(store.upload(products))["feed_log_id"])

    assert (log["add_count"], log["error_count"]) == (4, 5)
    errors = {(e["field"], e["issue"]): e for e in log["feed_log_data"]["error_affected_products"]}
    assert set(errors) == {
        ("title", "Emojis and control characters are not allowed"),
        ("global_trade_item_number", "Invalid value: global_trade_item_number"),
    }
    titles = errors["title", "Emojis and control characters are not allowed"]
    assert [item["sku_id"] for item in titles["affected_product_item_list"]] == ["2", "3", "4"]
    assert titles["affected_product_count"] == 3
    gtins = errors["global_trade_item_number", "Invalid value: global_trade_item_number"]
    assert [(item["sku_id"], item["index"]) for item in gtins["affected_product_item_list"]] == [("5", 6), ("6", 7)]
    assert "check digit" in gtins["suggestion"]
    assert set(tiktok.catalogs[store.catalog_id].products) == {"1", "7", "8", "9"}


def test_feed_log_processes_asynchronously(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.feed_log_delay_seconds = 30.0
    feed_log_id = ok(store.upload([product("1"), product("2", availability="SOMETIMES")]))["feed_log_id"]
    pending = store.log(feed_log_id)
    assert pending["process_status"] == "PROCESSING"
    assert pending["feed_log_data"]["error_affected_products"] is None
    tiktok.clock.advance(30)
    done = store.log(feed_log_id)
    assert done["process_status"] == "SUCCESS"
    assert (done["add_count"], done["error_count"]) == (1, 1)
    unknown = call(
        store.client, "GET", "/catalog/product/log/", store.token, params={**store.ids(), "feed_log_id": "1"}
    )
    assert unknown["code"] == 40002


def test_upload_limits(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.max_products_per_upload = 3
    too_many = store.upload([product(str(i)) for i in range(4)])
    assert too_many["code"] == 40002
    assert "products" in too_many["message"]
    assert store.upload([])["code"] == 40002
    foreign = call(
        store.client,
        "POST",
        "/catalog/product/upload/",
        store.token,
        json={"bc_id": store.bc_id, "catalog_id": "42", "products": [product("1")]},
    )
    assert foreign["code"] == 40001


def test_upload_is_an_upsert_and_changes_go_back_to_review(tiktok: TikTokSandbox, store: Store) -> None:
    ok(store.upload([product("1"), product("2")]))
    tiktok.clock.advance(61)
    assert [p["audit"]["audit_status"] for p in ok(store.get())["list"]] == ["approved", "approved"]
    log = store.log(ok(store.upload([product("1"), product("2", title="Red mug")]))["feed_log_id"])
    assert (log["add_count"], log["update_count"]) == (0, 2)
    items = {p["sku_id"]: p for p in ok(store.get())["list"]}
    assert items["1"]["audit"]["audit_status"] == "approved"
    assert items["2"]["audit"]["audit_status"] == "processing"
    assert items["2"]["title"] == "Red mug"
    assert list(items) == ["1", "2"]  # an update keeps the item's place


def test_delete(tiktok: TikTokSandbox, store: Store) -> None:
    ok(store.upload([product("1"), product("2")]))
    body = {**store.ids(), "sku_ids": ["1", "unknown"]}
    log = store.log(ok(call(store.client, "POST", "/catalog/product/delete/", store.token, json=body))["feed_log_id"])
    assert log["delete_count"] == 1
    assert log["error_count"] == 0
    assert set(tiktok.catalogs[store.catalog_id].products) == {"2"}
    too_many = call(
        store.client,
        "POST",
        "/catalog/product/delete/",
        store.token,
        json={**store.ids(), "sku_ids": [str(i) for i in range(1001)]},
    )
    assert too_many["code"] == 40002
    assert "sku_ids" in too_many["message"]
    tiktok.clock.advance(1.01)  # delete allows 2 QPS
    ok(
        call(
            store.client,
            "POST",
            "/catalog/product/delete/",
            store.token,
            json={**store.ids(), "sku_ids": [str(i) for i in range(1000)]},
        )
    )


def test_product_get_filters_and_pages(store: Store) -> None:
    ok(store.upload([product(f"sku-{i:02}") for i in range(25)]))
    third = ok(store.get(page=3, page_size=10))
    assert [p["sku_id"] for p in third["list"]] == [f"sku-{i:02}" for i in range(20, 25)]
    assert third["page_info"] == {"page": 3, "page_size": 10, "total_number": 25, "total_page": 3}
    first = ok(store.get())["list"][0]
    assert first["price_info"] == {"price": 12.5, "currency": "EUR"}
    assert first["product_id"]
    assert first["audit"] == {"audit_status": "processing"}
    assert first["active_status"] == "ACTIVATED"
    chosen = ok(store.get(sku_ids=json.dumps(["sku-03", "sku-07", "nope"])))
    assert [p["sku_id"] for p in chosen["list"]] == ["sku-03", "sku-07"]
    assert store.get(page_size=501)["code"] == 40002
    assert store.get(page=201, page_size=500)["code"] == 40002
    assert store.get(sku_ids=json.dumps([str(i) for i in range(1001)]))["code"] == 40002
    assert store.get(sku_ids="not json")["code"] == 40000


def test_review_approves_or_rejects_after_delay(tiktok: TikTokSandbox, store: Store) -> None:
    ok(store.upload([product("1"), product("2", description="A Replica of a famous watch.")]))
    overview_query = {"params": store.ids()}
    assert ok(call(store.client, "GET", "/catalog/overview/", store.token, **overview_query)) == {
        "approved": 0,
        "processing": 2,
        "rejected": 0,
    }
    tiktok.clock.advance(59)
    assert ok(store.get())["list"][0]["audit"]["audit_status"] == "processing"
    tiktok.clock.advance(2)
    items = {p["sku_id"]: p for p in ok(store.get())["list"]}
    assert items["1"]["audit"]["audit_status"] == "approved"
    assert items["1"]["ad_creation_eligible"] == "AVAILABLE"
    rejected = items["2"]["audit"]
    assert rejected["audit_status"] == "rejected"
    assert items["2"]["ad_creation_eligible"] == "NOT_AVAILABLE"
    assert "replica" in rejected["reject_info"][0]["reason"].lower()
    assert rejected["reject_info"][0]["suggestion"]
    assert rejected["reject_info"][0]["affected_country"] == ["FR"]
    assert ok(call(store.client, "GET", "/catalog/overview/", store.token, **overview_query)) == {
        "approved": 1,
        "processing": 0,
        "rejected": 1,
    }


def test_review_now_and_custom_rules(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.rejection_rules.append(lambda fields: ("No mugs.", "Sell cups.") if "mug" in fields["title"] else None)
    ok(store.upload([product("1")]))
    assert tiktok.review_now() == 1
    item = tiktok.catalogs[store.catalog_id].products["1"]
    assert item.audit_status == "rejected"
    assert item.reject_info[0]["reason"] == "No mugs."


def test_unusable_image_keeps_product_processing(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.image_checker = lambda url: "FILTERED" if "small" in url else "SUCCESS"
    ok(store.upload([product("1", image_url="https://img.example/small.jpg"), product("2")]))
    tiktok.review_now()
    items = {p["sku_id"]: p for p in ok(store.get())["list"]}
    assert items["1"]["audit"]["audit_status"] == "processing"
    assert items["1"]["image_status"] == "FILTERED"
    assert items["2"]["audit"]["audit_status"] == "approved"


def test_event_track(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    token = connect(tiktok, client)
    pixel_code = profile(client, token)["pixel_code"]
    event = {
        "event": "Purchase",
        "event_time": int(tiktok.clock.now()),
        "event_id": "order-1",
        "user": {},
        "properties": {"currency": "EUR", "value": 12.5},
        "page": {"url": "https://rita.example/checkout"},
    }
    ok(
        call(
            client,
            "POST",
            "/event/track/",
            token,
            json={"event_source": "web", "event_source_id": pixel_code, "data": [event]},
        )
    )
    assert tiktok.events[0].event["event_id"] == "order-1"
    bad = call(
        client,
        "POST",
        "/event/track/",
        token,
        json={"event_source": "web", "event_source_id": pixel_code, "data": [{"event": "Purchase"}]},
    )
    assert bad["code"] == 40002


# -- rate limits and faults -----------------------------------------------------------------------------
def test_qps_limit_refuses_one_call_without_pausing(tiktok: TikTokSandbox, store: Store) -> None:
    codes = [store.upload([product("1")])["code"] for _ in range(6)]
    assert codes[:5] == [0] * 5
    assert codes[5] == 40100
    assert tiktok.paused_until is None
    tiktok.clock.advance(1.01)
    assert store.upload([product("1")])["code"] == 0


def test_per_minute_limit_pauses_the_whole_app(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.rate_limits["upload"].per_minute = 10  # TikTok's 300 cannot be reached at 5 QPS in a sliding window
    tiktok.penalty_seconds = 300.0
    for _ in range(10):
        assert store.upload([product("1")])["code"] == 0
        tiktok.clock.advance(0.25)
    refused = store.upload([product("1")])
    assert refused["code"] == 40100
    assert refused["data"] == {}
    assert tiktok.paused_until is not None
    assert tiktok.paused_until > tiktok.clock.now() + 299
    assert call(store.client, "GET", "/bc/get/", store.token)["code"] == 40100  # every endpoint waits
    tiktok.clock.advance(290)
    assert call(store.client, "GET", "/bc/get/", store.token)["code"] == 40100
    tiktok.clock.advance(11)
    assert call(store.client, "GET", "/bc/get/", store.token)["code"] == 0
    assert store.upload([product("1")])["code"] == 0


def test_rate_limits_can_be_switched_off(tiktok: TikTokSandbox, store: Store) -> None:
    tiktok.enforce_rate_limits = False
    assert all(call(store.client, "GET", "/bc/get/", store.token)["code"] == 0 for _ in range(15))


def test_injected_faults(tiktok: TikTokSandbox, store: Store) -> None:
    upload = API + "/catalog/product/upload/"
    body = {**store.ids(), "products": [product("1")]}
    headers = {"Access-Token": store.token}

    tiktok.faults.add(FaultRule("http_5xx", path_prefix=upload, count=1))
    assert store.client.post(upload, json=body, headers=headers).status_code == 503

    tiktok.faults.add(FaultRule("rate_limit", path_prefix=upload, count=1))
    assert store.upload([product("1")])["code"] == 40100

    tiktok.faults.add(FaultRule("drop", path_prefix=upload, count=1))
    with pytest.raises(httpx.RemoteProtocolError):
        store.client.post(upload, json=body, headers=headers)
    assert "1" not in tiktok.catalogs[store.catalog_id].products

    tiktok.faults.add(FaultRule("applied_timeout", path_prefix=upload, count=1, delay_seconds=0.5))
    with pytest.raises(httpx.ReadTimeout):
        store.client.post(upload, json=body, headers=headers, timeout=0.2)
    assert "1" in tiktok.catalogs[store.catalog_id].products  # applied, though the caller never heard


def test_unknown_path_is_a_gateway_404(client: httpx.Client) -> None:
    assert client.get(API + "/no/such/endpoint/").status_code == 404


def test_image_checker_reads_sizes_from_a_loopback_image_host(tiktok: TikTokSandbox, store: Store) -> None:
    def image(side: int, fmt: str) -> bytes:
        buffer = BytesIO()
        Image.new("RGB", (side, side), "white").save(buffer, fmt)
        return buffer.getvalue()

    images = {"big.jpg": image(600, "JPEG"), "small.png": image(300, "PNG"), "text.jpg": b"not an image"}
    host = Sandbox()  # a bare image host, as the sandbox Ecwid is in the local run

    def serve(request: Request) -> Response:
        body = images.get(request.path_params["name"])
        return Response(200, body, {"Content-Type": "image/jpeg"}) if body else Response(404)

    host.route("GET", "/img/{name}", serve)
    base = host.start()
    try:
        assert fetch_image_status(f"{base}/img/big.jpg") == "SUCCESS"
        assert fetch_image_status(f"{base}/img/small.png") == "FILTERED"
        assert fetch_image_status(f"{base}/img/text.jpg") == "NOT_SUPPORTED"
        assert fetch_image_status(f"{base}/img/gone.jpg") == "NO_FOUND"
        tiktok.image_checker = fetch_image_status
        ok(
            store.upload(
                [product("1", image_url=f"{base}/img/small.png"), product("2", image_url=f"{base}/img/big.jpg")]
            )
        )
        tiktok.review_now()
        products = tiktok.catalogs[store.catalog_id].products
        assert (products["1"].audit_status, products["1"].image_status) == ("processing", "FILTERED")
        assert (products["2"].audit_status, products["2"].image_status) == ("approved", "SUCCESS")
    finally:
        host.stop()
