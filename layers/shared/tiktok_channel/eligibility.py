"""Which stores may use TikTok: the merchant guide's country and currency table, kept as data."""

from __future__ import annotations

from dataclasses import dataclass

_EUROPE = ("EUR", "USD", "GBP")

# Country (ISO 3166-1 alpha-2) → store currencies TikTok accepts for a catalog there. The guide's
# "USR" for the US is read as USD.
CATALOG_CURRENCIES: dict[str, tuple[str, ...]] = {
    "AU": ("AUD", "USD"),
    "CA": ("CAD", "USD"),
    "EG": ("EGP", "USD"),
    "FR": _EUROPE,
    "DE": _EUROPE,
    "IT": _EUROPE,
    "ES": _EUROPE,
    "ID": ("IDR", "USD"),
    "IL": ("USD",),
    "JP": ("JPY", "USD"),
    "KR": ("KRW", "USD"),
    "MY": ("MYR", "USD"),
    "RU": ("RUB",),
    "SA": ("SAR", "USD"),
    "SG": ("SGD", "USD"),
    "TW": ("TWD", "USD"),
    "TH": ("THB", "USD"),
    "TR": ("TRY", "USD"),
    "AE": ("AED", "USD"),
    "VN": ("VND", "USD"),
    "GB": ("GBP", "EUR", "USD"),
    "US": ("USD", "EUR", "GBP"),
}

SHOPPING_COUNTRIES = frozenset({"US", "GB"})

# The supported countries by name, as the merchant guide writes them (its list, in its order).
COUNTRY_NAMES: dict[str, str] = {
    "AU": "Australia",
    "CA": "Canada",
    "EG": "Egypt",
    "FR": "France",
    "DE": "Germany",
    "ID": "Indonesia",
    "IL": "Israel",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "MY": "Malaysia",
    "RU": "Russia",
    "SA": "Saudi Arabia",
    "SG": "Singapore",
    "ES": "Spain",
    "TW": "Taiwan",
    "TH": "Thailand",
    "TR": "Turkey",
    "AE": "the United Arab Emirates",
    "GB": "the UK",
    "US": "the US",
    "VN": "Vietnam",
}
# Where a merchant corrects each in the Ecwid admin.
_ADDRESS_SETTING = "Settings → General → Store address"
_CURRENCY_SETTING = "Settings → General → Regional settings"


def _supported_countries() -> str:
    names = [COUNTRY_NAMES[code] for code in COUNTRY_NAMES]
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Eligibility:
    country: str
    currency: str
    catalog_allowed: bool
    shopping_allowed: bool
    reason: str | None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "country": self.country,
            "currency": self.currency,
            "catalog_allowed": self.catalog_allowed,
            "shopping_allowed": self.shopping_allowed,
        }
        if self.reason:
            body["reason"] = self.reason
        return body


def eligibility(country: str, currency: str) -> Eligibility:
    """What this store may do on TikTok, and in plain words why not."""
    country, currency = country.upper(), currency.upper()
    allowed = CATALOG_CURRENCIES.get(country)
    if not country:
        reason: str | None = (
            f"Your store has no country set. Enter your store's address in Ecwid ({_ADDRESS_SETTING}), "
            "then reopen this page."
        )
    elif allowed is None:
        reason = (
            "TikTok catalogs and ads are not available in your store's country. "
            f"TikTok supports stores in {_supported_countries()}. "
            f"If your store's country is set wrong, correct your store address in Ecwid ({_ADDRESS_SETTING}) and, "
            f"if needed, its currency ({_CURRENCY_SETTING}), then reopen this page."
        )
    elif currency not in allowed:
        reason = (
            f"TikTok does not accept {currency or 'an empty currency'} for stores in {COUNTRY_NAMES[country]}. "
            f"Switch your store currency to {' or '.join(allowed)} in Ecwid ({_CURRENCY_SETTING}) before you "
            "connect: the catalog currency cannot be changed later. If your store's country is set wrong, correct "
            f"your store address in Ecwid ({_ADDRESS_SETTING})."
        )
    else:
        reason = None
    catalog_allowed = reason is None
    return Eligibility(
        country=country,
        currency=currency,
        catalog_allowed=catalog_allowed,
        shopping_allowed=catalog_allowed and country in SHOPPING_COUNTRIES,
        reason=reason,
    )
