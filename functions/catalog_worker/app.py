"""catalog_worker: consumes the catalog FIFO queue (sync jobs and Ecwid events), one store's messages in order."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.models.messages import QueueMessage
from tiktok_channel.runtime import services
from tiktok_channel.services.sync import CatalogSync
from tiktok_channel.services.worker import process_batch

logger = Logger()
tracer = Tracer()
metrics = Metrics()

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


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_batch(
        services(), event, context, apply_event=lambda message: apply_event(event=message.model_dump(mode="json"))
    )
