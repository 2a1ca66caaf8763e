"""Ecwid's webhooks: verify the signature, keep the catalog events, and queue one message per event.

The receiver calls neither Ecwid nor TikTok: the worker re-fetches the entity with the store's token and
decides by the store's current connection (the body is signed only over its ids). Every authentic event
is answered 200, ignored ones included: any other answer makes Ecwid retry for a day, and two weeks of
failures block the app's webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from tiktok_channel.errors import BadRequest, Unauthorized
from tiktok_channel.inputs import BodyRefused, bounded_json
from tiktok_channel.models.ecwid_webhook import EcwidWebhookBody
from tiktok_channel.models.messages import ECWID_EVENT_ROUTES, ENTITY_ROUTES, EcwidEventMessage

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

SIGNATURE_HEADER = "X-Ecwid-Webhook-Signature"
MAX_BODY_BYTES = 64 * 1024  # Ecwid's bodies carry ids and a small `data`; anything bigger is not Ecwid's

_LOGGED_CHARS = 128  # event ids and types are the sender's strings: bound what reaches the logs

Outcome = Literal["queued", "ignored"]


def receive_webhook(services: Services, body: str | None, signature: str | None) -> Outcome:
    """Queue the authentic event `body` for the catalog worker, or ignore it; refuse what is not Ecwid's."""
    event = _authentic_event(services, body, signature)
    store_id, reason = _route(event)
    if store_id is None or event.event_type is None:
        metrics.add_metric(name="WebhookEventsIgnored", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="reason", value=reason)
        logger.info("Webhook event ignored", extra={**_described(event), "reason": reason})
        return "ignored"
    services.queue.send(
        EcwidEventMessage(
            store_id=store_id,
            # Not bound to a connection: the worker acts on the store's current state when it runs.
            epoch=0,
            event_id=event.event_id,
            event_type=event.event_type,
            entity_id=event.entity_id,
            event_created=event.event_created,
            order_id=event.order_id if ECWID_EVENT_ROUTES[event.event_type] == "order" else None,
        )
    )
    metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=1)
    logger.info("Webhook event queued", extra=_described(event))
    return "queued"


def _authentic_event(services: Services, body: str | None, signature: str | None) -> EcwidWebhookBody:
    raw = _parsed_json(body)
    try:
        event = EcwidWebhookBody.model_validate(raw)
    except ValidationError:
        raise _refused("unsigned_body") from None
    if not signature:
        raise _refused("signature_missing")
    if not _signature_matches(services.secrets().ecwid_client_secret, event, signature):
        raise _refused("signature_mismatch")
    return event


def _parsed_json(body: str | None) -> Any:
    """The parsed body; a 400 when it is too big, too deep or not JSON (bounded before it is parsed)."""
    try:
        return bounded_json(body, max_bytes=MAX_BODY_BYTES)
    except BodyRefused as refused:
        if refused.reason == "too_large":
            _count_refusal("body_too_large")
            raise BadRequest(
                f"A webhook body must be at most {MAX_BODY_BYTES // 1024} KiB.", code="body_too_large"
            ) from None
        _count_refusal("invalid_json")
        raise BadRequest("The webhook body must be JSON.", code="invalid_json") from None


def _signature_matches(client_secret: str, event: EcwidWebhookBody, signature: str) -> bool:
    """base64(HMAC-SHA256(client_secret, f"{eventCreated}.{eventId}")), compared in constant time."""
    digest = hmac.new(client_secret.encode(), event.signed_message.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode("utf-8", "replace"))


def _route(event: EcwidWebhookBody) -> tuple[int, None] | tuple[None, str]:
    """The store whose queue group gets the event, or why the event is ignored."""
    route = ECWID_EVENT_ROUTES.get(event.event_type or "")
    if route is None:
        return None, "event_type_not_handled"
    if event.store_id is None:
        return None, "store_id_invalid"  # not a positive integer: the event cannot be routed to a store
    if route in ENTITY_ROUTES and event.entity_id is None:
        return None, "entity_id_missing"  # the worker could not tell which product or category changed
    if route == "order" and event.order_id is None:
        return None, "order_id_missing"  # the worker could not tell which order to read
    return event.store_id, None


def _refused(reason: str) -> Unauthorized:
    # One answer for every failure, so a caller learns nothing about which check failed.
    _count_refusal(reason)
    return Unauthorized("The webhook signature is missing or does not match.", code="invalid_signature")


def _count_refusal(reason: str) -> None:
    metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="reason", value=reason)
    logger.warning("Webhook refused", extra={"reason": reason})


def _described(event: EcwidWebhookBody) -> dict[str, Any]:
    """What the logs say about an event: its type, store and ids; never the body or the signature."""
    return {
        "event_type": (event.event_type or "")[:_LOGGED_CHARS],
        "store_id": event.store_id,
        "event_id": event.event_id[:_LOGGED_CHARS],
        "entity_id": (event.entity_id or "")[:_LOGGED_CHARS] or None,
    }
