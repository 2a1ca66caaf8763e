"""The merchant's "Check with TikTok" (journey 8): one queued job re-reads the status of every SKU we hold on
TikTok and corrects our records from what TikTok says; it reads only, never writes to TikTok.

Asking again while a check is queued or running answers that same job (like Sync Products). The job pages through
our SKUs listed, pending and rejected (500 sku_ids per `catalog/product/get` call, paced fleet-wide by the client),
then reads TikTok's overview and records its counts beside ours. Per SKU: TikTok's decision is ours (approved →
listed, processing → pending, rejected → rejected with TikTok's reasons); a SKU TikTok no longer has is no longer
on TikTok here either: held back with a reason, its content hash cleared, so the next sync uploads it again. Counts
move with each page. A part that runs short of time queues the next from where it stopped, like a full sync.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from tiktok_channel.errors import Conflict, NotConnected, NotFound
from tiktok_channel.models.catalog import Reason, SkuRecord, SkuStatus
from tiktok_channel.models.messages import TikTokCheckMessage
from tiktok_channel.models.store import CatalogTarget, Store, TikTokCheck
from tiktok_channel.services.jobs import STALE_JOB, Job
from tiktok_channel.services.sync_notices import stop_when_access_lost
from tiktok_channel.services.sync_writer import STATUS_BATCH
from tiktok_channel.services.tiktok_counts import counts_beside_ours

if TYPE_CHECKING:
    from tiktok_channel.models.tiktok import CatalogItem
    from tiktok_channel.ports import Services, TikTokApi

logger = Logger(child=True)

ON_TIKTOK: tuple[SkuStatus, ...] = ("listed", "pending", "rejected")
PART_RESERVE_SECONDS = 60.0  # a page (two reads and a write) with room to spare; otherwise the next part goes on
GONE = Reason(
    message="TikTok no longer has this product.",
    suggestion="It is sent to TikTok again at the next sync.",
)
_NOT_CONNECTED = "Connect your store to TikTok first, then check your products with TikTok."


def request_check(services: Services, store_id: int) -> Job:
    """The merchant pressed "Check with TikTok": a new job (created) or the one queued or running."""
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound("This store has not installed the app.", code="store_not_found")
    if store.status != "connected":
        raise Conflict(_NOT_CONNECTED, code="not_connected")
    now = datetime.fromtimestamp(services.clock(), UTC)
    check = TikTokCheck(job_id=f"check-{uuid.uuid4()}", epoch=store.epoch, queued_at=now.isoformat())
    try:
        current, created = services.health.queue_check(store_id, check, (now - STALE_JOB).isoformat())
    except NotConnected:
        raise Conflict(_NOT_CONNECTED, code="not_connected") from None
    if created:
        services.queue.send(TikTokCheckMessage(store_id=store_id, epoch=store.epoch, job_id=check.job_id))
        logger.info("Check with TikTok queued", extra={"store_id": store_id, "job_id": check.job_id})
    return Job(current.job_id, current.state, created=created)


def run_check(services: Services, message: TikTokCheckMessage, *, remaining_seconds: Callable[[], float]) -> str:
    """One part of the check: answers checked, continued, or dropped (another connection, or a check no longer
    the store's)."""
    store = services.stores.get(message.store_id)
    if store is None or store.status != "connected" or store.epoch != message.epoch:
        return "dropped"
    check = store.tiktok_check
    if check is None or check.job_id != message.job_id or check.state == "done":
        return "dropped"
    try:
        target = CatalogTarget.of(store)
    except NotConnected:
        return "dropped"
    part = _CheckPart(services, store, target, check, remaining_seconds)
    return stop_when_access_lost(services, store, lambda: part.run(message), ends_sync=False)


class _CheckPart:
    def __init__(
        self,
        services: Services,
        store: Store,
        target: CatalogTarget,
        check: TikTokCheck,
        remaining_seconds: Callable[[], float],
    ) -> None:
        self._s = services
        self._store = store
        self._target = target
        self._check = check
        self._remaining = remaining_seconds
        self._token = services.cipher.decrypt(target.access_token, store_id=store.store_id, field="tiktok_token")
        self._tiktok: TikTokApi = services.tiktok()

    def run(self, message: TikTokCheckMessage) -> str:
        if self._check.state == "queued":
            self._save(self._check.model_copy(update={"state": "running"}))
        status, after = _cursor(message.cursor)
        for current in ON_TIKTOK[ON_TIKTOK.index(status) :]:
            while True:
                if self._remaining() < PART_RESERVE_SECONDS:
                    return self._continue(message, f"{current}:{after or ''}")
                page, more = self._s.catalog.skus_by_status(
                    self._store.store_id, current, limit=STATUS_BATCH, after_sku=after
                )
                if page:
                    self._correct([record.sku_id for record in page])
                if more is None:
                    break
                after = more
            after = None
        return self._finish()

    def _correct(self, sku_ids: list[str]) -> None:
        """Re-read one page of SKUs on TikTok and write what differs; the counts move with it."""
        store_id = self._store.store_id
        records = self._s.catalog.get_skus(store_id, sku_ids)
        found = {
            item.sku_id: item
            for item in self._tiktok.products_by_sku(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, sku_ids=list(records)
            )
        }
        now = _iso(self._s.clock())
        changed: list[SkuRecord] = []
        moves: Counter[str] = Counter()
        for record in records.values():
            if record.status not in ON_TIKTOK:
                continue  # changed since the index was read: not ours to judge here
            fixed = corrected(record, found.get(record.sku_id), now)
            if fixed is not None:
                changed.append(fixed)
                moves[record.status] -= 1
                moves[fixed.status] += 1
        if changed:
            self._s.catalog.put_skus(store_id, changed)
            self._s.stores.add_counts(store_id, self._store.epoch, moves, now=now)
            self._check = self._check.model_copy(update={"corrected": self._check.corrected + len(changed)})

    def _continue(self, message: TikTokCheckMessage, cursor: str) -> str:
        self._save(self._check)
        self._s.queue.send(message.model_copy(update={"part": message.part + 1, "cursor": cursor}))
        return "continued"

    def _finish(self) -> str:
        overview = self._tiktok.catalog_overview(
            self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id
        )
        now = _iso(self._s.clock())
        store = self._s.stores.get(self._store.store_id) or self._store
        counts = counts_beside_ours(store, overview, checked_at=now)
        self._s.stores.mark_reviewed(store.store_id, store.epoch, checked_at=now, counts=counts)
        self._save(self._check.model_copy(update={"state": "done", "finished_at": now}))
        logger.info("Checked with TikTok", extra={"store_id": store.store_id, "corrected": self._check.corrected})
        return "checked"

    def _save(self, check: TikTokCheck) -> None:
        self._check = check
        self._s.health.save_check(self._store.store_id, self._store.epoch, check)


def corrected(record: SkuRecord, item: CatalogItem | None, now: str) -> SkuRecord | None:
    """The record as TikTok has it (None: already so)."""
    if item is None:
        gone = {"status": "held_back", "on_tiktok": False, "hash": None, "reasons": [GONE], "updated_at": now}
        return record.model_copy(update=gone)
    audit = item.audit.audit_status.lower()
    status: SkuStatus = "listed" if audit == "approved" else "rejected" if audit == "rejected" else "pending"
    reasons = (
        [
            Reason(message=i.reason or "Rejected by TikTok's review", suggestion=i.suggestion)
            for i in item.audit.reject_info or []
        ]
        if status == "rejected"
        else []
    )
    if record.status == status and record.reasons == reasons and record.on_tiktok:
        return None
    return record.model_copy(update={"status": status, "reasons": reasons, "on_tiktok": True, "updated_at": now})


def _cursor(cursor: str | None) -> tuple[SkuStatus, str | None]:
    """Where a part starts: the status and the sku_id after which it goes on."""
    if not cursor:
        return "listed", None
    status, _, after = cursor.partition(":")
    for known in ON_TIKTOK:
        if status == known:
            return known, after or None
    return "listed", None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
