"""catalog_worker: consumes the catalog FIFO queue (sync jobs), one store's messages in order."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.runtime import services
from tiktok_channel.services.worker import handle_message

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# One store's failure must not fail other stores' records; the failed store's later records wait their turn.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose every record failed is reported like any other (each failed record already set when it
# comes back), rather than as an invocation error that would look like a crash in the function's metrics.
processor.raise_on_entire_batch_failure = False


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
    return handle_message(
        services(),
        record.body,
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count),
        remaining_seconds=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
