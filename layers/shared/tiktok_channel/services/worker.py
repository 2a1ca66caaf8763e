"""The catalog worker: one SQS FIFO batch, each message routed by its kind, each failure given back with a wait.

FIFO queues have no per-message delay, so waiting is done by changing the message's visibility before
failing it; the group stays blocked meanwhile, which is what a store's ordered work needs. Powertools'
`SqsFifoPartialProcessor` (skip_group_on_error) runs the batch; its failure path sets when each failed or
skipped record is seen again. Ecwid events are applied once per `event_id` (Powertools idempotency).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    ExceptionInfo,
    FailureResponse,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import SQSFifoMessageGroupCircuitBreakerError
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from tiktok_channel.errors import PausedError, TransientError
from tiktok_channel.models.messages import (
    CleanupMessage,
    EcwidEventMessage,
    QueueMessage,
    ReviewMessage,
    SyncMessage,
    TikTokCheckMessage,
    VisibilityMessage,
    decode_message,
)
from tiktok_channel.services.disconnect import run_cleanup, uninstall_store
from tiktok_channel.services.ecwid_events import too_old, uninstall_confirmed
from tiktok_channel.services.purchases import send_purchase
from tiktok_channel.services.reviews import check_reviews
from tiktok_channel.services.sync import CatalogSync
from tiktok_channel.services.sync_health import edit_done, hold_edit
from tiktok_channel.services.sync_notices import note_waiting
from tiktok_channel.services.tiktok_check import run_check
from tiktok_channel.services.visibility import apply_visibility

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

RETRY_MAX_SECONDS = 900.0
# Ecwid retries a webhook for about a day and may send it again; an event is applied once per eventId
# for a week, longer than Ecwid's retry horizon.
EVENT_MEMORY_SECONDS = 7 * 24 * 3600


class MalformedMessage(ValueError):
    """A body that is no queue message: seen again at once, it reaches the dead-letter queue after maxReceiveCount."""


def apply_ecwid_event(services: Services, message: EcwidEventMessage) -> str:
    """Bring the store's TikTok side up to date with one Ecwid event, re-reading what it names as it is now.

    An event older than Ecwid's retry horizon is ignored; an uninstall goes to the disconnect service once Ecwid
    confirms it (the body is signed only over its ids); the catalog events to the sync engine. Answers what
    happened (applied, dropped, ignored, frozen, uninstalled, too old, still installed, …), which is also what
    idempotency keeps.
    """
    if too_old(services, message):
        return "too old"
    if message.route == "uninstall":
        if not uninstall_confirmed(services, message):
            return "still installed"
        # Whatever the store's state: connected, never connected, or already disconnected.
        return uninstall_store(services, message.store_id)
    if message.route == "order":
        return send_purchase(services, message)
    # An event touches one product or one category: it never needs to continue in another part.
    return CatalogSync(services, remaining_seconds=lambda: float("inf")).apply_event(message)


class CatalogWorker:
    """Built once per cold start: `process_batch(event, context)` is the catalog worker's whole handler.

    `services` answers the function's services (called per batch, so tests can swap them);
    `persistence` keeps which events were applied (None: no idempotency, for tools that replay on purpose).
    """

    def __init__(self, services: Callable[[], Services], persistence: BasePersistenceLayer | None) -> None:
        self._services = services
        self._config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=EVENT_MEMORY_SECONDS)

        def apply_event(message: EcwidEventMessage) -> str:
            return apply_ecwid_event(self._services(), message)

        self._apply_event: Callable[..., str] = apply_event
        if persistence is not None:
            self._apply_event = idempotent_function(
                data_keyword_argument="message",
                config=self._config,
                persistence_store=persistence,
                # The prefix records had when the handler module held this function, so that events applied
                # before this release are still recognised.
                key_prefix=f"{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'test-func')}.app.apply_event",
            )(apply_event)

    def process_batch(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """One SQS batch: records in order per store; one store's failure fails none of another's records."""
        self._config.register_lambda_context(context)
        services = self._services()

        def record_handler(record: SQSRecord) -> str:
            return self.handle(
                services,
                record.body,
                remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
            )

        processor = _CatalogBatch(services)
        # A batch whose every record failed is reported like any other (each failed record has already set
        # when it comes back), rather than as an invocation error that would look like a crash in the metrics.
        processor.raise_on_entire_batch_failure = False
        return process_partial_response(event=event, record_handler=record_handler, processor=processor)

    def handle(self, services: Services, body: str, *, remaining_seconds: Callable[[], float]) -> str:
        """Route one message body; raises what made it fail (the batch's failure path sets its wait)."""
        try:
            message = decode_message(body)
        except ValueError:
            raise MalformedMessage("not a catalog queue message") from None
        return route(services, message, remaining_seconds=remaining_seconds, apply_event=self._apply_event)


def route(
    services: Services,
    message: QueueMessage,
    *,
    remaining_seconds: Callable[[], float],
    apply_event: Callable[..., str] | None = None,
) -> str:
    """Hand a message to its service: a sync part, an Ecwid event (through `apply_event(message=…)` when the
    worker makes events idempotent), or a cleanup."""
    if isinstance(message, SyncMessage):
        return CatalogSync(services, remaining_seconds=remaining_seconds).run(message)
    if isinstance(message, EcwidEventMessage):
        outcome = apply_event(message=message) if apply_event else apply_ecwid_event(services, message)
        edit_done(services, message)  # applied, or dropped for good (a repeat answers as the first did)
        return outcome
    if isinstance(message, CleanupMessage):
        # Not dropped for another epoch: a connection taken down must be cleaned up after a reconnect too.
        return run_cleanup(services, message, remaining_seconds=remaining_seconds)
    if isinstance(message, ReviewMessage):
        return check_reviews(services, message)
    if isinstance(message, TikTokCheckMessage):
        return run_check(services, message, remaining_seconds=remaining_seconds)
    if isinstance(message, VisibilityMessage):
        return apply_visibility(services, message)
    raise MalformedMessage(f"no handler for {type(message).__name__}")


def handle_message(
    services: Services, body: str, *, receipt_handle: str, receive_count: int, remaining_seconds: Callable[[], float]
) -> str:
    """One message outside a batch (tools and tests): routed like the worker does, its failure given back with
    the same wait through `services.queue`, then raised."""
    try:
        return CatalogWorker(lambda: services, None).handle(services, body, remaining_seconds=remaining_seconds)
    except Exception as failure:
        _give_back(services, body, receipt_handle, failure, receive_count)
        hold_edit(services, body, at=services.clock())
        raise


class _CatalogBatch(SqsFifoPartialProcessor):
    """Powertools' FIFO processor whose failure path sets when each record comes back."""

    def __init__(self, services: Services) -> None:
        super().__init__(skip_group_on_error=True)
        self._s = services

    def failure_handler(self, record: SQSRecord, exception: ExceptionInfo) -> FailureResponse:
        failure = exception[1]
        # A catalog event failed or skipped behind its store's failed one waits: counted once per event id, from
        # when the receiver queued it.
        sent = record.raw_event.get("attributes", {}).get("SentTimestamp")
        hold_edit(self._s, record.body, at=int(sent) / 1000 if sent else self._s.clock())
        try:
            if isinstance(failure, SQSFifoMessageGroupCircuitBreakerError):
                # Skipped behind a failed record of the same store: back at once, so the store's group stays
                # blocked behind its failed head, in order, instead of waiting the queue's half-hour timeout.
                self._s.queue.delay(record.receipt_handle, 0)
            elif failure is not None:
                receive_count = int(record.attributes.approximate_receive_count)
                _give_back(self._s, record.body, record.receipt_handle, failure, receive_count)
        except Exception as delay_failed:
            # The record still fails and the batch goes on; it comes back after the queue's visibility timeout.
            logger.warning(
                "Could not set when a failed message comes back", extra={"failure": type(delay_failed).__name__}
            )
        return super().failure_handler(record, exception)


def _wait(services: Services, failure: BaseException, receive_count: int, *, store_id: int | None) -> float:
    """Seconds until a failed message is seen again, with the metric and log line its kind of failure gets.

    Set before the failure is reported, since the queue's own visibility timeout (six times the function's)
    would hold the store's whole group for half an hour.
    """
    if isinstance(failure, MalformedMessage):
        metrics.add_metric(name="MalformedMessage", unit=MetricUnit.Count, value=1)
        logger.warning("Malformed catalog queue message; seen again until it reaches the dead-letter queue")
        return 0.0
    if isinstance(failure, PausedError):
        wait = max(1.0, failure.until - services.clock())
        metrics.add_metric(name="TikTokPaused", unit=MetricUnit.Count, value=1)
        logger.info("TikTok asked the app to wait", extra={"store_id": store_id, "seconds": round(wait)})
        return wait
    # Ecwid or TikTok unavailable after the client's own retries, or a bug.
    wait = min(RETRY_MAX_SECONDS, services.settings.catalog_retry_base_seconds * 2.0 ** max(0, receive_count - 1))
    asked = failure.retry_after if isinstance(failure, TransientError) else None
    if asked is not None:
        # The server's Retry-After may be longer than the client could wait within its own budget: the message
        # comes back no sooner than asked (whole seconds up, as the queue counts them), and never sooner than
        # the backoff.
        wait = min(RETRY_MAX_SECONDS, max(wait, float(math.ceil(asked))))
    details = {"store_id": store_id, "failure": type(failure).__name__, "seconds": wait}
    if isinstance(failure, TransientError):
        logger.warning("Catalog work failed for now; tried again later", extra=details)
    else:
        logger.error("Catalog work failed unexpectedly; tried again later", extra=details, exc_info=failure)
        metrics.add_metric(name="UnexpectedFailure", unit=MetricUnit.Count, value=1)  # the worker's errors alarm
    return wait


def _give_back(services: Services, body: str, receipt_handle: str, failure: BaseException, receive_count: int) -> None:
    """Set when a failed message comes back; a full sync that waits on a failing service says so on its page."""
    try:
        message: QueueMessage | None = decode_message(body)
    except ValueError:
        message = None
    wait = _wait(services, failure, receive_count, store_id=message.store_id if message else None)
    services.queue.delay(receipt_handle, wait)
    if isinstance(message, SyncMessage) and isinstance(failure, TransientError | PausedError):
        try:
            note_waiting(services, message, failure, wait)
        except Exception as unnoted:  # the message still comes back; only the page's note is missing
            logger.warning("Could not note the waiting sync", extra={"failure": type(unnoted).__name__})
