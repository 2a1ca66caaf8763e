"""Journey 6: Disconnect (the merchant's button) and uninstall (Ecwid's `application.uninstalled`).

Both take the store down here at once, in one conditional write: the epoch goes up (so every queued job and
event of the old connection does nothing), the store is marked disconnected and leaves the sparse index, its TikTok
connection, sync state, counts and storefront state are reset, the store's catalog items are deleted, and the pixel
leaves the storefront (services/pixel.py). An uninstall also deletes the Ecwid token and the merchant's personal
data and choices; a disconnect keeps the Ecwid token, so the merchant can connect again (replacing the catalog).

TikTok is told afterwards: a cleanup item per connection keeps the KMS-encrypted TikTok token until TikTok
confirmed each step: the store's products deleted from its catalog (services/disconnect_catalog.py, from the
SKU chunks the purge of the SKU items wrote; only once the purge is complete), the storefront and the
business profile disconnected, the token revoked. The request tries at once within a short budget; what
TikTok did not confirm is retried by the catalog worker from a "cleanup" message, with the worker's backoff.
A token TikTok already revoked (40105) means every step is done.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import (
    ConcurrentUpdate,
    Conflict,
    NotFound,
    PausedError,
    TikTokError,
    TikTokRequestRejected,
    TikTokTokenRevoked,
    TransientError,
)
from tiktok_channel.models.cleanup import CleanupItem, CleanupStep
from tiktok_channel.models.messages import CleanupMessage
from tiktok_channel.models.store import RemoteCleanup, Store
from tiktok_channel.services.disconnect_catalog import (
    cleanup_id_of,
    delete_catalog_products,
    newer_connections,
    purge_store_catalog,
    waits_for_purge,
)
from tiktok_channel.services.feed_logs import FEED_LOG_WAITS
from tiktok_channel.services.pixel import take_pixel_down

if TYPE_CHECKING:
    from tiktok_channel.ports import Services, TikTokApi

logger = Logger(child=True)
metrics = Metrics()

# API Gateway cuts a request at 30 s: TikTok gets a few seconds, the rest is the worker's job.
REQUEST_BUDGET_SECONDS = 8.0
PURGE_BUDGET_SECONDS = 10.0  # catalog items left after it are deleted by the worker's cleanup message
WORKER_RESERVE_SECONDS = 30.0  # the worker stops starting TikTok calls this long before its timeout
QUICK_FEED_LOG_WAITS = (0.5, 1.0, 2.0)  # while the merchant waits; the worker waits FEED_LOG_WAITS

RemoteState = Literal["done", "pending"]


class CleanupUnfinished(TransientError):
    """The worker ran out of time before the cleanup finished; its message comes back later."""


@dataclass(frozen=True)
class Disconnected:
    remote_cleanup: RemoteState
    epoch: int

    def as_json(self) -> dict[str, Any]:
        return {"status": "disconnected", "remote_cleanup": self.remote_cleanup}


@dataclass
class _Told:
    """What one pass of telling TikTok achieved."""

    unfinished: list[CleanupItem]
    failure: Exception | None = None
    attempts: int = 0
    last_error: str | None = None


# -- entries ---------------------------------------------------------------------------------------
def disconnect_store(services: Services, store_id: int) -> Disconnected:
    """The merchant pressed Disconnect. Pressing it again is harmless and answers the same."""
    result = _take_down(services, store_id, uninstall=False)
    if result is None:
        raise NotFound(
            "This store has not installed the app. Install it from the Ecwid App Market.", code="store_not_found"
        )
    return result


def uninstall_store(services: Services, store_id: int) -> str:
    """Ecwid said the app was uninstalled: disconnect, and forget the Ecwid token and the merchant's phone."""
    result = _take_down(services, store_id, uninstall=True)
    if result is None:
        logger.info("Uninstall of a store the app does not know", extra={"store_id": store_id})
        return "ignored"
    return "uninstalled" if result.remote_cleanup == "done" else "uninstalled, cleanup pending"


