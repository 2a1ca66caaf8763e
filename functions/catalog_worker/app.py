"""catalog_worker: consumes the catalog FIFO queue (sync jobs and Ecwid events), one store's messages in order."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.models.messages import QueueMessage
from tiktok_channel.runtime import services
from tiktok_channel.services.sync import CatalogSync
from tiktok_channel.services.worker import handle_message, release_skipped

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# One store's failure must not fail other stores' records; the failed store's later records wait their turn.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose every record failed is reported like any other (each failed record already set when it
# comes back), rather than as an invocation error that would look like a crash in the function's metrics.
processor.raise_on_entire_batch_failure = False

handled: set[str] = set()  # the records of this invocation the processor gave to record_handler

# Ecwid retries a webhook for about a day and may send it again; an event is applied once per eventId
# for a week, longer than Ecwid's retry horizon.
EVENT_MEMORY_SECONDS = 7 * 24 * 3600
idempotency = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=EVENT_MEMORY_SECONDS)
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence
)
def apply_event(event: dict[str, Any]) -> str:
    # An event touches one product or one category: it never needs to continue in another part.
    engine = CatalogSync(services(), remaining_seconds=lambda: float("inf"))
    return engine.apply_event(QueueMessage.model_validate(event))


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
    handled.add(record.message_id)
    return handle_message(
        services(),
        record.body,
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count),
        remaining_seconds=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
        apply_event=lambda message: apply_event(event=message.model_dump(mode="json")),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    handled.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    release_skipped(
        services(),
        [r["receiptHandle"] for r in event["Records"] if r["messageId"] in failed and r["messageId"] not in handled],
    )
    return response
