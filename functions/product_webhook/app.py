"""product_webhook: Ecwid's webhooks, verified and queued for the catalog worker in milliseconds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import JSON_OBJECT, answers, create_resolver, raw_body
from tiktok_channel.runtime import services
from tiktok_channel.services import webhooks

# No Powertools Tracer here: it loads the X-Ray SDK (about 100 ms, most of this function's cold import) to
# trace one SQS call. The template's `Tracing: Active` still records every invocation's segment in X-Ray.
logger = Logger()
metrics = Metrics()
# No session and no model: the signature over Ecwid's raw body is the check (services.webhooks).
app = create_resolver()


@app.post("/webhooks/ecwid", responses=answers({200: JSON_OBJECT}, 400, 401))
def ecwid_webhook() -> dict[str, Any]:
    signature = app.current_event.headers.get(webhooks.SIGNATURE_HEADER)
    webhooks.receive_webhook(services(), raw_body(app), signature)
    return {}  # ignored events too: any other answer makes Ecwid retry


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
