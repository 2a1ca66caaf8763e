"""Writes to one connected store's TikTok catalog and keeps the app's SKU records equal to what TikTok accepted.

Uploads go in batches (services/sync_uploads.py sends one and reads what TikTok did with each SKU); a SKU's hash
is committed only once TikTok confirmed it (design.md "Catalog rules"), so a SKU the feed log failed, or whose log
never came, is sent again next time. A SKU TikTok refused a whole request for is not sent again until its content
changes. SKUs due for their freshness upload (catalog/freshness.py) go even when unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.mapping import ProductMapping, SkuHeldBack, SkuUpload, sku_ids_of
from tiktok_channel.models.catalog import Reason, SkuRecord, SkuStatus
from tiktok_channel.models.ecwid_catalog import EcwidProduct
from tiktok_channel.models.tiktok import CatalogItem
from tiktok_channel.services.sync_uploads import BatchOutcome, BatchUploader

if TYPE_CHECKING:
    from tiktok_channel.models.store import CatalogTarget
    from tiktok_channel.ports import Services, TikTokApi

logger = Logger(child=True)
metrics = Metrics()

DELETE_BATCH = 1000  # TikTok's limit per delete call
STATUS_BATCH = 500  # product/get answers at most 500 per page, so 500 sku_ids fit one call


@dataclass(frozen=True)
class _Removal:
    """A SKU leaving TikTok: `held_back` is its new record when the item stays (it is held back now)."""

    on_tiktok: bool
    held_back: SkuRecord | None = None
    status: str | None = None  # what it counted as before, for the store's counts


class _Queued(NamedTuple):
    upload: SkuUpload
    before: SkuRecord | None  # what the app held for the SKU
    page: int  # the offset of the page it came from: a full sync resumes at the oldest page still queued


class CatalogWriter:
    """One store's TikTok catalog, written through one client with the store's token and ids.

    `take` queues what some products changed; `flush` uploads the queue and `flush_deletions` takes off TikTok
    what must go, each committing to the SKU records only what TikTok accepted; `count_changes` is how the
    store's counts moved meanwhile. `known` is every SKU record of the store when the caller read them all
    (a full sync): kept up to date with every write, it spares further reads; None reads them as needed.
    `refresh` are SKUs uploaded again even when unchanged (their freshness slot has come).
    """

    def __init__(
        self,
        services: Services,
        target: CatalogTarget,
        tiktok: TikTokApi,
        token: str,
        *,
        known: dict[str, SkuRecord] | None = None,
        refresh: frozenset[str] = frozenset(),
    ) -> None:
        self._s = services
        self._target = target
        self._tiktok = tiktok
        self._token = token
        self._known = known
        self._refresh = refresh
        settings = services.settings
        self._uploader = BatchUploader(
            tiktok,
            token,
            target,
            max_refused=settings.tiktok_split_max_refused,
            batch_size=settings.tiktok_upload_batch_size,
        )
        self._batch: list[_Queued] = []
        self._deletions: dict[str, _Removal] = {}
        self.uploaded_now: set[str] = set()  # SKUs whose upload TikTok accepted during this invocation
        self.tiktok_accepted = False  # TikTok took an upload or delete call of this writer's
        self.count_changes: Counter[str] = Counter()

    # -- what changed --------------------------------------------------------------------------
    def take(
        self,
        products: Sequence[EcwidProduct],
        mappings: Sequence[ProductMapping],
        existing: dict[str, SkuRecord] | None = None,
        *,
        page: int = 0,
    ) -> list[str]:
        """Queue what changed in these products (with their mappings): uploads of content TikTok has not
        accepted yet, removals of the SKUs they no longer show; held-back SKUs are recorded at once.
        Answers the SKUs they show.

        `existing` is what the app holds for these products (read here from their possible SKUs when not given).
        """
        if existing is None:
            # The product's own id too: the item of a product kept off by the store's settings, or the SKU of a
            # product that had no variations before, is keyed by it.
            possible = (sku for product in products for sku in (str(product.id), *sku_ids_of(product)))
            if self._known is None:
                existing = self._s.catalog.get_skus(self._target.store_id, possible)
            else:
                existing = {sku: self._known[sku] for sku in possible if sku in self._known}
        seen: list[str] = []
        held_back: list[SkuRecord] = []  # and other records written as they are, without an upload
        for product, mapping in zip(products, mappings, strict=True):
            kept_off: list[tuple[SkuHeldBack, SkuStatus]] = [(h, "held_back") for h in mapping.held_back]
            if mapping.excluded is not None:  # the store's settings or the merchant keep it off: one item for it
                kept_off.append((mapping.excluded, mapping.exclusion))
            produced = {u.sku_id for u in mapping.uploads} | {h.sku_id for h, _ in kept_off}
            seen.extend(self._take_uploads(mapping.uploads, existing, page, held_back))
            for held, status in kept_off:
                seen.append(held.sku_id)
                record = existing.get(held.sku_id)
                update = _held_back(held, record, self._now, status)
                if update is not None:
                    held_back.append(update)
                    self._recount(record.status if record else None, status)
                    if update.on_tiktok:  # it stopped qualifying: it leaves TikTok, and stays listed here
                        self._deletions[held.sku_id] = _Removal(on_tiktok=True, held_back=update)
            for record in existing.values():
                if record.product_id == product.id and record.sku_id not in produced:
                    self.remove(record)  # hidden, disabled, or a variation gone
        if held_back:
            self._write(held_back)
        return seen

    def _take_uploads(
        self, uploads: Sequence[SkuUpload], existing: dict[str, SkuRecord], page: int, rewrites: list[SkuRecord]
    ) -> list[str]:
        """Queue the uploads TikTok should get; records to write as they are go to `rewrites`."""
        for upload in uploads:
            record = existing.get(upload.sku_id)
            if _to_send(upload, record, self._refresh):
                self._batch.append(_Queued(upload, record, page))
            elif record is not None and record.brand_from_store_name != upload.brand_from_store_name:
                # Items written before the flag was kept learn it once, without an upload.
                rewrites.append(record.model_copy(update={"brand_from_store_name": upload.brand_from_store_name}))
        return [upload.sku_id for upload in uploads]

    def remove(self, record: SkuRecord) -> None:
        """Queue a SKU the store no longer shows: off TikTok if it is there, and forgotten."""
        self._deletions[record.sku_id] = _Removal(on_tiktok=record.on_tiktok, status=record.status)

    def remove_listed(self, sku_id: str, record: SkuRecord | None) -> None:
        """Queue a SKU TikTok lists but should not (replace mode); a held-back record stays, off TikTok."""
        held = record if record is not None and record.status == "held_back" else None
        self._deletions[sku_id] = _Removal(on_tiktok=True, held_back=held, status=record.status if record else None)

    def removing(self, sku_id: str) -> bool:
        """Whether the SKU is queued to leave TikTok or the app's records."""
        return sku_id in self._deletions

    @property
    def queued(self) -> int:
        """Uploads waiting for a batch."""
        return len(self._batch)

    def oldest_queued_page(self) -> int | None:
        """The offset of the oldest page whose SKUs still wait for a batch (None: nothing waits)."""
        return self._batch[0].page if self._batch else None

    def records(self) -> dict[str, SkuRecord]:
        """Every SKU record of the store, as written so far."""
        if self._known is None:
            self._known = {record.sku_id: record for record in self._s.catalog.all_skus(self._target.store_id)}
        return self._known

    # -- TikTok writes -------------------------------------------------------------------------
    def flush(self, *, full_batches_only: bool = False) -> int:
        """Upload the queue, read each batch's feed log, commit what TikTok accepted; answers how many SKUs TikTok
        accepted (those it refused or failed are not counted as uploaded).

        Mid-run only full batches go, so the number of upload calls stays at its lower bound.
        """
        size = self._s.settings.tiktok_upload_batch_size
        sent = 0
        while len(self._batch) >= size or (self._batch and not full_batches_only):
            chunk, self._batch = self._batch[:size], self._batch[size:]
            before_on_tiktok = frozenset(q.upload.sku_id for q in chunk if q.before is not None and q.before.on_tiktok)
            outcome = BatchOutcome()
            try:
                self._uploader.upload(
                    [queued.upload.fields for queued in chunk], on_tiktok=before_on_tiktok, outcome=outcome
                )
            finally:
                # Also when a call fails midway (a split cut by a 40100 or an outage): what TikTok confirmed so
                # far is committed, so the retry sends only the rest.
                self._commit(chunk, outcome)
            sent += len(outcome.accepted)
            metrics.add_metric(name="SkusUploaded", unit=MetricUnit.Count, value=len(outcome.accepted))
        return sent

    def _commit(self, chunk: list[_Queued], outcome: BatchOutcome) -> None:
        self.tiktok_accepted |= outcome.calls > outcome.refused_calls
        records = _outcome_records(chunk, outcome, self._now())
        self.uploaded_now.update(record.sku_id for record in records if record.status == "pending")
        self._write(records)
        befores = {queued.upload.sku_id: queued.before.status if queued.before else None for queued in chunk}
        for record in records:
            self._recount(befores[record.sku_id], record.status)

    def flush_deletions(self) -> int:
        """Take off TikTok what must go, then forget it (or keep it as held back); a failed call keeps both.
        Answers how many SKUs TikTok was asked to delete."""
        remote = [sku for sku, removal in self._deletions.items() if removal.on_tiktok]
        for start in range(0, len(remote), DELETE_BATCH):
            chunk = remote[start : start + DELETE_BATCH]
            feed_log_id = self._tiktok.delete_products(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, sku_ids=chunk
            )
            self._uploader.wait_for(feed_log_id)
            self.tiktok_accepted = True
            metrics.add_metric(name="SkusDeleted", unit=MetricUnit.Count, value=len(chunk))
        held = [r.held_back for r in self._deletions.values() if r.held_back is not None]
        # A SKU only TikTok had (replace mode) has no item here to delete.
        dropped = [sku for sku, r in self._deletions.items() if r.held_back is None and r.status is not None]
        self._s.catalog.delete_skus(self._target.store_id, dropped)
        for sku in dropped:
            if self._known is not None:
                self._known.pop(sku, None)
            self._recount(self._deletions[sku].status, None)
        self._write([record.model_copy(update={"on_tiktok": False}) for record in held])
        self._deletions.clear()
        return len(remote)

    def catalog_items(self) -> Iterable[CatalogItem]:
        """Every SKU TikTok's catalog holds."""
        return self._tiktok.iter_catalog_products(
            self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id
        )

    def refresh_reviews(self, pending: list[SkuRecord]) -> None:
        """Record TikTok's review decisions on SKUs waiting for one."""
        changed: list[SkuRecord] = []
        for start in range(0, len(pending), STATUS_BATCH):
            chunk = pending[start : start + STATUS_BATCH]
            items = {
                item.sku_id: item
                for item in self._tiktok.products_by_sku(
                    self._token,
                    bc_id=self._target.bc_id,
                    catalog_id=self._target.catalog_id,
                    sku_ids=[r.sku_id for r in chunk],
                )
            }
            for record in chunk:
                item = items.get(record.sku_id)
                update = _reviewed(record, item) if item is not None else None
                if update is not None:
                    update.updated_at = self._now()
                    changed.append(update)
                    self._recount(record.status, update.status)
        if changed:
            self._write(changed)

    # -- commits -------------------------------------------------------------------------------
    def _write(self, records: list[SkuRecord]) -> None:
        self._s.catalog.put_skus(self._target.store_id, records)
        if self._known is not None:
            self._known.update((record.sku_id, record) for record in records)

    def _recount(self, before: str | None, after: str | None) -> None:
        if before != after:
            if before:
                self.count_changes[before] -= 1
            if after:
                self.count_changes[after] += 1

    def _now(self) -> str:
        return datetime.fromtimestamp(self._s.clock(), UTC).isoformat()


