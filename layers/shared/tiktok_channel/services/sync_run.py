"""Journeys 3 and 4: a full sync makes the TikTok catalog equal to what the store should show, at least cost.

Pages of products (oldest first) are mapped to SKUs; only SKUs whose content differs from what TikTok last
accepted, or whose freshness slot has come (catalog/freshness.py), are uploaded, in batches; a SKU's hash is
committed only once TikTok confirmed it (services/sync_uploads.py).
Each page's SKUs are recorded in a short-lived run item, so the end of the run knows which SKUs
disappeared without a write per unchanged SKU; those are re-checked with Ecwid before they are deleted.
A run that would outlive its invocation saves its place and queues its next part; a crash repeats at most
the one batch that was not committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.freshness import refresh_due
from tiktok_channel.catalog.visibility import CategoryVisibility, KeptOff, hidden_category_ids, with_subcategories
from tiktok_channel.models.catalog import OFF_TIKTOK, SkuRecord, SyncRun
from tiktok_channel.models.ecwid_catalog import EcwidProduct
from tiktok_channel.models.store import CatalogTarget, ProductCounts, Store, SyncState
from tiktok_channel.schedule import cadence
from tiktok_channel.services.pixel import set_up_pixel
from tiktok_channel.services.sync_images import ImageSizeResolver
from tiktok_channel.services.sync_notices import clear_refusal, freeze, is_frozen, lift_freeze, save_progress
from tiktok_channel.services.sync_writer import CatalogWriter

if TYPE_CHECKING:
    from tiktok_channel.models.messages import SyncMessage
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

PRODUCTS_BY_ID = 100  # product ids per Ecwid products_by_id call


def start_run(
    services: Services,
    store: Store,
    target: CatalogTarget,
    message: SyncMessage,
    *,
    remaining_seconds: Callable[[], float],
    reserve_seconds: float,
) -> str:
    """Run the part of a full sync `message` names: the first part checks the currency and records the hidden
    categories the whole run uses. Answers done, continued or frozen."""
    store_id = store.store_id
    ecwid_token = services.cipher.decrypt(store.ecwid_token or b"", store_id=store_id, field="ecwid_token")
    tiktok_token = services.cipher.decrypt(target.access_token, store_id=store_id, field="tiktok_token")
    run = services.catalog.get_run(store_id, message.job_id)
    if run is None:
        profile = services.ecwid().get_profile(store_id, ecwid_token)
        if profile.currency != target.currency:
            freeze(services, store, catalog_currency=target.currency, currency=profile.currency)
            return "frozen"
        if is_frozen(store):
            lift_freeze(services, store)
        # Stores connected before the pixel existed get it here, at their next full sync.
        set_up_pixel(services, store, ecwid_token=ecwid_token, tiktok_token=tiktok_token, profile=profile)
        categories = refresh_categories(services, store_id, ecwid_token)
        run = SyncRun(
            job_id=message.job_id,
            mode=message.mode,
            hidden_category_ids=sorted(categories.hidden),
            kept_off_category_ids=sorted(categories.kept_off),
            started_at=_iso(services),
        )
        services.catalog.put_run(store_id, run, services.clock())
    if run.finished_at is not None:
        return "done"
    known = {record.sku_id: record for record in services.catalog.all_skus(store_id)}
    settings = services.settings
    refresh = refresh_due(
        known.values(),
        now=services.clock(),
        refresh_days=settings.tiktok_refresh_days,
        cadence=cadence(settings.sync_schedule),
    )
    writer = CatalogWriter(services, target, services.tiktok(), tiktok_token, known=known, refresh=refresh)
    part = FullSyncRun(
        services, store, target, run, ecwid_token, writer, remaining_seconds=remaining_seconds, reserve=reserve_seconds
    )
    save_progress(services, store, run)
    return part.pages(message)


def refresh_categories(services: Services, store_id: int, ecwid_token: str) -> CategoryVisibility:
    """The store's hidden categories as Ecwid has them now, and those the merchant keeps off TikTok with their
    subcategories as they are now, remembered for the events that follow."""
    everything = services.ecwid().all_categories(store_id, ecwid_token)
    switched = services.choices.kept_off_categories(store_id)
    categories = CategoryVisibility(
        hidden=hidden_category_ids(everything),
        kept_off=with_subcategories(everything, switched) if switched else frozenset(),
    )
    if services.catalog.get_categories(store_id) != categories:
        services.catalog.put_categories(store_id, categories)
    return categories


def remembered_categories(services: Services, store_id: int, ecwid_token: str) -> CategoryVisibility:
    """What the last refresh found, or a refresh when nothing is remembered (disconnected since, or never read)."""
    remembered = services.catalog.get_categories(store_id)
    return remembered if remembered is not None else refresh_categories(services, store_id, ecwid_token)


class FullSyncRun:
    """One invocation's share of a full sync: pages from the run's offset on, then either a next part queued
    (time runs short) or the end of the run (unseen SKUs re-checked and removed, reviews refreshed, counts)."""

    def __init__(
        self,
        services: Services,
        store: Store,
        target: CatalogTarget,
        run: SyncRun,
        ecwid_token: str,
        writer: CatalogWriter,
        *,
        remaining_seconds: Callable[[], float],
        reserve: float,
    ) -> None:
        self._s = services
        self._store = store
        self._target = target
        self._run = run
        self._ecwid_token = ecwid_token
        self._writer = writer
        self._images = ImageSizeResolver(services, store.store_name)
        self._hidden = frozenset(run.hidden_category_ids)
        # Switches are read again by each part: a switch made during a long sync is seen by its rest (a category's
        # job, which runs before the next part, remembers the categories kept off as they are now).
        remembered = services.catalog.get_categories(store.store_id)
        self._kept_off = KeptOff(
            products=services.choices.kept_off_products(store.store_id),
            categories=remembered.kept_off if remembered is not None else frozenset(run.kept_off_category_ids),
        )
        self._remaining = remaining_seconds
        self._reserve = reserve

    def pages(self, message: SyncMessage) -> str:
        """Page from the run's offset until the end of the catalog or of the time this invocation has."""
        ecwid = self._s.ecwid()
        offset = self._run.offset
        while True:
            page = ecwid.product_page(self._target.store_id, self._ecwid_token, offset=offset)
            shown = self._take(page.items, page=offset)
            self._s.catalog.record_page(self._target.store_id, self._run.job_id, offset, shown, self._s.clock())
            offset += page.count
            self._run.total = page.total
            if self._writer.queued >= self._s.settings.tiktok_upload_batch_size:
                self._run.uploaded += self._writer.flush(full_batches_only=True)
                # A crash from here repeats the pages whose SKUs still wait in the batch, nothing before.
                waiting = self._writer.oldest_queued_page()
                self._checkpoint(offset if waiting is None else waiting)
            if page.count == 0 or offset >= page.total:
                break
            if self._remaining() < self._reserve:
                return self._continue(message, offset)
        self._run.uploaded += self._writer.flush()
        self._checkpoint(offset)
        return self._finish()

    def _take(self, products: list[EcwidProduct], *, page: int = 0) -> list[str]:
        mappings = self._images.map_products(
            products, currency=self._target.currency, hidden=self._hidden, kept_off=self._kept_off
        )
        return self._writer.take(products, mappings, page=page)

    def _continue(self, message: SyncMessage, offset: int) -> str:
        self._run.uploaded += self._writer.flush()
        self._run.deleted += self._writer.flush_deletions()
        self._checkpoint(offset)
        part = message.part + 1
        self._s.queue.send(message.model_copy(update={"part": part, "cursor": str(offset)}))
        logger.info("Sync continues in a next part", extra={"store_id": self._target.store_id, "part": part})
        return "continued"

    def _checkpoint(self, offset: int) -> None:
        self._run.offset = offset
        self._s.catalog.put_run(self._target.store_id, self._run, self._s.clock())
        self._store = save_progress(self._s, self._store, self._run, moved=True)

    # -- the end of a run ----------------------------------------------------------------------
    def _finish(self) -> str:
        writer = self._writer
        seen = self._s.catalog.seen_skus(self._target.store_id, self._run.job_id)
        records = dict(writer.records())
        unseen = [r for r in records.values() if r.sku_id not in seen and not writer.removing(r.sku_id)]
        if unseen:
            seen |= self._recheck(unseen)
            self._run.uploaded += writer.flush()
        if self._run.mode == "replace":
            self._remove_unshown(seen, records)
        self._run.deleted += writer.flush_deletions()
        records = writer.records()
        writer.refresh_reviews(
            [r for r in records.values() if r.status == "pending" and r.sku_id not in writer.uploaded_now]
        )
        counts = _counts(records.values())
        result = (
            f"{self._run.uploaded} uploaded, {self._run.deleted} removed, {counts.held_back} not uploaded, "
            f"{sum(r.on_tiktok for r in records.values())} on TikTok"
        )
        if writer.tiktok_accepted:
            clear_refusal(self._s, self._store)
        self._run.finished_at = _iso(self._s)
        self._s.catalog.put_run(self._target.store_id, self._run, self._s.clock())
        self._s.stores.save_sync(
            self._target.store_id,
            self._store.epoch,
            SyncState(
                state="idle",
                job_id=self._run.job_id,
                done=self._run.total,
                total=self._run.total,
                last_finished_at=_iso(self._s),
                last_result=result,
                reviews_checked_at=_iso(self._s),  # the run read the review statuses at its end
            ),
            counts,
        )
        if self._run.started_at is not None:
            # A full sync's duration, all its parts (the count of samples is the runs finished).
            seconds = self._s.clock() - datetime.fromisoformat(self._run.started_at).timestamp()
            metrics.add_metric(name="SyncRunSeconds", unit=MetricUnit.Seconds, value=max(0.0, seconds))
        logger.info(
            "Sync finished",
            extra={
                "store_id": self._target.store_id,
                "job_id": self._run.job_id,
                "uploaded": self._run.uploaded,
                "deleted": self._run.deleted,
            },
        )
        return "done"

    def _recheck(self, unseen: list[SkuRecord]) -> set[str]:
        """SKUs the pages did not show: their product may have moved between pages (offsets shift when a
        product is deleted mid-sync). Ask Ecwid; map what still exists; delete the rest."""
        ecwid = self._s.ecwid()
        product_ids = sorted({r.product_id for r in unseen})
        seen: set[str] = set()
        for start in range(0, len(product_ids), PRODUCTS_BY_ID):
            chunk = product_ids[start : start + PRODUCTS_BY_ID]
            seen.update(self._take(ecwid.products_by_id(self._target.store_id, self._ecwid_token, chunk)))
        for record in unseen:
            if record.sku_id not in seen:
                self._writer.remove(record)
        return seen

    def _remove_unshown(self, seen: set[str], records: dict[str, SkuRecord]) -> None:
        """Replace mode: whatever else TikTok's catalog holds goes, e.g. SKUs an earlier connection left there."""
        keep = {s for s in seen if not (s in records and records[s].status in OFF_TIKTOK)} | self._writer.uploaded_now
        for item in self._writer.catalog_items():
            if item.sku_id not in keep and not self._writer.removing(item.sku_id):
                self._writer.remove_listed(item.sku_id, records.get(item.sku_id))


def _counts(records: Iterable[SkuRecord]) -> ProductCounts:
    statuses = [record.status for record in records]
    return ProductCounts(
        listed=statuses.count("listed"),
        pending=statuses.count("pending"),
        rejected=statuses.count("rejected"),
        held_back=statuses.count("held_back"),
        excluded=statuses.count("excluded"),
        kept_off=statuses.count("kept_off"),
    )


def _iso(services: Services) -> str:
    return datetime.fromtimestamp(services.clock(), UTC).isoformat()
