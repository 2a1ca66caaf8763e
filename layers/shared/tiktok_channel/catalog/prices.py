"""The prices a shopper sees on an Ecwid product page, as TikTok must get them: TikTok refuses a price that
differs from the landing page (tiktok-api.md "Field rules"; ecwid-api.md "Prices as the shopper sees them")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from tiktok_channel.models.ecwid_catalog import EcwidCombination, EcwidProduct

# ISO 4217 currencies without minor units (and IDR, which Ecwid shows without decimals): a fraction of a
# yen is not a price.
ZERO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "IDR",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def amount(value: float | Decimal, currency: str) -> float | int:
    """`value` rounded half-up to the currency's decimals, as a merchant expects (2.675 → 2.68, not 2.67)."""
    # Through Decimal of the printed value: binary floats would round 2.675 down.
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP))
    return float(Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def shown_prices(
    product: EcwidProduct, combination: EcwidCombination | None, currency: str
) -> tuple[float, float | None]:
    """The price on the product page and the compare-to price on the same basis (None when there is none).

    Ecwid's displayed figures (`defaultDisplayedPrice`, `defaultDisplayedCompareToPrice`: default options
    applied, taxes included as the storefront shows them) are used wherever Ecwid gives them. An answer
    without them (older API versions) falls back to the typed `price` and `compareToPrice`, which are then
    compared with each other: like with like.
    """
    if combination is None:
        if product.default_displayed_price is None:
            return product.price, product.compare_to_price
        return product.default_displayed_price, _product_compare(product, currency)
    if combination.default_displayed_price is None:
        # No displayed figure for the variation: an inherited price is the product's, as its page shows it.
        if combination.price is None:
            return shown_prices(product, None, currency)
        compare = product.compare_to_price if combination.compare_to_price is None else combination.compare_to_price
        return combination.price, compare
    if combination.default_displayed_compare_to_price is not None:
        return combination.default_displayed_price, combination.default_displayed_compare_to_price
    if combination.compare_to_price is None:
        # The variation shares the product's compare-to price: Ecwid shows the product's figure for it.
        return combination.default_displayed_price, _product_compare(product, currency)
    return combination.default_displayed_price, _with_included_tax(
        combination.compare_to_price, product, combination, currency
    )


def _product_compare(product: EcwidProduct, currency: str) -> float | None:
    if product.default_displayed_compare_to_price is not None:
        return product.default_displayed_compare_to_price
    if product.compare_to_price is None:
        return None
    return _with_included_tax(product.compare_to_price, product, None, currency)


def _with_included_tax(
    compare_to_price: float, product: EcwidProduct, combination: EcwidCombination | None, currency: str
) -> float:
    """A typed compare-to price with the taxes the storefront shows inside prices added, for a variation,
    where Ecwid gives no displayed compare-to price.

    Unconfirmed (ecwid-api.md "Not confirmed"): that the storefront adds the product's
    `defaultLocationIncludedTaxRate` to a variation's compare-to price as it does to its price, and rounds
    half-up to the currency's decimals. Where Ecwid's own figures show that no tax is added (a store whose
    typed prices already include tax), none is added here either.
    """
    rate = product.tax.default_location_included_tax_rate if product.tax is not None else 0.0
    if not rate or _typed_gross(product, combination):
        return compare_to_price
    with_tax = Decimal(str(compare_to_price)) * (1 + Decimal(str(rate)) / 100)
    return float(amount(with_tax, currency))


def _typed_gross(product: EcwidProduct, combination: EcwidCombination | None) -> bool:
    """Whether Ecwid's figures show that the merchant typed prices with tax (`pricesIncludeTax`), so Ecwid adds
    nothing to them although a tax is shown inside prices.

    A displayed figure is its typed one (plus, for the product, the default choices' modifiers), with the tax
    added unless the typed prices already hold it: whichever of the two it is nearer to tells (nearer, not equal,
    since Ecwid rounds to the currency's decimals). Ecwid's own sample product shows
    `defaultLocationIncludedTaxRate` 5 beside equal figures.
    """
    rate = product.tax.default_location_included_tax_rate if product.tax is not None else 0.0
    if product.compare_to_price is not None and product.default_displayed_compare_to_price is not None:
        return _nearer_typed(product.default_displayed_compare_to_price, product.compare_to_price, rate)
    if combination is not None and combination.price is not None and combination.default_displayed_price is not None:
        return _nearer_typed(combination.default_displayed_price, combination.price, rate)
    if product.default_displayed_price is None:
        return False
    typed = product.price + sum(option.default_modifier(product.price) for option in product.options)
    return _nearer_typed(product.default_displayed_price, typed, rate)


def _nearer_typed(displayed: float, typed: float, rate: float) -> bool:
    """Whether `displayed` is nearer `typed` than `typed` with `rate` % added."""
    return abs(displayed - typed) <= abs(displayed - typed * (1 + rate / 100))
