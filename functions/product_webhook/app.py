"""product_webhook: Ecwid's webhooks, verified and queued for the catalog worker in milliseconds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import create_resolver, json_response, raw_body
from tiktok_channel.runtime import services
from tiktok_channel.services import webhooks

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.post("/webhooks/ecwid")
def ecwid_webhook() -> Response[str]:
    signature = app.current_event.headers.get(webhooks.SIGNATURE_HEADER)
    webhooks.receive_webhook(services(), raw_body(app), signature)
    return json_response({})  # ignored events too: any other answer makes Ecwid retry


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
