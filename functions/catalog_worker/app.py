"""catalog_worker: the catalog FIFO queue (sync jobs, Ecwid events, cleanups), one store's messages in order."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.runtime import services
from tiktok_channel.services.worker import CatalogWorker

logger = Logger()
tracer = Tracer()
metrics = Metrics()
worker = CatalogWorker(services, DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"]))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return worker.process_batch(event, context)
