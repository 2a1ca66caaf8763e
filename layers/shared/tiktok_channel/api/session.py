"""The session check of the store routes (`/api/stores/{storeId}/…`), for the functions that serve them.

A module of its own: the webhook receiver, which has no store route, never imports sessions (JWT, cryptography).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.request import Request

from tiktok_channel.api.http import Middleware
from tiktok_channel.services.session import authorize_store

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

STORE_ROUTES = "/api/stores/{store_id}"  # Powertools' name for the rules /api/stores/<store_id>…
_AUTHORIZED_STORE = "authorized_store_id"  # in the resolver's context, for SessionStore


def check_session(services: Callable[[], Services]) -> Middleware:
    """The middleware that lets a store route run only with a session of that store: 401 without a valid one,
    403 for another store's. It goes before `validation()`: without a session, the body is nobody's business."""

    def session_middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        request = app.request
        if request.route == STORE_ROUTES or request.route.startswith(f"{STORE_ROUTES}/"):
            authorization = request.headers.get("authorization")
            store_id = authorize_store(services(), authorization, request.path_parameters["store_id"])
            app.context[_AUTHORIZED_STORE] = store_id
        return next_middleware(app)

    return session_middleware


def _authorized_store(request: Request) -> int:
    # A store route in a function without check_session finds nothing here and fails (500), never runs unchecked.
    return int(request.context[_AUTHORIZED_STORE])


SessionStore = Annotated[int, Depends(_authorized_store)]
"""A store route's `store_id` parameter: the store its session was checked for."""
