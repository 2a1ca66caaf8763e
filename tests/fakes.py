"""In-memory fakes of every port of `tiktok_channel.ports`, and `FakeServices` that hands them to the services.

The fast tier (tests/fast) drives the real service functions with these. Each fake keeps the rules of what it
stands for, so a test cannot pass because a fake is lenient:
- the repositories share one `FakeTable` and refuse every conditional write the DynamoDB adapters
  (tiktok_channel/adapters/*_repository.py) make conditional, with the same errors (ConcurrentUpdate,
  NotConnected); what an adapter lets through as botocore's ClientError is `AwsClientError` here;
- the queue deduplicates per message group for five minutes, as the catalog FIFO queue does;
- the cipher is reversible, never holds the plaintext, and fails for another store or field (KMS's context);
- Ecwid and TikTok answer and refuse as ecwid-api.md, tiktok-api.md and the sandboxes (sandboxes/) do: tokens,
  single-use codes, Business Center and catalog permissions, TikTok's product validation and feed logs (the
  sandbox's own rules, imported), reviews; and any call can be made to fail with `fail(method, error)`.
Nothing here opens a socket, starts a thread or sleeps.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ValidationError

from sandboxes.ecwid_prices import with_shown_prices
from sandboxes.tiktok_catalog import (
    ProductIssue,
    RefusalMessageNames,
    empty_value_rule,
    group_issues,
    refusal_message,
    validate_product,
)
from tests.fake_health import FakeSyncHealthRepository
from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.catalog.visibility import CategoryVisibility
from tiktok_channel.errors import (
    ConcurrentUpdate,
    EcwidAccessLost,
    EcwidError,
    EcwidOAuthRejected,
    EcwidUnavailable,
    EventPublishFailed,
    NotConnected,
    TikTokAuthCodeInvalid,
    TikTokError,
    TikTokRequestRejected,
    TikTokTokenRevoked,
)
from tiktok_channel.models.catalog import SkuRecord, SkuStatus, SyncRun
from tiktok_channel.models.cleanup import SKUS_PER_CHUNK, CleanupItem, SkuChunk
from tiktok_channel.models.ecwid import EcwidToken, StoreProfile
from tiktok_channel.models.ecwid_catalog import EcwidCategory, EcwidProduct, ProductPage
from tiktok_channel.models.messages import QueueMessage, encode_message
from tiktok_channel.models.orders import EcwidOrder
from tiktok_channel.models.pixel import PixelState, PurchaseRecord
from tiktok_channel.models.store import (
    Notice,
    OAuthState,
    PendingConnection,
    ProductCounts,
    RemoteCleanup,
    ReviewCandidate,
    Store,
    StoreStatus,
    SyncState,
    TikTokConnection,
    TikTokCounts,
)
from tiktok_channel.models.storefront import StorefrontMove, StorefrontRecord
from tiktok_channel.models.tiktok import (
    AccessTokenData,
    BusinessCenterList,
    BusinessProfile,
    CatalogItem,
    CatalogOverview,
    CatalogSummary,
    CreatedCatalog,
    CreatedPixel,
    FeedLog,
    FeedLogFileRow,
    PixelSummary,
    ShopConnectionStatus,
)
from tiktok_channel.ports import SecretField
from tiktok_channel.settings import AppSecrets, Settings

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

NOW = 1_790_000_000.0  # 2026-09-21, a fixed start for every test's clock
ECWID_CLIENT_ID = "fake-ecwid-client"
ECWID_CLIENT_SECRET = "fake-ecwid-secret-0123456789abcdef"
TIKTOK_APP_ID = "7000000000000000001"
TIKTOK_SECRET = "fake-tiktok-secret"
SESSION_KEY = "fake-session-key-0123456789abcdef0123456789"
DEAD_LETTER_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/catalog-dlq.fifo"
SETTINGS = {
    "STORES_TABLE": "stores",
    "IDEMPOTENCY_TABLE": "idempotency",
    "CATALOG_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/catalog.fifo",
    "CATALOG_DLQ_URL": DEAD_LETTER_URL,
    "APP_SECRETS_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:app",
    "TOKEN_KEY_ID": "alias/tokens",
    "PUBLIC_BASE_URL": "https://api.example.test",
    "ECWID_APP_PAGE_URL": "https://my.ecwid.com/store/{store_id}#app:name=tiktok",
    "SYNC_SCHEDULE": "cron(0 6,18 * * ? *)",
}


class AwsClientError(Exception):
    """What an adapter lets through as botocore's ClientError: a refused condition it does not turn into a domain
    error, an invalid update, a failed AWS call. A service that meets it meets a bug or an outage."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class _Faults:
    """Failures planned for a fake's next calls of one method, raised before the call does anything."""

    def __init__(self) -> None:
        self._planned: dict[str, list[BaseException]] = {}
        self.calls: list[str] = []

    def fail(self, method: str, error: BaseException, *, times: int = 1) -> None:
        if not callable(getattr(self, method, None)) or method.startswith("_"):
            raise AttributeError(f"{type(self).__name__} has no API method {method!r}")
        self._planned.setdefault(method, []).extend([error] * times)

    def _call(self, method: str) -> None:
        self.calls.append(method)
        planned = self._planned.get(method)
        if planned:
            raise planned.pop(0)


# -- DynamoDB: one table, keyed (pk, sk), values as the adapters store them ------------------------------------
Key = tuple[str, str]


