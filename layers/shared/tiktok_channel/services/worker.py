"""The catalog worker's handling of one queue message: route it, and give it back on a pause or a failure.

FIFO queues have no per-message delay, so waiting is done by changing the message's visibility before
failing it; the group stays blocked meanwhile, which is what a store's ordered work needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.adapters.http import TransientError
from tiktok_channel.adapters.rate_limit import PausedError
from tiktok_channel.models.messages import QueueMessage
from tiktok_channel.services.sync import CatalogSync

if TYPE_CHECKING:
    from tiktok_channel.runtime import Services

logger = Logger(child=True)
metrics = Metrics()

RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 900.0


class UnsupportedMessage(Exception):
    """A message kind this worker does not handle yet; it ends in the dead-letter queue for the operator."""


def handle_message(
    services: Services,
    body: str,
    *,
    receipt_handle: str,
    receive_count: int,
    remaining_seconds: Callable[[], float],
    apply_event: Callable[[QueueMessage], str] | None = None,
) -> str:
    """Route one message. `apply_event` handles Ecwid events (the handler passes its idempotent one)."""
    message = QueueMessage.model_validate_json(body)  # a malformed message fails, and ends in the DLQ
    try:
        if message.kind == "sync":
            return CatalogSync(services, remaining_seconds=remaining_seconds).run(message)
        if message.kind == "ecwid_event":
            if apply_event is None:
                return CatalogSync(services, remaining_seconds=remaining_seconds).apply_event(message)
            return apply_event(message)
        raise UnsupportedMessage(f"no handler for {message.kind} messages yet")
    except PausedError as pause:
        wait = max(1.0, pause.until - services.clock())
        services.queue.delay(receipt_handle, wait)
        metrics.add_metric(name="TikTokPaused", unit=MetricUnit.Count, value=1)
        logger.info("TikTok asked the app to wait", extra={"store_id": message.store_id, "seconds": round(wait)})
        raise
    except TransientError as failure:  # Ecwid or TikTok unavailable after the client's own retries
        wait = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1))
        services.queue.delay(receipt_handle, wait)
        logger.warning(
            "Catalog work failed for now; retried later",
            extra={"store_id": message.store_id, "failure": type(failure).__name__, "seconds": wait},
        )
        raise