def run_cleanup(services: Services, message: CleanupMessage, *, remaining_seconds: Callable[[], float]) -> str:
    """The catalog worker's part: the pixel and catalog items left behind, then every step TikTok has not
    confirmed yet. A step TikTok could not take now fails the message, which comes back with the worker's backoff."""

    def time_left() -> bool:
        return remaining_seconds() > WORKER_RESERVE_SECONDS

    if (store := services.stores.get(message.store_id)) is not None and store.status == "disconnected":
        take_pixel_down(services, store, uninstall=False)  # again, if Ecwid failed it at the disconnect
    items = services.cleanups.pending(message.store_id)
    # Items an old sync wrote after the disconnect are caught here, since the store's FIFO group delivers
    # this message after that sync. Only while the store is disconnected: after a reconnect the items are
    # the new connection's.
    if not purge_store_catalog(services, store, items, time_left):
        raise CleanupUnfinished(f"store {message.store_id}: catalog items left to delete")
    if not items:
        return "done"
    told = _tell_tiktok(services, services.tiktok(), items, time_left)
    _record(services, message.store_id, told)
    if told.failure is not None:
        raise told.failure
    if told.unfinished:
        raise CleanupUnfinished(f"store {message.store_id}: TikTok steps left for a next try")
    return "done"


# -- the local half --------------------------------------------------------------------------------
def _take_down(services: Services, store_id: int, *, uninstall: bool) -> Disconnected | None:
    store: Store | None = None
    changed = False
    for _ in range(3):  # a connect, sync or another disconnect that wrote meanwhile makes us read again
        store = services.stores.get(store_id)
        if store is None:
            return None
        if not _needs_local_cleanup(store, uninstall=uninstall):
            break
        epoch = store.epoch + 1
        now = services.clock()
        try:
            services.cleanups.disconnect(
                store,
                _cleanups_of(store, epoch, uninstall=uninstall, now=_iso(now)),
                epoch=epoch,
                uninstall=uninstall,
                now=_iso(now),
                at=now,
            )
        except ConcurrentUpdate:
            continue
        store = store.model_copy(
            update={"epoch": epoch, "status": "disconnected", "tiktok": None, "pending_connection": None}
        )
        changed = True
        break
    else:
        raise Conflict(
            "Your store was being updated at the same moment. Press Disconnect again.", code="concurrent_update"
        )
    assert store is not None
    if changed:
        take_pixel_down(services, store, uninstall=uninstall)
    purged = True
    items = services.cleanups.pending(store_id)
    if changed:
        services.cleanups.retire_states(store_id)
    if changed or items:
        purge_deadline = time.monotonic() + PURGE_BUDGET_SECONDS
        purged = purge_store_catalog(services, store, items, lambda: time.monotonic() < purge_deadline)

    remote: RemoteState = "done"
    if items:
        # The products are deleted from TikTok only once every SKU is in a chunk: else the worker does it all.
        ready = [item for item in items if not waits_for_purge(item, store, purged)]
        deadline = time.monotonic() + REQUEST_BUDGET_SECONDS
        quick = services.tiktok(while_merchant_waits=True)
        told = _tell_tiktok(
            services, quick, ready, lambda: time.monotonic() < deadline, feed_log_waits=QUICK_FEED_LOG_WAITS
        )
        held = [item for item in items if item not in ready]
        told.unfinished.extend(held)
        told.attempts = max([told.attempts, *(item.attempts for item in held)])
        _record(services, store_id, told)
        if told.unfinished:
            remote = "pending"
    if changed or remote == "pending":
        # Also after a complete cleanup: the worker deletes catalog items an in-flight sync of the old
        # connection writes after this point (it runs before this message in the store's FIFO group).
        services.queue.send(CleanupMessage(store_id=store_id, epoch=store.epoch, job_id=f"cleanup-{uuid.uuid4()}"))
    metrics.add_metric(name="StoreUninstalled" if uninstall else "StoreDisconnected", unit=MetricUnit.Count, value=1)
    logger.info(
        "Store uninstalled" if uninstall else "Store disconnected",
        extra={
            "store_id": store_id,
            "epoch": store.epoch,
            "changed": changed,
            "catalog_purged": purged,
            "remote_cleanup": remote,
        },
    )
    return Disconnected(remote_cleanup=remote, epoch=store.epoch)


