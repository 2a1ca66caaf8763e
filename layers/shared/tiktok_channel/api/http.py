"""What every HTTP function shares: Powertools' resolver with the one mapping from errors to answers, the OpenAPI
description of those answers, redirects and the API's own URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from pydantic import BaseModel

from tiktok_channel.errors import AppError, BadRequest, InvalidFields, NotFound
from tiktok_channel.inputs import MAX_BODY_BYTES, BodyRefused, bounded_json
from tiktok_channel.models.api import ErrorAnswer, ErrorDetail

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]

HTML = "text/html"
JAVASCRIPT = "application/javascript"
REDIRECT = "redirect"
JSON_OBJECT = "object"

NOT_JSON = "The request body must be JSON."


def create_resolver(*middlewares: Middleware) -> APIGatewayHttpResolver:
    """The resolver of one HTTP function, running `middlewares` in order (a store route's session check, then
    `tiktok_channel.api.validation.validation()`), where every error becomes `{"error": {"code", "message"}}`."""
    app = APIGatewayHttpResolver()
    app.use([_no_store, *middlewares])
    app.exception_handler(Exception)(_error_answer)
    return app


def _error_answer(error: Exception) -> Response[str]:
    """The one mapping from an exception to an answer: what the caller did wrong is a 4xx with its code and
    message, anything else a 500 that says nothing of the cause."""
    refusal = _refusal(error)
    if refusal is None:
        logger.exception("Unexpected failure")
        # Counted for the function's errors alarm (README, "Runbook", FunctionErrors): Lambda's Errors miss it.
        metrics.add_metric(name="UnexpectedFailure", unit="Count", value=1)
        return _error_response(500, "internal_error", "Something went wrong on our side. Try again in a minute.")
    logger.info("Request refused", extra={"code": refusal.code, "status": refusal.status})
    fields = refusal.fields if isinstance(refusal, InvalidFields) else None
    return _error_response(refusal.status, refusal.code, refusal.message, fields)


def _refusal(error: Exception) -> AppError | None:
    if isinstance(error, AppError):
        return error
    if isinstance(error, RequestValidationError):
        return BadRequest(f"Check these fields: {_field_names(error)}.", code="invalid_request")
    if isinstance(error, RequestUnsupportedContentType):
        return BadRequest("Send the request body as JSON (Content-Type: application/json).", code="invalid_json")
    if isinstance(error, NotFoundError):
        return NotFound("There is nothing at this address.")
    return None


def _field_names(error: RequestValidationError) -> str:
    """The wrong fields as the caller named them: `phone`, `business_address.city`, `status` (never values)."""
    names: list[str] = []
    for problem in error.errors():
        where, *path = problem["loc"]  # where: body, query, path or header
        name = ".".join(str(part) for part in path) or str(where)
        if name not in names:
            names.append(name)
    return ", ".join(names)


def _error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response[str]:
    """A refusal or failure as the API answers it: `{"error": {"code", "message"}}`, plus `fields` for a form."""
    body = ErrorAnswer(error=ErrorDetail(code=code, message=message, fields=fields or None))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(exclude_none=True),
        headers={"Cache-Control": "no-store"},  # no middleware sees an exception's answer
    )


def _no_store(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Answers carry sessions, payloads and a store's data: no cache keeps them, unless the route says otherwise."""
    response = next_middleware(app)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def answers(success: Mapping[int, type[BaseModel] | str], *errors: int) -> dict[int, OpenAPIResponse]:
    """A route's `responses=`: the statuses it answers, for its OpenAPI document (docs/contract.md's test reads it).

    `success` maps each status the route answers by design to its body: a model, `JSON_OBJECT`, `HTML` or
    `REDIRECT`; each of `errors` answers `{"error": {"code", "message"}}`.
    """
    documented: dict[int, OpenAPIResponse] = {
        status: {"description": HTTPStatus(status).phrase, "content": _content(body)}
        for status, body in success.items()
    }
    for status in errors:
        documented[status] = {"description": HTTPStatus(status).phrase, "content": _content(ErrorAnswer)}
    return documented


def _content(body: type[BaseModel] | str) -> dict[str, Any]:
    if body == REDIRECT:
        return {}  # the Location header is the answer
    if body in (HTML, JAVASCRIPT):
        return {str(body): {"schema": {"type": "string"}}}
    if body == JSON_OBJECT:
        return {content_types.APPLICATION_JSON: {"schema": {"type": "object"}}}
    return {content_types.APPLICATION_JSON: {"model": body}}


def redirect(location: str) -> Response[str]:
    """A 302 to `location` (the browser follows it; nothing caches it)."""
    return Response(status_code=302, body="", headers={"Location": location})


def raw_body(app: APIGatewayHttpResolver) -> str | None:
    """The request body as sent: API Gateway base64-encodes it for content types it does not take for text."""
    try:
        return app.current_event.decoded_body
    except ValueError:  # not base64 (binascii.Error) or not UTF-8 (UnicodeDecodeError): not JSON either
        raise BadRequest(NOT_JSON, code="invalid_json") from None


def read_json_body(app: APIGatewayHttpResolver) -> Any:
    """The request body parsed as JSON once it is known to be small and shallow enough (inputs.bounded_json); a
    400 otherwise. A body far too big is refused before it is even decoded (base64: 3 bytes in 4 characters)."""
    sent = app.current_event.body or ""
    if len(sent) > (MAX_BODY_BYTES // 3 + 1) * 4:
        raise _too_large(MAX_BODY_BYTES)
    try:
        return bounded_json(raw_body(app), max_bytes=MAX_BODY_BYTES)
    except BodyRefused as refused:
        if refused.reason == "too_large":
            raise _too_large(refused.max_bytes) from None
        if refused.reason == "too_deep":
            raise BadRequest(
                f"The request body is nested too deep: at most {refused.max_depth} levels of [ and {{.",
                code="invalid_json",
            ) from None
        raise BadRequest(NOT_JSON, code="invalid_json") from None


def _too_large(max_bytes: int) -> BadRequest:
    return BadRequest(f"The request body must be at most {max_bytes // 1024} KiB.", code="body_too_large")


def base_url(app: APIGatewayHttpResolver, services: Callable[[], Services]) -> str:
    """The API's own URL for redirect URIs: PUBLIC_BASE_URL, else the host this request arrived on."""
    configured = services().settings.public_base_url
    if configured:
        return configured
    return f"https://{app.current_event.request_context.domain_name}"
