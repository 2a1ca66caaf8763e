"""connect_callback: the Ecwid install callback, the Connect TikTok button and TikTok's OAuth callback."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import base_url, create_resolver, json_response, parse_body, query, redirect, session_store
from tiktok_channel.models.api import ConnectRequest
from tiktok_channel.runtime import services
from tiktok_channel.services import connect, install

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver()


@app.get("/oauth/ecwid/callback")
def ecwid_install_callback() -> Response[str]:
    location = install.install_store(
        services(),
        code=query(app, "code"),
        store_id=query(app, "store_id"),
        error=query(app, "error"),
        base_url=base_url(app),
    )
    return redirect(location)


@app.post("/api/stores/<store_id>/connect")
def connect_tiktok(store_id: str) -> Response[str]:
    authorized = session_store(app, store_id)
    request = parse_body(app, ConnectRequest)
    url = connect.start_connect(services(), authorized, request.phone, base_url(app))
    return json_response({"authorize_url": url})


@app.get("/oauth/tiktok/callback")
def tiktok_callback() -> Response[str]:
    return redirect(connect.finish_connect(services(), auth_code=query(app, "auth_code"), state=query(app, "state")))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
