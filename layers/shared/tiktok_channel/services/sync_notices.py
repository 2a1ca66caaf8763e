"""What the sync changes on the store item besides its catalog: the catalog frozen by a currency change, syncing
stopped when Ecwid or TikTok no longer accept the app's access, uploads TikTok refuses for the store, and a running
sync's progress."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.refusals import PERMISSION_MISSING
from tiktok_channel.errors import (
    CatalogUploadRefused,
    ConcurrentUpdate,
    EcwidAccessLost,
    EcwidError,
    PausedError,
    TikTokError,
    TikTokTokenRevoked,
)
from tiktok_channel.models.store import Notice, Store, StoreStatus

if TYPE_CHECKING:
    from tiktok_channel.models.catalog import SyncRun
    from tiktok_channel.models.messages import SyncMessage
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

_ECWID_ACCESS_LOST = Notice(
    code="ecwid_access_lost",
    message="The app lost access to your Ecwid store, so your catalog is no longer synced. "
    "Reinstall the app from the Ecwid App Market to resume.",
)
_RECONNECT_NEEDED = Notice(
    code="reconnect_needed",
    message="TikTok no longer accepts this app's access, so your catalog is no longer synced. "
    "Press Reconnect to connect your TikTok account again.",
)


def is_frozen(store: Store) -> bool:
    """Nothing of the catalog moves until the store's currency is back to the catalog's."""
    return store.notice is not None and store.notice.code == "catalog_frozen"


def freeze(services: Services, store: Store, *, catalog_currency: str, currency: str) -> None:
    """The store's currency is no longer its TikTok catalog's: say so on the page and end the sync."""
    notice = Notice(
        code="catalog_frozen",
        message=f"Your store currency changed to {currency}, but your TikTok catalog is in "
        f"{catalog_currency} and TikTok cannot change it. Products are not synced until you switch "
        f"the store currency back to {catalog_currency}, or disconnect and connect again to create "
        f"a catalog in {currency}.",
    )
    services.stores.set_notice(store.store_id, store.epoch, notice)
    services.stores.save_sync(
        store.store_id,
        store.epoch,
        store.sync.model_copy(
            update={
                "state": "idle",
                "last_finished_at": _iso(services.clock()),
                "last_result": "Catalog frozen: currency changed",
            }
        ),
    )
    logger.info("Catalog frozen", extra={"store_id": store.store_id})


def lift_freeze(services: Services, store: Store) -> None:
    """The merchant switched the currency back."""
    services.stores.set_notice(store.store_id, store.epoch, None)


def stop_when_access_lost(services: Services, store: Store, work: Callable[[], str], *, ends_sync: bool) -> str:
    """Run `work`; stop the store's syncing, without retries, when Ecwid or TikTok no longer accept its access.

    An upload TikTok refused for a reason of the store's (not of a product) ends the work with a notice that says
    what to do, without retries (it would be refused again); the next upload TikTok accepts clears it
    (`clear_refusal`). `ends_sync`: the work is a full sync, whose state then becomes idle (an event's refusal
    leaves a running sync's state alone).
    """
    try:
        result = work()
    except EcwidAccessLost:
        _stop(services, store, "ecwid_access_lost", _ECWID_ACCESS_LOST)
        return "stopped"
    except TikTokTokenRevoked:
        _stop(services, store, "reconnect_needed", _RECONNECT_NEEDED)
        return "stopped"
    except CatalogUploadRefused as refusal:
        _refused(services, store, refusal, ends_sync=ends_sync)
        return "refused"
    except ConcurrentUpdate:
        logger.info("Store reconnected or disconnected meanwhile", extra={"store_id": store.store_id})
        return "dropped"
    return result


def clear_refusal(services: Services, store: Store) -> None:
    """TikTok accepted one of the store's uploads or deletes again: a notice that it refused them goes."""
    if store.notice is not None and store.notice.code in REFUSAL_NOTICES:
        # A ConcurrentUpdate means reconnected or disconnected meanwhile: the notice went with that state.
        with contextlib.suppress(ConcurrentUpdate):
            services.stores.set_notice(store.store_id, store.epoch, None)


REFUSAL_NOTICES = frozenset({"tiktok_permission_missing", "tiktok_upload_refused"})


def refusal_notice(refusal: CatalogUploadRefused) -> Notice:
    """What the page says when TikTok refuses the store's uploads as a whole (no product is at fault)."""
    if refusal.code == PERMISSION_MISSING:
        return Notice(
            code="tiktok_permission_missing",
            message="TikTok says this app lacks a permission it needs to update your catalog, so your products "
            "are not synced. Press Reconnect and allow every permission TikTok asks for.",
        )
    said = refusal.detail or "no reason given"
    return Notice(
        code="tiktok_upload_refused",
        message=f"TikTok refused to update your catalog ({said}; request {refusal.request_id or 'unknown'}). "
        "Check that the catalog still exists in your TikTok Business Center; if it does, contact support with "
        "this message. Syncing resumes at the next sync once TikTok accepts it.",
    )


def _refused(services: Services, store: Store, refusal: CatalogUploadRefused, *, ends_sync: bool) -> None:
    notice = refusal_notice(refusal)
    try:
        services.stores.set_notice(store.store_id, store.epoch, notice)
        if ends_sync:
            _end_sync(services, store, notice)
    except ConcurrentUpdate:
        return
    metrics.add_metric(name="UploadRefused", unit=MetricUnit.Count, value=1)
    logger.warning(
        "TikTok refused the store's upload",
        extra={"store_id": store.store_id, "code": refusal.code, "request_id": refusal.request_id},
    )


def save_progress(services: Services, store: Store, run: SyncRun, *, moved: bool = False) -> Store:
    """How far the running sync is, for the merchant's page (`done`: products whose SKUs TikTok confirmed or
    that needed nothing). `moved`: the run got further, so a wait on a failing service is over. Answers the store
    as it now stands."""
    update: dict[str, object] = {"state": "running", "job_id": run.job_id, "done": run.offset, "total": run.total}
    before = store.sync
    if before.state != "running" or before.job_id != run.job_id or before.done != run.offset or not before.progress_at:
        update["progress_at"] = _iso(services.clock())  # the job moved: not stalled (sync_health.py)
    over = moved and store.sync.waiting_since is not None
    if over:
        update |= {"waiting_since": None, "retry_at": None}
    sync = store.sync.model_copy(update=update)
    services.stores.save_sync(store.store_id, store.epoch, sync)
    if over and store.notice is not None and store.notice.code == WAITING:
        services.stores.set_notice(store.store_id, store.epoch, None)
        return store.model_copy(update={"sync": sync, "notice": None})
    return store.model_copy(update={"sync": sync})


WAITING = "sync_waiting"


def note_waiting(services: Services, message: SyncMessage, failure: BaseException, wait_seconds: float) -> None:
    """The store's sync waits `wait_seconds` on a failing service (its message comes back then): the page says
    which, since when and when it tries again (`sync.waiting_since`, `sync.retry_at`, notice `sync_waiting`).
    A notice of another kind (frozen, refused, access lost) stays: it says more."""
    store = services.stores.get(message.store_id)
    if store is None or store.epoch != message.epoch or store.sync.job_id != message.job_id:
        return
    now = services.clock()
    since = store.sync.waiting_since or _iso(now)
    retry_at = _iso(now + wait_seconds)
    sync = store.sync.model_copy(update={"waiting_since": since, "retry_at": retry_at})
    when = f"{_clock_time(retry_at)} UTC"
    if isinstance(failure, PausedError):
        text = f"TikTok asked apps to slow down, so your sync is waiting. It goes on at {when}."
    else:
        service = "Ecwid" if isinstance(failure, EcwidError) else "TikTok" if isinstance(failure, TikTokError) else None
        who = f"{service} is not answering" if service else "Something failed on our side"
        text = (
            f"{who}, so your sync has been waiting since {_clock_time(since)} UTC. It tries again at {when}; "
            "nothing you changed is lost."
        )
    try:
        services.stores.save_sync(store.store_id, store.epoch, sync)
        if store.notice is None or store.notice.code == WAITING:
            services.stores.set_notice(store.store_id, store.epoch, Notice(code=WAITING, message=text))
    except ConcurrentUpdate:
        return  # reconnected or disconnected meanwhile


def _end_sync(services: Services, store: Store, notice: Notice) -> None:
    """The running sync ends here, its result what the notice says."""
    sync = store.sync.model_copy(
        update={"state": "idle", "last_finished_at": _iso(services.clock()), "last_result": notice.message}
    )
    services.stores.save_sync(store.store_id, store.epoch, sync)


def _clock_time(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")


def _stop(services: Services, store: Store, status: StoreStatus, notice: Notice) -> None:
    try:
        services.stores.set_notice(store.store_id, store.epoch, notice, status=status)
        _end_sync(services, store, notice)
    except ConcurrentUpdate:
        return  # reconnected or disconnected meanwhile: this connection's state is no longer the store's
    metrics.add_metric(name="SyncStopped", unit=MetricUnit.Count, value=1)
    # One metric name per transition (alarms StoresNeedingReconnectAlarm, StoresLosingEcwidAccessAlarm).
    if status == "reconnect_needed":
        metrics.add_metric(name="StoresNeedingReconnect", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="StoresLosingEcwidAccess", unit=MetricUnit.Count, value=1)
    logger.warning("Store sync stopped", extra={"store_id": store.store_id, "status": status})


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
