"""Prices as the shopper sees them (ecwid-api.md "Prices as the shopper sees them"; design.md "Catalog rules"):
properties over generated products. Whatever the typed price, option modifiers and tax rate, TikTok's price is
the one the product page shows when Ecwid gives it, and a sale price is never above the price."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.ecwid_prices import with_shown_prices
from tiktok_channel.catalog.mapping import ImageSize, map_product
from tiktok_channel.models.ecwid_catalog import EcwidProduct

CURRENCIES = st.sampled_from(["USD", "GBP", "EUR", "JPY", "KRW", "VND", "IDR"])
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2).map(float)
RATES = st.sampled_from([0, 5, 7.5, 10, 19, 20, 21, 25])
MODIFIERS = st.tuples(
    st.decimals(min_value=-5, max_value=50, places=2).map(float), st.sampled_from(["ABSOLUTE", "PERCENT"])
)
IMAGE = {"url": "https://images.example.com/p.jpg", "width": 1000, "height": 1000}


def on_tiktok(product: dict[str, Any], currency: str) -> dict[str, dict[str, Any]]:
    mapping = map_product(
        EcwidProduct.model_validate(product), currency=currency, hidden=frozenset(), image_sizes=_no_lookup
    )
    return {upload.sku_id: upload.fields["price_info"] for upload in mapping.uploads}


def _no_lookup(url: str) -> ImageSize | None:
    raise AssertionError(f"{url}: the image carries its size")


def shown(price_info: dict[str, Any]) -> float:
    """The price a shopper sees: the sale price when there is one."""
    return float(price_info.get("sale_price", price_info["price"]))


def to_currency(value: float, currency: str) -> float:
    step = Decimal(1) if currency in {"JPY", "KRW", "VND", "IDR"} else Decimal("0.01")
    return float(Decimal(str(value)).quantize(step, ROUND_HALF_UP))


@settings(max_examples=200, deadline=None)
@given(
    price=AMOUNTS,
    displayed=AMOUNTS,
    compare=st.none() | AMOUNTS,
    displayed_compare=st.none() | AMOUNTS,
    own_prices=st.lists(st.tuples(st.none() | AMOUNTS, st.none() | AMOUNTS, AMOUNTS), max_size=3),
    rate=RATES,
    currency=CURRENCIES,
)
def test_tiktok_gets_ecwids_displayed_price_whenever_ecwid_gives_one(
    price: float,
    displayed: float,
    compare: float | None,
    displayed_compare: float | None,
    own_prices: list[tuple[float | None, float | None, float]],
    rate: float,
    currency: str,
) -> None:
    product: dict[str, Any] = {
        "id": 7,
        "name": "Tee",
        "price": price,
        "defaultDisplayedPrice": displayed,
        "compareToPrice": compare,
        "defaultDisplayedCompareToPrice": displayed_compare if compare is not None else None,
        "tax": {"defaultLocationIncludedTaxRate": rate},
        "originalImage": IMAGE,
        "combinations": [
            {"id": i, "options": [{"name": "Size", "value": str(i)}], "price": own, "compareToPrice": own_compare}
            | {"defaultDisplayedPrice": shown_price}
            for i, (own, own_compare, shown_price) in enumerate(own_prices, start=1)
        ],
    }

    prices = on_tiktok(product, currency)

    expected = {f"7-{i}": p[2] for i, p in enumerate(own_prices, start=1)} if own_prices else {"7": displayed}
    assert {sku: shown(info) for sku, info in prices.items() if to_currency(expected[sku], currency) > 0} == {
        sku: to_currency(value, currency) for sku, value in expected.items() if to_currency(value, currency) > 0
    }
    for info in prices.values():
        assert info.get("sale_price", info["price"]) <= info["price"]
        assert "sale_price" not in info or info["sale_price"] < info["price"]


@settings(max_examples=200, deadline=None)
@given(
    price=AMOUNTS,
    compare=st.none() | AMOUNTS,
    modifiers=st.lists(MODIFIERS, min_size=1, max_size=3),
    default=st.none() | st.integers(min_value=0, max_value=2),
    rate=RATES,
    gross=st.booleans(),
    currency=CURRENCIES,
    variation_compare=st.none() | AMOUNTS,
)
def test_any_modifiers_and_tax_reach_tiktok_as_the_sandbox_ecwids_page_shows_them(
    price: float,
    compare: float | None,
    modifiers: list[tuple[float, str]],
    default: int | None,
    rate: float,
    gross: bool,
    currency: str,
    variation_compare: float | None,
) -> None:
    """Through the sandbox Ecwid's own figures: every SKU's price on TikTok is its page's price (sale or not)."""
    profile = {
        "formatsAndUnits": {"currency": currency},
        "taxSettings": {
            "pricesIncludeTax": gross,
            "taxes": [{"id": 1, "enabled": True, "includeInPrice": True, "defaultTax": rate}],
        },
    }
    choices = [{"text": str(i), "priceModifier": m, "priceModifierType": kind} for i, (m, kind) in enumerate(modifiers)]
    raw: dict[str, Any] = {
        "id": 7,
        "name": "Tee",
        "price": price,
        "originalImage": IMAGE,
        "options": [{"type": "SELECT", "name": "Size", "choices": choices, "defaultChoice": default}],
        "combinations": [
            {"id": 1, "options": [{"name": "Size", "value": "0"}]},
            {"id": 2, "options": [{"name": "Size", "value": "0"}], "price": price, "compareToPrice": variation_compare},
        ],
    }
    if compare is not None:
        raw["compareToPrice"] = compare
    page = with_shown_prices(raw, profile)

    prices = on_tiktok(page, currency)

    for combination in page["combinations"]:
        sku_id = f"7-{combination['id']}"
        if sku_id in prices:
            assert shown(prices[sku_id]) == to_currency(combination["defaultDisplayedPrice"], currency)
            assert prices[sku_id].get("sale_price", prices[sku_id]["price"]) <= prices[sku_id]["price"]
    single = dict(page, combinations=[])
    prices = on_tiktok(single, currency)
    if "7" in prices:
        assert shown(prices["7"]) == to_currency(page["defaultDisplayedPrice"], currency)
        if compare is not None and page["defaultDisplayedCompareToPrice"] > page["defaultDisplayedPrice"]:
            assert prices["7"]["price"] == to_currency(page["defaultDisplayedCompareToPrice"], currency)
