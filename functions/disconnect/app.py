"""disconnect: the Disconnect button; TikTok is told at once, or in the background when it does not answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import answers, create_resolver
from tiktok_channel.api.session import SessionStore, check_session
from tiktok_channel.api.validation import validation
from tiktok_channel.models.api import DisconnectAnswer
from tiktok_channel.runtime import services
from tiktok_channel.services import disconnect

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver(check_session(services), *validation())


@app.post("/api/stores/<store_id>/disconnect", responses=answers({200: DisconnectAnswer}, 401, 403, 404, 409))
def disconnect_store(store_id: SessionStore) -> DisconnectAnswer:
    return DisconnectAnswer.model_validate(disconnect.disconnect_store(services(), store_id).as_json())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
