"""The store status the merchant page reads (design.md, "Store status"): summaries kept on the store item."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tiktok_channel.eligibility import eligibility
from tiktok_channel.errors import NotFound
from tiktok_channel.models.store import Store
from tiktok_channel.schedule import next_run

if TYPE_CHECKING:
    from tiktok_channel.ports import Services


def _next_sync(services: Services, store: Store) -> str | None:
    if store.status != "connected":
        return None
    upcoming = next_run(services.settings.sync_schedule, datetime.fromtimestamp(services.clock(), UTC))
    return upcoming.isoformat() if upcoming else None


def _sync(services: Services, store: Store) -> dict[str, Any]:
    """The sync's state; `waiting_since` and `retry_at` only while it waits on a failing service,
    `reviews_checked_at` once TikTok's review statuses were read."""
    sync = store.sync.model_dump(exclude={"job_id", "queued_at", "waiting_since", "retry_at", "reviews_checked_at"})
    if store.sync.retry_at is not None:
        sync |= {"waiting_since": store.sync.waiting_since, "retry_at": store.sync.retry_at}
    if store.sync.reviews_checked_at is not None:
        sync["reviews_checked_at"] = store.sync.reviews_checked_at
    return {**sync, "next_at": _next_sync(services, store)}


def store_status(services: Services, store_id: int) -> dict[str, Any]:
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound(
            "This store has not installed the app. Install it from the Ecwid App Market.", code="store_not_found"
        )
    body: dict[str, Any] = {
        "store_id": store.store_id,
        "status": store.status,
        "eligibility": eligibility(store.country, store.currency).as_json(),
        # `excluded` (products the store's own settings keep off TikTok) only when there are some.
        "products": store.products.model_dump(exclude=set() if store.products.excluded else {"excluded"}),
        "sync": _sync(services, store),
        "storefront": {"state": store.storefront_state},
    }
    if store.notice is not None:
        body["notice"] = store.notice.model_dump()
    if store.tiktok_counts is not None and store.status == "connected":
        body["tiktok_counts"] = store.tiktok_counts.model_dump()
    if store.tiktok is not None:
        body["tiktok"] = {
            "business_center_url": store.tiktok.business_center_url,
            "catalog_id": store.tiktok.catalog_id,
            "catalog_currency": store.tiktok.catalog_currency,
            "pixel_code": store.tiktok.pixel_code,
        }
    return body
