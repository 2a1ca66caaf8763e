"""storefront_application: TikTok Shopping for US and UK stores: the application form, its state and next
step, the Connect TikTok Storefront button and TikTok's storefront OAuth callback."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.callbacks import TIKTOK_CALLBACK_ANSWERS, callback_answer
from tiktok_channel.api.http import JSON_OBJECT, answers, base_url, create_resolver
from tiktok_channel.api.session import SessionStore, check_session
from tiktok_channel.api.validation import OptionalQuery, validation
from tiktok_channel.models.api import AuthorizeUrl
from tiktok_channel.runtime import services
from tiktok_channel.services import oauth_state, storefront, storefront_connect

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver(check_session(services), *validation())


@app.get("/api/stores/<store_id>/storefront", responses=answers({200: JSON_OBJECT}, 401, 403, 404))
def get_storefront(store_id: SessionStore) -> dict[str, Any]:
    return storefront.storefront_status(services(), store_id)


@app.post(
    "/api/stores/<store_id>/storefront/application",
    responses=answers({201: JSON_OBJECT}, 400, 401, 403, 404, 409, 422, 503),
    status_code=201,
)
def apply_for_storefront(store_id: SessionStore, form: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    # The form's own reader names each wrong field with what to enter there (`invalid_application`).
    application = storefront.read_application(form)
    return storefront.apply(services(), store_id, application)


@app.post("/api/stores/<store_id>/storefront/connect", responses=answers({200: AuthorizeUrl}, 401, 403, 404, 409))
def connect_storefront(store_id: SessionStore) -> AuthorizeUrl:
    return AuthorizeUrl(authorize_url=storefront_connect.start_connect(services(), store_id, base_url(app, services)))


@app.get("/oauth/tiktok/storefront/callback", responses=TIKTOK_CALLBACK_ANSWERS)
def storefront_callback(
    auth_code: OptionalQuery = None, state: OptionalQuery = None, error: OptionalQuery = None
) -> Response[str]:
    return callback_answer(
        services(),
        store_id=oauth_state.state_store(services(), state, purpose="storefront"),
        finish=lambda: storefront_connect.finish_connect(services(), auth_code=auth_code, state=state, error=error),
        title="TikTok Storefront was not connected",
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
