"""Who may connect: the merchant guide's table of countries and currencies."""

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
        ("BR", "BRL", "not available for stores located in BR"),
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
