"""The interfaces the services need, declared by the core and implemented at the edges (the repositories of the
app's state are in repository_ports.py, re-exported here).

`tiktok_channel.adapters` implements each with DynamoDB, SQS, EventBridge, KMS, Ecwid and TikTok over HTTP;
`tiktok_channel.runtime` builds them from the environment; tests pass in-memory fakes (tests/fakes.py).
Nothing here imports boto3, botocore or httpx. Failures are the exceptions of `tiktok_channel.errors`:
every port may raise `TransientError` (try again later); those it raises for other reasons are named below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.health_ports import SyncHealthRepository
from tiktok_channel.models.ecwid import EcwidToken, StoreProfile
from tiktok_channel.models.ecwid_catalog import EcwidCategory, EcwidProduct, ProductPage
from tiktok_channel.models.messages import QueueMessage
from tiktok_channel.models.orders import EcwidOrder
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
from tiktok_channel.repository_ports import (
    CatalogRepository,
    ChoiceRepository,
    CleanupRepository,
    ConnectionRepository,
    PixelRepository,
    StorefrontRepository,
    StoreRepository,
)
from tiktok_channel.settings import AppSecrets, Settings

SecretField = Literal["ecwid_token", "tiktok_token", "phone", "storefront_phone"]

__all__ = [
    "CatalogQueue",
    "CatalogRepository",
    "ChoiceRepository",
    "CleanupRepository",
    "ConnectionRepository",
    "EcwidApi",
    "EventPublisher",
    "ImageProbe",
    "PixelRepository",
    "SecretCipher",
    "SecretField",
    "Services",
    "StoreRepository",
    "StorefrontRepository",
    "SyncHealthRepository",
    "TikTokApi",
]


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

    def count_products_in_category(self, store_id: int, token: str, category_id: int) -> int:
        """How many products Ecwid counts in the category and its subcategories (one call)."""

    def get_order(self, store_id: int, token: str, order_id: str) -> EcwidOrder | None:
        """The order now (scope `read_orders`); None when the store has no such order."""

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
    def choices(self) -> ChoiceRepository: ...

    @property
    def health(self) -> SyncHealthRepository: ...

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
