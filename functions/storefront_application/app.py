"""storefront_application: TikTok Shopping for US and UK stores: the application form, its state and next
step, the Connect TikTok Storefront button and TikTok's storefront OAuth callback."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import (
    base_url,
    create_resolver,
    json_object,
    json_response,
    query,
    redirect,
    session_store,
)
from tiktok_channel.runtime import services
from tiktok_channel.services import storefront

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.get("/api/stores/<store_id>/storefront")
def get_storefront(store_id: str) -> Response[str]:
    return json_response(storefront.storefront_status(services(), session_store(app, store_id)))


@app.post("/api/stores/<store_id>/storefront/application")
def apply_for_storefront(store_id: str) -> Response[str]:
    authorized = session_store(app, store_id)
    application = storefront.read_application(json_object(app))
    return json_response(storefront.apply(services(), authorized, application), status=201)


@app.post("/api/stores/<store_id>/storefront/connect")
def connect_storefront(store_id: str) -> Response[str]:
    authorized = session_store(app, store_id)
    return json_response({"authorize_url": storefront.start_connect(services(), authorized, base_url(app))})


@app.get("/oauth/tiktok/storefront/callback")
def storefront_callback() -> Response[str]:
    location = storefront.finish_connect(services(), auth_code=query(app, "auth_code"), state=query(app, "state"))
    return redirect(location)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
