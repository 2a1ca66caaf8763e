"""admin_page: the merchant's TikTok page (GET /app), its session, the store status and product lists it reads,
and its "Sync Products" button."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import create_resolver, json_response, parse_body, query, session_store
from tiktok_channel.api.pages import merchant_page
from tiktok_channel.models.api import SessionRequest
from tiktok_channel.runtime import services
from tiktok_channel.services import jobs, products, session, status

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.get("/app")
def merchant_page_html() -> Response[str]:
    # The payload is checked here (a bad one gets a plain page) but the session is opened by the page's
    # script: the HTML never carries one.
    return merchant_page(services(), query(app, "payload"))


@app.post("/api/session")
def create_session() -> Response[str]:
    request = parse_body(app, SessionRequest)
    return json_response(session.open_session(services(), request.payload))


@app.get("/api/stores/<store_id>")
def get_store_status(store_id: str) -> Response[str]:
    return json_response(status.store_status(services(), session_store(app, store_id)))


@app.get("/api/stores/<store_id>/products")
def list_products(store_id: str) -> Response[str]:
    authorized = session_store(app, store_id)
    return json_response(products.list_products(services(), authorized, query(app, "status"), query(app, "cursor")))


@app.post("/api/stores/<store_id>/sync")
def sync_products(store_id: str) -> Response[str]:
    job = jobs.request_sync(services(), session_store(app, store_id))
    return json_response(job.as_json(), status=202 if job.created else 200)


@logger.inject_lambda_context(clear_state=True)
# Answers carry sessions and the page: kept out of X-Ray's metadata (requests are never captured).
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
