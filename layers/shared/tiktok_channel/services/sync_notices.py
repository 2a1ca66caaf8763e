"""What the sync changes on the store item besides its catalog: the catalog frozen by a currency change, syncing
stopped when Ecwid or TikTok no longer accept the app's access, and a running sync's progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import ConcurrentUpdate, EcwidAccessLost, TikTokTokenRevoked
from tiktok_channel.models.store import Notice, Store, StoreStatus

if TYPE_CHECKING:
    from tiktok_channel.models.catalog import SyncRun
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


def stop_when_access_lost(services: Services, store: Store, work: Callable[[], str]) -> str:
    """Run `work`; stop the store's syncing, without retries, when Ecwid or TikTok no longer accept its access."""
    try:
        return work()
    except EcwidAccessLost:
        _stop(services, store, "ecwid_access_lost", _ECWID_ACCESS_LOST)
        return "stopped"
    except TikTokTokenRevoked:
        _stop(services, store, "reconnect_needed", _RECONNECT_NEEDED)
        return "stopped"
    except ConcurrentUpdate:
        logger.info("Store reconnected or disconnected meanwhile", extra={"store_id": store.store_id})
        return "dropped"


def save_progress(services: Services, store: Store, run: SyncRun) -> None:
    """How far the running sync is, for the merchant's page."""
    sync = store.sync.model_copy(
        update={"state": "running", "job_id": run.job_id, "done": run.offset, "total": run.total}
    )
    services.stores.save_sync(store.store_id, store.epoch, sync)


def _stop(services: Services, store: Store, status: StoreStatus, notice: Notice) -> None:
    try:
        services.stores.set_notice(store.store_id, store.epoch, notice, status=status)
        services.stores.save_sync(
            store.store_id,
            store.epoch,
            store.sync.model_copy(
                update={"state": "idle", "last_finished_at": _iso(services.clock()), "last_result": notice.message}
            ),
        )
    except ConcurrentUpdate:
        return  # reconnected or disconnected meanwhile: this connection's state is no longer the store's
    metrics.add_metric(name="SyncStopped", unit=MetricUnit.Count, value=1)
    logger.warning("Store sync stopped", extra={"store_id": store.store_id, "status": status})


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