def _stored(value: Any) -> Any:
    """A value as DynamoDB keeps it: maps without None entries (the adapters' `attribute` strips them); floats
    refused, as boto3's serializer refuses them."""
    if isinstance(value, BaseModel):
        raise TypeError("store a model's map, not the model")
    if isinstance(value, Mapping):
        return {str(k): _stored(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return copy.deepcopy(value)


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values set one by one in an update expression: each serialized on its own (a None is stored as NULL)."""
    return {name: _stored(value) for name, value in values.items()}


def _map(model: BaseModel) -> dict[str, Any]:
    stored: dict[str, Any] = _stored(model.model_dump(mode="python", exclude_none=True))
    return stored


def store_key(store_id: int) -> Key:
    return (f"STORE#{store_id}", "STORE")


def state_key(store_id: int, nonce: str) -> Key:
    return (f"STORE#{store_id}", f"STATE#{nonce}")


def storefront_key(store_id: int) -> Key:
    return (f"STORE#{store_id}", "STOREFRONT")


def sku_key(store_id: int, sku_id: str) -> Key:
    return (f"STORE#{store_id}", f"SKU#{sku_id}")


def _cleanup_key(store_id: int, cleanup_id: str) -> Key:
    return (f"STORE#{store_id}", f"CLEANUP#{cleanup_id}")


def _chunk_key(store_id: int, cleanup_id: str, first_sku: str) -> Key:
    return (f"STORE#{store_id}", f"CLEANUP_SKUS#{cleanup_id}#{first_sku}")


def _image_key(url: str) -> Key:
    return (f"IMAGE#{hashlib.sha256(url.encode()).hexdigest()}", "IMAGE")


class FakeTable:
    """The stores table: items by (pk, sk). Tests read it to check what was written (e.g. no plaintext token)."""

    def __init__(self) -> None:
        self.items: dict[Key, dict[str, Any]] = {}

    def read(self, key: Key) -> dict[str, Any] | None:
        item = self.items.get(key)
        return copy.deepcopy(item) if item is not None else None

    def query(self, pk: str, prefix: str) -> list[tuple[Key, dict[str, Any]]]:
        """Items of one partition whose sort key begins with `prefix`, in sort key order (copies)."""
        found = sorted((key, item) for key, item in self.items.items() if key[0] == pk and key[1].startswith(prefix))
        return [(key, copy.deepcopy(item)) for key, item in found]

    def snapshot(self) -> dict[Key, dict[str, Any]]:
        return copy.deepcopy(self.items)


CONNECTED_SHARDS = 16
STATE_TTL_GRACE_SECONDS = 86_400


class FakeStoreRepository:
    """DynamoStoreRepository's rules over the fake table."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def get(self, store_id: int) -> Store | None:
        item = self._t.read(store_key(store_id))
        return Store.model_validate(item) if item is not None else None

    def save_installation(self, store: Store, *, expected_version: int | None) -> None:
        key = store_key(store.store_id)
        current = self._t.items.get(key)
        if (expected_version is None and current is not None) or (
            expected_version is not None and (current is None or current.get("version") != expected_version)
        ):
            raise ConcurrentUpdate(f"store {store.store_id} changed while it was being installed")
        # A put replaces the whole item; a connected store keeps its place in the connected-stores index.
        self._t.items[key] = _map(store.model_copy(update={"version": store.version + 1}))
        if store.status == "connected":
            self._t.items[key]["connected_shard"] = f"SHARD#{store.store_id % CONNECTED_SHARDS:02d}"

    def issue_state(self, state: OAuthState, *, phone: bytes | None, now: str) -> None:
        key, skey = store_key(state.store_id), state_key(state.store_id, state.nonce)
        store = self._t.items.get(key)
        if skey in self._t.items or store is None:
            raise AwsClientError("TransactionCanceledException", "ConditionalCheckFailed")
        self._t.items[skey] = {**_map(state), "ttl": state.expires_at + STATE_TTL_GRACE_SECONDS}
        store["updated_at"] = now
        store["version"] += 1
        if phone is not None:
            store["phone"] = phone

    def get_state(self, store_id: int, nonce: str) -> OAuthState | None:
        item = self._t.read(state_key(store_id, nonce))
        return OAuthState.model_validate(item) if item is not None else None

    def begin_connection(self, state: OAuthState, *, auth_code_hash: str, pending: PendingConnection) -> None:
        record = self._t.items.get(state_key(state.store_id, state.nonce))
        store = self._t.items.get(store_key(state.store_id))
        if record is None or record.get("status") != "issued" or store is None:
            raise ConcurrentUpdate("the OAuth state was used by another request")
        written = _map(pending)  # every value is serialized before anything is written, as boto3 does
        record.update(status="consumed", auth_code_hash=auth_code_hash)
        store["pending_connection"] = written
        store["version"] += 1

    def set_state_status(self, store_id: int, nonce: str, status: str) -> None:
        # An unconditional update: on a missing item DynamoDB creates one holding just this attribute.
        self._t.items.setdefault(state_key(store_id, nonce), {})["status"] = status

    def update_pending(self, store_id: int, nonce: str, **fields: Any) -> None:
        store = self._pending_store(store_id, nonce)
        store["pending_connection"].update(_attributes(fields))
        store["version"] += 1

    def abandon_connection(self, store_id: int, nonce: str) -> None:
        try:
            store = self._pending_store(store_id, nonce)
        except ConcurrentUpdate:
            pass
        else:
            del store["pending_connection"]
            store["version"] += 1
        self.set_state_status(store_id, nonce, "failed")

    def complete_connection(
        self, store_id: int, nonce: str, connection: TikTokConnection, sync: SyncState, now: str
    ) -> Store:
        store = self._pending_store(store_id, nonce)
        written = {"tiktok": _map(connection), "sync": _map(sync)}
        del store["pending_connection"]
        store.update(
            written,
            status="connected",
            epoch=store.get("epoch", 0) + 1,
            connection_nonce=nonce,
            connected_shard=f"SHARD#{store_id % CONNECTED_SHARDS:02d}",
            updated_at=now,
            version=store["version"] + 1,
        )
        return Store.model_validate(copy.deepcopy(store))

    def connected_stores(self) -> Iterator[tuple[int, int]]:
        for shard in range(CONNECTED_SHARDS):
            listed = [item for item in self._t.items.values() if item.get("connected_shard") == f"SHARD#{shard:02d}"]
            for item in sorted(listed, key=lambda i: int(i["store_id"])):
                yield int(item["store_id"]), int(item.get("epoch", 0))

    def queue_sync(self, store_id: int, job_id: str, now: str, stale_before: str) -> tuple[str, bool]:
        item = self._t.items.get(store_key(store_id))
        sync = item.get("sync", {}) if item is not None else {}
        if (
            item is not None
            and item.get("status") == "connected"
            and (
                "state" not in sync
                or sync["state"] == "idle"
                or "queued_at" not in sync
                or sync["queued_at"] < stale_before
            )
        ):
            # Field by field, as the DynamoDB update: the last finished sync stays beside the queued one.
            item["sync"] = {**sync, "state": "queued", "job_id": job_id, "queued_at": now, "done": 0, "total": 0}
            item["updated_at"] = now
            item["version"] += 1
            return job_id, True
        store = self.get(store_id)
        if store is not None and store.sync.state in ("queued", "running") and store.sync.job_id:
            return store.sync.job_id, False
        raise NotConnected(f"store {store_id} is not connected")

    def save_sync(self, store_id: int, epoch: int, sync: SyncState, products: ProductCounts | None = None) -> None:
        item = self._at_epoch(store_id, epoch)
        item.update({"sync": _map(sync)} if products is None else {"sync": _map(sync), "products": _map(products)})
        checked = sync.reviews_checked_at or sync.last_finished_at
        if products is not None and products.pending > 0 and checked:
            item.update({"review_shard": f"REVIEW#{store_id % CONNECTED_SHARDS:02d}", "review_due": checked})
        elif products is not None and products.pending <= 0:
            item.pop("review_shard", None)
            item.pop("review_due", None)

    def add_counts(self, store_id: int, epoch: int, changes: Mapping[str, int], *, now: str) -> None:
        moves = {status: change for status, change in changes.items() if change}
        if not moves:
            return
        item = self._at_epoch(store_id, epoch)
        if not isinstance(item.get("products"), dict):
            raise AwsClientError(
                "ValidationException", "The document path provided in the update expression is invalid"
            )
        for status, change in moves.items():
            item["products"][status] = item["products"].get(status, 0) + change
        pending = item["products"].get("pending", 0)
        if pending > 0 and "review_shard" not in item:
            item.update({"review_shard": f"REVIEW#{store_id % CONNECTED_SHARDS:02d}", "review_due": now})
        elif pending <= 0:
            item.pop("review_shard", None)
            item.pop("review_due", None)

    def stores_to_review(self) -> list[ReviewCandidate]:
        found = [
            ReviewCandidate(
                store_id=int(item["store_id"]),
                epoch=int(item.get("epoch", 0)),
                pending=int(item["products"].get("pending", 0)),
                due=item["review_due"],
            )
            for item in self._t.items.values()
            if "review_shard" in item and "review_due" in item and item["products"].get("pending", 0) > 0
        ]
        return sorted(found, key=lambda candidate: candidate.due)

    def leave_review_index(self, store_id: int) -> None:
        item = self._t.items.get(store_key(store_id))
        if item is not None:
            item.pop("review_shard", None)
            item.pop("review_due", None)

    def mark_reviewed(self, store_id: int, epoch: int, *, checked_at: str, counts: TikTokCounts) -> None:
        item = self._at_epoch(store_id, epoch)
        item.setdefault("sync", {})["reviews_checked_at"] = checked_at
        item.update({"tiktok_counts": _map(counts), "review_due": checked_at})

    def set_notice(
        self, store_id: int, epoch: int, notice: Notice | None, *, status: StoreStatus | None = None
    ) -> None:
        item = self._at_epoch(store_id, epoch)
        if notice is None:
            item.pop("notice", None)
        else:
            item["notice"] = _map(notice)
        if status is not None:
            item["status"] = status
            if status != "connected":
                item.pop("connected_shard", None)

    def _pending_store(self, store_id: int, nonce: str) -> dict[str, Any]:
        store = self._t.items.get(store_key(store_id))
        pending = store.get("pending_connection") if store is not None else None
        if store is None or not isinstance(pending, dict) or pending.get("nonce") != nonce:
            raise ConcurrentUpdate("the pending TikTok connection was replaced")
        return store

    def _at_epoch(self, store_id: int, epoch: int) -> dict[str, Any]:
        item = self._t.items.get(store_key(store_id))
        if item is None or item.get("epoch") != epoch:
            raise ConcurrentUpdate(f"store {store_id} moved to another connection")
        return item


RUN_TTL_SECONDS = 7 * 86_400
IMAGE_TTL_SECONDS = 30 * 86_400


class FakeCatalogRepository:
    """DynamoCatalogRepository's items over the fake table (SKU items carry `sku_status` for the index)."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def get_skus(self, store_id: int, sku_ids: Iterable[str]) -> dict[str, SkuRecord]:
        found = {}
        for sku_id in dict.fromkeys(sku_ids):
            item = self._t.read(sku_key(store_id, sku_id))
            if item is not None:
                found[sku_id] = SkuRecord.model_validate(item)
        return found

    def put_skus(self, store_id: int, records: Iterable[SkuRecord]) -> None:
        for record in records:
            self._t.items[sku_key(store_id, record.sku_id)] = {
                **_map(record),
                "sku_status": f"STORE#{store_id}#{record.status}",
            }

    def delete_skus(self, store_id: int, sku_ids: Iterable[str]) -> None:
        for sku_id in dict.fromkeys(sku_ids):
            self._t.items.pop(sku_key(store_id, sku_id), None)

    def all_skus(self, store_id: int) -> Iterator[SkuRecord]:
        for _, item in self._t.query(f"STORE#{store_id}", "SKU#"):
            yield SkuRecord.model_validate(item)

    def skus_by_status(
        self, store_id: int, status: SkuStatus, *, limit: int, after_sku: str | None = None
    ) -> tuple[list[SkuRecord], str | None]:
        index_key = f"STORE#{store_id}#{status}"
        rows = sorted((key[1], item) for key, item in self._t.items.items() if item.get("sku_status") == index_key)
        if after_sku is not None:
            rows = [(sk, item) for sk, item in rows if sk > f"SKU#{after_sku}"]
        records = [SkuRecord.model_validate(copy.deepcopy(item)) for _, item in rows[: limit + 1]]
        if len(records) > limit:
            return records[:limit], records[limit - 1].sku_id
        return records, None

    def skus_of_product(self, store_id: int, product_id: int) -> dict[str, SkuRecord]:
        records = (
            SkuRecord.model_validate(item) for _, item in self._t.query(f"STORE#{store_id}", f"SKU#{product_id}")
        )
        return {r.sku_id: r for r in records if r.product_id == product_id}

    def get_categories(self, store_id: int) -> CategoryVisibility | None:
        item = self._t.read((f"STORE#{store_id}", "CATEGORIES"))
        if item is None:
            return None
        return CategoryVisibility(frozenset(item.get("hidden", [])), frozenset(item.get("kept_off", [])))

    def put_categories(self, store_id: int, categories: CategoryVisibility) -> None:
        key = (f"STORE#{store_id}", "CATEGORIES")
        self._t.items[key] = {"hidden": sorted(categories.hidden), "kept_off": sorted(categories.kept_off)}

    def get_run(self, store_id: int, job_id: str) -> SyncRun | None:
        item = self._t.read((f"STORE#{store_id}", f"RUN#{job_id}"))
        return SyncRun.model_validate(item) if item is not None else None

    def put_run(self, store_id: int, run: SyncRun, now: float) -> None:
        self._t.items[(f"STORE#{store_id}", f"RUN#{run.job_id}")] = {**_map(run), "ttl": int(now) + RUN_TTL_SECONDS}

    def record_page(self, store_id: int, job_id: str, offset: int, sku_ids: Iterable[str], now: float) -> None:
        self._t.items[(f"STORE#{store_id}", f"RUN#{job_id}#PAGE#{offset:09d}")] = {
            "sku_ids": sorted(set(sku_ids)),
            "ttl": int(now) + RUN_TTL_SECONDS,
        }

    def seen_skus(self, store_id: int, job_id: str) -> set[str]:
        seen: set[str] = set()
        for _, item in self._t.query(f"STORE#{store_id}", f"RUN#{job_id}#PAGE#"):
            seen.update(item.get("sku_ids", []))
        return seen

    def get_image_sizes(self, urls: Sequence[str]) -> dict[str, ImageSize]:
        found = {}
        for url in urls:
            item = self._t.read(_image_key(url))
            if item is not None:
                found[url] = ImageSize(width=item["width"], height=item["height"], format=item["format"])
        return found

    def put_image_sizes(self, sizes: dict[str, ImageSize], now: float) -> None:
        for url, size in sizes.items():
            self._t.items[_image_key(url)] = {
                "width": size.width,
                "height": size.height,
                "format": size.format,
                "ttl": int(now) + IMAGE_TTL_SECONDS,
            }


CLEANUP_TTL_SECONDS = 30 * 86_400
_PURGE_BATCH = 25


class FakeCleanupRepository:
    """DynamoCleanupRepository's rules over the fake table: the disconnect is one all-or-nothing transaction."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def disconnect(
        self, store: Store, cleanups: list[CleanupItem], *, epoch: int, uninstall: bool, now: str, at: float
    ) -> None:
        item = self._t.items.get(store_key(store.store_id))
        if (
            item is None
            or item.get("version") != store.version
            or any(_cleanup_key(store.store_id, c.cleanup_id) in self._t.items for c in cleanups)
        ):
            raise ConcurrentUpdate(f"store {store.store_id} changed while it was being disconnected")
        removes = ["tiktok", "pending_connection", "connected_shard", "connection_nonce", "notice"]
        if uninstall:
            removes += ["ecwid_token", "ecwid_scope", "phone", "email", "install_code_hash"]
        written = [{**_map(cleanup), "ttl": int(at) + CLEANUP_TTL_SECONDS} for cleanup in cleanups]
        for name in removes:
            item.pop(name, None)
        item.update(
            status="disconnected",
            epoch=epoch,
            sync=_map(SyncState()),
            products=_map(ProductCounts()),
            storefront_state="not_applied",
            updated_at=now,
            version=item["version"] + 1,
        )
        if cleanups:
            item["remote_cleanup"] = _map(RemoteCleanup(state="pending", updated_at=now))
        self._t.items.pop(storefront_key(store.store_id), None)
        for cleanup, values in zip(cleanups, written, strict=True):
            self._t.items[_cleanup_key(store.store_id, cleanup.cleanup_id)] = values

    def retire_states(self, store_id: int) -> int:
        retired = 0
        for key, item in self._t.query(f"STORE#{store_id}", "STATE#"):
            if item.get("status") == "issued":
                self._t.items[key]["status"] = "failed"
                retired += 1
        return retired

    def purge_catalog(
        self, store_id: int, *, time_left: Callable[[], bool], keep_for: str | None = None, at: float = 0.0
    ) -> bool:
        pk = f"STORE#{store_id}"
        skus = self._t.query(pk, "SKU#")
        for start in range(0, len(skus), SKUS_PER_CHUNK):
            page = skus[start : start + SKUS_PER_CHUNK]
            if not time_left():
                return False
            sku_ids = [item["sku_id"] for _, item in page if item.get("on_tiktok")]
            if keep_for is not None and sku_ids:  # written before the SKU items go
                chunk = SkuChunk(store_id=store_id, cleanup_id=keep_for, first_sku=sku_ids[0], sku_ids=sku_ids)
                self._t.items[_chunk_key(store_id, keep_for, chunk.first_sku)] = {
                    **_map(chunk),
                    "ttl": int(at) + CLEANUP_TTL_SECONDS,
                }
            for batch in range(0, len(page), _PURGE_BATCH):
                if batch and not time_left():
                    return False
                self._delete([key for key, _ in page[batch : batch + _PURGE_BATCH]])
        keys: list[Key] = [(pk, "CATEGORIES")]
        for key, _ in self._t.query(pk, "RUN#") + self._t.query(pk, "WAIT#"):
            keys.append(key)
            if len(keys) >= _PURGE_BATCH:
                if not time_left():
                    return False
                self._delete(keys)
                keys = []
        self._delete(keys)
        return True

    def pending(self, store_id: int) -> list[CleanupItem]:
        return [CleanupItem.model_validate(item) for _, item in self._t.query(f"STORE#{store_id}", "CLEANUP#")]

    def sku_chunks(self, store_id: int, cleanup_id: str) -> Iterator[SkuChunk]:
        for _, item in self._t.query(f"STORE#{store_id}", f"CLEANUP_SKUS#{cleanup_id}#"):
            yield SkuChunk.model_validate(item)

    def drop_chunk(self, chunk: SkuChunk) -> None:
        self._t.items.pop(_chunk_key(chunk.store_id, chunk.cleanup_id, chunk.first_sku), None)

    def chunks(self, store_id: int) -> list[SkuChunk]:
        """Every SKU chunk the store's cleanups keep (for tests)."""
        return [SkuChunk.model_validate(item) for _, item in self._t.query(f"STORE#{store_id}", "CLEANUP_SKUS#")]

    def save_progress(self, item: CleanupItem) -> None:
        stored = self._t.items.get(_cleanup_key(item.store_id, item.cleanup_id))
        if stored is None:
            return  # finished by another request or worker meanwhile
        stored.update(
            outcomes=_stored(item.outcomes),
            attempts=item.attempts,
            last_error=item.last_error or "",
            updated_at=item.updated_at or "",
        )

    def finish(self, item: CleanupItem) -> None:
        self._t.items.pop(_cleanup_key(item.store_id, item.cleanup_id), None)
        for key, _ in self._t.query(f"STORE#{item.store_id}", f"CLEANUP_SKUS#{item.cleanup_id}#"):
            self._t.items.pop(key, None)

    def set_outcome(self, store_id: int, outcome: RemoteCleanup) -> None:
        store = self._t.items.get(store_key(store_id))
        if store is not None:
            store["remote_cleanup"] = _map(outcome)

    def _delete(self, keys: list[Key]) -> None:
        for key in keys:
            self._t.items.pop(key, None)


class FakeStorefrontRepository:
    """DynamoStorefrontRepository's rules: a move is one transaction, conditional on the state it leaves."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def get(self, store_id: int) -> StorefrontRecord | None:
        item = self._t.read(storefront_key(store_id))
        return StorefrontRecord.model_validate(item) if item is not None else None

    def move(
        self,
        store_id: int,
        *,
        from_states: Collection[str],
        move: StorefrontMove,
        require_connected: bool,
        sets: Mapping[str, Any] | None = None,
        removes: Collection[str] = (),
    ) -> None:
        fields = _attributes(sets or {})  # serialized before anything is written
        if set(fields) & set(removes):
            raise AwsClientError("ValidationException", "Two document paths overlap with each other")
        store = self._t.items.get(store_key(store_id))
        in_state = store is not None and (
            store.get("storefront_state") in from_states
            or ("not_applied" in from_states and "storefront_state" not in store)
        )
        if store is None or not in_state or (require_connected and store.get("status") != "connected"):
            raise ConcurrentUpdate(f"store {store_id}'s storefront is no longer {' or '.join(sorted(from_states))}")
        store.update(storefront_state=move.state, updated_at=move.at, version=store["version"] + 1)
        record = self._t.items.setdefault(storefront_key(store_id), {})
        record.update(store_id=store_id, history=[*record.get("history", []), _map(move)], updated_at=move.at)
        record.update(fields)
        for name in removes:
            record.pop(name, None)

    def consume_state(self, store_id: int, nonce: str, auth_code_hash: str) -> None:
        record = self._t.items.get(state_key(store_id, nonce))
        if record is None or record.get("status") != "issued" or record.get("purpose") != "storefront":
            raise ConcurrentUpdate("the OAuth state was used by another request")
        record.update(status="consumed", auth_code_hash=auth_code_hash)


# -- SQS, EventBridge, KMS, image headers ------------------------------------------------------------------------
DEDUPLICATION_SECONDS = 300.0
_SQS_ID = re.compile(r"[!-~]{1,128}")  # what SQS takes as a group or deduplication id


@dataclass(frozen=True)
class SentMessage:
    """A message as the catalog queue holds it."""

    body: str
    group_id: str
    deduplication_id: str
    receipt_handle: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = json.loads(self.body)
        return fields


class FakeCatalogQueue(_Faults):
    """The catalog FIFO queue (DeduplicationScope: messageGroup): a message whose (group, deduplication id) was
    accepted in the last five minutes is dropped, as SQS drops it. `waiting` is what a worker would receive next."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock
        self.waiting: list[SentMessage] = []
        self.accepted: list[SentMessage] = []  # every message ever accepted, in order
        self.dead_letters: list[SentMessage] = []
        self.delays: list[tuple[str, float]] = []  # (receipt handle, seconds until it is seen again)
        self._seen: dict[tuple[str, str], float] = {}
        self._received: set[str] = set()  # receipt handles of messages handed to a worker

    def send(self, message: QueueMessage) -> None:
        self._call("send")
        self._accept(encode_message(message), message.group_id, message.deduplication_id)

    def send_batch(self, messages: list[QueueMessage]) -> None:
        self._call("send_batch")
        for message in messages:
            self._accept(encode_message(message), message.group_id, message.deduplication_id)

    def delay(self, receipt_handle: str, seconds: float) -> None:
        self._call("delay")
        if receipt_handle not in self._received:
            raise AwsClientError("ReceiptHandleIsInvalid", "The input receipt handle is invalid")
        self.delays.append((receipt_handle, seconds))

    def redrive(self, dead_letter_url: str) -> int:
        self._call("redrive")
        if dead_letter_url != DEAD_LETTER_URL:
            raise AwsClientError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist")
        moved = 0
        while self.dead_letters:
            letter = self.dead_letters.pop(0)
            original = letter.deduplication_id.split(":redrive:", 1)[0]
            self._accept(letter.body, letter.group_id, f"{original[:100]}:redrive:{uuid.uuid4().hex}")
            moved += 1
        return moved

    # -- what the worker's side does ----------------------------------------------------------------------------
    def receive(self) -> SentMessage | None:
        """The next waiting message (removed: the caller settles it)."""
        if not self.waiting:
            return None
        message = self.waiting.pop(0)
        self._received.add(message.receipt_handle)
        return message

    def put(self, body: str, group_id: str, deduplication_id: str) -> SentMessage:
        """A body another sender put on the queue (an earlier release, an operator's console), whatever it holds."""
        self._accept(body, group_id, deduplication_id)
        return self.accepted[-1]

    def to_dead_letters(self, message: SentMessage) -> None:
        """A message that used up its receives (maxReceiveCount)."""
        self.dead_letters.append(message)

    def waiting_fields(self) -> list[dict[str, Any]]:
        return [message.fields for message in self.waiting]

    def _accept(self, body: str, group_id: str, deduplication_id: str) -> None:
        for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", deduplication_id)):
            if not _SQS_ID.fullmatch(value):
                raise AwsClientError("InvalidParameterValue", f"{name} must be 1 to 128 printable ASCII characters")
        now = self._clock()
        seen_at = self._seen.get((group_id, deduplication_id))
        if seen_at is not None and now - seen_at < DEDUPLICATION_SECONDS:
            return
        self._seen[(group_id, deduplication_id)] = now
        message = SentMessage(body, group_id, deduplication_id)
        self.waiting.append(message)
        self.accepted.append(message)


class FakeEventPublisher(_Faults):
    """EventBridge's default bus: what was published, with its JSON detail; `fail("publish", …)` refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[dict[str, Any]] = []

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> str:
        self._call("publish")
        event_id = str(uuid.uuid4())
        # The adapter sends json.dumps(detail): what cannot be JSON cannot be published.
        self.published.append(
            {"id": event_id, "source": source, "detail_type": detail_type, "detail": json.loads(json.dumps(detail))}
        )
        return event_id


def refused_event() -> EventPublishFailed:
    return EventPublishFailed("EventBridge refused the event: ThrottlingException")


class FakeCipher:
    """KMS with an encryption context: AES-GCM under a key of its own, the store and field as associated data,
    so a ciphertext moved to another store or field fails to decrypt (KMS's InvalidCiphertextException)."""

    PREFIX = b"fake-kms:"

    def __init__(self) -> None:
        self._key = AESGCM(AESGCM.generate_key(bit_length=256))

    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes:
        nonce = os.urandom(12)
        return self.PREFIX + nonce + self._key.encrypt(nonce, plaintext.encode(), _context(store_id, field))

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str:
        if not ciphertext.startswith(self.PREFIX):
            raise AwsClientError("InvalidCiphertextException")
        body = ciphertext[len(self.PREFIX) :]
        try:
            return self._key.decrypt(body[:12], body[12:], _context(store_id, field)).decode()
        except (InvalidTag, ValueError):
            raise AwsClientError("InvalidCiphertextException") from None


def _context(store_id: int, field: SecretField) -> bytes:
    return json.dumps({"store_id": str(store_id), "field": field}, sort_keys=True).encode()


class FakeImageProbe:
    """Image headers by URL (None for any URL it does not know, as an unreadable image gives); records what it read."""

    def __init__(self) -> None:
        self.sizes: dict[str, ImageSize] = {}
        self.read: list[str] = []

    def read_image_size(self, url: str) -> ImageSize | None:
        self.read.append(url)
        return self.sizes.get(url)


# -- Ecwid -------------------------------------------------------------------------------------------------------
ECWID_PAGE = 100


@dataclass
class EcwidStoreData:
    """One Ecwid store as Ecwid's REST API shows it (camelCase JSON)."""

    store_id: int
    profile: dict[str, Any]
    products: dict[int, dict[str, Any]] = field(default_factory=dict)  # in the order they were added
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)  # active tokens of the app, the newest last
    suspended: bool = False
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by order id, as GET /orders/{id} shows them
    storage: dict[str, str] = field(default_factory=dict)  # the app's storage (ecwid-api.md, "App storage")
    scopes: set[str] = field(default_factory=lambda: set(FULL_SCOPES.split()))  # what the app's token may do


@dataclass
class _EcwidCode:
    store_id: int
    redirect_uri: str
    scope: str
    used: bool = False


FULL_SCOPES = "read_store_profile read_catalog add_to_cp read_orders update_store_profile customize_storefront"


class FakeEcwid(_Faults):
    """Ecwid's OAuth and REST API for the app whose credentials it was built with (ecwid-api.md).

    With a `clock` (epoch seconds; a test gives it the services' own), a 429 planned with `fail` holds its token as
    the Ecwid client does: until its `retry_after` has passed, every REST call with that token raises
    `EcwidUnavailable` with the seconds left, and is not recorded in `calls` (it never reached Ecwid)."""

    def __init__(
        self,
        client_id: str = ECWID_CLIENT_ID,
        client_secret: str = ECWID_CLIENT_SECRET,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self._not_before: dict[str, float] = {}
        self.stores: dict[int, EcwidStoreData] = {}
        self._codes: dict[str, _EcwidCode] = {}
        self._ids = itertools.count(100_001)

    # -- the merchant's side ---------------------------------------------------------------------------------
    def add_store(
        self,
        store_id: int,
        *,
        country: str = "US",
        currency: str = "USD",
        name: str = "Demo Store",
        email: str = "owner@example.com",
        tax_in_prices: float = 0.0,
        prices_include_tax: bool = False,
    ) -> EcwidStoreData:
        """`tax_in_prices`: one tax (%) the storefront shows inside prices; `prices_include_tax`: prices typed gross."""
        url = f"https://store{store_id}.example.com"
        taxes = [{"id": 1, "name": "VAT", "enabled": True, "includeInPrice": True, "defaultTax": tax_in_prices}]
        profile = {
            "generalInfo": {"storeId": store_id, "storeUrl": url},
            "company": {"companyName": name, "email": email, "countryCode": country},
            "formatsAndUnits": {"currency": currency},
            "settings": {"storeName": name},
            "taxSettings": {"pricesIncludeTax": prices_include_tax, "taxes": taxes if tax_in_prices else []},
        }
        self.stores[store_id] = EcwidStoreData(store_id, profile)
        return self.stores[store_id]

    def issue_code(self, store_id: int, redirect_uri: str, scope: str = FULL_SCOPES) -> str:
        """The code Ecwid appends to the redirect URI after the merchant pressed Install."""
        if store_id not in self.stores:
            raise KeyError(f"no Ecwid store {store_id}")
        code = secrets.token_urlsafe(16)
        self._codes[code] = _EcwidCode(store_id, redirect_uri, scope)
        return code

    def token_for(self, store_id: int) -> str:
        """The app's newest active token for the store."""
        return self.stores[store_id].tokens[-1]

    def revoke_tokens(self, store_id: int) -> None:
        """Every token of the app for the store is refused from now on (403 INVALID_API_TOKEN)."""
        self.stores[store_id].tokens.clear()

    def set_currency(self, store_id: int, currency: str) -> None:
        self.stores[store_id].profile["formatsAndUnits"]["currency"] = currency

    def add_category(self, store_id: int, *, enabled: bool = True, parent_id: int | None = None) -> int:
        category_id = next(self._ids)
        category: dict[str, Any] = {"id": category_id, "enabled": enabled, "name": f"Category {category_id}"}
        if parent_id is not None:
            category["parentId"] = parent_id
        self.stores[store_id].categories[category_id] = category
        return category_id

    def update_category(self, store_id: int, category_id: int, **changes: Any) -> None:
        self.stores[store_id].categories[category_id].update(changes)

    def delete_category(self, store_id: int, category_id: int) -> None:
        del self.stores[store_id].categories[category_id]
        for product in self.stores[store_id].products.values():
            product["categoryIds"] = [c for c in product.get("categoryIds", []) if c != category_id]

    def add_product(
        self,
        store_id: int,
        name: str = "Cotton T-shirt",
        price: float = 25.0,
        *,
        image: tuple[int, int, str] | None = (1000, 1000, "jpg"),
        category_ids: Sequence[int] = (),
        enabled: bool = True,
        variations: Sequence[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> int:
        """A product as Ecwid's JSON shows it; `variations` are combinations: {"options": {...}, "price"?, ...}."""
        product_id = next(self._ids)
        store = self.stores[store_id]
        product: dict[str, Any] = {
            "id": product_id,
            "sku": f"SKU-{product_id}",
            "name": name,
            "description": f"<p>{name}, made with care.</p>",
            "url": f"{store.profile['generalInfo']['storeUrl']}/product-p{product_id}",
            "enabled": enabled,
            "price": price,
            "inStock": True,
            "unlimited": True,
            "categoryIds": list(category_ids),
            "defaultCategoryId": category_ids[0] if category_ids else 0,
            "combinations": [self._combination(product_id, v) for v in variations],
            "updateTimestamp": 0,
        }
        if image is not None:
            product["originalImage"] = _ecwid_image(store_id, product_id, image)
        product.update(extra)
        store.products[product_id] = product
        return product_id

    def update_product(self, store_id: int, product_id: int, **changes: Any) -> None:
        """Change Ecwid fields (camelCase); `image=(w, h, ext)` replaces the main image, `image=None` removes it."""
        product = self.stores[store_id].products[product_id]
        if "image" in changes:
            image = changes.pop("image")
            if image is None:
                product.pop("originalImage", None)
            else:
                product["originalImage"] = _ecwid_image(store_id, product_id, image)
        product.update(changes)
        product["updateTimestamp"] = product.get("updateTimestamp", 0) + 1

    def delete_product(self, store_id: int, product_id: int) -> None:
        del self.stores[store_id].products[product_id]

    def combination_ids(self, store_id: int, product_id: int) -> list[int]:
        return [c["id"] for c in self.stores[store_id].products[product_id]["combinations"]]

    def _combination(self, product_id: int, variation: Mapping[str, Any]) -> dict[str, Any]:
        combination: dict[str, Any] = {
            "id": next(self._ids),
            "options": [{"name": k, "value": v} for k, v in variation.get("options", {}).items()],
        }
        for key in ("price", "compareToPrice", "quantity", "inStock", "unlimited"):
            if key in variation:
                combination[key] = variation[key]
        return combination

    # -- the API (EcwidApi) ------------------------------------------------------------------------------------
    def exchange_code(
        self, *, store_id: int, code: str, client_id: str, client_secret: str, redirect_uri: str
    ) -> EcwidToken:
        self._call("exchange_code")
        grant = self._codes.get(code)
        if client_id != self.client_id or client_secret != self.client_secret:
            raise EcwidOAuthRejected("Ecwid refused the install code (HTTP 401 invalid_client)", status=401)
        if grant is None or grant.used or grant.redirect_uri != redirect_uri or grant.store_id != store_id:
            raise EcwidOAuthRejected("Ecwid refused the install code (HTTP 400 invalid_grant)", status=400)
        grant.used = True
        token = "secret_" + secrets.token_urlsafe(24)
        self.stores[store_id].tokens.append(token)
        self.stores[store_id].scopes = set(grant.scope.split()) | {"read_store_profile"}
        return EcwidToken.model_validate(
            {"access_token": token, "token_type": "Bearer", "scope": grant.scope, "store_id": store_id}
        )

    def get_profile(self, store_id: int, token: str) -> StoreProfile:
        self._request("get_profile", token)
        return StoreProfile.model_validate(self._store(store_id, token).profile)

    def product_page(self, store_id: int, token: str, *, offset: int) -> ProductPage:
        self._request("product_page", token)
        store = self._store(store_id, token)
        products = [with_shown_prices(p, store.profile) for p in store.products.values()]  # ADDED_TIME_ASC
        return _page(products, offset)

    def products_by_id(self, store_id: int, token: str, product_ids: list[int]) -> list[EcwidProduct]:
        self._request("products_by_id", token)
        store = self._store(store_id, token)
        if len(product_ids) > ECWID_PAGE:
            raise EcwidError("Ecwid rejected the request (HTTP 400)", status=400)
        wanted = set(product_ids)
        return [
            EcwidProduct.model_validate(with_shown_prices(p, store.profile))
            for p in store.products.values()
            if p["id"] in wanted
        ]

    def get_product(self, store_id: int, token: str, product_id: int) -> EcwidProduct | None:
        self._request("get_product", token)
        store = self._store(store_id, token)
        product = store.products.get(product_id)
        return EcwidProduct.model_validate(with_shown_prices(product, store.profile)) if product is not None else None

    def products_in_category(self, store_id: int, token: str, category_id: int) -> Iterator[EcwidProduct]:
        self._request("products_in_category", token)
        store = self._store(store_id, token)
        wanted = {category_id} | _descendants(store.categories, category_id)
        for product in list(store.products.values()):
            if wanted & set(product.get("categoryIds", [])):
                yield EcwidProduct.model_validate(with_shown_prices(product, store.profile))

    def count_products_in_category(self, store_id: int, token: str, category_id: int) -> int:
        self._request("count_products_in_category", token)
        store = self._store(store_id, token)
        wanted = {category_id} | _descendants(store.categories, category_id)
        return sum(1 for product in store.products.values() if wanted & set(product.get("categoryIds", [])))

    def all_categories(self, store_id: int, token: str) -> list[EcwidCategory]:
        self._request("all_categories", token)
        return [EcwidCategory.model_validate(c) for c in self._store(store_id, token).categories.values()]

    def get_order(self, store_id: int, token: str, order_id: str) -> EcwidOrder | None:
        self._request("get_order", token)
        store = self._scoped(store_id, token, "read_orders")
        order = store.orders.get(order_id)
        try:
            return EcwidOrder.model_validate(order) if order is not None else None
        except ValidationError:  # as the adapter says it
            raise EcwidError(f"Ecwid's answer to /orders/{order_id} had an unexpected shape") from None

    def put_app_storage(self, store_id: int, token: str, key: str, value: str) -> None:
        self._request("put_app_storage", token)
        self._scoped(store_id, token, "update_store_profile").storage[key] = value

    def delete_app_storage(self, store_id: int, token: str, key: str) -> None:
        self._request("delete_app_storage", token)
        self._scoped(store_id, token, "update_store_profile").storage.pop(key, None)

    def add_order(
        self,
        store_id: int,
        items: Sequence[tuple[int, int | None, int]],
        *,
        paid: bool = True,
        email: str = "Shopper@Example.com ",
        phone: str | None = "+1 (415) 555-0199",
        placed_at: float = 0.0,
        **fields: Any,
    ) -> str:
        """An order of (product id, combination id or None, quantity) at each product's price; answers its id."""
        store = self.stores[store_id]
        order_id = f"K{next(self._ids)}"
        lines = []
        for product_id, combination_id, quantity in items:
            product = store.products[product_id]
            price = float(product.get("price", 0))
            line: dict[str, Any] = {"productId": product_id, "name": product.get("name", ""), "quantity": quantity}
            if combination_id is not None:
                combination = next(c for c in product.get("combinations", []) if c["id"] == combination_id)
                price = float(combination.get("price", price))
                line["combinationId"] = combination_id
            line["price"] = price
            lines.append(line)
        store.orders[order_id] = {
            "id": order_id,
            "internalId": next(self._ids),
            "total": round(sum(line["price"] * line["quantity"] for line in lines), 2),
            "paymentStatus": "PAID" if paid else "AWAITING_PAYMENT",
            "createTimestamp": int(placed_at),
            "email": email,
            "billingPerson": {"name": "Sam Shopper", "phone": phone, "countryCode": "US"},
            "items": lines,
            **fields,
        }
        return order_id

    def set_payment_status(self, store_id: int, order_id: str, status: str) -> None:
        self.stores[store_id].orders[order_id]["paymentStatus"] = status

    def _scoped(self, store_id: int, token: str, scope: str) -> EcwidStoreData:
        store = self._store(store_id, token)
        if scope not in store.scopes:
            raise EcwidAccessLost(
                "Ecwid refused access (HTTP 403 INSUFFICIENT_APP_SCOPE)",
                status=403,
                error_code="INSUFFICIENT_APP_SCOPE",
            )
        return store

    def _request(self, method: str, token: str) -> None:
        """One REST call with `token`: held while a 429's Retry-After lasts (with a clock), else made."""
        if self.clock is not None:
            left = self._not_before.get(token, 0.0) - self.clock()
            if left > 0:
                raise EcwidUnavailable("Ecwid asked to wait before the next call with this token", retry_after=left)
        try:
            self._call(method)
        except EcwidUnavailable as error:
            if self.clock is not None and error.status == 429 and error.retry_after is not None:
                until = self.clock() + error.retry_after
                self._not_before[token] = max(until, self._not_before.get(token, until))
            raise

    def _store(self, store_id: int, token: str) -> EcwidStoreData:
        store = self.stores.get(store_id)
        if store is None or token not in store.tokens:
            raise EcwidAccessLost(
                "Ecwid refused access (HTTP 403 INVALID_API_TOKEN)", status=403, error_code="INVALID_API_TOKEN"
            )
        if store.suspended:
            raise EcwidAccessLost(
                "Ecwid refused access (HTTP 402 STORE_IS_SUSPENDED)", status=402, error_code="STORE_IS_SUSPENDED"
            )
        return store


def _ecwid_image(store_id: int, product_id: int, image: tuple[int, int, str]) -> dict[str, Any]:
    width, height, extension = image
    url = f"https://images.example.com/{store_id}/{product_id}_{width}x{height}.{extension}"
    return {"url": url, "width": width, "height": height}


def _descendants(categories: Mapping[int, Mapping[str, Any]], parent: int) -> set[int]:
    found: set[int] = set()
    frontier = [parent]
    while frontier:
        current = frontier.pop()
        for category in categories.values():
            if category.get("parentId") == current and category["id"] not in found:
                found.add(category["id"])
                frontier.append(category["id"])
    return found


def _page(products: list[dict[str, Any]], offset: int) -> ProductPage:
    chosen = products[offset : offset + ECWID_PAGE]
    return ProductPage.model_validate(
        {
            "total": len(products),
            "count": len(chosen),
            "offset": offset,
            "limit": ECWID_PAGE,
            "items": copy.deepcopy(chosen),
        }
    )


# -- TikTok ------------------------------------------------------------------------------------------------------
MAX_UPLOAD = 5000
MAX_DELETE = 1000
AFFECTED_ITEMS_LISTED = 5  # a feed log names at most five SKUs per issue


def _rejected(code: int, message: str) -> TikTokRequestRejected:
    return TikTokRequestRejected(
        f"TikTok answered code {code}: {message}", code=code, request_id=uuid.uuid4().hex, detail=message
    )


@dataclass
class TikTokProduct:
    """A product in a TikTok catalog: what was uploaded, and TikTok's review of it."""

    fields: dict[str, Any]
    audit_status: str = "processing"
    reject_info: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TikTokCatalog:
    catalog_id: str
    bc_id: str
    name: str
    region_code: str
    currency: str
    products: dict[str, TikTokProduct] = field(default_factory=dict)
    uploads: list[list[str]] = field(default_factory=list)  # the sku_ids of each upload call TikTok took, in order
    refused: list[list[str]] = field(default_factory=list)  # the sku_ids of each upload call refused whole
    deletes: list[list[str]] = field(default_factory=list)


@dataclass
class TikTokGrant:
    """What an authorization grants: the merchant's Business Centers and ad accounts."""

    bc_ids: list[str]
    advertiser_ids: list[str]
    revoked: bool = False
    used: bool = False  # for auth codes


@dataclass
class BusinessProfileData:
    bc_id: str
    adv_id: str
    pixel_code: str
    catalog_id: str
    store_name: str
    connected: bool = True


class FakeTikTok(_Faults):
    """TikTok's Business API for one developer app (tiktok-api.md, and the sandbox's choices where TikTok's own
    behaviour is undocumented): tokens and single-use auth codes, Business Centers and ad accounts a token may
    use (40001 otherwise), 40105 for a revoked token, product validation and feed logs, reviews."""

    def __init__(self, business_platform: str = "ECWID") -> None:
        super().__init__()
        self.business_platform = business_platform
        self.tbp_allowed = True  # False: the app may not use the business profile (TBP) endpoints (40001)
        self.business_centers: dict[str, str] = {}  # bc_id → name
        self.advertisers: dict[str, str] = {}  # advertiser_id → bc_id
        self.catalogs: dict[str, TikTokCatalog] = {}
        self.pixels: dict[str, tuple[str, str]] = {}  # pixel_code → (advertiser_id, name)
        self.profiles: dict[tuple[str, str], BusinessProfileData] = {}  # (platform, external id) → profile
        self.shop_connected: dict[str, bool] = {}  # external business id → storefront connected
        self.accounts: dict[str, tuple[str, str]] = {}  # external business id → the merchant's (bc_id, adv_id)
        self.tokens: dict[str, TikTokGrant] = {}
        self.revoked_by_app: list[str] = []
        self.created_catalogs: list[str] = []
        self.created_pixels: list[str] = []
        # Checks TikTok makes while ingesting an upload beyond the field rules: (fields) → issue or None.
        self.ingestion_rules: list[Callable[[dict[str, Any]], ProductIssue | None]] = []
        # Products that make TikTok refuse the whole upload request (40002, nothing applied), and how its message
        # names the first of them: "field" (field and value), "index" or "sku_id" (see refusal_message).
        self.request_refusal_rules: list[Callable[[dict[str, Any]], ProductIssue | None]] = [empty_value_rule]
        self.refusal_message_names: RefusalMessageNames = "field"
        self.feed_log_files_served = True  # False: a feed log's complete list cannot be downloaded
        self._feed_log_files: dict[str, list[FeedLogFileRow]] = {}
        self._codes: dict[str, TikTokGrant] = {}
        self._feed_logs: dict[str, tuple[str, dict[str, Any]]] = {}  # feed_log_id → (catalog_id, product_feed_log)
        self._ids = itertools.count(7_100_000_000_000_000_001)
        self.event_sources: dict[str, list[str]] = {}  # catalog_id → bound pixel codes
        self.binds = 0  # bind calls made
        self.tracked: list[tuple[str, dict[str, Any]]] = []  # (pixel_code, event) TikTok accepted
        self.event_refusal: str | None = None  # a message: every event/track call is refused with 40002

    # -- the merchant on TikTok's pages ------------------------------------------------------------------------
    def authorize(
        self,
        external_business_id: str,
        *,
        profile: bool = True,
        currency: str = "USD",
        region: str = "US",
        store_name: str = "Demo Store",
        with_business_center: bool = True,
        with_ad_account: bool = True,
    ) -> str:
        """The merchant finishes TikTok's hosted setup for a store and comes back with this auth code.

        `profile`: the setup left a business profile (Business Center, ad account, pixel and catalog) for the
        store; otherwise only the merchant's Business Center and ad account exist. A merchant who authorizes
        again gets the same account back, and the setup reuses the store's pixel and its catalog when region
        and currency still match.
        """
        bc_id, adv_id = self.accounts.get(external_business_id) or (self._new_id(), self._new_id())
        self.accounts[external_business_id] = (bc_id, adv_id)
        self.business_centers.setdefault(bc_id, f"{store_name} Business Center")
        self.advertisers.setdefault(adv_id, bc_id)
        key = (self.business_platform, external_business_id)
        if profile:
            old = self.profiles.get(key)
            catalog = self.catalogs.get(old.catalog_id) if old else None
            if catalog is None or (catalog.currency, catalog.region_code) != (currency, region):
                catalog = self._create_catalog(bc_id, f"{store_name} catalog", region, currency)
            pixel_code = old.pixel_code if old else self._create_pixel(adv_id, f"{store_name} pixel")
            self.profiles[key] = BusinessProfileData(bc_id, adv_id, pixel_code, catalog.catalog_id, store_name)
        code = secrets.token_urlsafe(16)
        self._codes[code] = TikTokGrant(
            bc_ids=[bc_id] if with_business_center else [], advertiser_ids=[adv_id] if with_ad_account else []
        )
        return code

    def connect_shop(self, external_business_id: str) -> None:
        """The merchant clicked Connect and Finish Setup in the TikTok Shopping section."""
        self.shop_connected[external_business_id] = True

    def revoke_all(self) -> None:
        """The merchant removed the app's access in TikTok: every token answers 40105."""
        for grant in self.tokens.values():
            grant.revoked = True

    def catalog_of(self, external_business_id: str) -> TikTokCatalog:
        """The catalog the store's business profile names (or the only catalog of the merchant's account)."""
        profile = self.profiles.get((self.business_platform, external_business_id))
        if profile is not None:
            return self.catalogs[profile.catalog_id]
        bc_id, _ = self.accounts[external_business_id]
        [catalog] = [c for c in self.catalogs.values() if c.bc_id == bc_id]
        return catalog

    def review(self, rejections: Mapping[str, tuple[str, str]] | None = None) -> None:
        """TikTok's reviewers decide every product still processing: rejected with (reason, suggestion) when its
        sku_id is in `rejections`, approved otherwise."""
        for catalog in self.catalogs.values():
            for sku_id, product in catalog.products.items():
                if product.audit_status != "processing":
                    continue
                if rejections and sku_id in rejections:
                    reason, suggestion = rejections[sku_id]
                    product.audit_status = "rejected"
                    product.reject_info = [{"reason": reason, "suggestion": suggestion}]
                else:
                    product.audit_status, product.reject_info = "approved", []

    # -- the API (TikTokApi) -----------------------------------------------------------------------------------
    def exchange_auth_code(self, auth_code: str) -> AccessTokenData:
        self._call("exchange_auth_code")
        grant = self._codes.get(auth_code)
        if grant is None or grant.used:
            raise TikTokAuthCodeInvalid("TikTok answered code 40110: auth_code is invalid", code=40110)
        grant.used = True
        token = secrets.token_hex(20)
        self.tokens[token] = TikTokGrant(list(grant.bc_ids), list(grant.advertiser_ids))
        return AccessTokenData.model_validate(
            {"access_token": token, "advertiser_ids": grant.advertiser_ids, "scope": [1, 2, 3]}
        )

    def revoke_token(self, access_token: str) -> None:
        self._call("revoke_token")
        grant = self.tokens.get(access_token)
        if grant is None:
            raise TikTokTokenRevoked("TikTok answered code 40105: access_token is invalid", code=40105)
        grant.revoked = True  # revoking a revoked token succeeds (the sandbox's choice: a retry converges)
        self.revoked_by_app.append(access_token)

    def get_business_profile(self, token: str, *, business_platform: str, external_business_id: str) -> BusinessProfile:
        self._call("get_business_profile")
        profile = self._profile(token, business_platform, external_business_id)
        if profile is None or not profile.connected:
            return BusinessProfile()  # empty data: no (longer a) profile for the store
        return BusinessProfile(
            bc_id=profile.bc_id,
            adv_id=profile.adv_id,
            pixel_code=profile.pixel_code,
            catalog_id=profile.catalog_id,
            store_name=profile.store_name,
            status=2,
        )

    def disconnect_business_profile(self, token: str, *, business_platform: str, external_business_id: str) -> None:
        self._call("disconnect_business_profile")
        profile = self._profile(token, business_platform, external_business_id)
        if profile is None:
            raise _rejected(40002, "external_business_id: no business profile for this store.")
        profile.connected = False
        self.shop_connected[external_business_id] = False

    def disconnect_shop(self, token: str, *, business_platform: str, external_business_id: str) -> None:
        self._call("disconnect_shop")
        self._tbp(token)
        self.shop_connected[external_business_id] = False

    def shop_connection_status(
        self, token: str, *, business_platform: str, external_business_id: str
    ) -> ShopConnectionStatus:
        self._call("shop_connection_status")
        self._tbp(token)
        connected = self.shop_connected.get(external_business_id, False)
        return ShopConnectionStatus.model_validate(
            {"connect_info": {"connect_status": {"connect": 2 if connected else 1}}}
        )

    def list_business_centers(self, token: str) -> BusinessCenterList:
        self._call("list_business_centers")
        grant = self._grant(token)
        return BusinessCenterList.model_validate(
            {"list": [{"bc_info": {"bc_id": b, "name": self.business_centers[b]}} for b in grant.bc_ids]}
        )

    def iter_catalogs(self, token: str, bc_id: str) -> Iterator[CatalogSummary]:
        self._call("iter_catalogs")
        self._business_center(token, bc_id)
        for c in list(self.catalogs.values()):
            if c.bc_id == bc_id:
                yield CatalogSummary.model_validate(
                    {
                        "catalog_id": c.catalog_id,
                        "catalog_name": c.name,
                        "catalog_conf": {"region_code": c.region_code, "currency": c.currency},
                    }
                )

    def create_catalog(self, token: str, *, bc_id: str, name: str, region_code: str, currency: str) -> CreatedCatalog:
        self._call("create_catalog")
        self._business_center(token, bc_id)
        if not 1 <= len(name) <= 128:
            raise _rejected(40002, "name: 1 to 128 characters.")
        catalog = self._create_catalog(bc_id, name, region_code, currency)
        self.created_catalogs.append(catalog.catalog_id)
        return CreatedCatalog(catalog_id=catalog.catalog_id)

    def iter_pixels(self, token: str, advertiser_id: str) -> Iterator[PixelSummary]:
        self._call("iter_pixels")
        self._advertiser(token, advertiser_id)
        for code, (owner, name) in list(self.pixels.items()):
            if owner == advertiser_id:
                yield PixelSummary(pixel_code=code, pixel_name=name)

    def create_pixel(self, token: str, *, advertiser_id: str, name: str) -> CreatedPixel:
        self._call("create_pixel")
        self._advertiser(token, advertiser_id)
        if not 1 <= len(name) <= 40:
            raise _rejected(40002, "pixel_name: 1 to 40 characters.")
        code = self._create_pixel(advertiser_id, name)
        self.created_pixels.append(code)
        return CreatedPixel(pixel_code=code)

    def upload_products(self, token: str, *, bc_id: str, catalog_id: str, products: list[dict[str, Any]]) -> str:
        self._call("upload_products")
        catalog = self._catalog(token, bc_id, catalog_id)
        if not 1 <= len(products) <= MAX_UPLOAD:
            raise _rejected(40002, f"products: 1 to {MAX_UPLOAD} products per request.")
        for index, product in enumerate(products):
            issue = next((found for rule in self.request_refusal_rules if (found := rule(product)) is not None), None)
            if issue is not None:
                catalog.refused.append([str(p.get("sku_id")) for p in products])
                raise _rejected(40002, refusal_message(self.refusal_message_names, index, product, issue))
        catalog.uploads.append([str(p.get("sku_id")) for p in products])
        failed: list[tuple[dict[str, Any], int, list[ProductIssue]]] = []
        seen: set[str] = set()
        added = updated = 0
        for index, product in enumerate(copy.deepcopy(products)):
            issues = validate_product(product, catalog.currency)
            if not issues:
                issues = [found for rule in self.ingestion_rules if (found := rule(product)) is not None]
            if not issues and product["sku_id"] in seen:
                issues = [ProductIssue("sku_id", "Duplicate value: sku_id", "Each product needs its own SKU ID.")]
            if issues:
                failed.append((product, index + 2, issues))  # `index` counts like a file's rows after its header
                continue
            seen.add(product["sku_id"])
            existing = catalog.products.get(product["sku_id"])
            if existing is None:
                added += 1
                catalog.products[product["sku_id"]] = TikTokProduct(product)
            else:
                updated += 1
                if existing.fields != product:  # a changed product is reviewed again
                    existing.fields, existing.audit_status, existing.reject_info = product, "processing", []
        rows = [
            FeedLogFileRow(sku_id=str(p.get("sku_id")), field=i.field, issue=i.issue, suggestion=i.suggestion)
            for p, _, issues in failed
            for i in issues
        ]
        return self._feed_log(
            catalog,
            add_count=added,
            update_count=updated,
            error_count=len(failed),
            errors=group_issues(failed, AFFECTED_ITEMS_LISTED) or None,
            file_rows=rows,
        )

    def delete_products(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> str:
        self._call("delete_products")
        catalog = self._catalog(token, bc_id, catalog_id)
        if not 1 <= len(sku_ids) <= MAX_DELETE:
            raise _rejected(40002, f"sku_ids: 1 to {MAX_DELETE} per request.")
        catalog.deletes.append(list(sku_ids))
        deleted = sum(catalog.products.pop(sku_id, None) is not None for sku_id in dict.fromkeys(sku_ids))
        return self._feed_log(catalog, delete_count=deleted)

    def feed_log(self, token: str, *, bc_id: str, catalog_id: str, feed_log_id: str) -> FeedLog:
        self._call("feed_log")
        catalog = self._catalog(token, bc_id, catalog_id)
        found = self._feed_logs.get(feed_log_id)
        if found is None or found[0] != catalog.catalog_id:
            raise _rejected(40002, f"feed_log_id: no feed log {feed_log_id} in this catalog.")
        return FeedLog.model_validate(copy.deepcopy(found[1]))

    def feed_log_file(self, url: str) -> list[FeedLogFileRow]:
        self._call("feed_log_file")
        if not self.feed_log_files_served or url not in self._feed_log_files:
            raise TikTokError("TikTok's feed log file answered HTTP 404")
        return list(self._feed_log_files[url])

    def catalog_overview(self, token: str, *, bc_id: str, catalog_id: str) -> CatalogOverview:
        self._call("catalog_overview")
        catalog = self._catalog(token, bc_id, catalog_id)
        statuses = [product.audit_status for product in catalog.products.values()]
        return CatalogOverview(
            approved=statuses.count("approved"),
            processing=statuses.count("processing"),
            rejected=statuses.count("rejected"),
        )

    def products_by_sku(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> list[CatalogItem]:
        self._call("products_by_sku")
        catalog = self._catalog(token, bc_id, catalog_id)
        if len(sku_ids) > MAX_DELETE:
            raise _rejected(40002, "sku_ids: at most 1000.")
        return [_item(sku_id, catalog.products[sku_id]) for sku_id in sku_ids if sku_id in catalog.products]

    def iter_catalog_products(self, token: str, *, bc_id: str, catalog_id: str) -> Iterator[CatalogItem]:
        self._call("iter_catalog_products")
        catalog = self._catalog(token, bc_id, catalog_id)
        for sku_id, product in list(catalog.products.items()):
            yield _item(sku_id, product)

    # -- plumbing ----------------------------------------------------------------------------------------------
    def event_source_pixels(self, token: str, *, bc_id: str, catalog_id: str) -> list[str]:
        self._call("event_source_pixels")
        self._catalog(token, bc_id, catalog_id)
        return list(self.event_sources.get(catalog_id, []))

    def bind_event_source(
        self, token: str, *, advertiser_id: str, bc_id: str, catalog_id: str, pixel_code: str
    ) -> None:
        self._call("bind_event_source")
        self._catalog(token, bc_id, catalog_id)
        self._advertiser(token, advertiser_id)
        if self.pixels.get(pixel_code, ("",))[0] != advertiser_id:
            raise _rejected(40001, f"pixel_code: no permission for pixel {pixel_code}.")
        bound = self.event_sources.setdefault(catalog_id, [])
        if pixel_code in bound:
            raise _rejected(40002, "event source already bound")  # the sandbox's strict assumption
        bound.append(pixel_code)
        self.binds += 1

    def track_events(self, token: str, *, pixel_code: str, events: list[dict[str, Any]]) -> None:
        self._call("track_events")
        grant = self._grant(token)
        owner = self.pixels.get(pixel_code, ("",))[0]
        if owner not in grant.advertiser_ids:
            raise _rejected(40001, "event_source_id: no permission for this pixel.")
        if self.event_refusal is not None:
            raise _rejected(40002, self.event_refusal)
        if len(events) > 1000:
            raise _rejected(40002, "data: at most 1000 events.")
        for event in events:
            for key in ("email", "phone"):
                value = event.get("user", {}).get(key)
                if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
                    raise _rejected(40002, f"user.{key}: must be a SHA-256 hash.")
        self.tracked.extend((pixel_code, copy.deepcopy(event)) for event in events)

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _create_catalog(self, bc_id: str, name: str, region: str, currency: str) -> TikTokCatalog:
        catalog = TikTokCatalog(self._new_id(), bc_id, name, region, currency)
        self.catalogs[catalog.catalog_id] = catalog
        return catalog

    def _create_pixel(self, advertiser_id: str, name: str) -> str:
        code = "C" + secrets.token_hex(10).upper()
        self.pixels[code] = (advertiser_id, name)
        return code

    def _feed_log(
        self,
        catalog: TikTokCatalog,
        *,
        errors: list[dict[str, Any]] | None = None,
        file_rows: list[FeedLogFileRow] | None = None,
        **counts: int,
    ) -> str:
        feed_log_id = self._new_id()
        download_path = {}
        if file_rows:
            url = f"https://feed-logs.tiktok.test/{feed_log_id}.csv"
            self._feed_log_files[url] = file_rows
            download_path = {"en": url}
        self._feed_logs[feed_log_id] = (
            catalog.catalog_id,
            {
                "catalog_id": catalog.catalog_id,
                "process_status": "SUCCESS",
                "update_mode": "INCREASE",
                "add_count": counts.get("add_count", 0),
                "update_count": counts.get("update_count", 0),
                "delete_count": counts.get("delete_count", 0),
                "error_count": counts.get("error_count", 0),
                "warn_count": 0,
                "feed_log_data": {
                    "error_affected_products": errors,
                    "warn_affected_products": None,
                    "download_path": download_path,
                },
            },
        )
        return feed_log_id

    def _grant(self, token: str) -> TikTokGrant:
        grant = self.tokens.get(token)
        if grant is None or grant.revoked:
            raise TikTokTokenRevoked("TikTok answered code 40105: the access token is invalid or revoked", code=40105)
        return grant

    def _tbp(self, token: str) -> TikTokGrant:
        grant = self._grant(token)
        if not self.tbp_allowed:
            raise _rejected(40001, "The app has no permission for the TikTok Business Plugin API.")
        return grant

    def _profile(self, token: str, platform: str, external_business_id: str) -> BusinessProfileData | None:
        grant = self._tbp(token)
        profile = self.profiles.get((platform, external_business_id))
        return profile if profile is not None and profile.bc_id in grant.bc_ids else None

    def _business_center(self, token: str, bc_id: str) -> None:
        if bc_id not in self._grant(token).bc_ids:
            raise _rejected(40001, f"bc_id: no permission for Business Center {bc_id}.")

    def _advertiser(self, token: str, advertiser_id: str) -> None:
        if advertiser_id not in self._grant(token).advertiser_ids:
            raise _rejected(40001, f"advertiser_id: no permission for advertiser {advertiser_id}.")

    def _catalog(self, token: str, bc_id: str, catalog_id: str) -> TikTokCatalog:
        self._business_center(token, bc_id)
        catalog = self.catalogs.get(catalog_id)
        if catalog is None or catalog.bc_id != bc_id:
            raise _rejected(40001, f"catalog_id: no permission for catalog {catalog_id} in this Business Center.")
        return catalog


def _item(sku_id: str, product: TikTokProduct) -> CatalogItem:
    audit: dict[str, Any] = {"audit_status": product.audit_status}
    if product.audit_status == "rejected":
        audit["reject_info"] = copy.deepcopy(product.reject_info)
    return CatalogItem.model_validate({"sku_id": sku_id, "audit": audit})


class FakePixelRepository:
    """The `PixelRepository` port over the fake table (the DynamoDB adapter's keys)."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def get(self, store_id: int) -> PixelState:
        item = self._t.read((f"STORE#{store_id}", "PIXEL"))
        return PixelState.model_validate(item) if item else PixelState()

    def update(self, store_id: int, **fields: Any) -> PixelState:
        unknown = set(fields) - set(PixelState.model_fields)
        if unknown:
            raise ValueError(f"no such pixel fields: {sorted(unknown)}")
        item = self._t.items.setdefault((f"STORE#{store_id}", "PIXEL"), {})
        for name, value in fields.items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = _stored(value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value)
        return PixelState.model_validate(copy.deepcopy(item))

    def get_purchase(self, store_id: int, order_id: str) -> PurchaseRecord | None:
        item = self._t.read((f"STORE#{store_id}", f"ORDER#{order_id}"))
        return PurchaseRecord.model_validate(item) if item else None

    def put_purchase(self, store_id: int, record: PurchaseRecord, *, at: float) -> None:
        self._t.items[(f"STORE#{store_id}", f"ORDER#{record.order_id}")] = _map(record)

    def purchase_sent(self, store_id: int, record: PurchaseRecord, *, at: float) -> None:
        self.put_purchase(store_id, record, at=at)
        hour = (f"STORE#{store_id}", "PURCHASES#" + time.strftime("%Y-%m-%dT%H", time.gmtime(at)))
        self._t.items.setdefault(hour, {"purchases": 0})["purchases"] += 1

    def purchases_since(self, store_id: int, since: float) -> int:
        first = "PURCHASES#" + time.strftime("%Y-%m-%dT%H", time.gmtime(since))
        return sum(
            item["purchases"] for key, item in self._t.query(f"STORE#{store_id}", "PURCHASES#") if key[1] >= first
        )

    def forget(self, store_id: int) -> None:
        for prefix in ("PIXEL", "ORDER#", "PURCHASES#"):
            for key, _ in self._t.query(f"STORE#{store_id}", prefix):
                del self._t.items[key]


class FakeChoiceRepository:
    """The `ChoiceRepository` port over the fake table (the DynamoDB adapter's keys)."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def kept_off_products(self, store_id: int) -> frozenset[int]:
        return frozenset(self._ids(store_id, "CHOICE#P#"))

    def is_kept_off(self, store_id: int, product_id: int) -> bool:
        return self._t.read((f"STORE#{store_id}", f"CHOICE#P#{product_id}")) is not None

    def kept_off_categories(self, store_id: int) -> frozenset[int]:
        return frozenset(self._ids(store_id, "CHOICE#C#"))

    def keep_products_off(self, store_id: int, product_ids: Collection[int], *, show: bool, at: str) -> list[int]:
        changed = [i for i in sorted(set(product_ids)) if self.is_kept_off(store_id, i) == show]
        for product_id in changed:
            self._set((f"STORE#{store_id}", f"CHOICE#P#{product_id}"), show=show, at=at)
        return changed

    def keep_category_off(self, store_id: int, category_id: int, *, show: bool, at: str) -> bool:
        key = (f"STORE#{store_id}", f"CHOICE#C#{category_id}")
        changed = (key in self._t.items) == show
        self._set(key, show=show, at=at)
        return changed

    def forget(self, store_id: int) -> None:
        for key, _ in self._t.query(f"STORE#{store_id}", "CHOICE#"):
            del self._t.items[key]

    def _ids(self, store_id: int, prefix: str) -> list[int]:
        return [int(key[1].removeprefix(prefix)) for key, _ in self._t.query(f"STORE#{store_id}", prefix)]

    def _set(self, key: Key, *, show: bool, at: str) -> None:
        if show:
            self._t.items.pop(key, None)
        else:
            self._t.items[key] = {"at": at}


# -- the services ------------------------------------------------------------------------------------------------
class FakeServices:
    """`tiktok_channel.ports.Services` over the fakes above. `settings` overrides environment variables (by their
    names), `app_secrets` fields of the app secret. `clock` reads `now`, which `advance` moves; a test may also
    replace `clock` itself."""

    def __init__(
        self,
        *,
        now: float = NOW,
        settings: Mapping[str, str] | None = None,
        app_secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.now = now
        self.clock: Callable[[], float] = lambda: self.now
        self.table = FakeTable()
        self._settings = Settings.model_validate({**SETTINGS, **(settings or {})})
        self._secrets = AppSecrets.model_validate(
            {
                "ecwid_client_id": ECWID_CLIENT_ID,
                "ecwid_client_secret": ECWID_CLIENT_SECRET,
                "tiktok_app_id": TIKTOK_APP_ID,
                "tiktok_secret": TIKTOK_SECRET,
                "session_key": SESSION_KEY,
                **(app_secrets or {}),
            }
        )
        self._stores = FakeStoreRepository(self.table)
        self._catalog = FakeCatalogRepository(self.table)
        self._cleanups = FakeCleanupRepository(self.table)
        self._storefronts = FakeStorefrontRepository(self.table)
        self._pixels = FakePixelRepository(self.table)
        self._health = FakeSyncHealthRepository(self.table)
        self._choices = FakeChoiceRepository(self.table)
        self._cipher = FakeCipher()
        self._queue = FakeCatalogQueue(lambda: self.clock())
        self._events = FakeEventPublisher()
        self._images = FakeImageProbe()
        self._ecwid = FakeEcwid(self._secrets.ecwid_client_id, self._secrets.ecwid_client_secret)
        self._tiktok = FakeTikTok(self._settings.tiktok_business_platform)
        self.quick_tiktok_asked = 0  # how often a service asked for the client with short timeouts

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def stores(self) -> FakeStoreRepository:
        return self._stores

    @property
    def connections(self) -> FakeStoreRepository:
        # One fake for both ports: the store item and the connect flow share the item, as in DynamoDB.
        return self._stores

    @property
    def catalog(self) -> FakeCatalogRepository:
        return self._catalog

    @property
    def cleanups(self) -> FakeCleanupRepository:
        return self._cleanups

    @property
    def storefronts(self) -> FakeStorefrontRepository:
        return self._storefronts

    @property
    def pixels(self) -> FakePixelRepository:
        return self._pixels

    @property
    def health(self) -> FakeSyncHealthRepository:
        return self._health

    @property
    def choices(self) -> FakeChoiceRepository:
        return self._choices

    @property
    def cipher(self) -> FakeCipher:
        return self._cipher

    @property
    def queue(self) -> FakeCatalogQueue:
        return self._queue

    @property
    def events(self) -> FakeEventPublisher:
        return self._events

    @property
    def images(self) -> FakeImageProbe:
        return self._images

    def secrets(self) -> AppSecrets:
        return self._secrets

    def ecwid(self) -> FakeEcwid:
        return self._ecwid

    def tiktok(self, *, while_merchant_waits: bool = False) -> FakeTikTok:
        if while_merchant_waits:
            self.quick_tiktok_asked += 1
        return self._tiktok


if TYPE_CHECKING:
    _check: Services = FakeServices()
