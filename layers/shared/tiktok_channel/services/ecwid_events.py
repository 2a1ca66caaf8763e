"""What Ecwid confirms now, before an Ecwid event acts (issue 10).

Ecwid signs only `eventCreated` and `eventId` (ecwid-api.md, "Webhooks"): a signature taken from any delivery can
be put on a body naming another store and another type, and an authentic event can be replayed. So an event older
than Ecwid's retry horizon is ignored, and an uninstall takes a store down only once Ecwid refuses the store's token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import EcwidError, TransientError

if TYPE_CHECKING:
    from tiktok_channel.models.messages import EcwidEventMessage
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

_LOGGED_CHARS = 128  # event ids are the sender's strings: bound what reaches the logs
# Ecwid's answer for a token it no longer accepts: 403 (the documented status), 401 taken the same way.
_TOKEN_REFUSED = frozenset({401, 403})


class UninstallUnconfirmed(TransientError):
    """Ecwid's answer neither confirms nor denies the uninstall (e.g. 402, 400): asked again later."""


def too_old(services: Services, message: EcwidEventMessage) -> bool:
    """Whether the event was created before Ecwid's retry horizon (counted and logged when so). Messages queued
    before events carried their time are not judged by it."""
    if message.event_created is None:
        return False
    age = services.clock() - message.event_created
    if age <= services.settings.webhook_max_age_seconds:
        return False
    metrics.add_metric(name="EventTooOld", unit=MetricUnit.Count, value=1)
    logger.info(
        "Ecwid event older than Ecwid's retry horizon ignored",
        extra={**_described(message), "age_hours": round(age / 3600, 1)},
    )
    return True


def uninstall_confirmed(services: Services, message: EcwidEventMessage) -> bool:
    """Whether Ecwid refuses the store's stored token now, so that the uninstall may proceed.

    True also for a store the app does not know or whose Ecwid token is gone: there is nothing to ask Ecwid
    about, and the uninstall does what it always did. False (counted) when Ecwid still accepts the token.
    Raises a TransientError for any other answer, so the worker asks again later.
    """
    store = services.stores.get(message.store_id)
    if store is None or store.ecwid_token is None:
        return True
    token = services.cipher.decrypt(store.ecwid_token, store_id=store.store_id, field="ecwid_token")
    try:
        services.ecwid().get_profile(store.store_id, token)
    except EcwidError as answer:
        if answer.status in _TOKEN_REFUSED and answer.error_code == "INVALID_API_TOKEN":
            return True
        if isinstance(answer, TransientError):
            raise
        raise UninstallUnconfirmed(
            f"store {store.store_id}: Ecwid's answer confirms no uninstall yet (HTTP {answer.status} "
            f"{answer.error_code or 'without an error code'})"
        ) from None
    metrics.add_metric(name="UninstallNotConfirmed", unit=MetricUnit.Count, value=1)
    logger.info("Uninstall event ignored: Ecwid still accepts the store's token", extra=_described(message))
    return False


def _described(message: EcwidEventMessage) -> dict[str, object]:
    """What the logs say about an event: its store, id and type; never a token."""
    return {
        "store_id": message.store_id,
        "event_id": message.event_id[:_LOGGED_CHARS],
        "event_type": message.event_type[:_LOGGED_CHARS],
    }
