"""The merchant's and Ecwid's steps, taken through the real service functions over the fakes (tests/fakes.py).

A test builds its state the way the product does (install, connect, webhooks, the worker's messages), never by
writing the fake table itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aws_lambda_powertools import Metrics
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.fakes import ECWID_CLIENT_SECRET, FULL_SCOPES, FakeServices, SentMessage
from tiktok_channel.errors import AppError
from tiktok_channel.models.store import Store
from tiktok_channel.services import connect, install, storefront
from tiktok_channel.services.worker import handle_message

BASE_URL = "https://api.example.test"
STORE_ID = 1003
PHONE = "+14155550123"


def fresh_services(settings: dict[str, str] | None = None) -> FakeServices:
    """New fakes, and Powertools' metrics emptied (they are shared by the process and flush, needing a namespace
    the tests do not set, at 100 values of one metric)."""
    Metrics().clear_metrics()
    return FakeServices(settings=settings)


def store_of(services: FakeServices, store_id: int = STORE_ID) -> Store:
    store = services.stores.get(store_id)
    assert store is not None, f"store {store_id} is not in the table"
    return store


def install_store(
    services: FakeServices,
    store_id: int = STORE_ID,
    *,
    country: str = "US",
    currency: str = "USD",
    scope: str = FULL_SCOPES,
) -> None:
    """The merchant installs the app from the Ecwid App Market (Ecwid's store is created first when new), granting
    `scope` (the default: every scope the app asks for today)."""
    ecwid = services.ecwid()
    if store_id not in ecwid.stores:
        ecwid.add_store(store_id, country=country, currency=currency)
    code = ecwid.issue_code(store_id, BASE_URL + install.ECWID_CALLBACK_PATH, scope)
    install.install_store(services, code=code, store_id=str(store_id), error=None, base_url=BASE_URL)


def state_of(authorize_url: str) -> str:
    return parse_qs(urlsplit(authorize_url).query)["state"][0]


def connect_store(services: FakeServices, store_id: int = STORE_ID, *, profile: bool = True) -> str:
    """The merchant presses Connect, finishes TikTok's setup and comes back; answers the auth code used."""
    url = connect.start_connect(services, store_id, PHONE, BASE_URL)
    store = store_of(services, store_id)
    code = services.tiktok().authorize(
        str(store_id), profile=profile, currency=store.currency, region=store.country, store_name=store.store_name
    )
    connect.finish_connect(services, auth_code=code, state=state_of(url))
    return code


def deliver(services: FakeServices, *, limit: int = 100) -> list[str]:
    """The catalog worker takes every waiting message in turn (and those they queue), through `handle_message`.

    A message that fails is given back (its wait recorded by the fake queue) and the failure raised.
    """
    outcomes: list[str] = []
    for _ in range(limit):
        message = services.queue.receive()
        if message is None:
            return outcomes
        try:
            outcome = work_on(services, message)
        except Exception:
            services.queue.waiting.insert(0, message)
            raise
        outcomes.append(outcome)
    raise AssertionError(f"the queue did not empty after {limit} messages")


def next_message(services: FakeServices) -> SentMessage:
    """The worker receives the next waiting message."""
    message = services.queue.receive()
    assert message is not None, "no message is waiting"
    return message


def work_on(services: FakeServices, message: SentMessage, *, receive_count: int = 1, seconds: float = 900.0) -> str:
    """The worker handles one received message, its receive count and its invocation's time left as given."""
    return handle_message(
        services,
        message.body,
        receipt_handle=message.receipt_handle,
        receive_count=receive_count,
        remaining_seconds=lambda: seconds,
    )


def connected_store(services: FakeServices, store_id: int = STORE_ID, *, country: str = "US") -> None:
    """Installed, connected, and its first sync done."""
    install_store(services, store_id, country=country)
    connect_store(services, store_id)
    deliver(services)


APPLICATION: dict[str, Any] = {
    "legal_business_name": "Demo Store LLC",
    "contact_name": "Alex Owner",
    "contact_email": "owner@example.com",
    "business_phone": "+1 (415) 555-0199",
    "business_address": {
        "street": "1 Market St",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
    },
    "store_url": "https://store1003.example.com",
    "product_categories": ["Apparel"],
    "monthly_orders": "50-200",
    "agrees_to_commerce_policies": True,
}


def apply_for_storefront(services: FakeServices, store_id: int = STORE_ID) -> dict[str, Any]:
    return storefront.apply(services, store_id, storefront.read_application(APPLICATION))


def encrypt_payload(data: dict[str, Any] | bytes, client_secret: str = ECWID_CLIENT_SECRET) -> str:
    """Ecwid's `payload` for the app page: AES-128-CBC (key = the client secret's first 16 characters), the IV
    first, base64url without padding (ecwid-api.md, "Native admin page")."""
    plaintext = data if isinstance(data, bytes) else json.dumps(data).encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(client_secret[:16].encode("ascii")), modes.CBC(iv)).encryptor()
    sealed = iv + encryptor.update(padded) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def admin_payload(services: FakeServices, store_id: int = STORE_ID) -> str:
    """What Ecwid's admin puts in the app page's URL for this store now."""
    token = services.ecwid().token_for(store_id)
    return encrypt_payload({"store_id": store_id, "access_token": token, "lang": "en", "view_mode": "PAGE"})


def signature(body: dict[str, Any], client_secret: str = ECWID_CLIENT_SECRET) -> str:
    """X-Ecwid-Webhook-Signature: base64(HMAC-SHA256(client_secret, f"{eventCreated}.{eventId}"))."""
    signed = f"{body['eventCreated']}.{body['eventId']}".encode()
    return base64.b64encode(hmac.new(client_secret.encode(), signed, hashlib.sha256).digest()).decode()


def webhook(
    event_type: str,
    entity_id: int | str,
    *,
    store_id: int = STORE_ID,
    event_id: str = "",
    order_id: str | None = None,
    payment_status: str = "PAID",
) -> dict[str, Any]:
    """Ecwid's body for an event; an order event carries `data.orderId` (`order_id`, else `K<entity_id>`)."""
    data: dict[str, Any] = {}
    if event_type.startswith("order."):
        data = {"orderId": order_id or f"K{entity_id}", "newPaymentStatus": payment_status}
    return {
        "eventId": event_id or f"{event_type}-{entity_id}-{os.urandom(4).hex()}",
        "eventCreated": 1_790_000_000,
        "storeId": store_id,
        "entityId": entity_id,
        "eventType": event_type,
        "data": data,
    }


def refused(error: pytest.ExceptionInfo[AppError], status: int, code: str) -> str:
    """An answer a merchant or operator sees: this status and code, and a sentence saying what to do."""
    assert (error.value.status, error.value.code) == (status, code), error.value.message
    assert len(error.value.message) > 20
    return error.value.message
