"""The repository interfaces the services need (the app's state in DynamoDB), declared by the core and implemented
in `tiktok_channel.adapters`; re-exported by `tiktok_channel.ports` with the other ports. Nothing here imports
boto3 or botocore; conditional writes raise `ConcurrentUpdate` when another writer won.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.catalog.visibility import CategoryVisibility
from tiktok_channel.models.catalog import SkuRecord, SkuStatus, SyncRun
from tiktok_channel.models.cleanup import CleanupItem, SkuChunk
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


class StoreRepository(Protocol):
    """The store item: install, sync state, counts, notices, the connected stores. Conditional writes raise
    `ConcurrentUpdate` when another writer won; `queue_sync` raises `NotConnected` for a store without a live
    connection."""

    def get(self, store_id: int) -> Store | None: ...

    def save_installation(self, store: Store, *, expected_version: int | None) -> None: ...

    def connected_stores(self) -> Iterator[tuple[int, int]]:
        """(store_id, epoch) of every connected store, from the sparse index (never a table scan)."""

    def queue_sync(self, store_id: int, job_id: str, now: str, stale_before: str) -> tuple[str, bool]:
        """(the job queued or running, whether it is this new one); a job queued before `stale_before` is lost."""

    def save_sync(self, store_id: int, epoch: int, sync: SyncState, products: ProductCounts | None = None) -> None: ...

    def add_counts(self, store_id: int, epoch: int, changes: Mapping[str, int], *, now: str) -> None:
        """Move the product counts atomically; the store enters the pending-reviews index when its pending count
        becomes positive (due `now`), and leaves it when it reaches 0."""

    def stores_to_review(self) -> list[ReviewCandidate]:
        """Every store with SKUs pending TikTok's review, the longest since its last check first."""

    def leave_review_index(self, store_id: int) -> None:
        """A store no longer connected stops being a review candidate."""

    def mark_reviewed(self, store_id: int, epoch: int, *, checked_at: str, counts: TikTokCounts) -> None:
        """TikTok's review statuses were read at `checked_at` (ISO 8601): the store waits its turn again."""

    def set_notice(
        self, store_id: int, epoch: int, notice: Notice | None, *, status: StoreStatus | None = None
    ) -> None: ...


class ConnectionRepository(Protocol):
    """The connect flow: signed OAuth states' server-side records and the pending connection, kept apart from the
    live one until every setup step has succeeded. Conditional writes raise `ConcurrentUpdate`."""

    def issue_state(self, state: OAuthState, *, phone: bytes | None, now: str) -> None: ...

    def get_state(self, store_id: int, nonce: str) -> OAuthState | None: ...

    def begin_connection(self, state: OAuthState, *, auth_code_hash: str, pending: PendingConnection) -> None: ...

    def set_state_status(self, store_id: int, nonce: str, status: str) -> None: ...

    def update_pending(self, store_id: int, nonce: str, **fields: Any) -> None: ...

    def abandon_connection(self, store_id: int, nonce: str) -> None: ...

    def complete_connection(
        self, store_id: int, nonce: str, connection: TikTokConnection, sync: SyncState, now: str
    ) -> Store: ...


class CatalogRepository(Protocol):
    """One record per SKU, the full sync in progress with the SKUs its pages saw, hidden categories, and image
    sizes remembered per URL."""

    def get_skus(self, store_id: int, sku_ids: Iterable[str]) -> dict[str, SkuRecord]: ...

    def put_skus(self, store_id: int, records: Iterable[SkuRecord]) -> None: ...

    def delete_skus(self, store_id: int, sku_ids: Iterable[str]) -> None: ...

    def all_skus(self, store_id: int) -> Iterator[SkuRecord]: ...

    def skus_by_status(
        self, store_id: int, status: SkuStatus, *, limit: int, after_sku: str | None = None
    ) -> tuple[list[SkuRecord], str | None]:
        """Up to `limit` records of one status in sku_id order after `after_sku`, and the last one's sku_id when
        more may follow."""

    def skus_of_product(self, store_id: int, product_id: int) -> dict[str, SkuRecord]: ...

    def get_categories(self, store_id: int) -> CategoryVisibility | None: ...

    def put_categories(self, store_id: int, categories: CategoryVisibility) -> None: ...

    def get_run(self, store_id: int, job_id: str) -> SyncRun | None: ...

    def put_run(self, store_id: int, run: SyncRun, now: float) -> None: ...

    def record_page(self, store_id: int, job_id: str, offset: int, sku_ids: Iterable[str], now: float) -> None: ...

    def seen_skus(self, store_id: int, job_id: str) -> set[str]: ...

    def get_image_sizes(self, urls: Sequence[str]) -> dict[str, ImageSize]: ...

    def put_image_sizes(self, sizes: dict[str, ImageSize], now: float) -> None: ...


