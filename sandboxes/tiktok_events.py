"""Conversions the sandbox TikTok receives and counts: the Events API's checks and TikTok's deduplication.

tiktok-api.md, "Events API (server-side conversions)": each event of `POST /open_api/v1.3/event/track/`
is `{event, event_time, event_id, user, properties, page, limited_data_use?}`; `user.email`, `user.phone` and
`user.external_id` are SHA-256 hex (a string or an array of them); `ip` is an IPv4 or IPv6 address;
`properties.currency` is ISO 4217 from TikTok's supported list; `value` and `price` are plain numbers.
The sandbox refuses a raw (unhashed) e-mail or phone on purpose, so that the app's tests prove nothing
personal leaves unhashed.

Deduplication (same section): the key is (pixel_code, event, event_id). Same-channel repeats (API–API,
pixel–pixel) within 48 h of the first are dropped. A pixel event and an API event with one key within
5 minutes of the first are merged: the first is kept and enriched with the other's match keys; from
5 minutes up to 48 h the second is dropped; after 48 h a repeat counts again. Times are the sandbox
clock's time of receipt. Sandbox choices (unconfirmed): an event without `event_id` is never deduplicated
(TikTok "tries `_ttp`", whose rules are not documented); `test_event_code` does not take part in the key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SOURCE_SERVER = "server"  # the Events API
SOURCE_BROWSER = "browser"  # the pixel in the browser

STATUS_COUNTED = "counted"  # opened a conversion
STATUS_MERGED = "merged"  # the other channel's copy, merged into the conversion within 5 minutes
STATUS_DUPLICATE = "duplicate"  # dropped by deduplication
STATUS_REFUSED = "refused"  # refused (bad field, unknown pixel, withheld request)

DEDUP_WINDOW_SECONDS = 48 * 3600.0  # tiktok-api.md: repeats within 48 h of the first are dropped
MERGE_WINDOW_SECONDS = 300.0  # tiktok-api.md: pixel + API within 5 minutes are merged
MAX_EVENT_AGE_SECONDS = 7 * 86_400.0  # unconfirmed (tiktok-api.md "Not confirmed"): how old event_time may be
FUTURE_SKEW_SECONDS = 300.0  # unconfirmed: how far in the future event_time may be (clock skew)

HASHED_USER_KEYS = ("email", "phone", "external_id")  # tiktok-api.md: "all SHA-256 hex"
TEXT_USER_KEYS = ("ttclid", "ttp", "user_agent", "locale")
CONTENT_TYPES = frozenset({"product", "product_group"})
CUSTOMER_TYPES = frozenset({"new", "returning"})
# The pixel's ttq.identify key names mapped to the Events API's (tiktok-api.md "Pixel in the browser").
IDENTIFY_KEYS = {"email": "email", "phone_number": "phone", "external_id": "external_id", "ttp": "ttp"}

# TikTok's supported currency list is not reproduced in tiktok-api.md; these are the ISO 4217 codes TikTok
# Ads Manager offers for ad accounts (a sandbox setting: `TikTokSandbox.supported_currencies`).
_CURRENCY_CODES = """
AED ARS AUD BDT BGN BHD BOB BRL CAD CHF CLP CNY COP CRC CZK DKK DZD EGP EUR GBP GTQ HKD HNL HUF IDR ILS INR
IQD ISK JOD JPY KES KRW KWD KZT LBP MAD MOP MXN MYR NGN NIO NOK NZD OMR PEN PHP PKR PLN PYG QAR RON RUB SAR
SEK SGD THB TRY TWD UAH USD UYU VES VND ZAR
"""
SUPPORTED_CURRENCIES = frozenset(_CURRENCY_CODES.split())

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class EventRefused(ValueError):
    """One event breaks a rule; the message names the field (`data[2].user.email: …`)."""


@dataclass
class ReceivedEvent:
    """Everything TikTok received for a pixel, as received, with what became of it."""

    pixel_code: str
    source: str  # SOURCE_SERVER or SOURCE_BROWSER
    received_at: float  # sandbox clock
    payload: Any  # the event object as sent (Events API: one item of `data`; pixel: the collector body)
    event: str = ""
    event_id: str = ""
    event_time: float = 0.0
    status: str = STATUS_COUNTED
    reason: str = ""  # why refused or dropped
    test_event_code: str = ""
    partner_name: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "pixel_code": self.pixel_code,
            "source": self.source,
            "received_at": self.received_at,
            "event": self.event,
            "event_id": self.event_id,
            "event_time": self.event_time,
            "status": self.status,
            "reason": self.reason,
            "test_event_code": self.test_event_code,
            "partner_name": self.partner_name,
            "payload": self.payload,
        }


@dataclass
class Conversion:
    """One event TikTok counts (after deduplication)."""

    pixel_code: str
    event: str
    event_id: str
    sources: set[str]
    properties: dict[str, Any]
    user: dict[str, Any]  # Events API names (email, phone, external_id, ttp, ip, …), merged over channels
    event_time: float
    first_received_at: float
    page: dict[str, Any] = field(default_factory=dict)
    test_event_code: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "pixel_code": self.pixel_code,
            "event": self.event,
            "event_id": self.event_id,
            "sources": sorted(self.sources),
            "properties": self.properties,
            "user": self.user,
            "event_time": self.event_time,
            "first_received_at": self.first_received_at,
            "page": self.page,
            "test_event_code": self.test_event_code,
        }


# -- checks (Events API) -------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: Any, name: str, *, required: bool = False) -> dict[str, Any]:
    if value is None:
        if required:
            raise EventRefused(f"{name}: required.")
        return {}
    if not isinstance(value, dict):
        raise EventRefused(f"{name}: must be an object.")
    return value


def check_hashed(value: Any, name: str) -> None:
    """A SHA-256 hex string (64 lower-case hex characters) or a non-empty array of them."""
    values = value if isinstance(value, list) else [value]
    if not values:
        raise EventRefused(f"{name}: must not be an empty array.")
    for item in values:
        if not isinstance(item, str) or not _SHA256_HEX.fullmatch(item):
            raise EventRefused(
                f"{name}: must be SHA-256 hex (64 lower-case hexadecimal characters, or an array of them); "
                "raw values are refused."
            )


def check_user(user: dict[str, Any], name: str) -> None:
    for key in HASHED_USER_KEYS:
        if user.get(key) is not None:
            check_hashed(user[key], f"{name}.{key}")
    for key in TEXT_USER_KEYS:
        if user.get(key) is not None and not isinstance(user[key], str):
            raise EventRefused(f"{name}.{key}: must be a string.")
    if user.get("ip") is not None:
        try:
            ipaddress.ip_address(user["ip"] if isinstance(user["ip"], str) else "")
        except ValueError:
            raise EventRefused(f"{name}.ip: must be an IPv4 or IPv6 address.") from None


def check_properties(properties: dict[str, Any], name: str, currencies: Iterable[str]) -> None:
    currency = properties.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency not in set(currencies)):
        raise EventRefused(f"{name}.currency: must be an ISO 4217 code TikTok supports (got {currency!r}).")
    if properties.get("value") is not None and not _is_number(properties["value"]):
        raise EventRefused(f"{name}.value: must be a plain number (no quotes, symbols or commas).")
    if properties.get("num_items") is not None and not _is_int(properties["num_items"]):
        raise EventRefused(f"{name}.num_items: must be an integer.")
    content_type = properties.get("content_type")
    if content_type is not None and content_type not in CONTENT_TYPES:
        raise EventRefused(f"{name}.content_type: must be product or product_group.")
    customer_type = properties.get("customer_type")
    if customer_type is not None and customer_type not in CUSTOMER_TYPES:
        raise EventRefused(f"{name}.customer_type: must be new or returning.")
    for key in ("order_id", "description", "query"):
        if properties.get(key) is not None and not isinstance(properties[key], str):
            raise EventRefused(f"{name}.{key}: must be a string.")
    content_ids = properties.get("content_ids")
    if content_ids is not None and (
        not isinstance(content_ids, list) or not all(isinstance(c, str) and c for c in content_ids)
    ):
        raise EventRefused(f"{name}.content_ids: must be an array of strings.")
    if properties.get("contents") is not None:
        check_contents(properties["contents"], f"{name}.contents")


def check_contents(contents: Any, name: str) -> None:
    if not isinstance(contents, list):
        raise EventRefused(f"{name}: must be an array.")
    for index, item in enumerate(contents):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            raise EventRefused(f"{where}: must be an object.")
        if item.get("content_id") is not None and (not isinstance(item["content_id"], str) or not item["content_id"]):
            raise EventRefused(f"{where}.content_id: must be a non-empty string.")
        if item.get("price") is not None and not _is_number(item["price"]):
            raise EventRefused(f"{where}.price: must be a plain number (no quotes, symbols or commas).")
        if item.get("quantity") is not None and not _is_int(item["quantity"]):
            raise EventRefused(f"{where}.quantity: must be an integer.")
        for key in ("content_name", "content_category", "brand"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise EventRefused(f"{where}.{key}: must be a string.")


def check_server_event(
    event: Any,
    name: str,
    *,
    now: float,
    max_age_seconds: float,
    future_skew_seconds: float,
    currencies: Iterable[str],
) -> None:
    """Raise EventRefused naming the first field of one Events API event (`name` is e.g. `data[0]`) at fault."""
    if not isinstance(event, dict):
        raise EventRefused(f"{name}: must be an object.")
    if not isinstance(event.get("event"), str) or not event["event"].strip():
        raise EventRefused(f"{name}.event: required.")
    event_time = event.get("event_time")
    if event_time is None:
        raise EventRefused(f"{name}.event_time: required.")
    if not _is_int(event_time):
        raise EventRefused(f"{name}.event_time: must be a Unix time in seconds (an integer).")
    if event_time > now + future_skew_seconds:
        raise EventRefused(f"{name}.event_time: must not be in the future.")
    if event_time < now - max_age_seconds:
        raise EventRefused(f"{name}.event_time: must be within the last {max_age_seconds / 86_400:g} days.")
    if event.get("event_id") is not None and (not isinstance(event["event_id"], str) or not event["event_id"]):
        raise EventRefused(f"{name}.event_id: must be a non-empty string.")
    if event.get("limited_data_use") is not None and not isinstance(event["limited_data_use"], bool):
        raise EventRefused(f"{name}.limited_data_use: must be a boolean.")
    check_user(_object(event.get("user"), f"{name}.user"), f"{name}.user")
    check_properties(_object(event.get("properties"), f"{name}.properties"), f"{name}.properties", currencies)
    page = _object(event.get("page"), f"{name}.page", required=True)  # "url (required for web)"
    url = page.get("url")
    if not isinstance(url, str) or not url:
        raise EventRefused(f"{name}.page.url: required for web events.")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise EventRefused(f"{name}.page.url: must be an http(s) URL.")
    if page.get("referrer") is not None and not isinstance(page["referrer"], str):
        raise EventRefused(f"{name}.page.referrer: must be a string.")


# -- the ledger: received events and counted conversions -----------------------------------------------
class EventLedger:
    """Received events of every pixel, in order, and the conversions TikTok counts from them."""

    def __init__(self) -> None:
        self.received: list[ReceivedEvent] = []
        self.counted: list[Conversion] = []
        self.dedup_window_seconds = DEDUP_WINDOW_SECONDS
        self.merge_window_seconds = MERGE_WINDOW_SECONDS
        self._latest: dict[tuple[str, str, str], Conversion] = {}

    def refuse(self, entry: ReceivedEvent, reason: str) -> ReceivedEvent:
        entry.status, entry.reason = STATUS_REFUSED, reason
        self.received.append(entry)
        return entry

    def accept(
        self,
        entry: ReceivedEvent,
        user: dict[str, Any],
        properties: dict[str, Any],
        page: dict[str, Any],
    ) -> ReceivedEvent:
        """Record `entry` and count it, merge it or drop it as TikTok's deduplication says."""
        self.received.append(entry)
        now = entry.received_at
        key = (entry.pixel_code, entry.event, entry.event_id)
        known = self._latest.get(key) if entry.event_id else None
        if known is not None and now - known.first_received_at < self.dedup_window_seconds:
            if entry.source in known.sources:
                entry.status = STATUS_DUPLICATE
                entry.reason = f"a {entry.source} repeat within 48 h of the first"
            elif now - known.first_received_at <= self.merge_window_seconds:
                entry.status = STATUS_MERGED
                known.sources.add(entry.source)
                for name, value in user.items():
                    known.user.setdefault(name, value)  # the first is kept, enriched with the other's keys
            else:
                entry.status = STATUS_DUPLICATE
                entry.reason = f"the {entry.source} copy came more than 5 minutes after the first, within 48 h"
            return entry
        conversion = Conversion(
            entry.pixel_code,
            entry.event,
            entry.event_id,
            {entry.source},
            properties,
            dict(user),
            entry.event_time,
            now,
            page,
            entry.test_event_code,
        )
        self.counted.append(conversion)
        if entry.event_id:
            self._latest[key] = conversion
        entry.status = STATUS_COUNTED
        return entry

    def conversions(self, pixel_code: str | None = None) -> list[Conversion]:
        return [c for c in self.counted if pixel_code is None or c.pixel_code == pixel_code]

    def received_events(self, pixel_code: str | None = None, source: str | None = None) -> list[ReceivedEvent]:
        return [
            e
            for e in self.received
            if (pixel_code is None or e.pixel_code == pixel_code) and (source is None or e.source == source)
        ]


def server_user(event: dict[str, Any]) -> dict[str, Any]:
    """The match keys of an Events API event (its `user`, as sent)."""
    user = event.get("user")
    return {k: v for k, v in user.items() if v is not None} if isinstance(user, dict) else {}


def browser_user(context_user: Any) -> dict[str, Any]:
    """The pixel's identify keys (and `_ttp`) under the Events API's names."""
    if not isinstance(context_user, dict):
        return {}
    return {IDENTIFY_KEYS[k]: v for k, v in context_user.items() if k in IDENTIFY_KEYS and v not in (None, "")}
