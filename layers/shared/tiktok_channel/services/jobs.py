"""Starting full syncs: the merchant's "Sync Products" button and the twice-daily schedule.

A store has at most one sync queued or running; asking again answers that same job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import Conflict, NotConnected, NotFound
from tiktok_channel.models.messages import QueueMessage, SyncMessage

if TYPE_CHECKING:
    from tiktok_channel.models.store import Store
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

# A job still queued or running after this long lost its message (DLQ): the next request starts afresh.
STALE_JOB = timedelta(hours=3)


@dataclass(frozen=True)
class Job:
    job_id: str
    state: str
    created: bool

    def as_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "state": self.state}


def request_sync(services: Services, store_id: int) -> Job:
    """The merchant pressed "Sync Products"."""
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound("This store has not installed the app.", code="store_not_found")
    if store.status != "connected":
        raise Conflict("Connect your store to TikTok first, then sync your products.", code="not_connected")
    job = _queue(services, store_id, store.epoch, mode="full")
    if job is None:
        raise Conflict("Connect your store to TikTok first, then sync your products.", code="not_connected")
    return job


def request_full_sync(services: Services, store: Store) -> Job | None:
    """Queue a full sync for a connected store unless one is queued or running (None: not connected)."""
    return _queue(services, store.store_id, store.epoch, mode="full")


def enqueue_scheduled_syncs(services: Services) -> int:
    """One full sync per connected store, read from the sparse index (never a table scan)."""
    messages: list[QueueMessage] = []
    now = _now(services)
    for store_id, epoch in services.stores.connected_stores():
        job_id = str(uuid.uuid4())
        try:
            queued_id, created = services.stores.queue_sync(store_id, job_id, now.isoformat(), _stale(now))
        except NotConnected:
            continue  # disconnected since the index was read
        if created:
            messages.append(_message(store_id, epoch, queued_id, "full"))
    services.queue.send_batch(messages)
    metrics.add_metric(name="ScheduledSyncsQueued", unit=MetricUnit.Count, value=len(messages))
    logger.info("Scheduled syncs queued", extra={"stores": len(messages)})
    return len(messages)


def _queue(services: Services, store_id: int, epoch: int, *, mode: Literal["full", "replace"]) -> Job | None:
    now = _now(services)
    try:
        job_id, created = services.stores.queue_sync(store_id, str(uuid.uuid4()), now.isoformat(), _stale(now))
    except NotConnected:
        return None
    if created:
        services.queue.send(_message(store_id, epoch, job_id, mode))
        return Job(job_id, "queued", created=True)
    store = services.stores.get(store_id)
    return Job(job_id, store.sync.state if store else "queued", created=False)


def _message(store_id: int, epoch: int, job_id: str, mode: Literal["full", "replace"]) -> SyncMessage:
    return SyncMessage(store_id=store_id, epoch=epoch, job_id=job_id, mode=mode)


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), UTC)


def _stale(now: datetime) -> str:
    return (now - STALE_JOB).isoformat()
