"""The sync's health in the store status (journey 8): edits waiting to reach TikTok, TikTok's fleet-wide pause,
and a job that stopped moving.

Waiting edits are catalog events (product, category, profile) the worker received and has not applied: the batch's
failure path records each failed or skipped one (held by a pause or a failure) under its event id, with when it
was sent; applying it, or dropping it for good, removes it. One item per event id, so duplicates and redrives count
once; the items go with the store's catalog at disconnect and uninstall.

A job queued or running is stalled when it has not moved (`done` moving or its state changing) for
`STALL_MINUTES`. The review checks' schedule (every 30 minutes, without the merchant) looks over the connected
stores and counts each new stall once (metric `SyncStalled`); the page reads the same rule from the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.models.messages import EcwidEventMessage, decode_message
from tiktok_channel.schedule import next_run
from tiktok_channel.services.jobs import STALE_JOB

if TYPE_CHECKING:
    from tiktok_channel.models.store import Store
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

CATALOG_ROUTES = frozenset({"product", "category", "profile"})
_STORES_PER_READ = 100


# -- waiting edits ---------------------------------------------------------------------------------------------
def hold_edit(services: Services, body: str, *, at: float) -> None:
    """A queue message the worker could not handle now: when it is a catalog event, it is waiting (since `at`,
    kept from the first time). Never raises: the message comes back either way, only the count would miss it."""
    try:
        message = decode_message(body)
        if isinstance(message, EcwidEventMessage) and message.route in CATALOG_ROUTES:
            services.health.hold_edit(message.store_id, message.event_id, at=at)
    except Exception as failure:
        logger.warning("Could not count a waiting edit", extra={"failure": type(failure).__name__})


def edit_done(services: Services, message: EcwidEventMessage) -> None:
    """The event was applied, or dropped or ignored for good: it waits no more."""
    if message.route in CATALOG_ROUTES:
        services.health.release_edit(message.store_id, message.event_id)


# -- stalls ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stall:
    job_id: str
    since: str  # the job's last progress
    restart_at: str  # from then on, Sync Products or the schedule starts the sync afresh
    message: str

    @property
    def mark(self) -> str:
        return f"{self.job_id}@{self.since}"


def stall_of(services: Services, store: Store) -> Stall | None:
    """The store's sync job, when queued or running with no progress for STALL_MINUTES."""
    sync = store.sync
    if sync.state not in ("queued", "running") or not sync.job_id:
        return None
    # Queueing is progress too (a new job's queued_at is later than an earlier job's progress_at); a job queued
    # by the connect itself has neither, and counts from the connection.
    marks = [t for t in (sync.progress_at, sync.queued_at) if t]
    if not marks and store.tiktok is not None and store.tiktok.connected_at:
        marks = [store.tiktok.connected_at]
    if not marks:
        return None
    since = max(marks, key=_seconds)
    now = services.clock()
    if now - _seconds(since) < services.settings.stall_minutes * 60:
        return None
    # queue_sync takes a job queued before STALE_JOB ago as lost (one with no queued_at at once).
    restart = _seconds(sync.queued_at) + STALE_JOB.total_seconds() if sync.queued_at else now
    return Stall(sync.job_id, since, _iso(restart), _what_next(services, store, since, restart))


def _what_next(services: Services, store: Store, since: str, restart: float) -> str:
    now = services.clock()
    text = f"Your sync has not moved since {_clock(_seconds(since))} UTC."
    upcoming = next_run(services.settings.sync_schedule, datetime.fromtimestamp(now, UTC))
    scheduled = f" (the next one is at {_clock(upcoming.timestamp())} UTC)" if upcoming else ""
    if restart <= now:
        return f"{text} Press Sync Products to start it again, or the next scheduled sync will{scheduled}."
    retry_at = store.sync.retry_at
    if retry_at and _seconds(retry_at) > now:
        text += f" It is waiting on a service that fails and tries again at {_clock(_seconds(retry_at))} UTC."
    return (
        f"{text} If it has not moved by {_clock(restart)} UTC, Sync Products or the next scheduled sync"
        f"{scheduled} starts it again; nothing you changed is lost."
    )


def note_stalls(services: Services) -> int:
    """Count each connected store's new stall once (metric SyncStalled); answers how many were new."""
    store_ids = [store_id for store_id, _ in services.stores.connected_stores()]
    new = 0
    for start in range(0, len(store_ids), _STORES_PER_READ):
        for store in services.health.stores(store_ids[start : start + _STORES_PER_READ]):
            stall = stall_of(services, store) if store.status == "connected" else None
            if stall is not None and services.health.note_stall(
                store.store_id, store.epoch, job_id=stall.job_id, mark=stall.mark
            ):
                new += 1
                logger.warning(
                    "Sync stalled", extra={"store_id": store.store_id, "job_id": stall.job_id, "since": stall.since}
                )
    metrics.add_metric(name="SyncStalled", unit=MetricUnit.Count, value=new)
    return new


# -- the status ------------------------------------------------------------------------------------------------
def sync_health(services: Services, store: Store) -> dict[str, Any]:
    """The status's `sync` fields of journey 8: `waiting_edits`, `oldest_waiting_at`? (only when some wait),
    `paused_until`? (only while the fleet's TikTok pause lasts), `stalled`, and while stalled `stalled_since`,
    `restart_at` and `stall_message` (what happens next)."""
    now = services.clock()
    waiting, oldest = services.health.waiting_edits(store.store_id, now=now)
    health: dict[str, Any] = {"waiting_edits": waiting}
    if waiting and oldest is not None:
        health["oldest_waiting_at"] = _iso(oldest)
    paused = services.health.paused_until()
    if paused is not None and paused > now:
        health["paused_until"] = _iso(paused)
    stall = stall_of(services, store) if store.status == "connected" else None
    health["stalled"] = stall is not None
    if stall is not None:
        health |= {"stalled_since": stall.since, "restart_at": stall.restart_at, "stall_message": stall.message}
    return health


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M")
