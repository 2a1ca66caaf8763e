"""The catalog worker's handling of one queue message: route it, and give it back on a pause or a failure.

FIFO queues have no per-message delay, so waiting is done by changing the message's visibility before
failing it; the group stays blocked meanwhile, which is what a store's ordered work needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.errors import PausedError, TransientError
from tiktok_channel.models.messages import QueueMessage
from tiktok_channel.services.disconnect import run_cleanup
from tiktok_channel.services.sync import CatalogSync

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

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
    """Route one message. `apply_event` handles Ecwid events (the handler passes its idempotent one).

    Every failure sets when the message is seen again before it is reported, since the queue's own
    visibility timeout (six times the function's) would hold the store's whole group for half an hour.
    """
    try:
        message = QueueMessage.model_validate_json(body)
    except ValueError:
        # Malformed: it is received again at once and reaches the dead-letter queue after maxReceiveCount.
        services.queue.delay(receipt_handle, 0)
        metrics.add_metric(name="MalformedMessage", unit=MetricUnit.Count, value=1)
        raise
    try:
        if message.kind == "sync":
            return CatalogSync(services, remaining_seconds=remaining_seconds).run(message)
        if message.kind == "ecwid_event":
            if apply_event is None:
                return CatalogSync(services, remaining_seconds=remaining_seconds).apply_event(message)
            return apply_event(message)
        if message.kind == "cleanup":
            # Not dropped for another epoch: a connection taken down must be cleaned up after a reconnect too.
            return run_cleanup(services, message, remaining_seconds=remaining_seconds)
        raise UnsupportedMessage(f"no handler for {message.kind} messages yet")
    except PausedError as pause:
        wait = max(1.0, pause.until - services.clock())
        services.queue.delay(receipt_handle, wait)
        metrics.add_metric(name="TikTokPaused", unit=MetricUnit.Count, value=1)
        logger.info("TikTok asked the app to wait", extra={"store_id": message.store_id, "seconds": round(wait)})
        raise
    except Exception as failure:  # Ecwid or TikTok unavailable after the client's own retries, or a bug
        wait = min(RETRY_MAX_SECONDS, services.settings.catalog_retry_base_seconds * 2 ** max(0, receive_count - 1))
        services.queue.delay(receipt_handle, wait)
        details = {"store_id": message.store_id, "failure": type(failure).__name__, "seconds": wait}
        if isinstance(failure, TransientError):
            logger.warning("Catalog work failed for now; tried again later", extra=details)
        else:
            logger.exception("Catalog work failed unexpectedly; tried again later", extra=details)
        raise


def process_batch(
    services: Services,
    event: dict[str, Any],
    context: LambdaContext,
    *,
    apply_event: Callable[[QueueMessage], str] | None = None,
) -> PartialItemFailureResponse:
    """One SQS batch: records in order per store; one store's failure fails none of another's records."""
    handled: set[str] = set()

    def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
        handled.add(record.message_id)
        return handle_message(
            services,
            record.body,
            receipt_handle=record.receipt_handle,
            receive_count=int(record.attributes.approximate_receive_count),
            remaining_seconds=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
            apply_event=apply_event,
        )

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # A batch whose every record failed is reported like any other (each failed record has already set
    # when it comes back), rather than as an invocation error that would look like a crash in the metrics.
    processor.raise_on_entire_batch_failure = False
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    # Records skipped behind a failed one of the same store go back at once: the store's group stays
    # blocked behind its failed head, in order, instead of waiting the queue's half-hour timeout.
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    for record in event["Records"]:
        if record["messageId"] in failed and record["messageId"] not in handled:
            services.queue.delay(record["receiptHandle"], 0)
    return response
