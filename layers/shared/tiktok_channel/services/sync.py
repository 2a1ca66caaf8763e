"""Journeys 3 and 4: a full sync makes the TikTok catalog equal to what the store should show, at least cost.

Pages of products (oldest first) are mapped to SKUs; only SKUs whose content differs from what TikTok last
accepted are uploaded, in batches; a SKU's hash is committed only once the upload's feed log accepted it.
Each page's SKUs are recorded in a short-lived run item, so the end of the run knows which SKUs
disappeared without a write per unchanged SKU; those are re-checked with Ecwid before they are deleted.
A run that would outlive its invocation saves its place and queues its next part; a crash repeats at most
the one batch that was not committed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.mapping import (
    ImageSize,
    ProductMapping,
    SkuUpload,
    hidden_category_ids,
    is_shown,
    map_product,
    sku_ids_of,
)
from tiktok_channel.errors import ConcurrentUpdate, EcwidAccessLost, TikTokTokenRevoked
from tiktok_channel.models.catalog import Reason, SkuRecord, SyncRun
from tiktok_channel.models.ecwid_catalog import EcwidProduct
from tiktok_channel.models.messages import EcwidEventMessage, SyncMessage
from tiktok_channel.models.store import Notice, ProductCounts, Store, StoreStatus, SyncState, TikTokConnection
from tiktok_channel.models.tiktok import CatalogItem, FeedLog
from tiktok_channel.services.jobs import request_full_sync

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

DELETE_BATCH = 1000  # TikTok's limit per delete call
STATUS_BATCH = 500  # product/get answers at most 500 per page, so 500 sku_ids fit one call
IMAGE_PROBES = 16  # image headers read at once
FEED_LOG_WAITS = (1.0, 2.0, 4.0, 8.0)  # when TikTok has not finished processing a feed yet


@dataclass(frozen=True)
class _Removal:
    """A SKU leaving TikTok: `held_back` is its new record when the item stays (it is held back now)."""

    on_tiktok: bool
    held_back: SkuRecord | None = None
    status: str | None = None  # what it counted as before, for the store's counts


@dataclass
class _Ctx:
    """One invocation's view of a run."""

    store: Store
    connection: TikTokConnection
    ecwid_token: str
    tiktok_token: str
    run: SyncRun
    hidden: frozenset[int]
    # (what to upload, what the app held for it, the offset of the page it came from)
    batch: list[tuple[SkuUpload, SkuRecord | None, int]] = field(default_factory=list)
    page: int = 0  # the offset of the page being processed
    deletions: dict[str, _Removal] = field(default_factory=dict)
    uploaded_now: set[str] = field(default_factory=set)
    # Every SKU item of the store, read once per invocation of a full sync and kept up to date as it
    # writes, so pages and the end of the run need no further reads (None for events).
    known: dict[str, SkuRecord] | None = None
    count_changes: Counter[str] = field(default_factory=Counter)

    @property
    def store_id(self) -> int:
        return self.store.store_id

    def recount(self, before: str | None, after: str | None) -> None:
        """Keep track of how the store's counts move (applied at once after an event)."""
        if before != after:
            if before:
                self.count_changes[before] -= 1
            if after:
                self.count_changes[after] += 1


