"""What every HTTP function shares: the resolver with one error mapping, JSON bodies, sessions, redirects."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from tiktok_channel.errors import AppError, BadRequest, InvalidFields
from tiktok_channel.runtime import services
from tiktok_channel.services.session import authorize_store

logger = Logger(child=True)

M = TypeVar("M", bound=BaseModel)

_NO_STORE = {"Cache-Control": "no-store"}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers=_NO_STORE,
    )


def json_response(body: Any, status: int = 200) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body), headers=_NO_STORE
    )


def redirect(location: str) -> Response[str]:
    return Response(status_code=302, body="", headers={"Location": location, **_NO_STORE})


def create_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    @app.exception_handler(AppError)  # type: ignore[untyped-decorator]
    def _app_error(error: AppError) -> Response[str]:
        logger.info("Request refused", extra={"code": error.code, "status": error.status})
        fields = error.fields if isinstance(error, InvalidFields) else None
        return error_response(error.status, error.code, error.message, fields)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("Unexpected failure")
        return error_response(500, "internal_error", "Something went wrong on our side. Try again in a minute.")

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return error_response(404, "not_found", "There is nothing at this address.")

    return app


def parse_body(app: APIGatewayHttpResolver, model: type[M]) -> M:
    """The request's JSON body as `model`; a clear 400 naming each bad field otherwise."""
    raw = json_object(app)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors())
        raise BadRequest(f"Check these fields: {fields}.", code="invalid_request") from None


def json_object(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    try:
        raw = app.current_event.json_body
    except (json.JSONDecodeError, TypeError, ValueError):
        raise BadRequest("The request body must be JSON.", code="invalid_json") from None
    if not isinstance(raw, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json")
    return raw


def raw_body(app: APIGatewayHttpResolver) -> str | None:
    """The request body as sent: API Gateway base64-encodes it for content types it does not take for text."""
    try:
        return app.current_event.decoded_body
    except ValueError:  # not base64 (binascii.Error) or not UTF-8 (UnicodeDecodeError): not JSON either
        raise BadRequest("The request body must be JSON.", code="invalid_json") from None


def base_url(app: APIGatewayHttpResolver) -> str:
    """The API's own URL for redirect URIs: PUBLIC_BASE_URL, else the host this request arrived on."""
    configured = services().settings.public_base_url
    if configured:
        return configured
    return f"https://{app.current_event.request_context.domain_name}"


def session_store(app: APIGatewayHttpResolver, store_id: str) -> int:
    return authorize_store(services(), app.current_event.headers.get("authorization"), store_id)


def query(app: APIGatewayHttpResolver, name: str) -> str | None:
    return (app.current_event.query_string_parameters or {}).get(name)
