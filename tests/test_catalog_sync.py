"""Journeys 3 and 4, full sync: what the store should show is what the TikTok catalog holds.

Stores are built in the sandbox Ecwid, connected through the real callback, and synced by the real
catalog worker fed from the queue; assertions read the sandbox TikTok catalog and DynamoDB.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandboxes.ecwid import EcwidStore, Variation
from sandboxes.ecwid_catalog import Choice, ProductOption
from sandboxes.tiktok_catalog import ProductIssue
from tests.app_stack import AppStack

STORE = 1003


def connect_and_sync(stack: AppStack, store: EcwidStore, setup: str = "business_profile") -> None:
    assert stack.connect(store.store_id, setup=setup).status_code == 302
    assert stack.run_worker() >= 1
    assert stack.store_item(store.store_id)["sync"]["state"] == "idle"


def sync_now(stack: AppStack, store_id: int = STORE, session: str | None = None) -> dict[str, Any]:
    """Press "Sync Products" and let the worker run."""
    session = session or stack.open_session(store_id)
    answer = stack.http.post(f"/api/stores/{store_id}/sync", headers={"Authorization": f"Bearer {session}"})
    assert answer.status_code == 202, answer.text
    stack.run_worker()
    return dict(answer.json())


def test_first_sync_uploads_exactly_what_the_store_shows(stack: AppStack):
    store = stack.ecwid.add_store(STORE, currency="USD")
    shown = store.add_category("Mugs")
    hidden_parent = store.add_category("Archive", enabled=False)
    under_hidden = store.add_category("Old mugs", parent_id=hidden_parent)
    plain = store.add_product("Blue mug", 12.5, category_ids=[shown], description="<p>Holds <b>350&nbsp;ml</b></p>")
    only_hidden = store.add_product("Cracked mug", 3, category_ids=[under_hidden])
    both = store.add_product("Green mug", 14, category_ids=[shown, under_hidden])
    nowhere = store.add_product("Gift card", 25, category_ids=[])
    disabled = store.add_product("Prototype", 99, category_ids=[shown], enabled=False)
    on_sale = store.add_product("Teapot", 15, compare_to_price=20, category_ids=[shown], brand="Kiln & Co")
    shirt = store.add_product(
        "T-shirt",
        20,
        category_ids=[shown],
        combinations=[
            Variation({"Size": "S"}),
            Variation({"Size": "M"}, price=22, quantity=0),
            Variation({"Size": "L"}, image=(900, 900, "png")),
        ],
    )
    small_image = store.add_product("Tiny print", 8, category_ids=[shown], image=(300, 300, "jpg"))
    free = store.add_product("Sticker", 0, category_ids=[shown])

    connect_and_sync(stack, store)

    catalog = stack.tiktok_catalog(STORE)
    variations = [f"{shirt}-{c.id}" for c in store.products[shirt].combinations]
    assert set(catalog) == {str(plain), str(both), str(nowhere), str(on_sale), *variations}
    assert str(only_hidden) not in catalog
    assert str(disabled) not in catalog
    blue = catalog[str(plain)]
    assert blue["title"] == "Blue mug"
    assert blue["description"] == "Holds 350 ml"
    assert blue["price_info"] == {"price": 12.5, "currency": "USD"}
    assert blue["availability"] == "IN_STOCK"
    assert blue["landing_page"]["landing_page_url"] == f"{store.profile.store_url}/Blue-mug-p{plain}"
    assert catalog[str(on_sale)]["price_info"] == {"price": 20, "sale_price": 15, "currency": "USD"}
    assert catalog[str(on_sale)]["brand"] == "Kiln & Co"
    assert {catalog[v]["item_group_id"] for v in variations} == {str(shirt)}
    assert catalog[variations[1]]["price_info"]["price"] == 22
    assert catalog[variations[1]]["availability"] == "OUT_OF_STOCK"
    assert catalog[variations[2]]["image_url"] != catalog[variations[0]]["image_url"]

    skus = stack.sku_items(STORE)
    assert skus[str(small_image)]["status"] == "held_back"
    assert "500" in skus[str(small_image)]["reasons"][0]["message"]
    assert skus[str(free)]["status"] == "held_back"
    status = stack.status(STORE)
    # Products the store's own settings keep off (disabled, only in hidden categories): one item each, with why.
    assert status["products"] == {"listed": 0, "pending": 7, "rejected": 0, "held_back": 2, "excluded": 2}
    assert status["sync"]["state"] == "idle"
    assert status["sync"]["last_finished_at"]
    assert status["sync"]["next_at"]  # from the template's twice-daily schedule


def test_resync_with_nothing_changed_writes_nothing(stack: AppStack):
    store = stack.ecwid.add_demo_store(STORE)
    connect_and_sync(stack, store)
    before = stack.sku_items(STORE)
    stack.tiktok.reset_calls()

    session = stack.open_session(STORE)
    headers = {"Authorization": f"Bearer {session}"}
    first = stack.http.post(f"/api/stores/{STORE}/sync", headers=headers)
    second = stack.http.post(f"/api/stores/{STORE}/sync", headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["job_id"] == second.json()["job_id"]
    assert len(stack.queued_messages()) == 1
    stack.run_worker()

    writes = [c for c in stack.tiktok.calls if c.path.endswith(("/product/upload/", "/product/delete/"))]
    assert writes == []
    assert stack.sku_items(STORE) == before


def test_edits_reach_tiktok_at_the_next_sync(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mugs = store.add_category("Mugs")
    sale = store.add_category("Sale")
    mug = store.add_product("Mug", 10, category_ids=[mugs])
    cup = store.add_product("Cup", 5, category_ids=[sale])
    print_ = store.add_product("Print", 8, category_ids=[mugs], image=(300, 300, "jpg"))
    shirt = store.add_product(
        "Shirt", 20, category_ids=[mugs], combinations=[Variation({"Size": "S"}), Variation({"Size": "M"})]
    )
    gone = store.add_product("Old stock", 4, category_ids=[mugs])
    connect_and_sync(stack, store)
    small, medium = store.products[shirt].combinations

    store.update_product(mug, price=11)
    store.update_category(sale, enabled=False)
    store.update_product(print_, image=(800, 800, "jpg"))
    store.remove_combination(shirt, medium.id)
    store.delete_product(gone)
    sync_now(stack)

    catalog = stack.tiktok_catalog(STORE)
    assert set(catalog) == {str(mug), str(print_), f"{shirt}-{small.id}"}
    assert catalog[str(mug)]["price_info"]["price"] == 11
    assert (stack.sku_items(STORE)[str(cup)]["status"], stack.sku_items(STORE)[str(cup)]["on_tiktok"]) == (
        "excluded",  # its only category is hidden now: off TikTok, listed as kept off by the store's settings
        False,
    )
    assert stack.sku_items(STORE)[str(print_)]["status"] == "pending"


def test_replace_mode_removes_what_the_catalog_held_before_and_full_mode_does_not(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    kept = store.add_product("Mug", 10)
    assert stack.connect(STORE, setup="business_profile").status_code == 302
    item = stack.store_item(STORE)
    stale = [f"OLD-{n}" for n in range(25)]
    upload_directly(stack, item, stale)  # what the merchant's catalog held before connecting

    stack.run_worker()  # the first sync, in "replace" mode

    assert set(stack.tiktok_catalog(STORE)) == {str(kept)}
    upload_directly(stack, item, ["ADDED-IN-TIKTOK"])
    sync_now(stack)  # a full sync leaves what it did not create... unless it is a replace
    assert set(stack.tiktok_catalog(STORE)) == {str(kept), "ADDED-IN-TIKTOK"}


def test_feed_log_failures_keep_tiktoks_reason_and_are_sent_again(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    good = store.add_product("Mug", 10)
    refused = store.add_product("Teapot", 30)
    rule = _refuse_sku(str(refused))
    stack.tiktok.ingestion_rules.append(rule)

    connect_and_sync(stack, store)

    assert set(stack.tiktok_catalog(STORE)) == {str(good)}
    record = stack.sku_items(STORE)[str(refused)]
    assert record["status"] == "rejected"
    assert "hash" not in record
    assert record["reasons"][0]["message"] == "Landing page domain is not verified"
    assert record["reasons"][0]["suggestion"] == "Verify your domain in TikTok Business Center."
    assert stack.status(STORE)["products"]["rejected"] == 1

    stack.tiktok.ingestion_rules.remove(rule)
    stack.tiktok.reset_calls()
    sync_now(stack)

    assert set(stack.tiktok_catalog(STORE)) == {str(good), str(refused)}
    [upload] = stack.tiktok.calls_to("/open_api/v1.3/catalog/product/upload/")
    assert str(refused) in upload.body.decode()
    assert f'"sku_id": "{good}"' not in upload.body.decode()


def test_review_outcomes_are_shown_with_tiktoks_reason(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    fine = store.add_product("Mug", 10)
    fake = store.add_product("Replica designer bag", 50)
    connect_and_sync(stack, store)
    stack.tiktok.review_now()

    sync_now(stack)

    skus = stack.sku_items(STORE)
    assert skus[str(fine)]["status"] == "listed"
    assert skus[str(fake)]["status"] == "rejected"
    assert skus[str(fake)]["reasons"][0]["message"]
    assert stack.status(STORE)["products"] == {"listed": 1, "pending": 0, "rejected": 1, "held_back": 0}


# -- helpers ------------------------------------------------------------------------------------
def upload_directly(stack: AppStack, item: dict[str, Any], sku_ids: list[str]) -> None:
    token = next(iter(stack.tiktok.tokens))
    products = [
        {
            "sku_id": sku,
            "title": f"Old {sku}",
            "description": "From before",
            "availability": "IN_STOCK",
            "image_url": "https://example.com/a.jpg",
            "price_info": {"price": 5, "currency": "USD"},
            "landing_page": {"landing_page_url": "https://example.com/p"},
        }
        for sku in sku_ids
    ]
    answer = httpx.post(
        f"{stack.tiktok.base_url}/open_api/v1.3/catalog/product/upload/",
        headers={"Access-Token": token},
        json={"bc_id": item["tiktok"]["bc_id"], "catalog_id": item["tiktok"]["catalog_id"], "products": products},
    )
    assert answer.json()["code"] == 0, answer.text


def _refuse_sku(sku_id: str):
    def rule(product: dict[str, Any]) -> ProductIssue | None:
        if product.get("sku_id") == sku_id:
            return ProductIssue(
                "landing_page", "Landing page domain is not verified", "Verify your domain in TikTok Business Center."
            )
        return None

    return rule


def test_a_product_that_stops_qualifying_leaves_tiktok_and_shows_why(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    shown = store.add_category("Mugs")
    mug = store.add_product("Mug", 10, category_ids=[shown])
    stamp = store.add_product("Stamp", 2, category_ids=[shown], image=(200, 200, "png"))
    connect_and_sync(stack, store)
    assert stack.sku_items(STORE)[str(stamp)]["status"] == "held_back"
    stack.tiktok.reset_calls()

    store.update_product(mug, image=(300, 300, "jpg"))  # now too small for TikTok
    sync_now(stack)

    assert stack.tiktok_catalog(STORE) == {}
    [delete] = stack.tiktok.calls_to("/open_api/v1.3/catalog/product/delete/")
    assert json.loads(delete.body)["sku_ids"] == [str(mug)]  # the stamp was never on TikTok
    skus = stack.sku_items(STORE)
    assert (skus[str(mug)]["status"], skus[str(mug)]["on_tiktok"]) == ("held_back", False)
    assert "500" in skus[str(mug)]["reasons"][0]["message"]
    assert stack.status(STORE)["products"]["held_back"] == 2

    store.update_category(shown, enabled=False)
    sync_now(stack)

    # Hidden products are neither on TikTok nor "not uploaded": kept off by the store's settings, one item each.
    assert {sku: item["status"] for sku, item in stack.sku_items(STORE).items()} == {
        str(mug): "excluded",
        str(stamp): "excluded",
    }
    assert stack.status(STORE)["products"] | {"held_back": 0, "excluded": 2} == stack.status(STORE)["products"]


def products_shown(stack: AppStack, store_id: int = STORE) -> dict[str, tuple[str, list[str]]]:
    """GET /api/stores/{storeId}/products for every status: sku_id → (status, reasons' messages)."""
    headers = {"Authorization": f"Bearer {stack.open_session(store_id)}"}
    found: dict[str, tuple[str, list[str]]] = {}
    for status in ("listed", "pending", "rejected", "held_back"):
        answer = stack.http.get(f"/api/stores/{store_id}/products", params={"status": status}, headers=headers)
        assert answer.status_code == 200, answer.text
        for item in answer.json()["items"]:
            found[item["sku_id"]] = (item["status"], [reason["message"] for reason in item["reasons"]])
    return found


def test_titles_with_emoji_and_upcs_that_are_no_gtin_reach_tiktok_as_tiktok_takes_them(stack: AppStack):
    """Issue 11, cases 3 and 4: the sandbox TikTok refuses a title with emoji and a GTIN with a bad length or
    check digit, as TikTok does; the product goes up with a clean title and without the GTIN."""
    store = stack.ecwid.add_store(STORE, currency="USD")
    tee = store.add_product("\U0001f525 Summer Tee \u2600\ufe0f", 20)
    short = store.add_product("Mug", 12, upc="123")
    wrong = store.add_product("Bowl", 14, upc="036000291453")
    good = store.add_product("Plate", 16, upc="036000291452")

    connect_and_sync(stack, store)

    catalog = stack.tiktok_catalog(STORE)
    assert set(catalog) == {str(tee), str(short), str(wrong), str(good)}
    assert catalog[str(tee)]["title"] == "Summer Tee"
    assert "global_trade_item_number" not in catalog[str(short)]
    assert "global_trade_item_number" not in catalog[str(wrong)]
    assert catalog[str(good)]["global_trade_item_number"] == "036000291452"
    assert products_shown(stack) == {str(p): ("pending", []) for p in (tee, short, wrong, good)}


def test_tiktok_gets_the_prices_the_product_pages_show(stack: AppStack):
    """Issue 11, cases 1 and 2: a UK store showing prices with 20% VAT included. A mug at 100 net reaches TikTok
    at 120 GBP, as its page shows it; a tee at 20 whose default size adds 5 at (20 + 5) × 1.2 = 30; a sale and an
    inherited variation price on the same basis."""
    store = stack.ecwid.add_store(STORE, country="GB", currency="GBP")
    store.set_profile(tax_in_prices=20)
    mug = store.add_product("Mug", 100)
    size = ProductOption("Size", [Choice("S"), Choice("L", 5)], default_choice=1)
    tee = store.add_product("Tee", 20, options=[size])
    teapot = store.add_product(
        "Teapot",
        15,
        compare_to_price=20,
        combinations=[Variation({"Colour": "Blue"}), Variation({"Colour": "Red"}, price=16, compare_to_price=21)],
    )
    blue, red = (f"{teapot}-{c.id}" for c in store.products[teapot].combinations)

    connect_and_sync(stack, store)

    catalog = stack.tiktok_catalog(STORE)
    assert catalog[str(mug)]["price_info"] == {"price": 120, "currency": "GBP"}
    assert catalog[str(tee)]["price_info"] == {"price": 30, "currency": "GBP"}
    assert catalog[blue]["price_info"] == {"price": 24, "sale_price": 18, "currency": "GBP"}
    assert catalog[red]["price_info"] == {"price": 25.2, "sale_price": 19.2, "currency": "GBP"}
    assert products_shown(stack) == {sku: ("pending", []) for sku in (str(mug), str(tee), blue, red)}
