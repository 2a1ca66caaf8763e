"""The operator's controls (design.md: "operator function"), invoked with IAM, never over HTTP.

Each action validates its input, is safe to repeat, and answers what it did: `{"ok": true, "action", …}`,
or `{"ok": false, "error": {"code", "message"}}` with nothing changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from tiktok_channel.errors import AppError, Conflict, NotFound
from tiktok_channel.models.operator import (
    ACTIONS,
    OPERATOR_ACTION,
    RecordStorefrontDecision,
    RedriveDeadLetters,
    StartFullSync,
)
from tiktok_channel.services import jobs, storefront

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)


class InvalidInput(AppError):
    code = "invalid_input"


def run(services: Services, event: Any) -> dict[str, Any]:
    """Validate the event, do its action, and answer what happened."""
    try:
        action = _parse(event)
        logger.info("Operator action", extra={"action": action.action})
        if isinstance(action, RecordStorefrontDecision):
            done = storefront.record_decision(services, action.store_id, action.decision, action.note)
        elif isinstance(action, RedriveDeadLetters):
            done = _redrive(services)
        else:
            done = _start_full_sync(services, action)
    except AppError as error:
        logger.info("Operator action refused", extra={"code": error.code})
        return {"ok": False, "error": {"code": error.code, "message": error.message}}
    return {"ok": True, "action": action.action, **done}


def _parse(event: Any) -> RecordStorefrontDecision | RedriveDeadLetters | StartFullSync:
    if not isinstance(event, dict):
        raise InvalidInput('The event must be a JSON object such as {"action": "redrive_dead_letters"}.')
    if event.get("action") not in ACTIONS:
        given = f"got {str(event['action'])[:60]!r}" if "action" in event else "it is missing"
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}; {given}.", code="unknown_action")
    try:
        return OPERATOR_ACTION.validate_python(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'event'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise InvalidInput(f"Check the event: {problems}.") from None


def _redrive(services: Services) -> dict[str, Any]:
    dead_letters = services.settings.catalog_dlq_url
    if not dead_letters:
        raise AppError("CATALOG_DLQ_URL is not set for this function.", code="not_configured")
    moved = services.queue.redrive(dead_letters)
    logger.info("Dead letters redriven", extra={"moved": moved})
    return {"moved": moved}


def _start_full_sync(services: Services, action: StartFullSync) -> dict[str, Any]:
    store = services.stores.get(action.store_id)
    if store is None:
        raise NotFound(f"Store {action.store_id} has not installed the app.", code="store_not_found")
    job = jobs.request_full_sync(services, store) if store.status == "connected" else None
    if job is None:
        raise Conflict(
            f"Store {action.store_id} is not connected to TikTok (it is {store.status}).", code="not_connected"
        )
    return {"store_id": store.store_id, **job.as_json(), "created": job.created}
