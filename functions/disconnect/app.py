"""disconnect: the Disconnect button; TikTok is told at once, or in the background when it does not answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import create_resolver, json_response, session_store
from tiktok_channel.runtime import services
from tiktok_channel.services import disconnect

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.post("/api/stores/<store_id>/disconnect")
def disconnect_store(store_id: str) -> Response[str]:
    return json_response(disconnect.disconnect_store(services(), session_store(app, store_id)).as_json())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
