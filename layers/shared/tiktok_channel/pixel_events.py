"""A paid Ecwid order as TikTok's Events API purchase (tiktok-api.md, "Events API"): match keys normalised and
hashed as TikTok requires, contents keyed by the catalog's sku ids, and the `event_id` the storefront script
gives the same purchase (design.md: `ecwid-{storeId}-{orderId}`), so TikTok keeps one of the two.

Pure functions: no I/O, nothing logged. Shoppers' e-mail and phone leave only as SHA-256 hex digests.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tiktok_channel.inputs import ascii_digits, is_dash_or_space
from tiktok_channel.models.orders import EcwidOrder

# Stores outside these keep server-side purchases on by default; inside, the merchant switches them on (the
# GDPR countries: the EU, the EEA's Iceland, Liechtenstein and Norway, the UK and Switzerland).
CONSENT_FIRST_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",  # the EU
        "IS", "LI", "NO",  # the rest of the EEA
        "GB", "CH",
    }
)  # fmt: skip

# Country calling codes of the countries TikTok's catalog ads serve (design.md, "Eligibility"), for phones that
# Ecwid holds in national form; whether the national trunk prefix "0" is dropped (Italy keeps it). A phone of
# another country is sent only when written internationally: a guessed country would hash a wrong number.
_CALLING_CODES: dict[str, tuple[str, bool]] = {
    "AU": ("61", True), "CA": ("1", False), "EG": ("20", True), "FR": ("33", True), "DE": ("49", True),
    "IT": ("39", False), "ES": ("34", False), "ID": ("62", True), "IL": ("972", True), "JP": ("81", True),
    "KR": ("82", True), "MY": ("60", True), "RU": ("7", False), "SA": ("966", True), "SG": ("65", False),
    "TW": ("886", True), "TH": ("66", True), "TR": ("90", True), "AE": ("971", True), "VN": ("84", True),
    "GB": ("44", True), "US": ("1", False),
}  # fmt: skip
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAX_USER_AGENT = 512
_MAX_TTCLID = 256
_TTCLID = re.compile(r"[A-Za-z0-9._~-]+")


def purchase_event_id(store_id: int, order_id: str) -> str:
    """`ecwid-{storeId}-{orderId}`, what the browser's purchase carries too (design.md, "Pixel")."""
    return f"ecwid-{store_id}-{order_id}"


def server_events_default(country: str) -> bool:
    """On for stores outside the EU, EEA, UK and Switzerland; off inside them."""
    return country.upper() not in CONSENT_FIRST_COUNTRIES


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalized_email(raw: str | None) -> str | None:
    """Trimmed and lower-cased (TikTok: "trim, lower-case, then hash"); None when it is no e-mail address."""
    if not raw:
        return None
    email = raw.strip().lower()
    local, at, domain = email.partition("@")
    return email if at and local and "." in domain and not any(c.isspace() for c in email) else None


def normalized_phone(raw: str | None, country_code: str | None) -> str | None:
    """E.164 (`+`, country code, digits, no trunk 0), as TikTok hashes it; None when that cannot be known."""
    if not raw:
        return None
    typed = ascii_digits(raw).strip().replace("\uff0b", "+")
    phone = "".join(char for char in typed if not (is_dash_or_space(char) or char in "()./"))
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not phone.startswith("+"):
        known = _CALLING_CODES.get((country_code or "").upper())
        if known is None or not phone.isdigit():
            return None
        calling_code, drops_trunk_zero = known
        if phone.startswith(calling_code) and len(phone) > 10:
            phone = "+" + phone  # written with its country code but without the +
        else:
            national = phone[1:] if drops_trunk_zero and phone.startswith("0") else phone
            phone = f"+{calling_code}{national}"
    return phone if _E164.fullmatch(phone) else None


def public_ip(raw: str | None) -> str | None:
    """The shopper's address when it is a public IPv4 or IPv6 (TikTok wants no private ones)."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    return str(address) if address.is_global else None


def ttclid_of(*urls: str | None) -> str | None:
    """The `ttclid` a TikTok ad click appended to the landing URL, from the first URL that carries one."""
    for url in urls:
        if not url:
            continue
        try:
            values = parse_qs(urlsplit(url).query).get("ttclid") or parse_qs(urlsplit(url).fragment).get("ttclid")
        except ValueError:
            continue
        for value in values or ():
            if 0 < len(value) <= _MAX_TTCLID and _TTCLID.fullmatch(value):
                return value
    return None


def purchase_event(
    order: EcwidOrder, *, store_id: int, event_name: str, currency: str, page_url: str, event_time: int
) -> dict[str, Any]:
    """One Events API event for a paid order: `{event, event_time, event_id, user, properties, page}`.

    `value` is the order total and `price` each unit's price, plain numbers in the store's currency (ISO 4217);
    `contents[].content_id` the catalog's sku ids (product id, or product-combination for a variation).
    """
    user: dict[str, Any] = {}
    email = normalized_email(order.email)
    if email:
        user["email"] = sha256_hex(email)
    phone = normalized_phone(order.phone, order.country_code)
    if phone:
        user["phone"] = sha256_hex(phone)
    ip = public_ip(order.ip_address)
    if ip:
        user["ip"] = ip
    if order.customer_user_agent:
        user["user_agent"] = order.customer_user_agent[:_MAX_USER_AGENT]
    ttclid = ttclid_of(order.referer_url, order.global_referer)
    if ttclid:
        user["ttclid"] = ttclid
    contents = [
        {"content_id": item.sku_id, "content_name": item.name[:150], "price": item.price, "quantity": item.quantity}
        for item in order.items
        if item.quantity > 0 and item.product_id is not None  # an item of no product has no catalog sku_id
    ]
    return {
        "event": event_name,
        "event_time": event_time,
        "event_id": purchase_event_id(store_id, order.id),
        "user": user,
        "properties": {
            "contents": contents,
            "content_type": "product",
            "currency": currency,
            "value": order.total,
            "num_items": sum(item["quantity"] for item in contents),
            "order_id": order.id,
        },
        "page": {"url": page_url},
    }
