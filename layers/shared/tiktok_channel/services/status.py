"""The store status the merchant page reads (design.md, "Store status"): summaries kept on the store item."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tiktok_channel.eligibility import eligibility
from tiktok_channel.errors import NotFound
from tiktok_channel.models.store import Store
from tiktok_channel.schedule import next_run
from tiktok_channel.services.sync_health import sync_health
from tiktok_channel.services.tiktok_counts import counts_answer

if TYPE_CHECKING:
    from tiktok_channel.ports import Services


def _next_sync(services: Services, store: Store) -> str | None:
    if store.status != "connected":
        return None
    upcoming = next_run(services.settings.sync_schedule, datetime.fromtimestamp(services.clock(), UTC))
    return upcoming.isoformat() if upcoming else None


def _sync(services: Services, store: Store) -> dict[str, Any]:
    """The sync's state; `waiting_since` and `retry_at` only while it waits on a failing service,
    `reviews_checked_at` once TikTok's review statuses were read; the sync's health (sync_health.py)."""
    hidden = {"job_id", "queued_at", "waiting_since", "retry_at", "reviews_checked_at", "progress_at", "stall_noted"}
    sync = store.sync.model_dump(exclude=hidden)
    if store.sync.retry_at is not None:
        sync |= {"waiting_since": store.sync.waiting_since, "retry_at": store.sync.retry_at}
    if store.sync.reviews_checked_at is not None:
        sync["reviews_checked_at"] = store.sync.reviews_checked_at
    return {**sync, "next_at": _next_sync(services, store), **sync_health(services, store)}


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
        # `excluded` (kept off by the store's own settings) and `kept_off` (by the merchant) only when there are some.
        "products": store.products.model_dump(
            exclude={name for name in ("excluded", "kept_off") if not getattr(store.products, name)}
        ),
        "sync": _sync(services, store),
        "storefront": {"state": store.storefront_state},
    }
    if store.notice is not None:
        body["notice"] = store.notice.model_dump()
    counts = counts_answer(store) if store.status == "connected" else None
    if counts is not None:
        body["tiktok_counts"] = counts
    if store.tiktok is not None:
        body["tiktok"] = {
            "business_center_url": store.tiktok.business_center_url,
            "catalog_id": store.tiktok.catalog_id,
            "catalog_currency": store.tiktok.catalog_currency,
            "pixel_code": store.tiktok.pixel_code,
        }
    return body
