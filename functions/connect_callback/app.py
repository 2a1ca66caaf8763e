"""connect_callback: the Ecwid install callback, the Connect TikTok button and TikTok's OAuth callback."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.callbacks import TIKTOK_CALLBACK_ANSWERS, callback_answer
from tiktok_channel.api.http import HTML, REDIRECT, answers, base_url, create_resolver
from tiktok_channel.api.session import SessionStore, check_session
from tiktok_channel.api.validation import OptionalQuery, validation
from tiktok_channel.models.api import AuthorizeUrl, ConnectRequest
from tiktok_channel.runtime import services
from tiktok_channel.services import connect, install, oauth_state

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver(check_session(services), *validation())


@app.get("/oauth/ecwid/callback", responses=answers({302: REDIRECT, **dict.fromkeys((400, 403, 409, 500, 503), HTML)}))
def ecwid_install_callback(
    code: OptionalQuery = None, store_id: OptionalQuery = None, error: OptionalQuery = None
) -> Response[str]:
    # Failures get a plain page: the app is not installed, so its page in the Ecwid admin cannot open.
    return callback_answer(
        services(),
        store_id=None,
        finish=lambda: install.install_store(
            services(), code=code, store_id=store_id, error=error, base_url=base_url(app, services)
        ),
        title="The app was not installed",
    )


@app.post("/api/stores/<store_id>/connect", responses=answers({200: AuthorizeUrl}, 400, 401, 403, 404, 409, 422))
def connect_tiktok(store_id: SessionStore, body: Annotated[ConnectRequest, Body()]) -> AuthorizeUrl:
    url = connect.start_connect(services(), store_id, body.phone, base_url(app, services))
    return AuthorizeUrl(authorize_url=url)


@app.get("/oauth/tiktok/callback", responses=TIKTOK_CALLBACK_ANSWERS)
def tiktok_callback(
    auth_code: OptionalQuery = None, state: OptionalQuery = None, error: OptionalQuery = None
) -> Response[str]:
    return callback_answer(
        services(),
        store_id=oauth_state.state_store(services(), state, purpose="connect"),
        finish=lambda: connect.finish_connect(services(), auth_code=auth_code, state=state, error=error),
        title="TikTok was not connected",
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
