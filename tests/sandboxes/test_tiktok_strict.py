"""The sandbox TikTok is as strict as tiktok-api.md: whole-request refusals, five items per feed-log issue with
the full list in a file, expiry after 30 days, 1,000 uploads per hour per catalog, price against the page."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from sandboxes.ecwid import EcwidSandbox
from sandboxes.tiktok import TikTokSandbox
from sandboxes.tiktok_catalog import PAGE_PRICE_ISSUE, refuse_skus
from tests.sandboxes.test_tiktok_sandbox import Store, call, connect, ok, product, profile
from tests.sandboxes.test_tiktok_sandbox import client as client  # the module's fixtures
from tests.sandboxes.test_tiktok_sandbox import store as store
from tests.sandboxes.test_tiktok_sandbox import tiktok as tiktok

DAY = 86_400.0


class OtherStore(Store):
    """A second merchant: its own Business Center and catalog."""

    def __init__(self, tiktok: TikTokSandbox, client: httpx.Client) -> None:
        self.client = client
        self.token = connect(tiktok, client, external_business_id="2000")
        data = profile(client, self.token, "2000")
        self.bc_id, self.catalog_id = data["bc_id"], data["catalog_id"]


def skus(store: Store) -> list[str]:
    return [p["sku_id"] for p in ok(store.get(page_size=500))["list"]]


def overview(store: Store) -> dict[str, Any]:
    return ok(call(store.client, "GET", "/catalog/overview/", store.token, params=store.ids()))


# -- one refused product refuses the whole request ---------------------------------------------------------
@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("field", 'products.title: must not be empty (value: "")'),
        ("index", "products[2].title: must not be empty"),
        ("sku_id", "products.title: must not be empty (sku_id: 3)"),
    ],
)
def test_an_empty_title_refuses_the_whole_request_and_applies_nothing(
    tiktok: TikTokSandbox, store: Store, names: str, message: str
) -> None:
    tiktok.refusal_message_names = names  # type: ignore[assignment]
    ok(store.upload([product("1")]))
    before = tiktok.catalogs[store.catalog_id].products["1"]
    refreshed, logs = before.refreshed_at, len(tiktok.feed_logs)
    tiktok.clock.advance(1)

    refused = store.upload(
        [product("1", title="Red mug"), product("2"), product("3", title=""), product("4", image_url="")]
    )

    assert (refused["code"], refused["message"], refused["data"]) == (40002, message, {})
    assert len(tiktok.feed_logs) == logs  # no feed log
    assert skus(store) == ["1"]
    item = tiktok.catalogs[store.catalog_id].products["1"]
    assert (item.fields["title"], item.refreshed_at) == ("Blue mug 1", refreshed)


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        ({"sku_id": ""}, "sku_id", '""'),
        ({"sku_id": None}, "sku_id", "null"),
        ({"title": "   "}, "title", '"   "'),
        ({"title": None}, "title", "null"),
        ({"description": ""}, "description", '""'),
        ({"image_url": None}, "image_url", "null"),
        ({"price_info": {"price": 0, "currency": "EUR"}}, "price_info.price", "0"),
        ({"price_info": {"price": "0.00", "currency": "EUR"}}, "price_info.price", '"0.00"'),
        ({"price_info": {"currency": "EUR"}}, "price_info.price", "null"),
        ({"price_info": None}, "price_info.price", "null"),
    ],
)
def test_each_empty_value_refuses_the_request(
    tiktok: TikTokSandbox, store: Store, overrides: dict[str, Any], field: str, value: str
) -> None:
    item = {k: v for k, v in {**product("9"), **overrides}.items() if v is not None}
    refused = store.upload([product("1"), item])
    assert refused["code"] == 40002
    assert refused["message"].startswith(f"products.{field}: ")
    assert refused["message"].endswith(f"(value: {value})")
    assert tiktok.catalogs[store.catalog_id].products == {}


def test_refuse_skus_names_only_the_first_offending_product_and_cuts_its_value(
    tiktok: TikTokSandbox, store: Store
) -> None:
    tiktok.request_refusal_rules.append(refuse_skus({"7", "8"}))
    long_title = "FREE SHIPPING " + "x" * 100
    refused = store.upload([product("1"), product("8", title=long_title), product("7")])
    assert refused["code"] == 40002
    prefix = "products.title: Promotional text is not allowed in titles (value: "
    assert refused["message"] == prefix + json.dumps(long_title)[:60] + ")"
    tiktok.refusal_message_names = "sku_id"
    assert store.upload([product("1"), product("8"), product("7")])["message"].endswith("(sku_id: 8)")
    tiktok.refusal_message_names = "index"
    assert store.upload([product("1"), product("7"), product("8")])["message"].startswith("products[1].title: ")
    assert tiktok.catalogs[store.catalog_id].products == {}
    # The other SKUs go through; a per-product problem stays a feed-log error of that product.
    log = store.log(ok(store.upload([product("1"), product("2", title="Mug \U0001f525")]))["feed_log_id"])
    assert (log["add_count"], log["error_count"]) == (1, 1)
    assert log["feed_log_data"]["error_affected_products"][0]["field"] == "title"


def test_request_level_problems_keep_their_codes_and_name_their_parameter(tiktok: TikTokSandbox, store: Store) -> None:
    def upload(body: dict[str, Any]) -> dict[str, Any]:
        return call(store.client, "POST", "/catalog/product/upload/", store.token, json=body)

    assert upload({"catalog_id": store.catalog_id, "products": [product("1")]})["message"] == "bc_id: required."
    missing = upload({"bc_id": store.bc_id, "products": [product("1")]})
    assert (missing["code"], missing["message"]) == (40002, "catalog_id: required.")
    foreign = upload({**store.ids(), "catalog_id": "42", "products": [product("1")]})
    assert foreign["code"] == 40001
    assert foreign["message"].startswith("catalog_id: ")
    not_list = upload({**store.ids(), "products": {"sku_id": "1"}})
    assert (not_list["code"], not_list["message"]) == (40000, "products: must be a list.")
    tiktok.max_products_per_upload = 2
    too_many = upload({**store.ids(), "products": [product(str(i)) for i in range(3)]})
    assert (too_many["code"], too_many["message"]) == (40002, "products: length must be between 1 and 2.")


# -- feed log: five items per issue, the full list in a file -------------------------------------------------
def test_feed_log_names_five_per_issue_and_its_file_lists_every_failed_product(
    tiktok: TikTokSandbox, store: Store
) -> None:
    bad = [product(f"b{i}", availability="SOMETIMES") for i in range(7)]
    bad[0]["title"] = "Mug \u200b"  # a second issue on the first product
    log = store.log(ok(store.upload([*bad, product("good")]))["feed_log_id"])

    assert (log["add_count"], log["error_count"]) == (1, 7)
    groups = {g["field"]: g for g in log["feed_log_data"]["error_affected_products"]}
    availability = groups["availability"]
    assert availability["affected_product_count"] == 7
    assert [(i["sku_id"], i["index"]) for i in availability["affected_product_item_list"]] == [
        (f"b{i}", i + 2) for i in range(5)
    ]
    assert [i["index"] for i in groups["title"]["affected_product_item_list"]] == [2]
    url = f"{tiktok.base_url}/_files/feed_logs/{log['feed_log_id']}.csv"
    assert log["feed_log_data"]["download_path"] == {"en": url}

    response = httpx.get(url)  # no Access-Token, as a signed link
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "index,sku_id,title,field,issue,suggestion"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["index"], r["sku_id"], r["field"]) for r in rows] == [
        ("2", "b0", "title"),
        ("2", "b0", "availability"),
        *[(str(i + 2), f"b{i}", "availability") for i in range(1, 7)],
    ]
    assert rows[0]["issue"] == "Emojis and control characters are not allowed"
    assert rows[2]["title"] == "Blue mug b1"
    assert rows[2]["suggestion"]

    tiktok.max_affected_items_listed = None
    log = store.log(ok(store.upload(bad))["feed_log_id"])
    groups = {g["field"]: g for g in log["feed_log_data"]["error_affected_products"]}
    assert len(groups["availability"]["affected_product_item_list"]) == 7


def test_feed_log_without_errors_has_no_file(tiktok: TikTokSandbox, store: Store) -> None:
    feed_log_id = ok(store.upload([product("1")]))["feed_log_id"]
    log = store.log(feed_log_id)
    assert log["feed_log_data"]["download_path"] == {}
    assert log["feed_log_data"]["error_affected_products"] is None
    assert httpx.get(f"{tiktok.base_url}/_files/feed_logs/{feed_log_id}.csv").status_code == 404
    assert httpx.get(f"{tiktok.base_url}/_files/feed_logs/123.csv").status_code == 404


# -- expiry --------------------------------------------------------------------------------------------------
def test_products_expire_30_days_after_their_last_upload_and_a_re_upload_refreshes_them(
    tiktok: TikTokSandbox, store: Store
) -> None:
    assert tiktok.product_expiry_seconds == 30 * DAY
    ok(store.upload([product("1"), product("2")]))
    tiktok.clock.advance(61)
    assert overview(store)["approved"] == 2
    tiktok.clock.advance(29 * DAY)
    ok(store.upload([product("1")]))  # unchanged: refreshed, not reviewed again
    assert [p["audit"]["audit_status"] for p in ok(store.get())["list"]] == ["approved", "approved"]

    tiktok.clock.advance(DAY - 62)  # "2" is one second short of 30 days
    assert skus(store) == ["1", "2"]
    tiktok.clock.advance(2)
    assert skus(store) == ["1"]
    assert overview(store) == {"approved": 1, "processing": 0, "rejected": 0}
    assert ok(store.get(sku_ids=json.dumps(["2"])))["list"] == []

    tiktok.clock.advance(30 * DAY)
    tiktok.apply_due_reviews()  # Python access: purges like any request
    assert tiktok.catalogs[store.catalog_id].products == {}
    assert overview(store)["approved"] == 0
    log = store.log(ok(store.upload([product("1")]))["feed_log_id"])
    assert (log["add_count"], log["update_count"]) == (1, 0)  # gone means new again


# -- 1,000 upload requests per hour per catalog ----------------------------------------------------------
def test_the_1001st_upload_in_an_hour_answers_40100_for_that_catalog_only(
    tiktok: TikTokSandbox, store: Store, client: httpx.Client
) -> None:
    other = OtherStore(tiktok, client)
    start = tiktok.clock.now()
    for _ in range(1000):
        tiktok.clock.advance(0.25)  # inside the app-wide 5 QPS and 300 per minute
        assert store.upload([product("1")])["code"] == 0
    tiktok.clock.advance(0.25)
    limited = store.upload([product("1")])
    assert (limited["code"], limited["data"]) == (40100, {})
    assert "catalog_id" in limited["message"]
    assert tiktok.paused_until is None  # no app-wide pause
    assert ok(other.upload([product("1")]))
    assert ok(store.get())  # other endpoints of the catalog still answer
    tiktok.clock.advance(start + 3600.25 - tiktok.clock.now() + 0.01)  # the first upload left the hour
    assert store.upload([product("1")])["code"] == 0
    assert store.upload([product("1")])["code"] == 40100


def test_refused_uploads_count_toward_the_hour_and_the_limit_can_be_switched_off(
    tiktok: TikTokSandbox, store: Store
) -> None:
    tiktok.catalog_uploads_per_hour = 2
    assert store.upload([product("1", title="")])["code"] == 40002
    tiktok.clock.advance(1)
    assert store.upload([product("1")])["code"] == 0
    tiktok.clock.advance(1)
    assert store.upload([product("1")])["code"] == 40100
    tiktok.enforce_rate_limits = False
    assert store.upload([product("1")])["code"] == 0


# -- price against the product page --------------------------------------------------------------------------
def test_price_that_differs_from_the_page_is_a_feed_log_error(tiktok: TikTokSandbox, store: Store) -> None:
    pages: dict[str, tuple[float, float | None]] = {
        "same": (12.5, None),
        "sale": (15.0, 12.5),
        "near": (12.5, None),
        "higher": (13.0, None),
        "sale-missing": (15.0, 12.5),
        "sale-extra": (12.5, None),
        "sale-differs": (15.0, 12.0),
    }
    tiktok.page_prices = pages.get
    eur = {"currency": "EUR"}
    products = [
        product("same"),
        product("sale", price_info={"price": 15, "sale_price": "12.50", **eur}),
        product("near", price_info={"price": 12.504, **eur}),
        product("unknown-page"),
        product("higher"),
        product("sale-missing", price_info={"price": 15, **eur}),
        product("sale-extra", price_info={"price": 12.5, "sale_price": 10, **eur}),
        product("sale-differs", price_info={"price": 15, "sale_price": 12.5, **eur}),
    ]
    log = store.log(ok(store.upload(products))["feed_log_id"])

    assert (log["add_count"], log["error_count"]) == (4, 4)
    (group,) = log["feed_log_data"]["error_affected_products"]
    assert (group["field"], group["issue"]) == ("price_info.price", PAGE_PRICE_ISSUE)
    assert "landing page" in group["suggestion"]
    assert group["affected_product_count"] == 4
    assert [i["sku_id"] for i in group["affected_product_item_list"]] == [
        "higher",
        "sale-missing",
        "sale-extra",
        "sale-differs",
    ]
    assert skus(store) == ["same", "sale", "near", "unknown-page"]


def test_ecwid_page_prices_are_what_the_storefront_shows() -> None:
    ecwid = EcwidSandbox()
    shop = ecwid.add_store(1003, country="DE", currency="EUR")
    shop.profile.tax_in_prices = 20.0
    plain = shop.add_product("Mug", 10.0)
    on_sale = shop.add_product("Cup", 10.0, compare_to_price=15.0)
    inherited = shop.add_combination(on_sale, {"Size": "S"})
    cheaper = shop.add_combination(on_sale, {"Size": "M"}, price=8.0)
    own_compare = shop.add_combination(on_sale, {"Size": "L"}, compare_to_price=11.0)
    below = shop.add_combination(on_sale, {"Size": "XL"}, compare_to_price=9.0)

    assert ecwid.page_prices(str(plain)) == (12.0, None)
    assert ecwid.page_prices(str(on_sale)) == (18.0, 12.0)
    assert ecwid.page_prices(f"{on_sale}-{inherited}") == (18.0, 12.0)
    assert ecwid.page_prices(f"{on_sale}-{cheaper}") == (18.0, 9.6)
    assert ecwid.page_prices(f"{on_sale}-{own_compare}") == (13.2, 12.0)
    assert ecwid.page_prices(f"{on_sale}-{below}") == (12.0, None)  # a compare-to below the price is no sale
    for unknown in ("999", f"{plain}-1", "abc", f"{on_sale}-x", ""):
        assert ecwid.page_prices(unknown) is None