class CatalogSync:
    def __init__(self, services: Services, *, remaining_seconds: Callable[[], float], reserve_seconds: float = 60.0):
        self._s = services
        self._remaining = remaining_seconds
        self._reserve = reserve_seconds
        self._image_sizes: dict[str, ImageSize | None] = {}

    # -- entry ---------------------------------------------------------------------------------
    def run(self, message: SyncMessage) -> str:
        """Run (a part of) a full sync; answers what happened: done, continued, frozen, stopped, dropped."""
        store = self._s.stores.get(message.store_id)
        if store is None or store.epoch != message.epoch or store.status != "connected" or store.tiktok is None:
            metrics.add_metric(name="SyncDropped", unit=MetricUnit.Count, value=1)
            logger.info("Sync message of another connection dropped", extra={"store_id": message.store_id})
            return "dropped"
        connection = store.tiktok
        return self._guarded(store, lambda: self._run(store, connection, message))

    def apply_event(self, message: EcwidEventMessage) -> str:
        """Bring TikTok up to date with one Ecwid catalog or profile change, re-reading the entity as it is now."""
        store = self._s.stores.get(message.store_id)
        if store is None or store.status != "connected" or store.tiktok is None:
            metrics.add_metric(name="EventDropped", unit=MetricUnit.Count, value=1)
            logger.info(
                "Event for a store that is not syncing dropped",
                extra={
                    "store_id": message.store_id,
                    "event_type": message.event_type,
                    "status": store.status if store else None,
                },
            )
            return "dropped"
        connection = store.tiktok
        return self._guarded(store, lambda: self._apply_event(store, connection, message))

    def _guarded(self, store: Store, work: Callable[[], str]) -> str:
        """Stop the store's syncing, without retries, when Ecwid or TikTok no longer accept its access."""
        try:
            return work()
        except EcwidAccessLost:
            self._stop(
                store,
                "ecwid_access_lost",
                Notice(
                    code="ecwid_access_lost",
                    message="The app lost access to your Ecwid store, so your catalog is no longer synced. "
                    "Reinstall the app from the Ecwid App Market to resume.",
                ),
            )
            return "stopped"
        except TikTokTokenRevoked:
            self._stop(
                store,
                "reconnect_needed",
                Notice(
                    code="reconnect_needed",
                    message="TikTok no longer accepts this app's access, so your catalog is no longer synced. "
                    "Press Reconnect to connect your TikTok account again.",
                ),
            )
            return "stopped"
        except ConcurrentUpdate:
            logger.info("Store reconnected or disconnected meanwhile", extra={"store_id": store.store_id})
            return "dropped"

    # -- one Ecwid event -----------------------------------------------------------------------
    def _apply_event(self, store: Store, connection: TikTokConnection, message: EcwidEventMessage) -> str:
        kind, route = message.event_type, message.route
        ecwid_token = self._s.cipher.decrypt(store.ecwid_token or b"", store_id=store.store_id, field="ecwid_token")
        if route == "profile":
            return self._profile_changed(store, connection, ecwid_token)
        if store.notice is not None and store.notice.code == "catalog_frozen":
            return "frozen"  # nothing moves until the currency is back (a profile event lifts it)
        entity = message.entity_id or ""
        if not entity.isdigit():
            logger.warning("Event without a usable entity id", extra={"store_id": store.store_id, "event_type": kind})
            return "ignored"
        tiktok_token = self._s.cipher.decrypt(connection.access_token, store_id=store.store_id, field="tiktok_token")
        run = SyncRun(job_id=f"event:{message.event_id}", mode="full")
        if route == "category":
            hidden = self._refresh_hidden(store.store_id, ecwid_token)
            ctx = _Ctx(store, connection, ecwid_token, tiktok_token, run, hidden)
            products = list(self._s.ecwid().products_in_category(store.store_id, ecwid_token, int(entity)))
            for start in range(0, len(products), 100):
                self._process(ctx, products[start : start + 100])
        elif route == "product":
            remembered = self._s.catalog.get_hidden_categories(store.store_id)
            hidden = remembered if remembered is not None else self._refresh_hidden(store.store_id, ecwid_token)
            ctx = _Ctx(store, connection, ecwid_token, tiktok_token, run, hidden)
            product_id = int(entity)
            existing = self._s.catalog.skus_of_product(store.store_id, product_id)
            product = self._s.ecwid().get_product(store.store_id, ecwid_token, product_id)
            if product is None:  # deleted (or gone by the time we asked)
                for record in existing.values():
                    ctx.deletions[record.sku_id] = _Removal(on_tiktok=record.on_tiktok, status=record.status)
            else:
                self._process(ctx, [product], existing)
        else:
            logger.warning(
                "Event type this worker does not handle", extra={"store_id": store.store_id, "event_type": kind}
            )
            metrics.add_metric(name="EventNotHandled", unit=MetricUnit.Count, value=1)
            return "ignored"
        self._flush(ctx)
        self._flush_deletions(ctx)
        self._s.stores.add_counts(store.store_id, store.epoch, ctx.count_changes)
        return "applied"

    def _refresh_hidden(self, store_id: int, ecwid_token: str) -> frozenset[int]:
        hidden = hidden_category_ids(self._s.ecwid().all_categories(store_id, ecwid_token))
        if self._s.catalog.get_hidden_categories(store_id) != hidden:
            self._s.catalog.put_hidden_categories(store_id, hidden)
        return hidden

    def _profile_changed(self, store: Store, connection: TikTokConnection, ecwid_token: str) -> str:
        profile = self._s.ecwid().get_profile(store.store_id, ecwid_token)
        frozen = store.notice is not None and store.notice.code == "catalog_frozen"
        if profile.currency != connection.catalog_currency:
            if not frozen:
                self._freeze(store, connection, profile.currency)
            return "frozen"
        if frozen:
            self._s.stores.set_notice(store.store_id, store.epoch, None)
            request_full_sync(self._s, store)  # catch up with what changed while frozen
            return "unfrozen"
        return "unchanged"

    def _run(self, store: Store, connection: TikTokConnection, message: SyncMessage) -> str:
        job_id = message.job_id
        ecwid_token = self._s.cipher.decrypt(store.ecwid_token or b"", store_id=store.store_id, field="ecwid_token")
        tiktok_token = self._s.cipher.decrypt(connection.access_token, store_id=store.store_id, field="tiktok_token")
        run = self._s.catalog.get_run(store.store_id, job_id)
        if run is None:
            profile = self._s.ecwid().get_profile(store.store_id, ecwid_token)
            if profile.currency != connection.catalog_currency:
                self._freeze(store, connection, profile.currency)
                return "frozen"
            if store.notice is not None and store.notice.code == "catalog_frozen":
                self._s.stores.set_notice(store.store_id, store.epoch, None)  # the merchant switched back
            hidden = self._refresh_hidden(store.store_id, ecwid_token)
            run = SyncRun(job_id=job_id, mode=message.mode, hidden_category_ids=sorted(hidden), started_at=self._iso())
            self._s.catalog.put_run(store.store_id, run, self._s.clock())
        if run.finished_at is not None:
            return "done"
        ctx = _Ctx(store, connection, ecwid_token, tiktok_token, run, frozenset(run.hidden_category_ids))
        ctx.known = {record.sku_id: record for record in self._s.catalog.all_skus(store.store_id)}
        self._save_progress(ctx, "running")
        return self._pages(ctx, message)

    # -- the pages -----------------------------------------------------------------------------
    def _pages(self, ctx: _Ctx, message: SyncMessage) -> str:
        ecwid = self._s.ecwid()
        offset = ctx.run.offset
        while True:
            page = ecwid.product_page(ctx.store_id, ctx.ecwid_token, offset=offset)
            ctx.page = offset
            kept = self._process(ctx, page.items)
            self._s.catalog.record_page(ctx.store_id, ctx.run.job_id, offset, kept, self._s.clock())
            offset += page.count
            ctx.run.total = page.total
            if len(ctx.batch) >= self._s.settings.tiktok_upload_batch_size:
                self._flush(ctx, full_batches_only=True)
                # A crash from here repeats the pages whose SKUs still wait in the batch, nothing before.
                self._checkpoint(ctx, ctx.batch[0][2] if ctx.batch else offset)
            if page.count == 0 or offset >= page.total:
                break
            if self._remaining() < self._reserve:
                self._flush(ctx)
                self._flush_deletions(ctx)
                self._checkpoint(ctx, offset)
                part = message.part + 1
                self._s.queue.send(message.model_copy(update={"part": part, "cursor": str(offset)}))
                logger.info("Sync continues in a next part", extra={"store_id": ctx.store_id, "part": part})
                return "continued"
        self._flush(ctx)
        self._checkpoint(ctx, offset)
        return self._finish(ctx)

    def _process(
        self, ctx: _Ctx, products: list[EcwidProduct], existing: dict[str, SkuRecord] | None = None
    ) -> list[str]:
        """Map products; queue what changed for upload and what must go for deletion. Answers the SKUs seen.

        `existing` is what the app holds for these products (read here from their possible SKUs when not given).
        """
        self._resolve_image_sizes(ctx, products)
        mappings = [self._map(ctx, product) for product in products]
        if existing is None:
            possible = (sku for product in products for sku in sku_ids_of(product))
            if ctx.known is None:
                existing = self._s.catalog.get_skus(ctx.store_id, possible)
            else:
                existing = {sku: ctx.known[sku] for sku in possible if sku in ctx.known}
        seen: list[str] = []
        held_back: list[SkuRecord] = []
        for product, mapping in zip(products, mappings, strict=True):
            produced = {u.sku_id for u in mapping.uploads} | {h.sku_id for h in mapping.held_back}
            for upload in mapping.uploads:
                seen.append(upload.sku_id)
                record = existing.get(upload.sku_id)
                if record is None or record.hash != upload.hash:
                    ctx.batch.append((upload, record, ctx.page))
            for held in mapping.held_back:
                seen.append(held.sku_id)
                record = existing.get(held.sku_id)
                reasons = [Reason(message=held.message)]
                if record is None or record.status != "held_back" or record.reasons != reasons or record.on_tiktok:
                    update = SkuRecord(
                        sku_id=held.sku_id,
                        product_id=product.id,
                        title=held.title,
                        status="held_back",
                        on_tiktok=bool(record and record.on_tiktok),
                        reasons=reasons,
                        updated_at=self._iso(),
                    )
                    held_back.append(update)
                    ctx.recount(record.status if record else None, "held_back")
                    if update.on_tiktok:  # it stopped qualifying: it leaves TikTok, and stays listed here
                        ctx.deletions[held.sku_id] = _Removal(on_tiktok=True, held_back=update)
            for record in existing.values():
                if record.product_id == product.id and record.sku_id not in produced:
                    # hidden, disabled, or a variation gone
                    ctx.deletions[record.sku_id] = _Removal(on_tiktok=record.on_tiktok, status=record.status)
        if held_back:
            self._write_skus(ctx, held_back)
        return seen

    def _map(self, ctx: _Ctx, product: EcwidProduct) -> ProductMapping:
        return map_product(
            product,
            currency=ctx.connection.catalog_currency or ctx.store.currency,
            hidden=ctx.hidden,
            image_sizes=self._image_sizes.get,
        )

    # -- image sizes: from Ecwid when given, else a ranged GET of the image, remembered per URL -----
    def _resolve_image_sizes(self, ctx: _Ctx, products: list[EcwidProduct]) -> None:
        wanted: list[str] = []

        def record_miss(url: str) -> ImageSize | None:
            if url not in self._image_sizes:
                wanted.append(url)
            return None

        for product in products:
            if is_shown(product, ctx.hidden):
                map_product(product, currency=ctx.store.currency, hidden=ctx.hidden, image_sizes=record_miss)
        missing = list(dict.fromkeys(wanted))
        if not missing:
            return
        remembered = self._s.catalog.get_image_sizes(missing)
        self._image_sizes.update(remembered)
        to_read = [url for url in missing if url not in remembered]
        if not to_read:
            return
        with ThreadPoolExecutor(max_workers=IMAGE_PROBES) as pool:
            sizes = list(pool.map(self._s.images.read_image_size, to_read))
        learned = {url: size for url, size in zip(to_read, sizes, strict=True)}
        self._image_sizes.update(learned)
        self._s.catalog.put_image_sizes({u: s for u, s in learned.items() if s is not None}, self._s.clock())

    # -- TikTok writes -------------------------------------------------------------------------
    def _flush(self, ctx: _Ctx, *, full_batches_only: bool = False) -> None:
        """Upload the batch, read its feed log, commit what TikTok accepted.

        Mid-run only full batches go, so the number of upload calls stays at its lower bound.
        """
        size = self._s.settings.tiktok_upload_batch_size
        while len(ctx.batch) >= size or (ctx.batch and not full_batches_only):
            chunk, ctx.batch = ctx.batch[:size], ctx.batch[size:]
            tiktok = self._s.tiktok()
            feed_log_id = tiktok.upload_products(
                ctx.tiktok_token,
                bc_id=ctx.connection.bc_id or "",
                catalog_id=ctx.connection.catalog_id or "",
                products=[upload.fields for upload, _, _ in chunk],
            )
            log = self._feed_log(ctx, feed_log_id)
            failed = _failures(log)
            unaccounted = log.error_count > len(failed)
            if unaccounted:
                # TikTok lists only some of the failed SKUs: commit nothing unconfirmed, send it all again later.
                logger.warning(
                    "Feed log does not name every failed SKU",
                    extra={"store_id": ctx.store_id, "errors": log.error_count, "named": len(failed)},
                )
            records = []
            for upload, before, _ in chunk:
                reasons = failed.get(upload.sku_id)
                was_on_tiktok = bool(before and before.on_tiktok)
                if reasons is not None:
                    records.append(
                        SkuRecord(
                            sku_id=upload.sku_id,
                            product_id=upload.product_id,
                            title=upload.title,
                            status="rejected",
                            on_tiktok=was_on_tiktok,
                            reasons=reasons,
                            updated_at=self._iso(),
                        )
                    )
                elif not unaccounted:
                    records.append(
                        SkuRecord(
                            sku_id=upload.sku_id,
                            product_id=upload.product_id,
                            title=upload.title,
                            status="pending",
                            on_tiktok=True,
                            hash=upload.hash,
                            updated_at=self._iso(),
                        )
                    )
                    ctx.uploaded_now.add(upload.sku_id)
            self._write_skus(ctx, records)
            befores = {upload.sku_id: before.status if before else None for upload, before, _ in chunk}
            for record in records:
                ctx.recount(befores[record.sku_id], record.status)
            ctx.run.uploaded += len(chunk)
            metrics.add_metric(name="SkusUploaded", unit=MetricUnit.Count, value=len(chunk))

    def _flush_deletions(self, ctx: _Ctx) -> None:
        """Take off TikTok what must go, then forget it (or keep it as held back); a failed call keeps both."""
        remote = [sku for sku, removal in ctx.deletions.items() if removal.on_tiktok]
        tiktok = self._s.tiktok()
        for start in range(0, len(remote), DELETE_BATCH):
            chunk = remote[start : start + DELETE_BATCH]
            feed_log_id = tiktok.delete_products(
                ctx.tiktok_token,
                bc_id=ctx.connection.bc_id or "",
                catalog_id=ctx.connection.catalog_id or "",
                sku_ids=chunk,
            )
            self._feed_log(ctx, feed_log_id)
            metrics.add_metric(name="SkusDeleted", unit=MetricUnit.Count, value=len(chunk))
        held = [r.held_back for r in ctx.deletions.values() if r.held_back is not None]
        # A SKU only TikTok had (replace mode) has no item here to delete.
        dropped = [sku for sku, r in ctx.deletions.items() if r.held_back is None and r.status is not None]
        self._drop_skus(ctx, dropped)
        for sku in dropped:
            ctx.recount(ctx.deletions[sku].status, None)
        self._write_skus(ctx, [record.model_copy(update={"on_tiktok": False}) for record in held])
        ctx.run.deleted += len(remote)
        ctx.deletions.clear()

    def _feed_log(self, ctx: _Ctx, feed_log_id: str) -> FeedLog:
        tiktok = self._s.tiktok()
        for wait in (0.0, *FEED_LOG_WAITS):
            if wait:
                time.sleep(wait)
            log = tiktok.feed_log(
                ctx.tiktok_token,
                bc_id=ctx.connection.bc_id or "",
                catalog_id=ctx.connection.catalog_id or "",
                feed_log_id=feed_log_id,
            )
            if log.done:
                return log
        return log  # still processing: nothing it names is committed, so those SKUs go again next time

    def _write_skus(self, ctx: _Ctx, records: list[SkuRecord]) -> None:
        self._s.catalog.put_skus(ctx.store_id, records)
        if ctx.known is not None:
            ctx.known.update((record.sku_id, record) for record in records)

    def _drop_skus(self, ctx: _Ctx, sku_ids: list[str]) -> None:
        self._s.catalog.delete_skus(ctx.store_id, sku_ids)
        if ctx.known is not None:
            for sku_id in sku_ids:
                ctx.known.pop(sku_id, None)

    def _records(self, ctx: _Ctx) -> dict[str, SkuRecord]:
        if ctx.known is None:
            ctx.known = {record.sku_id: record for record in self._s.catalog.all_skus(ctx.store_id)}
        return ctx.known

    # -- the end of a run ----------------------------------------------------------------------
    def _finish(self, ctx: _Ctx) -> str:
        seen = self._s.catalog.seen_skus(ctx.store_id, ctx.run.job_id)
        records = dict(self._records(ctx))
        unseen = [r for r in records.values() if r.sku_id not in seen and r.sku_id not in ctx.deletions]
        if unseen:
            seen |= self._recheck(ctx, unseen)
            self._flush(ctx)
        if ctx.run.mode == "replace":
            keep = {s for s in seen if not (s in records and records[s].status == "held_back")} | ctx.uploaded_now
            for item in self._tiktok_catalog(ctx):
                if item.sku_id not in keep and item.sku_id not in ctx.deletions:
                    record = records.get(item.sku_id)
                    held = record if record is not None and record.status == "held_back" else None
                    status = record.status if record is not None else None
                    ctx.deletions[item.sku_id] = _Removal(on_tiktok=True, held_back=held, status=status)
        self._flush_deletions(ctx)
        records = self._records(ctx)
        self._refresh_reviews(
            ctx, [r for r in records.values() if r.status == "pending" and r.sku_id not in ctx.uploaded_now], records
        )
        counts = ProductCounts(
            listed=sum(r.status == "listed" for r in records.values()),
            pending=sum(r.status == "pending" for r in records.values()),
            rejected=sum(r.status == "rejected" for r in records.values()),
            held_back=sum(r.status == "held_back" for r in records.values()),
        )
        result = (
            f"{ctx.run.uploaded} uploaded, {ctx.run.deleted} removed, {counts.held_back} not uploaded, "
            f"{counts.listed + counts.pending + counts.rejected} on TikTok"
        )
        ctx.run.finished_at = self._iso()
        self._s.catalog.put_run(ctx.store_id, ctx.run, self._s.clock())
        self._s.stores.save_sync(
            ctx.store_id,
            ctx.store.epoch,
            SyncState(
                state="idle",
                job_id=ctx.run.job_id,
                done=ctx.run.total,
                total=ctx.run.total,
                last_finished_at=self._iso(),
                last_result=result,
            ),
            counts,
        )
        logger.info(
            "Sync finished",
            extra={
                "store_id": ctx.store_id,
                "job_id": ctx.run.job_id,
                "uploaded": ctx.run.uploaded,
                "deleted": ctx.run.deleted,
            },
        )
        return "done"

    def _recheck(self, ctx: _Ctx, unseen: list[SkuRecord]) -> set[str]:
        """SKUs the pages did not show: their product may have moved between pages (offsets shift when a
        product is deleted mid-sync). Ask Ecwid; map what still exists; delete the rest."""
        ecwid = self._s.ecwid()
        product_ids = sorted({r.product_id for r in unseen})
        seen: set[str] = set()
        for start in range(0, len(product_ids), 100):
            found = ecwid.products_by_id(ctx.store_id, ctx.ecwid_token, product_ids[start : start + 100])
            seen.update(self._process(ctx, found))
        for record in unseen:
            if record.sku_id not in seen:
                ctx.deletions[record.sku_id] = _Removal(on_tiktok=record.on_tiktok, status=record.status)
        return seen

    def _tiktok_catalog(self, ctx: _Ctx) -> Iterable[CatalogItem]:
        return self._s.tiktok().iter_catalog_products(
            ctx.tiktok_token, bc_id=ctx.connection.bc_id or "", catalog_id=ctx.connection.catalog_id or ""
        )

    def _refresh_reviews(self, ctx: _Ctx, pending: list[SkuRecord], records: dict[str, SkuRecord]) -> None:
        tiktok = self._s.tiktok()
        changed: list[SkuRecord] = []
        for start in range(0, len(pending), STATUS_BATCH):
            chunk = pending[start : start + STATUS_BATCH]
            items = {
                i.sku_id: i
                for i in tiktok.products_by_sku(
                    ctx.tiktok_token,
                    bc_id=ctx.connection.bc_id or "",
                    catalog_id=ctx.connection.catalog_id or "",
                    sku_ids=[r.sku_id for r in chunk],
                )
            }
            for record in chunk:
                item = items.get(record.sku_id)
                if item is None:
                    continue
                status = item.audit.audit_status.lower()
                if status == "approved":
                    update = record.model_copy(update={"status": "listed", "reasons": []})
                elif status == "rejected":
                    reasons = [
                        Reason(message=i.reason or "Rejected by TikTok's review", suggestion=i.suggestion)
                        for i in item.audit.reject_info or []
                    ]
                    update = record.model_copy(update={"status": "rejected", "reasons": reasons})
                else:
                    continue
                update.updated_at = self._iso()
                changed.append(update)
                records[record.sku_id] = update
        if changed:
            self._write_skus(ctx, changed)

    # -- store state ---------------------------------------------------------------------------
    def _checkpoint(self, ctx: _Ctx, offset: int) -> None:
        ctx.run.offset = offset
        self._s.catalog.put_run(ctx.store_id, ctx.run, self._s.clock())
        self._save_progress(ctx, "running")

    def _save_progress(self, ctx: _Ctx, state: str) -> None:
        sync = ctx.store.sync.model_copy(
            update={"state": state, "job_id": ctx.run.job_id, "done": ctx.run.offset, "total": ctx.run.total}
        )
        self._s.stores.save_sync(ctx.store_id, ctx.store.epoch, sync)

    def _freeze(self, store: Store, connection: TikTokConnection, currency: str) -> None:
        notice = Notice(
            code="catalog_frozen",
            message=f"Your store currency changed to {currency}, but your TikTok catalog is in "
            f"{connection.catalog_currency} and TikTok cannot change it. Products are not synced until you switch "
            f"the store currency back to {connection.catalog_currency}, or disconnect and connect again to create "
            f"a catalog in {currency}.",
        )
        self._s.stores.set_notice(store.store_id, store.epoch, notice)
        self._s.stores.save_sync(
            store.store_id,
            store.epoch,
            store.sync.model_copy(
                update={
                    "state": "idle",
                    "last_finished_at": self._iso(),
                    "last_result": "Catalog frozen: currency changed",
                }
            ),
        )
        logger.info("Catalog frozen", extra={"store_id": store.store_id})

    def _stop(self, store: Store, status: StoreStatus, notice: Notice) -> None:
        try:
            self._s.stores.set_notice(store.store_id, store.epoch, notice, status=status)
            self._s.stores.save_sync(
                store.store_id,
                store.epoch,
                store.sync.model_copy(
                    update={"state": "idle", "last_finished_at": self._iso(), "last_result": notice.message}
                ),
            )
        except ConcurrentUpdate:
            return
        metrics.add_metric(name="SyncStopped", unit=MetricUnit.Count, value=1)
        logger.warning("Store sync stopped", extra={"store_id": store.store_id, "status": status})

    def _iso(self) -> str:
        return datetime.fromtimestamp(self._s.clock(), UTC).isoformat()


def _failures(log: FeedLog) -> dict[str, list[Reason]]:
    failed: dict[str, list[Reason]] = {}
    for issue in log.issues:
        reason = Reason(message=issue.issue or f"TikTok refused the field {issue.field}", suggestion=issue.suggestion)
        for affected in issue.affected_product_item_list or []:
            failed.setdefault(affected.sku_id, []).append(reason)
    return failed
