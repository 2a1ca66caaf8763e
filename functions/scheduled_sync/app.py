"""scheduled_sync: twice a day, one full sync job per connected store; and, on its own schedule (the rule's input
`{"job": "review_checks"}`), a review check for each store with SKUs pending TikTok's review, and a look over the
connected stores for syncs that stopped moving (metric SyncStalled, each stall counted once)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.runtime import services
from tiktok_channel.services.jobs import enqueue_scheduled_syncs
from tiktok_channel.services.reviews import enqueue_review_checks
from tiktok_channel.services.sync_health import note_stalls

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    if event.get("job") == "review_checks":
        # Every 30 minutes by default, without the merchant: the place a stalled job is noticed.
        return {"review_checks": enqueue_review_checks(services()), "stalled": note_stalls(services())}
    return {"queued": enqueue_scheduled_syncs(services())}
