"""Who may connect: the merchant guide's table of countries and currencies."""

import re

import pytest

from tiktok_channel.eligibility import eligibility


@pytest.mark.parametrize(
    ("country", "currency", "shopping"),
    [
        ("US", "USD", True),
        ("US", "GBP", True),
        ("GB", "EUR", True),
        ("DE", "EUR", False),
        ("IL", "USD", False),
        ("JP", "JPY", False),
        ("RU", "RUB", False),
        ("au", "aud", False),
    ],
)
def test_listed_country_and_currency_may_connect(country, currency, shopping):
    result = eligibility(country, currency)
    assert result.catalog_allowed
    assert result.shopping_allowed is shopping
    assert result.reason is None


@pytest.mark.parametrize(
    ("country", "currency", "hint"),
    [
        ("BR", "BRL", "not available in your store's country"),
        ("IL", "ILS", "Switch your store currency to USD"),
        ("RU", "USD", "RUB"),
        ("", "USD", "no country"),
    ],
)
def test_other_stores_are_told_why(country, currency, hint):
    result = eligibility(country, currency)
    assert not result.catalog_allowed
    assert not result.shopping_allowed
    assert result.reason
    assert hint in result.reason


@pytest.mark.parametrize(("country", "currency"), [("BR", "BRL"), ("IL", "ILS"), ("US", "BRL"), ("", "USD")])
def test_the_reason_names_countries_and_says_where_to_change_them_in_ecwid(country, currency):
    reason = eligibility(country, currency).reason
    assert reason
    # Countries by name, as the merchant guide writes them ("the US", "the UK"), never as ISO codes.
    assert re.search(r"\b(BR|AE|AU|CA|GB|IL|DE|KR)\b", reason) is None, reason
    assert "Settings → General → Store address" in reason


def test_an_unsupported_country_lists_every_supported_country_by_name():
    reason = eligibility("BR", "BRL").reason or ""
    assert "TikTok supports stores in Australia, Canada, Egypt," in reason
    assert "the United Arab Emirates, the UK, the US and Vietnam." in reason
    assert "Brazil" not in reason  # the page names the store's own country beside the reason
    assert "Settings → General → Regional settings" in reason  # a store moved to the US pays in USD too


def test_a_wrong_currency_names_the_country_and_where_to_change_the_currency():
    reason = eligibility("US", "BRL").reason or ""
    assert "TikTok does not accept BRL for stores in the US." in reason
    assert "Switch your store currency to USD or EUR or GBP" in reason
    assert "Settings → General → Regional settings" in reason
