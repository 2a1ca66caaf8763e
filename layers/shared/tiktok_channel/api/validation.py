"""Requests checked against the routes' pydantic models, answers shaped by theirs (Powertools' validation).

Not for the webhook receiver, which has no model: Powertools' OpenAPI machinery costs a cold start ~25 ms.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from tiktok_channel.api.http import Middleware, read_json_body
from tiktok_channel.errors import BadRequest


def _joined(value: Any) -> Any:
    # API Gateway hands a repeated parameter (or one with a comma) to the function as "a,b"; Powertools splits it
    # into a list. Joined back, the service sees what API Gateway sent and answers it in its own words.
    return ",".join(value) if isinstance(value, list) else value


AS_SENT = BeforeValidator(_joined)
"""A query parameter's value as API Gateway sent it (repeated values joined by commas)."""

OptionalQuery = Annotated[str | None, AS_SENT, Query()]
"""A query parameter a request may lack: the service says what is missing, in its own words."""


def validation() -> list[Middleware]:
    """The middlewares that validate a request (a 400 naming each wrong field) and shape the route's answer.

    `APIGatewayHttpResolver(enable_validation=True)` would run them ahead of every middleware, but a store route
    checks its session first (no session is a 401, whatever the body): so they are registered explicitly, after it.
    """
    return [
        _json_object_body,
        OpenAPIRequestValidationMiddleware(),  # type: ignore[no-untyped-call]  # its __init__ lacks "-> None"
        # An answer that does not fit its model is our fault: a 500, never a 4xx.
        OpenAPIResponseValidationMiddleware(has_response_validation_error=True),
    ]


def _json_object_body(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """A route that reads a body reads a JSON object of at most 64 KiB nested at most 32 deep: anything else is a
    400 (`body_too_large`, `invalid_json`), before Powertools checks it against the route's model (which names the
    wrong fields, `invalid_request`)."""
    route = app.context["_route"]  # the matched route, where Powertools' own validation middleware finds it
    if route.dependant.body_params:
        body = read_json_body(app)
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", code="invalid_json")
        _declare_json(app.current_event.raw_event)
    return next_middleware(app)


def _declare_json(event: dict[str, Any]) -> None:
    """A body that is a JSON object is read as JSON whatever its Content-Type says, as these routes always did
    (Powertools would refuse `text/plain` or `Application/JSON`, and read a form body as a form)."""
    headers = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"}
    event["headers"] = {**headers, "content-type": "application/json"}
