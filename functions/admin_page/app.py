"""admin_page: the merchant page's session, the store status it reads, and its "Sync Products" button."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import create_resolver, json_response, parse_body, session_store
from tiktok_channel.models.api import SessionRequest
from tiktok_channel.runtime import services
from tiktok_channel.services import jobs, session, status

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.post("/api/session")
def create_session() -> Response[str]:
    request = parse_body(app, SessionRequest)
    return json_response(session.open_session(services(), request.payload))


@app.get("/api/stores/<store_id>")
def get_store_status(store_id: str) -> Response[str]:
    return json_response(status.store_status(services(), session_store(app, store_id)))


@app.post("/api/stores/<store_id>/sync")
def sync_products(store_id: str) -> Response[str]:
    job = jobs.request_sync(services(), session_store(app, store_id))
    return json_response(job.as_json(), status=202 if job.created else 200)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
