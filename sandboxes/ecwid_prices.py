"""The sandbox Ecwid's storefront prices: what a shopper sees on a product page, from the typed prices, the
default option choices' modifiers and the store's tax settings (ecwid-api.md "Prices as the shopper sees
them"). Over Ecwid's own JSON, so the sandbox and the fast tier's fake Ecwid show the same figures."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

Json = dict[str, Any]

# Currencies Ecwid's storefront shows without decimals.
ZERO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        *("BIF", "CLP", "DJF", "GNF", "IDR", "ISK", "JPY", "KMF", "KRW"),
        *("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"),
    }
)


def included_tax_rate(profile: Mapping[str, Any]) -> float:
    """The sum (%) of the enabled taxes shown inside storefront prices (`includeInPrice`) at the store's address."""
    taxes = profile.get("taxSettings", {}).get("taxes", [])
    return float(sum(t.get("defaultTax", 0) for t in taxes if t.get("enabled", True) and t.get("includeInPrice")))


def with_shown_prices(product: Mapping[str, Any], profile: Mapping[str, Any]) -> Json:
    """A copy of a product's JSON with `tax`, `priceInProductList`, `defaultDisplayedPrice` (+
    `defaultDisplayedCompareToPrice`) on the product and `defaultDisplayedPrice` on each variation, as Ecwid
    computes them.

    Modelled (ecwid-api.md "Not confirmed" leaves these open): a PERCENT modifier is a percentage of the typed
    price; modifiers add to an inherited variation price, never to a variation's own price; the displayed
    compare-to price gets the tax but no modifiers. A variation gets no displayed compare-to price (Ecwid's
    Java client has it on products only).
    """
    shown: Json = copy.deepcopy(dict(product))
    taxable = shown.get("tax", {}).get("taxable", True)
    rate = included_tax_rate(profile) if taxable else 0.0
    gross = bool(profile.get("taxSettings", {}).get("pricesIncludeTax", False))
    currency = str(profile.get("formatsAndUnits", {}).get("currency", "USD")).upper()

    def rounded(value: Decimal) -> float:
        step = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
        return float(value.quantize(step, ROUND_HALF_UP))

    def displayed(net: Decimal) -> float:
        return rounded(net if gross else net * (1 + Decimal(str(rate)) / 100))

    options = shown.get("options", [])
    price = Decimal(str(shown.get("price", 0)))
    defaults = [
        option["choices"][option["defaultChoice"]]
        for option in options
        if option.get("defaultChoice") is not None and 0 <= option["defaultChoice"] < len(option.get("choices", []))
    ]
    shown["tax"] = {"taxable": taxable, "defaultLocationIncludedTaxRate": rate, "enabledManualTaxes": []}
    shown["priceInProductList"] = rounded(price + _modifiers(price, defaults))  # without taxes
    shown["defaultDisplayedPrice"] = displayed(price + _modifiers(price, defaults))
    if shown.get("compareToPrice") is not None:
        shown["defaultDisplayedCompareToPrice"] = displayed(Decimal(str(shown["compareToPrice"])))
    for combination in shown.get("combinations", []):
        if combination.get("price") is not None:
            combination["defaultDisplayedPrice"] = displayed(Decimal(str(combination["price"])))
            continue
        combination.pop("price", None)  # inherited: Ecwid omits it
        chosen = [_choice(options, o.get("name"), o.get("value")) for o in combination.get("options", [])]
        combination["defaultDisplayedPrice"] = displayed(price + _modifiers(price, [c for c in chosen if c]))
    return shown


def _modifiers(price: Decimal, choices: Iterable[Mapping[str, Any]]) -> Decimal:
    total = Decimal(0)
    for choice in choices:
        modifier = Decimal(str(choice.get("priceModifier", 0)))
        total += price * modifier / 100 if choice.get("priceModifierType") == "PERCENT" else modifier
    return total


def _choice(options: Iterable[Mapping[str, Any]], name: Any, text: Any) -> Mapping[str, Any] | None:
    for option in options:
        if option.get("name") == name:
            return next((c for c in option.get("choices", []) if c.get("text") == text), None)
    return None
