"""The interfaces the services need, declared by the core and implemented at the edges.

`tiktok_channel.adapters` implements each with DynamoDB, SQS, EventBridge, KMS, Ecwid and TikTok over HTTP;
`tiktok_channel.runtime` builds them from the environment; tests pass in-memory fakes (tests/fakes.py).
Nothing here imports boto3, botocore or httpx. Failures are the exceptions of `tiktok_channel.errors`:
every port may raise `TransientError` (try again later); those it raises for other reasons are named below.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol

from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.models.catalog import SkuRecord, SkuStatus, SyncRun
from tiktok_channel.models.cleanup import CleanupItem, SkuChunk
from tiktok_channel.models.ecwid import EcwidToken, StoreProfile
from tiktok_channel.models.ecwid_catalog import EcwidCategory, EcwidProduct, ProductPage
from tiktok_channel.models.messages import QueueMessage
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
from tiktok_channel.settings import AppSecrets, Settings

SecretField = Literal["ecwid_token", "tiktok_token", "phone", "storefront_phone"]


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

    def get_hidden_categories(self, store_id: int) -> frozenset[int] | None: ...

    def put_hidden_categories(self, store_id: int, hidden: frozenset[int]) -> None: ...

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


class CatalogQueue(Protocol):
    """The catalog FIFO queue: group = store; `delay` sets when a received message is seen again."""

    def send(self, message: QueueMessage) -> None: ...

    def send_batch(self, messages: list[QueueMessage]) -> None: ...

    def delay(self, receipt_handle: str, seconds: float) -> None: ...

    def redrive(self, dead_letter_url: str) -> int: ...


class EventPublisher(Protocol):
    """The app's own events for the operator's rules; raises `EventPublishFailed`."""

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> str: ...


class SecretCipher(Protocol):
    """Encryption of a store's secrets, bound to the store and field they belong to."""

    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str: ...


class EcwidApi(Protocol):
    """Ecwid's OAuth and REST API (ecwid-api.md). Raises `EcwidAccessLost` when the token no longer works,
    `EcwidOAuthRejected` for a refused install code, `EcwidUnavailable` (transient) otherwise, its `retry_after`
    the seconds Ecwid asked to wait after a 429. Until those have passed, every call with that token raises
    `EcwidUnavailable` (`retry_after`: the seconds left) without reaching Ecwid."""

    def exchange_code(
        self, *, store_id: int, code: str, client_id: str, client_secret: str, redirect_uri: str
    ) -> EcwidToken: ...

    def get_profile(self, store_id: int, token: str) -> StoreProfile: ...

    def product_page(self, store_id: int, token: str, *, offset: int) -> ProductPage: ...

    def products_by_id(self, store_id: int, token: str, product_ids: list[int]) -> list[EcwidProduct]: ...

    def get_product(self, store_id: int, token: str, product_id: int) -> EcwidProduct | None: ...

    def products_in_category(self, store_id: int, token: str, category_id: int) -> Iterator[EcwidProduct]: ...

    def all_categories(self, store_id: int, token: str) -> list[EcwidCategory]: ...

    def get_order(self, store_id: int, token: str, order_id: str) -> EcwidOrder | None:
        """The order now (scope `read_orders`); None when the store has no such order."""

    def get_app_storage(self, store_id: int, token: str, key: str) -> str | None: ...

    def put_app_storage(self, store_id: int, token: str, key: str, value: str) -> None: ...

    def delete_app_storage(self, store_id: int, token: str, key: str) -> None: ...


class TikTokApi(Protocol):
    """TikTok's Business API v1.3 (tiktok-api.md), paced fleet-wide. Raises `PausedError` while TikTok asks the
    fleet to wait, `TikTokTokenRevoked` (40105), `TikTokAuthCodeInvalid` (40110), `TikTokRequestRejected` for
    refusals another try will not fix, `TikTokUnavailable` (transient) and `TikTokOutcomeUnknown`."""

    def exchange_auth_code(self, auth_code: str) -> AccessTokenData: ...

    def revoke_token(self, access_token: str) -> None: ...

    def get_business_profile(
        self, token: str, *, business_platform: str, external_business_id: str
    ) -> BusinessProfile: ...

    def disconnect_business_profile(self, token: str, *, business_platform: str, external_business_id: str) -> None: ...

    def disconnect_shop(self, token: str, *, business_platform: str, external_business_id: str) -> None: ...

    def shop_connection_status(
        self, token: str, *, business_platform: str, external_business_id: str
    ) -> ShopConnectionStatus: ...

    def list_business_centers(self, token: str) -> BusinessCenterList: ...

    def iter_catalogs(self, token: str, bc_id: str) -> Iterator[CatalogSummary]: ...

    def create_catalog(
        self, token: str, *, bc_id: str, name: str, region_code: str, currency: str
    ) -> CreatedCatalog: ...

    def iter_pixels(self, token: str, advertiser_id: str) -> Iterator[PixelSummary]: ...

    def create_pixel(self, token: str, *, advertiser_id: str, name: str) -> CreatedPixel: ...

    def upload_products(self, token: str, *, bc_id: str, catalog_id: str, products: list[dict[str, Any]]) -> str:
        """Upsert products keyed on sku_id; answers the feed log id."""

    def delete_products(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> str: ...

    def feed_log(self, token: str, *, bc_id: str, catalog_id: str, feed_log_id: str) -> FeedLog: ...

    def feed_log_file(self, url: str) -> list[FeedLogFileRow]:
        """Every failed product a feed log's `download_path` file lists; `TikTokError` when it cannot be read."""

    def products_by_sku(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> list[CatalogItem]: ...

    def catalog_overview(self, token: str, *, bc_id: str, catalog_id: str) -> CatalogOverview: ...

    def iter_catalog_products(self, token: str, *, bc_id: str, catalog_id: str) -> Iterator[CatalogItem]: ...

    def event_source_pixels(self, token: str, *, bc_id: str, catalog_id: str) -> list[str]: ...

    def bind_event_source(
        self, token: str, *, advertiser_id: str, bc_id: str, catalog_id: str, pixel_code: str
    ) -> None: ...

    def track_events(self, token: str, *, pixel_code: str, events: list[dict[str, Any]]) -> None:
        """Events API: at most 1,000 web events for the pixel; `TikTokRequestRejected` names a refused field."""


class ImageProbe(Protocol):
    """Reads an image's size and format from its first bytes; None when it cannot (never raises)."""

    def read_image_size(self, url: str) -> ImageSize | None: ...


class Services(Protocol):
    """Everything a service function may use, built lazily by the composition root (`tiktok_channel.runtime`)
    or by a test. `clock` answers epoch seconds and may be replaced (tests move it)."""

    clock: Callable[[], float]

    @property
    def settings(self) -> Settings: ...

    @property
    def stores(self) -> StoreRepository: ...

    @property
    def connections(self) -> ConnectionRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def cleanups(self) -> CleanupRepository: ...

    @property
    def storefronts(self) -> StorefrontRepository: ...

    @property
    def cipher(self) -> SecretCipher: ...

    @property
    def pixels(self) -> PixelRepository: ...

    @property
    def queue(self) -> CatalogQueue: ...

    @property
    def events(self) -> EventPublisher: ...

    @property
    def images(self) -> ImageProbe: ...

    def secrets(self) -> AppSecrets:
        """The app's credentials (rotations reach a warm function within minutes)."""

    def ecwid(self) -> EcwidApi: ...

    def tiktok(self, *, while_merchant_waits: bool = False) -> TikTokApi:
        """The TikTok client; `while_merchant_waits` gives one with short timeouts and few retries, for calls
        made during a request the merchant waits on."""