def _needs_local_cleanup(store: Store, *, uninstall: bool) -> bool:
    if store.status != "disconnected" or store.tiktok is not None or store.pending_connection is not None:
        return True
    return uninstall and (store.ecwid_token is not None or store.phone is not None or bool(store.email))


def _cleanups_of(store: Store, epoch: int, *, uninstall: bool, now: str) -> list[CleanupItem]:
    """One cleanup item per TikTok token the store holds: the live connection's (with the catalog its products
    are deleted from) and a half-made one's (nothing synced: no products to delete)."""
    live = store.tiktok
    connections = {
        "connection": (live.access_token, live.bc_id, live.catalog_id) if live else None,
        "pending_connection": (store.pending_connection.access_token, None, None) if store.pending_connection else None,
    }
    return [
        CleanupItem.model_validate(
            {
                "store_id": store.store_id,
                "cleanup_id": cleanup_id_of(epoch, source),
                "epoch": epoch,
                "source": source,
                "reason": "uninstall" if uninstall else "disconnect",
                "access_token": token,
                "bc_id": bc_id,
                "catalog_id": catalog_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        for source, found in connections.items()
        if found is not None
        for token, bc_id, catalog_id in [found]
        if token
    ]


# -- the remote half -------------------------------------------------------------------------------
def _tell_tiktok(
    services: Services,
    tiktok: TikTokApi,
    items: list[CleanupItem],
    time_left: Callable[[], bool],
    *,
    feed_log_waits: tuple[float, ...] = FEED_LOG_WAITS,
) -> _Told:
    """Run each item's steps; stop at the first failure (TikTok is likely down for all of them)."""
    told = _Told(unfinished=[])
    for index, item in enumerate(items):
        if not time_left():
            told.unfinished.extend(items[index:])
            break
        item = item.model_copy(update={"attempts": item.attempts + 1, "updated_at": _iso(services.clock())})
        told.attempts = max(told.attempts, item.attempts)
        told.last_error = told.last_error or item.last_error
        item, failure = _run_steps(services, tiktok, item, time_left, feed_log_waits)
        if failure is not None:  # TikTok unavailable or paused (transient), or something unexpected
            error = _describe(failure)
            item = item.model_copy(update={"last_error": error})
            services.cleanups.save_progress(item)
            told.failure, told.last_error = failure, error
            told.unfinished.extend([item, *items[index + 1 :]])
            _log_failure(item, failure)
            break
        if item.steps_left:  # out of time between steps
            services.cleanups.save_progress(item)
            told.unfinished.append(item)
            continue
        services.cleanups.finish(item)
        metrics.add_metric(name="RemoteCleanupDone", unit=MetricUnit.Count, value=1)
        logger.info(
            "TikTok confirmed the disconnect",
            extra={"store_id": item.store_id, "cleanup_id": item.cleanup_id, "outcomes": item.outcomes},
        )
    if told.unfinished:
        metrics.add_metric(name="RemoteCleanupPending", unit=MetricUnit.Count, value=len(told.unfinished))
    return told


def _run_steps(
    services: Services,
    tiktok: TikTokApi,
    item: CleanupItem,
    time_left: Callable[[], bool],
    feed_log_waits: tuple[float, ...],
) -> tuple[CleanupItem, Exception | None]:
    """Take the item's remaining steps in order; answer the item with what TikTok confirmed, and the failure
    that stopped it (the steps before it stay confirmed)."""
    try:
        token = services.cipher.decrypt(item.access_token, store_id=item.store_id, field="tiktok_token")
    except Exception as failure:
        return item, failure
    platform = services.settings.tiktok_business_platform
    external_id = str(item.store_id)
    calls: dict[CleanupStep, Callable[[], str | None]] = {
        "catalog_delete": lambda: delete_catalog_products(
            services, tiktok, token, item, time_left, feed_log_waits=feed_log_waits
        ),
        # After a reconnect, the store's storefront and business profile are the new connection's.
        "shop_disconnect": lambda: _unless_reconnected(
            services,
            item,
            lambda: tiktok.disconnect_shop(token, business_platform=platform, external_business_id=external_id),
        ),
        "profile_disconnect": lambda: _unless_reconnected(
            services,
            item,
            lambda: tiktok.disconnect_business_profile(
                token, business_platform=platform, external_business_id=external_id
            ),
        ),
        "revoke_token": lambda: _confirmed(lambda: tiktok.revoke_token(token)),
    }
    for step in item.steps_left:
        if "token_revoked" in item.outcomes.values():
            outcome = "token_revoked"  # nothing more can be done with this token, nor needs to be
        elif not time_left():
            break
        else:
            try:
                result = _step(calls[step], step, item)
            except Exception as failure:
                return item, failure
            if result is None:
                break  # out of time within the step: what it finished stays finished
            outcome = result
        item = item.model_copy(update={"outcomes": {**item.outcomes, step: outcome}})
    return item, None


def _confirmed(call: Callable[[], object]) -> str:
    call()
    return "done"


def _unless_reconnected(services: Services, item: CleanupItem, call: Callable[[], object]) -> str:
    return "skipped_reconnected" if newer_connections(services.stores.get(item.store_id)) else _confirmed(call)


def _step(call: Callable[[], str | None], step: CleanupStep, item: CleanupItem) -> str | None:
    try:
        return call()
    except TikTokTokenRevoked:
        return "token_revoked"  # 40105: TikTok no longer knows this token, so nothing hangs on it
    except TikTokRequestRejected as refusal:
        if step == "revoke_token":
            raise  # the token must go: wrong app credentials are fixed by the operator, then retried
        # E.g. 40002 (no business profile: the store connected without one) or 40001 (the app may not use
        # the TBP endpoints): another try would be refused again.
        logger.info(
            "TikTok refused a disconnect step",
            extra={"store_id": item.store_id, "step": step, "code": refusal.code, "request_id": refusal.request_id},
        )
        return f"refused_{refusal.code}"


def _record(services: Services, store_id: int, told: _Told) -> None:
    outcome = RemoteCleanup(
        state="pending" if told.unfinished else "done",
        attempts=told.attempts,
        last_error=told.last_error,
        updated_at=_iso(services.clock()),
    )
    services.cleanups.set_outcome(store_id, outcome)


def _describe(failure: Exception) -> str:
    """What the item keeps of a failure: TikTok's own messages carry no token (adapters/tiktok.py)."""
    if isinstance(failure, TikTokError | PausedError):
        return f"{type(failure).__name__}: {str(failure)[:300]}"
    return type(failure).__name__


def _log_failure(item: CleanupItem, failure: Exception) -> None:
    details = {
        "store_id": item.store_id,
        "cleanup_id": item.cleanup_id,
        "attempts": item.attempts,
        "failure": type(failure).__name__,
        "code": getattr(failure, "code", None),
        "request_id": getattr(failure, "request_id", None),
    }
    if isinstance(failure, TransientError | PausedError):
        logger.warning("TikTok did not confirm the disconnect yet; tried again later", extra=details)
    else:
        logger.exception("Disconnect cleanup failed unexpectedly; tried again later", extra=details)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
