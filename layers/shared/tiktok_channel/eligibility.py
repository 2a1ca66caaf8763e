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
            "Your store has no country set. Set it in Ecwid (Settings → General → Store Profile), "
            "then reopen this page."
        )
    elif allowed is None:
        reason = (
            f"TikTok catalogs are not available for stores located in {country}. "
            "TikTok supports stores in: " + ", ".join(sorted(CATALOG_CURRENCIES)) + "."
        )
    elif currency not in allowed:
        reason = (
            f"TikTok does not accept {currency or 'an empty currency'} for stores in {country}. "
            f"Switch your store currency to {' or '.join(allowed)} in Ecwid (Settings → General → Regional "
            "Settings) before you connect: the catalog currency cannot be changed later."
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
