"""Ecwid's webhooks as the sandbox sends them: signed like Ecwid signs them, retried on Ecwid's schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Ecwid-Webhook-Signature"
# Ecwid counts exactly these as delivered; every other answer (other 2xx included) is retried.
DELIVERED_STATUSES = frozenset({200, 201, 202, 204, 209})
# Seconds after each failed attempt (15 min, 30 min, 45 min, 1 h, 2 h, ... 6 h, then every 6 h).
RETRY_DELAYS = (900, 1800, 2700, 3600, 7200, 10800, 14400, 18000, 21600)
MAX_ATTEMPTS = 27


def signature(client_secret: str, event_created: int | str, event_id: str) -> str:
    """base64(HMAC-SHA256(client_secret, f"{eventCreated}.{eventId}")) of the raw digest."""
    digest = hmac.new(client_secret.encode(), f"{event_created}.{event_id}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class EcwidWebhook:
    """One webhook request: the exact headers and body Ecwid would POST, plus its delivery history."""

    headers: dict[str, str]
    body: bytes
    attempts: int = 0
    next_attempt_at: float = 0.0
    statuses: list[int] = field(default_factory=list)  # 0 = no answer (refused, timed out)

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def event_type(self) -> str:
        return str(self.json().get("eventType", ""))

    @property
    def event_id(self) -> str:
        return str(self.json().get("eventId", ""))


def sign_webhook(client_secret: str, body: Mapping[str, object]) -> EcwidWebhook:
    """Serialise `body` and sign it from its own eventCreated/eventId (whatever shape a test gives it)."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if "eventCreated" in body and "eventId" in body:
        headers[SIGNATURE_HEADER] = signature(client_secret, str(body["eventCreated"]), str(body["eventId"]))
    return EcwidWebhook(headers, raw)


def delivery_url(webhook_url: str, event_type: str) -> str:
    """Ecwid repeats the event type in the query string so an endpoint can filter without parsing."""
    parts = urlsplit(webhook_url)
    query = "&".join(q for q in (parts.query, urlencode({"eventtype": event_type})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def retry_delay(attempts: int) -> int:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
