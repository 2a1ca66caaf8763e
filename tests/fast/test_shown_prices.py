"""Issue 11, "Prices as shown": TikTok gets the price a shopper sees on the product page (default option
modifiers applied, taxes included where the store shows prices with tax), and the sale price on the same basis
(design.md "Catalog rules"; ecwid-api.md "Prices as the shopper sees them")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, connect_store, deliver, install_store
from tiktok_channel.services.products import list_products


def on_tiktok(services: FakeServices) -> dict[str, dict[str, Any]]:
    return {sku: p.fields for sku, p in services.tiktok().catalog_of(str(STORE_ID)).products.items()}


def pending(services: FakeServices) -> set[str]:
    """The sku_ids the merchant's list shows as waiting for TikTok's review (uploaded, no reason)."""
    answer = list_products(services, STORE_ID, "pending", None)
    assert all(item["reasons"] == [] for item in answer["items"])
    return {item["sku_id"] for item in answer["items"]}


def uk_store(services: FakeServices) -> None:
    """A UK store whose storefront shows prices with 20% VAT included (prices typed net)."""
    services.ecwid().add_store(STORE_ID, country="GB", currency="GBP", tax_in_prices=20)
    install_store(services, country="GB", currency="GBP")


def sync(services: FakeServices) -> None:
    connect_store(services)
    assert deliver(services) == ["done"]


def size_option(*choices: tuple[str, float, str], default: int | None = 0) -> dict[str, Any]:
    return {
        "type": "SELECT",
        "name": "Size",
        "defaultChoice": default,
        "choices": [{"text": t, "priceModifier": m, "priceModifierType": kind} for t, m, kind in choices],
    }


def test_a_default_option_choice_that_adds_5_reaches_tiktok_in_the_price(services: FakeServices):
    install_store(services)
    product = services.ecwid().add_product(
        STORE_ID, "Tee", 20, options=[size_option(("L", 5, "ABSOLUTE"), ("S", 0, "ABSOLUTE"))]
    )

    sync(services)

    assert on_tiktok(services)[str(product)]["price_info"] == {"price": 25.0, "currency": "USD"}
    assert pending(services) == {str(product)}


def test_a_uk_store_showing_prices_with_vat_sends_the_price_with_vat(services: FakeServices):
    uk_store(services)
    product = services.ecwid().add_product(STORE_ID, "Mug", 100)

    sync(services)

    assert on_tiktok(services)[str(product)]["price_info"] == {"price": 120.0, "currency": "GBP"}
    assert pending(services) == {str(product)}


def test_a_sale_with_vat_compares_the_shown_prices(services: FakeServices):
    uk_store(services)
    product = services.ecwid().add_product(STORE_ID, "Mug", 100, compareToPrice=150)

    sync(services)

    assert on_tiktok(services)[str(product)]["price_info"] == {"price": 180.0, "sale_price": 120.0, "currency": "GBP"}


def test_variations_show_their_prices_with_vat_inherited_or_their_own_and_their_sale(services: FakeServices):
    uk_store(services)
    ecwid = services.ecwid()
    product = ecwid.add_product(
        STORE_ID,
        "Tee",
        10,
        compareToPrice=12.5,
        variations=[
            {"options": {"Size": "S"}},  # inherits the product's price and its sale
            {"options": {"Size": "M"}, "price": 11.5, "compareToPrice": 14.99},  # its own, with its own sale
        ],
    )
    small, medium = ecwid.combination_ids(STORE_ID, product)

    sync(services)

    catalog = on_tiktok(services)
    assert catalog[f"{product}-{small}"]["price_info"] == {"price": 15.0, "sale_price": 12.0, "currency": "GBP"}
    # 14.99 × 1.2 = 17.988 → 17.99: Ecwid gives no displayed compare-to price for a variation.
    assert catalog[f"{product}-{medium}"]["price_info"] == {"price": 17.99, "sale_price": 13.8, "currency": "GBP"}
    assert pending(services) == {f"{product}-{small}", f"{product}-{medium}"}


def test_an_inherited_variation_price_carries_its_options_percent_modifier(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    product = ecwid.add_product(
        STORE_ID,
        "Tee",
        40,
        options=[size_option(("S", 0, "ABSOLUTE"), ("XL", 10, "PERCENT"))],
        variations=[{"options": {"Size": "S"}}, {"options": {"Size": "XL"}}],
    )
    small, extra_large = ecwid.combination_ids(STORE_ID, product)

    sync(services)

    catalog = on_tiktok(services)
    assert catalog[f"{product}-{small}"]["price_info"] == {"price": 40.0, "currency": "USD"}
    assert catalog[f"{product}-{extra_large}"]["price_info"] == {"price": 44.0, "currency": "USD"}


@pytest.mark.parametrize(("price", "rate", "shown"), [(1000, 10, 1100), (1005, 8, 1085), (999, 10, 1099)])
def test_a_yen_price_with_tax_is_rounded_half_up_to_whole_yen(
    services: FakeServices, price: int, rate: int, shown: int
):
    services.ecwid().add_store(STORE_ID, country="JP", currency="JPY", tax_in_prices=rate)
    install_store(services, country="JP", currency="JPY")
    ecwid = services.ecwid()
    product = ecwid.add_product(
        STORE_ID, "Cup", price, variations=[{"options": {"Size": "S"}, "price": price, "compareToPrice": price + 1}]
    )
    (small,) = ecwid.combination_ids(STORE_ID, product)

    sync(services)

    # e.g. 1005 × 1.08 = 1085.4 → 1085; (1005 + 1) × 1.08 = 1086.48 → 1086
    regular = int((price + 1) * (100 + rate) / 100 + 0.5)
    assert on_tiktok(services)[f"{product}-{small}"]["price_info"] == {
        "price": regular,
        "sale_price": shown,
        "currency": "JPY",
    }


def test_a_store_typing_prices_with_vat_sends_them_as_typed_variation_sales_included(services: FakeServices):
    services.ecwid().add_store(STORE_ID, country="GB", currency="GBP", tax_in_prices=20, prices_include_tax=True)
    install_store(services, country="GB", currency="GBP")
    ecwid = services.ecwid()
    product = ecwid.add_product(
        STORE_ID,
        "Tee",
        120,
        compareToPrice=150,
        variations=[{"options": {"Size": "S"}}, {"options": {"Size": "M"}, "price": 96, "compareToPrice": 120}],
    )
    small, medium = ecwid.combination_ids(STORE_ID, product)

    sync(services)

    catalog = on_tiktok(services)
    assert catalog[f"{product}-{small}"]["price_info"] == {"price": 150.0, "sale_price": 120.0, "currency": "GBP"}
    assert catalog[f"{product}-{medium}"]["price_info"] == {"price": 120.0, "sale_price": 96.0, "currency": "GBP"}


def test_a_store_typing_prices_with_vat_and_a_default_modifier_sends_a_variations_sale_as_typed(
    services: FakeServices,
):
    # The product's displayed price (10 + 2, VAT inside) differs from its typed one only by the modifier: the
    # typed prices hold the VAT, so none is added to the variation's compare-to price either.
    services.ecwid().add_store(STORE_ID, country="GB", currency="GBP", tax_in_prices=20, prices_include_tax=True)
    install_store(services, country="GB", currency="GBP")
    ecwid = services.ecwid()
    product = ecwid.add_product(
        STORE_ID,
        "Tee",
        10,
        options=[size_option(("L", 2, "ABSOLUTE"), ("S", 0, "ABSOLUTE"))],
        variations=[{"options": {"Size": "S"}, "compareToPrice": 11}],
    )
    [small] = ecwid.combination_ids(STORE_ID, product)

    sync(services)

    assert on_tiktok(services)[f"{product}-{small}"]["price_info"] == {
        "price": 11.0,
        "sale_price": 10.0,
        "currency": "GBP",
    }
