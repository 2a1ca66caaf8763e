"""TikTok's review outcomes reach the merchant's page without any action (issue 12, item 2).

A schedule of its own (`REVIEW_CHECK_SCHEDULE`, every 30 minutes by default) finds the stores with SKUs pending
TikTok's review through their sparse index (no work for the others), the longest-waiting first, and queues one
check each in the store's FIFO group while the run's share of the app's daily TikTok budget lasts:
`REVIEW_REFRESH_SHARE` (default 30%) of the default bucket's 864,000 calls a day (tiktok-api.md, "Rate limits"),
split over the schedule's runs. A check costs one `catalog/overview` call, read first, and ⌈pending SKUs / 500⌉
status pages; a fleet too large for the share stretches the interval (the rest wait, first in line next time)
instead of exhausting the limit. The page shows when the statuses were last read (`sync.reviews_checked_at`) and
TikTok's own counts (`tiktok_counts`).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import NotConnected
from tiktok_channel.models.messages import QueueMessage, ReviewMessage
from tiktok_channel.models.store import CatalogTarget, Store
from tiktok_channel.schedule import cadence
from tiktok_channel.services.sync_notices import stop_when_access_lost
from tiktok_channel.services.sync_writer import STATUS_BATCH, CatalogWriter
from tiktok_channel.services.tiktok_counts import counts_beside_ours

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

# TikTok's per-day limit of the app's default bucket, which catalog/overview and catalog/product/get count in.
DAILY_DEFAULT_CALLS = 864_000


def run_budget(services: Services) -> int:
    """TikTok calls one run of the review checks may spend: its share of the day's, over the schedule's runs."""
    settings = services.settings
    per_day = cadence(settings.review_check_schedule).runs_per_day()
    return math.floor(settings.review_refresh_share * DAILY_DEFAULT_CALLS / per_day)


def check_cost(pending: int) -> int:
    """Calls one store's check makes: the overview, then ⌈pending / 500⌉ status pages."""
    return 1 + math.ceil(pending / STATUS_BATCH)


def enqueue_review_checks(services: Services) -> int:
    """Queue a review check for each store with SKUs pending review, the longest-waiting first, within the run's
    budget; answers how many were queued."""
    budget = run_budget(services)
    spent = 0
    messages: list[QueueMessage] = []
    candidates = services.stores.stores_to_review()
    for candidate in candidates:
        cost = check_cost(candidate.pending)
        if spent + cost > budget:
            break  # the others wait for the next run, where they are the longest-waiting
        spent += cost
        messages.append(
            ReviewMessage(store_id=candidate.store_id, epoch=candidate.epoch, job_id=f"reviews-{uuid.uuid4()}")
        )
    services.queue.send_batch(messages)
    metrics.add_metric(name="ReviewChecksQueued", unit=MetricUnit.Count, value=len(messages))
    metrics.add_metric(name="ReviewChecksDeferred", unit=MetricUnit.Count, value=len(candidates) - len(messages))
    logger.info(
        "Review checks queued",
        extra={"stores": len(messages), "deferred": len(candidates) - len(messages), "calls": spent, "budget": budget},
    )
    return len(messages)


def check_reviews(services: Services, message: ReviewMessage) -> str:
    """Read TikTok's overview, then the review status of every SKU pending review, and record both. Answers
    checked, or dropped for a store no longer connected (which leaves the index) or of another connection."""
    store = services.stores.get(message.store_id)
    if store is None or store.status != "connected":
        if store is not None:
            services.stores.leave_review_index(store.store_id)
        return "dropped"
    if store.epoch != message.epoch:
        return "dropped"
    try:
        target = CatalogTarget.of(store)
    except NotConnected:
        return "dropped"
    return stop_when_access_lost(services, store, lambda: _check(services, store, target), ends_sync=False)


def _check(services: Services, store: Store, target: CatalogTarget) -> str:
    token = services.cipher.decrypt(target.access_token, store_id=store.store_id, field="tiktok_token")
    tiktok = services.tiktok()
    overview = tiktok.catalog_overview(token, bc_id=target.bc_id, catalog_id=target.catalog_id)
    writer = CatalogWriter(services, target, tiktok, token)
    after: str | None = None
    while True:
        page, after = services.catalog.skus_by_status(store.store_id, "pending", limit=STATUS_BATCH, after_sku=after)
        if page:
            # The index holds a few fields of each record: the whole records are read, so that what is written
            # back keeps the rest (the content hash, on TikTok).
            current = services.catalog.get_skus(store.store_id, [record.sku_id for record in page])
            writer.refresh_reviews([record for record in current.values() if record.status == "pending"])
        if after is None:
            break
    now = datetime.fromtimestamp(services.clock(), UTC).isoformat()
    services.stores.add_counts(store.store_id, store.epoch, writer.count_changes, now=now)
    # TikTok's counts beside ours as they now stand (events may have moved ours meanwhile).
    counts = counts_beside_ours(services.stores.get(store.store_id) or store, overview, checked_at=now)
    services.stores.mark_reviewed(store.store_id, store.epoch, checked_at=now, counts=counts)
    logger.info("Review statuses read", extra={"store_id": store.store_id, "changes": dict(writer.count_changes)})
    return "checked"
