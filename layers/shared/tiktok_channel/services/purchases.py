"""Journey 7, server side: a paid order's purchase sent to TikTok's Events API once.

Ecwid's `order.created` / `order.updated` webhooks are queued like catalog events (FIFO group = store, so one
store's orders are handled one at a time). The worker reads the order as it is now with the store's token and,
once it is PAID, sends one purchase with the `event_id` the storefront script uses for the same order, so TikTok
keeps one of the two (tiktok-api.md, "Deduplication"). A record per order makes repeats cost no Ecwid read and
no TikTok call; a try whose outcome is unknown is repeated only within TikTok's 48-hour deduplication window,
counted from the first try. Refunds and cancellations send nothing.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import EcwidAccessLost, EcwidError, TikTokRequestRejected, TransientError
from tiktok_channel.models.pixel import PixelFailure, PixelState, PurchaseRecord
from tiktok_channel.pixel_events import purchase_event, purchase_event_id, server_events_default
from tiktok_channel.services.sync_notices import stop_when_access_lost

if TYPE_CHECKING:
    from tiktok_channel.models.messages import EcwidEventMessage
    from tiktok_channel.models.orders import EcwidOrder
    from tiktok_channel.models.store import Store, TikTokConnection
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

DEDUPLICATION_WINDOW_SECONDS = 48 * 3600  # TikTok drops API repeats of an event_id within 48 h of the first
ORDERS_SCOPE = "read_orders"
MISSING_SCOPE = "INSUFFICIENT_APP_SCOPE"


def server_events_on(store: Store, pixel: PixelState) -> bool:
    """The merchant's choice, else the default for the store's country."""
    return pixel.server_events if pixel.server_events is not None else server_events_default(store.country)


def send_purchase(services: Services, message: EcwidEventMessage) -> str:
    """Send the purchase of the order `message` names, once it is paid; answers what happened (sent, not paid,
    already sent, unknown order, refused, expired, too old, server events off, dropped, …).

    Raises what the ports raise for transient failures (the worker tries again later). Ecwid refusing the
    store's token or TikTok revoking its own stops the store's syncing, as for catalog work.
    """
    store_id, order_id = message.store_id, message.order_id
    store = services.stores.get(store_id)
    connection = store.tiktok if store is not None else None
    if store is None or store.status != "connected" or connection is None or not connection.pixel_code:
        return _outcome("dropped", store_id)
    if not order_id:
        return _outcome("no order id", store_id)
    return stop_when_access_lost(
        services, store, lambda: _handle(services, store, connection, order_id), ends_sync=False
    )


def _handle(services: Services, store: Store, connection: TikTokConnection, order_id: str) -> str:
    store_id = store.store_id
    pixel = services.pixels.get(store_id)
    if not server_events_on(store, pixel):
        return _outcome("server events off", store_id)
    if pixel.store_pixel_code and pixel.store_pixel_code == connection.pixel_code:
        # Ecwid's own pixel setting fires this very pixel in the browser, with event ids of its own: a server
        # purchase could not be merged with its purchase and would count the order twice.
        return _outcome("store pixel counts purchases", store_id)
    record = services.pixels.get_purchase(store_id, order_id)
    if record is not None and record.state != "sending":
        return _outcome(f"already {record.state}", store_id)
    now = services.clock()
    if ORDERS_SCOPE not in store.ecwid_scope.split():
        _note_failure(services, store_id, "orders_scope_missing", _SCOPE_MISSING, now, order_id)
        return _outcome("orders scope missing", store_id)

    order = _read_order(services, store, order_id, now)
    if isinstance(order, str):
        return order
    if not order.paid:
        return _outcome("not paid", store_id)
    placed = order.create_timestamp or int(now)
    if now - placed > services.settings.purchase_max_age_days * 86_400:
        return _outcome("too old", store_id)
    if record is None:
        record = PurchaseRecord(
            order_id=order_id,
            event_id=purchase_event_id(store_id, order.id),
            state="sending",
            epoch=store.epoch,
            first_attempt_at=int(now),
        )
        # Written before the call: the deduplication window starts with the first try that may reach TikTok.
        services.pixels.put_purchase(store_id, record, at=now)
    elif now - record.first_attempt_at > DEDUPLICATION_WINDOW_SECONDS:
        services.pixels.put_purchase(store_id, record.model_copy(update={"state": "expired"}), at=now)
        _note_failure(services, store_id, "purchase_expired", _EXPIRED, now, order_id)
        metrics.add_metric(name="PurchaseExpired", unit=MetricUnit.Count, value=1)
        return _outcome("expired", store_id)
    return _send(services, store, order, record, now, clears_error=pixel.last_error is not None)


def _read_order(services: Services, store: Store, order_id: str, now: float) -> EcwidOrder | str:
    """The order as Ecwid has it now, or the outcome when there is none to send (unknown, unreadable, no scope)."""
    store_id = store.store_id
    ecwid_token = services.cipher.decrypt(store.ecwid_token or b"", store_id=store_id, field="ecwid_token")
    try:
        order = services.ecwid().get_order(store_id, ecwid_token, order_id)
    except EcwidAccessLost as lost:
        if lost.error_code != MISSING_SCOPE:
            raise
        _note_failure(services, store_id, "orders_scope_missing", _SCOPE_MISSING, now, order_id)
        return _outcome("orders scope missing", store_id)
    except EcwidError as error:
        if isinstance(error, TransientError):
            raise
        # An answer another try would not change (its shape, a 400): retried, it would hold the store's queue group,
        # catalog edits included, for hours. A later webhook of the order reads it again.
        _note_failure(services, store_id, "order_unreadable", _UNREADABLE, now, order_id)
        return _outcome("unreadable order", store_id)
    if order is None:
        # Not this store's order (the webhook's storeId is not signed), or deleted since: nothing to send.
        return _outcome("unknown order", store_id)
    return order


def _send(
    services: Services, store: Store, order: EcwidOrder, record: PurchaseRecord, now: float, *, clears_error: bool
) -> str:
    """Send the purchase; `clears_error`: the pixel state read before shows a last failure this success ends."""
    connection = store.tiktok
    assert connection is not None  # checked by the caller, with its pixel code
    assert connection.pixel_code
    event = purchase_event(
        order,
        store_id=store.store_id,
        event_name=services.settings.tiktok_purchase_event,
        currency=store.currency,
        page_url=store.store_url,
        event_time=order.create_timestamp or int(now),
    )
    token = services.cipher.decrypt(connection.access_token, store_id=store.store_id, field="tiktok_token")
    try:
        services.tiktok().track_events(token, pixel_code=connection.pixel_code, events=[event])
    except TikTokRequestRejected as refused:
        services.pixels.put_purchase(
            store.store_id, record.model_copy(update={"state": "refused", "reason": refused.detail}), at=now
        )
        _note_failure(services, store.store_id, "purchase_refused", _refused_message(refused), now, record.order_id)
        metrics.add_metric(name="PurchaseRefused", unit=MetricUnit.Count, value=1)
        logger.warning(
            "TikTok refused a purchase event",
            extra={"store_id": store.store_id, "code": refused.code, "request_id": refused.request_id},
        )
        return "refused"
    sent = record.model_copy(update={"state": "sent", "sent_at": int(now)})
    services.pixels.purchase_sent(store.store_id, sent, at=now)
    metrics.add_metric(name="PurchaseSent", unit=MetricUnit.Count, value=1)
    if clears_error:
        # A purchase went through: the last failure is history, not what the merchant must act on.
        with contextlib.suppress(Exception):
            services.pixels.update(store.store_id, last_error=None)
    return "sent"


_SCOPE_MISSING = (
    "The app cannot read your orders yet, so purchases are not sent to TikTok from the server. Open the app's page "
    "in your Ecwid admin and press Grant access to allow reading orders."
)
_UNREADABLE = (
    "Ecwid answered an order in a form the app could not read, so its purchase was not sent to TikTok. Nothing to do; "
    "if this keeps happening, contact support with the order number."
)
_EXPIRED = (
    "TikTok could not be reached for 48 hours, so a purchase was not sent: sending it later could count it twice. "
    "Nothing to do; later purchases are sent as usual."
)


def _refused_message(refused: TikTokRequestRejected) -> str:
    reason = (refused.detail or "no reason given")[:300]
    return (
        f"TikTok refused a purchase event: {reason}. If this keeps happening, check in TikTok Events Manager that "
        "the pixel is active, or reconnect TikTok."
    )


def _note_failure(services: Services, store_id: int, code: str, message: str, now: float, order_id: str) -> None:
    failure = PixelFailure(code=code, message=message, at=_iso(now), order_id=order_id)
    services.pixels.update(store_id, last_error=failure)


def _outcome(outcome: str, store_id: int) -> str:
    logger.info("Order event handled", extra={"store_id": store_id, "outcome": outcome})
    return outcome


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
