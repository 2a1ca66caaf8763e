"""The sandbox Ecwid shows prices as Ecwid does (ecwid-api.md "Prices as the shopper sees them"): option choices
with price modifiers and a default choice, a store tax shown inside prices, and the displayed figures
(`defaultDisplayedPrice`, `defaultDisplayedCompareToPrice`) on products and variations, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.ecwid import EcwidSandbox, Variation
from sandboxes.ecwid_catalog import Choice, ProductOption


@pytest.fixture
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox(client_id="tiktok-channel-local", client_secret="0123456789abcdef-sandbox-secret")
    sandbox.start()
    yield sandbox
    sandbox.stop()


def read(ecwid: EcwidSandbox, path: str) -> Any:
    store_id = path.split("/")[1]
    token = ecwid.token_for(int(store_id))
    answer = httpx.get(f"{ecwid.base_url}/api/v3{path}", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_default_choice_adds_its_modifier_to_the_displayed_price(ecwid: EcwidSandbox) -> None:
    store = ecwid.add_store(1003)
    size = ProductOption("Size", [Choice("S"), Choice("L", 5)], default_choice=1)
    product_id = store.add_product("Tee", 20, options=[size])

    product = read(ecwid, f"/1003/products/{product_id}")

    assert (product["price"], product["priceInProductList"], product["defaultDisplayedPrice"]) == (20, 25, 25)
    assert product["defaultDisplayedPriceFormatted"] == "$25.00"
    assert product["options"][0]["choices"][1] == {"text": "L", "priceModifier": 5, "priceModifierType": "ABSOLUTE"}
    assert product["options"][0]["defaultChoice"] == 1
    assert product["tax"]["defaultLocationIncludedTaxRate"] == 0


def test_a_uk_store_showing_vat_in_prices_displays_them_with_vat(ecwid: EcwidSandbox) -> None:
    store = ecwid.add_store(1003, country="GB", currency="GBP")
    store.set_profile(tax_in_prices=20)
    product_id = store.add_product("Mug", 100, compare_to_price=150)

    product = read(ecwid, f"/1003/products/{product_id}")
    profile = read(ecwid, "/1003/profile")

    assert (product["price"], product["priceInProductList"], product["defaultDisplayedPrice"]) == (100, 100, 120)
    assert (product["compareToPrice"], product["defaultDisplayedCompareToPrice"]) == (150, 180)
    assert product["defaultDisplayedCompareToPriceDiscount"] == 60
    assert product["tax"]["defaultLocationIncludedTaxRate"] == 20
    assert profile["taxSettings"]["pricesIncludeTax"] is False
    assert [(t["includeInPrice"], t["defaultTax"]) for t in profile["taxSettings"]["taxes"]] == [(True, 20)]


def test_a_store_typing_prices_with_vat_displays_them_as_typed(ecwid: EcwidSandbox) -> None:
    store = ecwid.add_store(1003, country="GB", currency="GBP")
    store.set_profile(tax_in_prices=20, prices_include_tax=True)
    product_id = store.add_product("Mug", 120, compare_to_price=180)

    product = read(ecwid, f"/1003/products/{product_id}")

    assert (product["defaultDisplayedPrice"], product["defaultDisplayedCompareToPrice"]) == (120, 180)
    assert product["tax"]["defaultLocationIncludedTaxRate"] == 20


def test_variations_inherit_the_price_with_their_modifiers_and_show_their_own_with_tax(ecwid: EcwidSandbox) -> None:
    store = ecwid.add_store(1003, country="GB", currency="GBP")
    store.set_profile(tax_in_prices=20)
    size = ProductOption("Size", [Choice("S"), Choice("XL", 10, "PERCENT")], default_choice=0)
    product_id = store.add_product(
        "Tee",
        40,
        options=[size],
        combinations=[Variation({"Size": "S"}), Variation({"Size": "XL"}), Variation({"Size": "S"}, price=30.5)],
    )

    product = read(ecwid, f"/1003/products/{product_id}")

    small, extra_large, own = product["combinations"]
    assert [c.get("price") for c in (small, extra_large)] == [None, None]  # inherited: Ecwid omits it
    assert (small["defaultDisplayedPrice"], extra_large["defaultDisplayedPrice"]) == (48, 52.8)
    assert (own["price"], own["defaultDisplayedPrice"]) == (30.5, 36.6)
    assert product["defaultCombinationId"] == small["id"]


def test_yen_prices_with_tax_are_rounded_half_up_to_whole_yen(ecwid: EcwidSandbox) -> None:
    store = ecwid.add_store(1003, country="JP", currency="JPY")
    store.set_profile(tax_in_prices=8)
    product_id = store.add_product("Cup", 1005, compare_to_price=1006)

    product = read(ecwid, f"/1003/products/{product_id}")

    assert (product["defaultDisplayedPrice"], product["defaultDisplayedCompareToPrice"]) == (1085, 1086)
    assert product["defaultDisplayedPriceFormatted"] == "¥1,085"
