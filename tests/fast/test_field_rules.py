"""Issue 11, item 2: TikTok's field rules applied before upload (tiktok-api.md "Field rules"), through the catalog
worker over the fakes: the Ecwid product, what the TikTok catalog holds, and what the merchant's product list
shows (`services.products.list_products`: status and reasons)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, connect_store, deliver, install_store, store_of
from tiktok_channel.services.products import list_products


def on_tiktok(services: FakeServices) -> dict[str, dict[str, Any]]:
    return {sku: p.fields for sku, p in services.tiktok().catalog_of(str(STORE_ID)).products.items()}


def shown(services: FakeServices) -> dict[str, tuple[str, list[str]]]:
    """Every SKU on the merchant's product lists: sku_id → (status, reasons' messages)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for status in ("listed", "pending", "rejected", "held_back"):
        for item in list_products(services, STORE_ID, status, None)["items"]:
            found[item["sku_id"]] = (item["status"], [reason["message"] for reason in item["reasons"]])
    return found


def upc(value: str) -> list[dict[str, Any]]:
    return [{"id": 1, "name": "UPC", "value": value, "type": "UPC"}]


@pytest.fixture
def store(services: FakeServices) -> FakeServices:
    install_store(services)
    return services


def connect(services: FakeServices) -> None:
    connect_store(services)
    assert deliver(services) == ["done"]


# -- case 3: titles ---------------------------------------------------------------------------------------------
def test_a_name_with_emoji_reaches_tiktok_without_them(store: FakeServices):
    tee = store.ecwid().add_product(STORE_ID, "\U0001f525 Summer Tee \u2600\ufe0f")

    connect(store)

    assert on_tiktok(store)[str(tee)]["title"] == "Summer Tee"
    assert shown(store) == {str(tee): ("pending", [])}


def test_control_and_invisible_characters_leave_the_title(store: FakeServices):
    mug = store.ecwid().add_product(STORE_ID, "Blue\u200b Mug\x07\u2060 \u202eXL\n350 ml")

    connect(store)

    assert on_tiktok(store)[str(mug)]["title"] == "Blue Mug XL 350 ml"
    assert shown(store) == {str(mug): ("pending", [])}


def test_option_values_with_emoji_reach_tiktok_without_them(store: FakeServices):
    ecwid = store.ecwid()
    tee = ecwid.add_product(STORE_ID, "Tee", variations=[{"options": {"Color": "Red \u2764\ufe0f", "Size": "L"}}])
    [red] = ecwid.combination_ids(STORE_ID, tee)

    connect(store)

    assert on_tiktok(store)[f"{tee}-{red}"]["title"] == "Tee (Red, L)"
    assert shown(store) == {f"{tee}-{red}": ("pending", [])}


def test_a_long_name_is_cut_on_a_word_boundary_within_tiktoks_limit(store: FakeServices):
    name = "Handmade " * 60 + "ceramic mug"  # 551 characters
    mug = store.ecwid().add_product(STORE_ID, name)

    connect(store)

    title = on_tiktok(store)[str(mug)]["title"]
    assert len(title) <= 500
    assert title.endswith("Handmade…")
    assert name.startswith(title.removesuffix("…") + " ")


def test_a_name_of_only_emoji_is_held_back_saying_what_to_change(store: FakeServices):
    fire = store.ecwid().add_product(STORE_ID, "\U0001f525\U0001f525 \u2728")

    connect(store)

    assert on_tiktok(store) == {}
    status, [reason] = shown(store)[str(fire)]
    assert status == "held_back"
    assert "emoji" in reason
    assert "name" in reason
    assert store_of(store).products.held_back == 1


# -- case 4: GTINs ----------------------------------------------------------------------------------------------
def test_a_upc_that_is_no_gtin_is_left_out_and_the_product_still_goes(store: FakeServices):
    ecwid = store.ecwid()
    short = ecwid.add_product(STORE_ID, "Short UPC", attributes=upc("123"))
    wrong = ecwid.add_product(STORE_ID, "Wrong check digit", attributes=upc("036000291453"))
    good = ecwid.add_product(STORE_ID, "Good UPC", attributes=upc("036000291452"))
    ean = ecwid.add_product(STORE_ID, "Good EAN", attributes=upc("4006381333931"))

    connect(store)

    catalog = on_tiktok(store)
    assert "global_trade_item_number" not in catalog[str(short)]
    assert "global_trade_item_number" not in catalog[str(wrong)]
    assert catalog[str(good)]["global_trade_item_number"] == "036000291452"
    assert catalog[str(ean)]["global_trade_item_number"] == "4006381333931"
    assert shown(store) == {str(p): ("pending", []) for p in (short, wrong, good, ean)}


# -- required fields ----------------------------------------------------------------------------------------------
def test_brand_comes_from_the_brand_attribute_and_condition_is_always_sent(store: FakeServices):
    ecwid = store.ecwid()
    branded = ecwid.add_product(
        STORE_ID,
        "Lamp",
        attributes=[{"id": 2, "name": "Brand", "value": " Lumen\nCo ", "type": "BRAND"}],
        productCondition="USED",
    )
    plain = ecwid.add_product(STORE_ID, "Vase")

    connect(store)

    catalog = on_tiktok(store)
    assert catalog[str(branded)]["brand"] == "Lumen Co"
    assert catalog[str(branded)]["product_detail"] == {"condition": "USED"}
    assert catalog[str(plain)]["product_detail"] == {"condition": "NEW"}
