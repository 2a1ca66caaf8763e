"""scheduled_sync: twice a day, one full sync job per connected store; and, on its own schedule (the rule's input
`{"job": "review_checks"}`), a review check for each store with SKUs pending TikTok's review."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.runtime import services
from tiktok_channel.services.jobs import enqueue_scheduled_syncs
from tiktok_channel.services.reviews import enqueue_review_checks

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    if event.get("job") == "review_checks":
        return {"review_checks": enqueue_review_checks(services())}
    return {"queued": enqueue_scheduled_syncs(services())}
