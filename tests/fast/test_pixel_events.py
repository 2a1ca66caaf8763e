"""tiktok_channel/pixel_events.py: a paid order as TikTok's Events API purchase, the shopper's e-mail and phone
normalised as TikTok requires and leaving only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_channel.models.orders import EcwidOrder
from tiktok_channel.pixel_events import (
    normalized_email,
    normalized_phone,
    public_ip,
    purchase_event,
    server_events_default,
    ttclid_of,
)

HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def order(**fields: Any) -> EcwidOrder:
    return EcwidOrder.model_validate(
        {
            "id": "K100",
            "total": 67.5,
            "paymentStatus": "PAID",
            "createTimestamp": 1_790_000_000,
            "items": [
                {"productId": 11, "name": "Shirt", "quantity": 2, "price": 12.5},
                {"productId": 12, "combinationId": 31, "name": "Hoodie", "quantity": 1, "price": 42.5},
            ],
            **fields,
        }
    )


def event_of(placed: EcwidOrder) -> dict[str, Any]:
    return purchase_event(
        placed,
        store_id=1003,
        event_name="CompletePayment",
        currency="USD",
        page_url="https://store1003.example.com",
        event_time=1_790_000_000,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shopper@example.com", "shopper@example.com"),
        ("  Shopper@Example.COM \n", "shopper@example.com"),
        ("first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"),
        (None, None),
        ("", None),
        ("   ", None),
        ("no-at-sign.example.com", None),
        ("@example.com", None),
        ("shopper@localhost", None),
        ("shop per@example.com", None),
    ],
)
def test_emails_are_trimmed_and_lower_cased_and_junk_is_dropped(raw: str | None, expected: str | None):
    assert normalized_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (415) 555-0199", "US", "+14155550199"),
        ("+1 (415) 555-0199", None, "+14155550199"),  # international: no country needed
        ("(415) 555-0199", "US", "+14155550199"),  # national
        ("415.555.0199", "us", "+14155550199"),
        ("1 415 555 0199", "US", "+14155550199"),  # with the country code, without the +
        ("07700 900123", "GB", "+447700900123"),  # national: the trunk 0 dropped
        ("020 7946 0958", "GB", "+442079460958"),
        ("44 7700 900123", "GB", "+447700900123"),
        ("0044 7700 900123", None, "+447700900123"),  # 00-prefixed international
        ("001-415-555-0199", "DE", "+14155550199"),
        ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps its 0
        ("030 123456", "DE", "+4930123456"),
        ("\uff0b\uff11 415 555 0199", None, "+14155550199"),  # full-width + and digits
        ("(415) 555-0199", None, None),  # national, country unknown: a guess would hash a wrong number
        ("(415) 555-0199", "BR", None),  # national, country outside the table
        (None, "US", None),
        ("", "US", None),
        ("call me", "US", None),
        ("+", "US", None),
        ("12", "US", None),
        ("+0123456789", None, None),
        ("+1 415 555 0199 ext 12", "US", None),
        ("+1234567890123456", None, None),  # longer than E.164 allows
    ],
)
def test_phones_become_e164_or_none(raw: str | None, country: str | None, expected: str | None):
    assert normalized_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8.8.8.8", "8.8.8.8"),
        (" 81.2.69.160 ", "81.2.69.160"),
        ("2001:4860:4860:0:0:0:0:8888", "2001:4860:4860::8888"),
        ("10.0.0.1", None),
        ("192.168.1.20", None),
        ("172.16.5.4", None),
        ("127.0.0.1", None),
        ("::1", None),
        ("169.254.10.10", None),
        ("100.64.0.1", None),  # carrier-grade NAT
        ("fd00::1", None),
        ("203.0.113.9", None),  # documentation range
        ("8.8.8.8, 10.0.0.1", None),  # a forwarded-for list is not an address
        ("not an ip", None),
        ("", None),
        (None, None),
    ],
)
def test_only_public_addresses_are_sent(raw: str | None, expected: str | None):
    assert public_ip(raw) == expected


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (("https://store.example.com/?ttclid=E.C.P.abc123",), "E.C.P.abc123"),
        (("https://store.example.com/shirt?utm_source=tiktok&ttclid=abc-_~.9",), "abc-_~.9"),
        (("https://store.example.com/#ttclid=abc123",), "abc123"),  # in the fragment
        ((None, "https://store.example.com/?ttclid=fromglobal"), "fromglobal"),
        (("https://store.example.com/", "https://store.example.com/?ttclid=second"), "second"),
        (("https://store.example.com/?ttclid=<script>", "https://x.example/?ttclid=ok"), "ok"),
        (("https://store.example.com/?ttclid=%3Cscript%3E",), None),
        (("https://store.example.com/?ttclid=a+b",), None),  # a space once decoded
        (("https://store.example.com/?ttclid=" + "a" * 257,), None),
        (("https://store.example.com/?ttclid=" + "a" * 256,), "a" * 256),
        (("https://store.example.com/?ttclid=",), None),
        (("https://store.example.com/?other=1",), None),
        (("http://[::1/?ttclid=abc",), None),  # not a URL
        ((), None),
    ],
)
def test_the_ttclid_comes_from_the_landing_url_and_odd_values_are_refused(
    urls: tuple[str | None, ...], expected: str | None
):
    assert ttclid_of(*urls) == expected


@pytest.mark.parametrize(("country", "on"), [("US", True), ("ca", True), ("JP", True), ("GB", False), ("de", False)])
def test_server_events_are_off_by_default_only_in_consent_first_countries(country: str, on: bool):
    assert server_events_default(country) is on


def test_a_purchase_event_has_the_shape_tiktok_takes():
    placed = order(
        email=" Shopper@Example.com",
        billingPerson={"name": "Sam Shopper", "phone": "(415) 555-0199", "countryCode": "US"},
        ipAddress="8.8.8.8",
        customerUserAgent="Mozilla/5.0 " + "x" * 600,
        refererUrl="https://store1003.example.com/?ttclid=E.C.P.abc",
    )

    event = event_of(placed)

    assert event == {
        "event": "CompletePayment",
        "event_time": 1_790_000_000,
        "event_id": "ecwid-1003-K100",
        "user": {
            "email": sha256("shopper@example.com"),
            "phone": sha256("+14155550199"),
            "ip": "8.8.8.8",
            "user_agent": ("Mozilla/5.0 " + "x" * 600)[:512],
            "ttclid": "E.C.P.abc",
        },
        "properties": {
            "contents": [
                {"content_id": "11", "content_name": "Shirt", "price": 12.5, "quantity": 2},
                {"content_id": "12-31", "content_name": "Hoodie", "price": 42.5, "quantity": 1},
            ],
            "content_type": "product",
            "currency": "USD",
            "value": 67.5,
            "num_items": 3,
            "order_id": "K100",
        },
        "page": {"url": "https://store1003.example.com"},
    }


def test_a_purchase_without_match_keys_has_an_empty_user_and_no_empty_lines():
    placed = order(
        email="not an address",
        shippingPerson={"phone": "call me"},
        ipAddress="10.0.0.7",
        items=[
            {"productId": 11, "name": "S" * 200, "quantity": 1, "price": 5},
            {"productId": 12, "combinationId": 0, "quantity": 0, "price": 9},
        ],
    )

    event = event_of(placed)

    assert event["user"] == {}
    contents = event["properties"]["contents"]
    assert contents == [{"content_id": "11", "content_name": "S" * 150, "price": 5.0, "quantity": 1}]
    assert event["properties"]["num_items"] == 1


countries = st.one_of(st.none(), st.sampled_from(["US", "GB", "IT", "DE", "RU", "SG", "BR", "", "us"]), st.text())
phones = st.one_of(
    st.text(),
    st.text(alphabet="0123456789+-() .\uff0b", min_size=1, max_size=24),
    st.from_regex(r"\+?(00)?[1-9][0-9 ]{6,16}", fullmatch=True),
)
emails = st.one_of(st.text(), st.emails())


@settings(max_examples=300, deadline=None)
@given(email=emails, phone=phones, country=countries)
def test_shopper_contacts_leave_only_as_sha256_digests(email: str, phone: str, country: str | None):
    event = event_of(order(email=email, billingPerson={"phone": phone, "countryCode": country}))
    baseline = json.dumps(event_of(order()))

    user = event["user"]
    assert set(user) <= {"email", "phone"}
    for key in ("email", "phone"):
        assert key not in user or HEX64.fullmatch(user[key])
    sent = json.dumps(event)
    private = {email, email.strip(), phone, normalized_email(email) or "", normalized_phone(phone, country) or ""}
    for value in private:
        if len(value.strip()) >= 6:
            escaped = json.dumps(value)[1:-1]
            # Anything the event would hold without the shopper's contacts (its ids, its URL) is no leak.
            assert escaped not in sent or escaped in baseline
