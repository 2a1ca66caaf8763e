"""operator: the operator's controls, invoked with IAM (`aws lambda invoke`), never over HTTP.

{"action": "record_storefront_decision", "store_id", "decision": "approved"|"rejected", "note"?}
{"action": "redrive_dead_letters"}
{"action": "start_full_sync", "store_id"}
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.runtime import services
from tiktok_channel.services import operator

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    return operator.run(services(), event)