def _held_back(
    held: SkuHeldBack, record: SkuRecord | None, now: Callable[[], str], status: SkuStatus = "held_back"
) -> SkuRecord | None:
    """The record of a SKU held back (or of a product kept off: `status` "excluded" by the store's settings, or
    "kept_off" by the merchant), or None when the app holds it so already (nothing to write)."""
    reasons = [Reason(message=held.message)]
    if record is not None and record.status == status and record.reasons == reasons and not record.on_tiktok:
        return None
    return SkuRecord(
        sku_id=held.sku_id,
        product_id=held.product_id,
        title=held.title,
        status=status,
        on_tiktok=bool(record and record.on_tiktok),
        reasons=reasons,
        updated_at=now(),
    )


def _to_send(upload: SkuUpload, record: SkuRecord | None, refresh: frozenset[str]) -> bool:
    """Whether TikTok should get this content: new or changed since TikTok accepted it, or due for its refresh;
    never content TikTok refused a whole request for (it would be refused again)."""
    if record is None:
        return True
    if record.refused_hash == upload.hash and record.status == "rejected":
        return False
    return record.hash != upload.hash or upload.sku_id in refresh


def _outcome_records(chunk: list[_Queued], outcome: BatchOutcome, now: str) -> list[SkuRecord]:
    """The records of an uploaded batch: accepted SKUs get their hash and upload time ("pending" TikTok's
    review); failed, refused and unresolved ones TikTok's reasons and no hash; the rest (outcome unknown) none."""
    records = []
    for upload, before, _ in chunk:
        sku = upload.sku_id
        on_tiktok = bool(before and before.on_tiktok)
        update: dict[str, object]
        if sku in outcome.accepted:
            update = {"status": "pending", "on_tiktok": True, "hash": upload.hash, "uploaded_at": now}
        elif sku in outcome.failed:
            update = {"status": "rejected", "reasons": outcome.failed[sku]}
        elif sku in outcome.refused:
            update = {"status": "rejected", "reasons": [outcome.refused[sku]], "refused_hash": upload.hash}
        elif sku in outcome.unresolved:
            update = {"status": "rejected", "reasons": [outcome.unresolved[sku]]}
        else:
            continue
        fields: dict[str, object] = {
            "sku_id": sku,
            "product_id": upload.product_id,
            "title": upload.title,
            "on_tiktok": on_tiktok,
            "updated_at": now,
            "uploaded_at": before.uploaded_at if before else None,
            "brand_from_store_name": upload.brand_from_store_name,
        }
        records.append(SkuRecord.model_validate(fields | update))
    return records


def _reviewed(record: SkuRecord, item: CatalogItem) -> SkuRecord | None:
    """The record after TikTok's review decision (None while TikTok is still reviewing)."""
    status = item.audit.audit_status.lower()
    if status == "approved":
        return record.model_copy(update={"status": "listed", "reasons": []})
    if status == "rejected":
        reasons = [
            Reason(message=i.reason or "Rejected by TikTok's review", suggestion=i.suggestion)
            for i in item.audit.reject_info or []
        ]
        return record.model_copy(update={"status": "rejected", "reasons": reasons})
    return None
