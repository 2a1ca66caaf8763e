"""Journey 5: TikTok Shopping (the storefront tab in the merchant's TikTok profile), US and UK stores only.

not_applied → submitted → approved | rejected → connecting → connected. The merchant applies with TikTok's
form; the application is published as an EventBridge event that the operator routes to TikTok's partner
contact; TikTok answers by e-mail and the operator records the decision (operator function); an approved
merchant connects the storefront through TikTok's authorize page, and the callback confirms it with
TikTok's shop connection status (storefront_connect.py). Every move is one transaction (the storefront
repository): the store item's `storefront_state` moves with the storefront item's history, each with its time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from tiktok_channel.eligibility import eligibility
from tiktok_channel.errors import (
    AppError,
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    EventPublishFailed,
    InvalidFields,
    NotEligible,
    NotFound,
    UpstreamUnavailable,
)
from tiktok_channel.models.store import Store
from tiktok_channel.models.storefront import (
    FIELD_HELP,
    Actor,
    Decision,
    StorefrontApplication,
    StorefrontDecision,
    StorefrontMove,
    StorefrontRecord,
)
from tiktok_channel.services.connect import normalize_phone

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

# The event the operator's rules route to TikTok's partner contact (README, "Configuration").
EVENT_SOURCE = "tiktok-channel.storefront"
APPLICATION_SUBMITTED = "Storefront application submitted"

CAN_APPLY = frozenset({"not_applied", "rejected"})
DECIDED = {"approved": frozenset({"approved", "connecting", "connected"}), "rejected": frozenset({"rejected"})}

_NOT_AVAILABLE = (
    "TikTok Shopping is available for stores located in the US or the UK only, and your store is located in "
    "{country}. You can still advertise on TikTok and keep your catalog in sync."
)

NEXT_STEP: dict[str, str] = {
    "not_applied": (
        "Click Apply for TikTok Storefront and fill in the form: TikTok needs this information to confirm "
        "that you can connect TikTok Shopping."
    ),
    "submitted": (
        "TikTok is reviewing your application. Approval can take up to two weeks and is not guaranteed; "
        "you will be notified by email once TikTok decides."
    ),
    "approved": (
        "TikTok approved your application. Click Connect TikTok Storefront, then in the TikTok Shopping "
        "section of the TikTok For Business page click Connect and Finish Setup."
    ),
    "rejected": ("TikTok did not approve your application. Read TikTok's note, fix what it asks for, and apply again."),
    "connecting": (
        "Finish on the TikTok For Business page: in the TikTok Shopping section click Connect, then Finish "
        "Setup. If you closed that page, click Connect TikTok Storefront again."
    ),
    "connected": (
        "Done: your TikTok profile has the TikTok Shopping tab. Choose the products to show in Store Manager "
        "in your TikTok For Business account."
    ),
}


# -- the page ----------------------------------------------------------------------------------
def storefront_status(services: Services, store_id: int) -> dict[str, Any]:
    """GET /api/stores/{storeId}/storefront: the state, what to do next, the application and its history."""
    store = store_or_not_found(services, store_id)
    return _status(services, store, services.storefronts.get(store_id))


def next_step(store: Store, state: str) -> str:
    if state in ("not_applied", "rejected"):
        allowed = eligibility(store.country, store.currency)
        if not allowed.shopping_allowed:
            return allowed.reason or _NOT_AVAILABLE.format(country=store.country or "no country")
        if store.status != "connected":
            return "Connect your store to TikTok For Business first; then you can apply for TikTok Storefront."
    return NEXT_STEP.get(state, "Reload this page in a minute.")


def _status(
    services: Services, store: Store, record: StorefrontRecord | None, *, phone: str | None = None
) -> dict[str, Any]:
    state = store.storefront_state or "not_applied"
    body: dict[str, Any] = {"state": state, "next_step": next_step(store, state)}
    if record is None:
        body["history"] = []
        return body
    if record.application is not None and state != "not_applied":
        application = dict(record.application)
        if phone is None and record.business_phone is not None:
            phone = services.cipher.decrypt(record.business_phone, store_id=store.store_id, field="storefront_phone")
        if phone is not None:
            application["business_phone"] = phone
        body["application"] = {
            "application_id": record.application_id,
            "submitted_at": record.submitted_at,
            **application,
        }
    if record.decision is not None and state in DECIDED["approved"] | DECIDED["rejected"]:
        body["decision"] = record.decision.model_dump(exclude_none=True)
    if record.connected_at and state == "connected":
        body["connected_at"] = record.connected_at
    body["history"] = [move.model_dump(exclude_none=True) for move in record.history]
    return body


# -- Apply for TikTok Storefront ---------------------------------------------------------------
def read_application(raw: dict[str, Any]) -> StorefrontApplication:
    """The form as a StorefrontApplication, or InvalidFields naming every wrong field (never echoing its value)."""
    fields: dict[str, str] = {}
    application: StorefrontApplication | None = None
    try:
        application = StorefrontApplication.model_validate(raw)
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
            if problem["type"] == "value_error":
                fields.setdefault(name, str(problem["ctx"]["error"]))
            else:
                fields.setdefault(name, FIELD_HELP.get(name, FIELD_HELP.get(name.split(".")[0], problem["msg"])))
    phone = raw.get("business_phone")
    normalized = None
    if isinstance(phone, str) and "business_phone" not in fields:
        try:
            normalized = normalize_phone(phone)
        except BadRequest:
            fields["business_phone"] = FIELD_HELP["business_phone"]
    if fields or application is None:
        raise InvalidFields(
            "Check these fields of your application: " + ", ".join(fields) + ".", fields, code="invalid_application"
        )
    return application.model_copy(update={"business_phone": normalized})


def apply(services: Services, store_id: int, application: StorefrontApplication) -> dict[str, Any]:
    """Publish the application for TikTok's partner contact, then record it: the store's one open application."""
    store = store_or_not_found(services, store_id)
    _check_can_apply(store)
    at = _iso(services.clock())
    application_id = str(uuid.uuid4())
    phone = services.cipher.encrypt(application.business_phone, store_id=store_id, field="storefront_phone")
    # Published before it is recorded: a failure in between leaves TikTok's contact an extra e-mail, never a
    # recorded application that nobody was told about.
    _publish(services, store, application, application_id, at)
    try:
        services.storefronts.move(
            store_id,
            from_states=CAN_APPLY,
            move=StorefrontMove(state="submitted", at=at, by="merchant"),
            require_connected=True,
            sets={
                "application_id": application_id,
                "application": application.without_phone(),
                "business_phone": phone,
                "submitted_at": at,
            },
            removes=("decision", "connected_at"),
        )
    except ConcurrentUpdate:
        _check_can_apply(store_or_not_found(services, store_id))  # says what changed meanwhile
        raise _application_open() from None
    metrics.add_metric(name="StorefrontApplicationsSubmitted", unit=MetricUnit.Count, value=1)
    logger.info("Storefront application submitted", extra={"store_id": store_id, "application_id": application_id})
    store = store_or_not_found(services, store_id)
    return _status(services, store, services.storefronts.get(store_id), phone=application.business_phone)


def _check_can_apply(store: Store) -> None:
    allowed = eligibility(store.country, store.currency)
    if not allowed.shopping_allowed:
        raise NotEligible(
            allowed.reason or _NOT_AVAILABLE.format(country=store.country or "no country"),
            code="storefront_not_available",
        )
    if store.status != "connected":
        raise Conflict(
            "Connect your store to TikTok For Business first (Connect TikTok Account); then apply for "
            "TikTok Storefront.",
            code="not_connected",
        )
    state = store.storefront_state
    if state == "submitted":
        raise _application_open()
    if state in ("approved", "connecting"):
        raise Conflict(
            "TikTok already approved your application. Click Connect TikTok Storefront to finish.",
            code="application_approved",
        )
    if state == "connected":
        raise Conflict("Your TikTok Storefront is already connected.", code="storefront_connected")
    if state not in CAN_APPLY:
        raise Conflict("Your storefront cannot take an application right now. Reload this page.", code="conflict")


def _application_open() -> AppError:
    return Conflict(
        "Your application is already with TikTok. Approval can take up to two weeks; you will be notified by "
        "email once TikTok decides.",
        code="application_open",
    )


def _publish(
    services: Services, store: Store, application: StorefrontApplication, application_id: str, at: str
) -> None:
    detail = {
        "store_id": store.store_id,
        "application_id": application_id,
        "submitted_at": at,
        "store": {
            "country": store.country,
            "currency": store.currency,
            "store_name": store.store_name,
            "store_url": store.store_url,
        },
        "application": application.model_dump(mode="json"),
    }
    try:
        services.events.publish(source=EVENT_SOURCE, detail_type=APPLICATION_SUBMITTED, detail=detail)
    except EventPublishFailed as failure:
        logger.warning("Storefront application not published", extra={"failure": type(failure).__name__})
        raise UpstreamUnavailable(
            "We could not send your application to TikTok just now. Wait a minute and submit it again.",
            code="application_not_sent",
        ) from None


# -- TikTok's decision (recorded by the operator) -----------------------------------------------
def record_decision(services: Services, store_id: int, decision: Decision, note: str | None) -> dict[str, Any]:
    """Record TikTok's e-mailed answer to the store's open application; recording it again changes nothing."""
    for _ in range(3):
        store = services.stores.get(store_id)
        if store is None:
            raise NotFound(f"Store {store_id} has not installed the app.", code="store_not_found")
        state = store.storefront_state
        if state in DECIDED[decision]:
            return {"store_id": store_id, "state": state, "recorded": False, "message": "already recorded"}
        if state != "submitted":
            raise Conflict(
                f"Store {store_id} has no application waiting for TikTok's decision (its storefront is {state}).",
                code="no_open_application" if state in CAN_APPLY else "decision_conflict",
            )
        at = _iso(services.clock())
        try:
            services.storefronts.move(
                store_id,
                from_states={"submitted"},
                move=StorefrontMove(state=decision, at=at, by="operator", note=note),
                require_connected=False,
                sets={
                    "decision": StorefrontDecision(decision=decision, note=note, decided_at=at).model_dump(
                        exclude_none=True
                    )
                },
            )
        except ConcurrentUpdate:
            continue  # moved meanwhile: look again
        metrics.add_metric(name=f"StorefrontApplications{decision.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("Storefront decision recorded", extra={"store_id": store_id, "decision": decision})
        return {"store_id": store_id, "state": decision, "recorded": True, "message": "recorded"}
    raise Conflict(f"Store {store_id}'s storefront kept changing; try again.", code="conflict")


# -- plumbing ----------------------------------------------------------------------------------
def move_storefront(
    services: Services,
    store_id: int,
    from_states: set[str],
    to: str,
    now: float,
    *,
    by: Actor,
    check: Callable[[Store], None],
) -> None:
    """Move the storefront of a connected store; when someone moved it first, say why it no longer can (`check`
    raises the merchant's error, else a 409 `conflict`)."""
    try:
        services.storefronts.move(
            store_id,
            from_states=from_states,
            move=StorefrontMove(state=to, at=_iso(now), by=by),
            require_connected=True,
            sets={"connected_at": _iso(now)} if to == "connected" else None,
        )
    except ConcurrentUpdate:
        store = store_or_not_found(services, store_id)
        if store.storefront_state == to:
            return  # the same move, made by a concurrent request
        check(store)
        raise Conflict("Your storefront changed meanwhile. Reload this page.", code="conflict") from None


def store_or_not_found(services: Services, store_id: int) -> Store:
    """The store, or a 404 `store_not_found` that says to install the app."""
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound(
            "This store has not installed the app. Install it from the Ecwid App Market.", code="store_not_found"
        )
    return store


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