class CleanupRepository(Protocol):
    """The one write that takes a store down, and what is left to tell TikTok (journey 6)."""

    def disconnect(
        self, store: Store, cleanups: list[CleanupItem], *, epoch: int, uninstall: bool, now: str, at: float
    ) -> None: ...

    def retire_states(self, store_id: int) -> int: ...

    def purge_catalog(
        self, store_id: int, *, time_left: Callable[[], bool], keep_for: str | None = None, at: float = 0.0
    ) -> bool:
        """Delete the store's catalog records while `time_left()`; True once none is left.

        With `keep_for` (a cleanup id), the sku_ids of the SKU items on TikTok are first written into that
        cleanup's chunks (≤ 1,000 each, expiring with cleanups from `at`), and only then are the items deleted.
        """

    def pending(self, store_id: int) -> list[CleanupItem]:
        """The store's cleanup items (never their SKU chunks)."""

    def sku_chunks(self, store_id: int, cleanup_id: str) -> Iterator[SkuChunk]: ...

    def drop_chunk(self, chunk: SkuChunk) -> None: ...

    def save_progress(self, item: CleanupItem) -> None: ...

    def finish(self, item: CleanupItem) -> None:
        """Forget the item (its token) and any SKU chunk it still has."""

    def set_outcome(self, store_id: int, outcome: RemoteCleanup) -> None: ...


class StorefrontRepository(Protocol):
    """The storefront item: the application, TikTok's decision and the history of moves."""

    def get(self, store_id: int) -> StorefrontRecord | None: ...

    def move(
        self,
        store_id: int,
        *,
        from_states: Collection[str],
        move: StorefrontMove,
        require_connected: bool,
        sets: Mapping[str, Any] | None = None,
        removes: Collection[str] = (),
    ) -> None: ...

    def consume_state(self, store_id: int, nonce: str, auth_code_hash: str) -> None: ...


class PixelRepository(Protocol):
    """The store's pixel state, one record per order's purchase, and purchases TikTok accepted counted per hour.
    `update` sets the named `PixelState` fields (None removes one) and answers the state after it; `purchase_sent`
    marks a purchase sent and counts it in the hour of `at` in one write; `purchases_since` counts from the hour
    of `since` (epoch seconds); `forget` deletes all of it (uninstall)."""

    def get(self, store_id: int) -> PixelState: ...

    def update(self, store_id: int, **fields: Any) -> PixelState: ...

    def get_purchase(self, store_id: int, order_id: str) -> PurchaseRecord | None: ...

    def put_purchase(self, store_id: int, record: PurchaseRecord, *, at: float) -> None: ...

    def purchase_sent(self, store_id: int, record: PurchaseRecord, *, at: float) -> None: ...

    def purchases_since(self, store_id: int, since: float) -> int: ...

    def forget(self, store_id: int) -> None: ...


class ChoiceRepository(Protocol):
    """The merchant's choices of what goes to TikTok (journey 8): products and categories kept off, kept across a
    disconnect, forgotten at uninstall. `keep_products_off` answers the products whose choice changed;
    `keep_category_off` whether the category's did; `kept_off_categories` are the switched categories themselves
    (their subcategories are the sync's to add)."""

    def kept_off_products(self, store_id: int) -> frozenset[int]: ...

    def is_kept_off(self, store_id: int, product_id: int) -> bool: ...

    def kept_off_categories(self, store_id: int) -> frozenset[int]: ...

    def keep_products_off(self, store_id: int, product_ids: Collection[int], *, show: bool, at: str) -> list[int]: ...

    def keep_category_off(self, store_id: int, category_id: int, *, show: bool, at: str) -> bool: ...

    def forget(self, store_id: int) -> None: ...
