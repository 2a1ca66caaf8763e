"""Journey 6's first remote step, "catalog_delete": the disconnected connection's products leave its TikTok catalog.

The SKUs come from the cleanup's SKU chunks, which the purge of the store's SKU items wrote (only those on
TikTok, ≤ 1,000 sku_ids each, TikTok's limit per delete call). Each chunk is deleted in one call; TikTok's
feed log confirms it, then the chunk goes. A SKU TikTok no longer has, or deletes twice, is harmless.

A step that runs after the store reconnected (late, retried, or redriven from the dead-letter queue) deletes
nothing of the new connection's: connected again to the same catalog, it drops its chunks and completes as
"skipped_reconnected" (the new connection's first sync replaces that catalog anyway); connected to another
catalog, deleting from the old one is safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import TransientError
from tiktok_channel.services.feed_logs import FEED_LOG_WAITS, wait_for_feed_log

if TYPE_CHECKING:
    from tiktok_channel.models.cleanup import CleanupItem
    from tiktok_channel.models.store import Store, TikTokConnection
    from tiktok_channel.ports import Services, TikTokApi

logger = Logger(child=True)
metrics = Metrics()


class CatalogDeleteUnconfirmed(TransientError):
    """TikTok's feed log did not confirm a deletion (still processing, or FAILED): the chunk is sent again."""


def delete_catalog_products(
    services: Services,
    tiktok: TikTokApi,
    token: str,
    item: CleanupItem,
    time_left: Callable[[], bool],
    *,
    feed_log_waits: Sequence[float] = FEED_LOG_WAITS,
) -> str | None:
    """Delete the item's SKU chunks from its catalog: the step's outcome, or None when time ran out first (the
    chunks TikTok confirmed are gone, the others wait for the next try). Raises what the TikTok port raises,
    and `CatalogDeleteUnconfirmed`."""
    if not item.bc_id or not item.catalog_id:
        return "no_catalog"  # a half-made connection's item, or one written before this step existed
    deleted = 0
    for chunk in services.cleanups.sku_chunks(item.store_id, item.cleanup_id):
        if reconnected_to_catalog(services.stores.get(item.store_id), item):
            _drop_chunks(services, item)
            logger.info(
                "The store reconnected to the same catalog: its old products are left to the new sync",
                extra={"store_id": item.store_id, "cleanup_id": item.cleanup_id, "deleted": deleted},
            )
            return "skipped_reconnected"
        if not time_left():
            return None
        feed_log_id = tiktok.delete_products(token, bc_id=item.bc_id, catalog_id=item.catalog_id, sku_ids=chunk.sku_ids)
        log = wait_for_feed_log(
            tiktok,
            token,
            bc_id=item.bc_id,
            catalog_id=item.catalog_id,
            feed_log_id=feed_log_id,
            sleep=time.sleep,
            keep_waiting=time_left,
            waits=feed_log_waits,
        )
        if not log.done and not time_left():
            return None  # sent again next time: deleting twice is harmless
        if not log.done or log.process_status.upper() == "FAILED":
            raise CatalogDeleteUnconfirmed(
                f"TikTok's feed log {feed_log_id} says {log.process_status} for a deletion of {len(chunk.sku_ids)} SKUs"
            )
        services.cleanups.drop_chunk(chunk)
        deleted += len(chunk.sku_ids)
        metrics.add_metric(name="SkusDeletedOnDisconnect", unit=MetricUnit.Count, value=len(chunk.sku_ids))
    return "done"


def cleanup_id_of(epoch: int, source: str) -> str:
    return f"{epoch:010d}-{source}"


def purge_store_catalog(
    services: Services, store: Store | None, items: list[CleanupItem], time_left: Callable[[], bool]
) -> bool:
    """Delete the store's catalog items while it is disconnected; True once none is left (or none is ours).

    The sku_ids on TikTok go into the chunks of the cleanup of the connection taken down at the store's epoch
    (the only connection that could have written them), when that cleanup has a catalog to delete from.
    """
    if store is None or store.tiktok is not None or store.status == "connected":
        return True  # after a reconnect the items are the new connection's
    keep_for = cleanup_id_of(store.epoch, "connection")
    has_catalog = any(item.cleanup_id == keep_for and item.catalog_id for item in items)
    return services.cleanups.purge_catalog(
        store.store_id, time_left=time_left, keep_for=keep_for if has_catalog else None, at=services.clock()
    )


def waits_for_purge(item: CleanupItem, store: Store, purged: bool) -> bool:
    """Its SKU chunks are still being written: deleting now would leave the rest of the products on TikTok."""
    return not purged and item.epoch == store.epoch and "catalog_delete" in item.steps_left


def reconnected_to_catalog(store: Store | None, item: CleanupItem) -> bool:
    """The store holds a newer connection (live, or being made) to the catalog this cleanup deletes from."""
    return any(c.catalog_id == item.catalog_id for c in newer_connections(store))


def newer_connections(store: Store | None) -> list[TikTokConnection]:
    """The store's connections made after its disconnect (which removed them all): live, or being made."""
    if store is None:
        return []
    return [c for c in (store.tiktok, store.pending_connection) if c is not None]


def _drop_chunks(services: Services, item: CleanupItem) -> None:
    for chunk in services.cleanups.sku_chunks(item.store_id, item.cleanup_id):
        services.cleanups.drop_chunk(chunk)
