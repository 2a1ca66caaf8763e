"""TikTok Business API payloads (the `data` part of its envelope), as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _TikTokModel(BaseModel):
    # TikTok ids are digit strings that sometimes arrive as JSON numbers.
    model_config = ConfigDict(
        extra="ignore", coerce_numbers_to_str=True, hide_input_in_errors=True, populate_by_name=True
    )


class NoData(_TikTokModel):
    """For calls whose answer carries nothing this app reads."""


class Envelope(_TikTokModel):
    code: int
    message: str = ""
    request_id: str = ""
    data: Any = None


class AccessTokenData(_TikTokModel):
    access_token: SecretStr = Field(min_length=1)
    advertiser_ids: list[str] = []
    scope: list[Any] = []


class BusinessProfile(_TikTokModel):
    """`tbp/business_profile/get`; every field is absent when the hosted setup made no profile."""

    bc_id: str | None = None
    adv_id: str | None = None
    pixel_code: str | None = None
    catalog_id: str | None = None
    store_name: str | None = None
    status: int | None = None

    @property
    def exists(self) -> bool:
        return any((self.bc_id, self.adv_id, self.catalog_id, self.pixel_code))


SHOP_CONNECTED = 2  # `connect_status.connect` of a storefront that is connected


class _ShopConnectStatus(_TikTokModel):
    connect: int | None = None


class _ShopConnectInfo(_TikTokModel):
    connect_status: _ShopConnectStatus = _ShopConnectStatus()


class ShopConnectionStatus(_TikTokModel):
    """`tbp/shop/connection/get_status`: whether the store's TikTok Shopping storefront is connected."""

    connect_info: _ShopConnectInfo = _ShopConnectInfo()

    @property
    def connected(self) -> bool:
        return self.connect_info.connect_status.connect == SHOP_CONNECTED


class PageInfo(_TikTokModel):
    page: int = 1
    page_size: int = 0
    total_number: int = 0
    total_page: int = 0


class _BcInfo(_TikTokModel):
    bc_id: str
    name: str = ""


class _BusinessCenterItem(_TikTokModel):
    bc_info: _BcInfo


class BusinessCenterList(_TikTokModel):
    """`bc/get` (shape unconfirmed in tiktok-api.md: `data.list[].bc_info.bc_id`)."""

    items: list[_BusinessCenterItem] = Field(default=[], alias="list")

    @property
    def bc_ids(self) -> list[str]:
        return [item.bc_info.bc_id for item in self.items]


class CatalogConf(_TikTokModel):
    region_code: str | None = None
    currency: str | None = None


class CatalogSummary(_TikTokModel):
    catalog_id: str
    catalog_name: str = ""
    catalog_conf: CatalogConf = CatalogConf()


class Paged(_TikTokModel):
    """A page of a TikTok list endpoint."""

    page_info: PageInfo = PageInfo()


class CatalogList(Paged):
    items: list[CatalogSummary] = Field(default=[], alias="list")


class CreatedCatalog(_TikTokModel):
    catalog_id: str


class PixelSummary(_TikTokModel):
    pixel_code: str
    pixel_id: str | None = None
    pixel_name: str = ""


class PixelList(Paged):
    items: list[PixelSummary] = Field(default=[], alias="pixels")


class CreatedPixel(_TikTokModel):
    pixel_code: str
    pixel_id: str | None = None


# -- catalog products ----------------------------------------------------------------------------
class FeedLogId(_TikTokModel):
    """The answer of an upload or a delete: TikTok processes the feed asynchronously."""

    feed_log_id: str


class AffectedSku(_TikTokModel):
    sku_id: str


class FeedIssue(_TikTokModel):
    field: str | None = None
    issue: str | None = None
    suggestion: str | None = None
    affected_product_count: int | None = None
    affected_product_item_list: list[AffectedSku] | None = None


class _FeedLogData(_TikTokModel):
    error_affected_products: list[FeedIssue] | None = None
    # language code → link to the complete list of affected products; `{}` when there is nothing
    download_path: dict[str, str] | None = None


class FeedLogFileRow(_TikTokModel):
    """One failed product of a feed log's complete list (the `download_path` file)."""

    sku_id: str
    field: str | None = None
    issue: str | None = None
    suggestion: str | None = None


class FeedLog(_TikTokModel):
    process_status: str = "PROCESSING"
    add_count: int = 0
    update_count: int = 0
    delete_count: int = 0
    error_count: int = 0
    feed_log_data: _FeedLogData = _FeedLogData()

    @property
    def done(self) -> bool:
        return self.process_status.upper() not in ("PROCESSING", "WAITING", "PENDING")

    @property
    def issues(self) -> list[FeedIssue]:
        return self.feed_log_data.error_affected_products or []

    @property
    def file_url(self) -> str | None:
        """The complete list of affected products, preferring English; None when the log links none."""
        links = self.feed_log_data.download_path or {}
        return links.get("en") or next(iter(links.values()), None)


class FeedLogAnswer(_TikTokModel):
    product_feed_log: FeedLog


class RejectInfo(_TikTokModel):
    reason: str | None = None
    suggestion: str | None = None


class Audit(_TikTokModel):
    audit_status: str = "processing"
    reject_info: list[RejectInfo] | None = None


class CatalogItem(_TikTokModel):
    sku_id: str
    audit: Audit = Audit()


class CatalogItemList(Paged):
    items: list[CatalogItem] = Field(default=[], alias="list")


class CatalogOverview(_TikTokModel):
    """`catalog/overview`: how many of the catalog's products TikTok approved, is reviewing and rejected."""

    approved: int = 0
    processing: int = 0
    rejected: int = 0


class _EventSource(_TikTokModel):
    event_source_name: str | None = None
    pixel_code: str | None = None
    app_id: str | None = None


class EventSourceBinding(_TikTokModel):
    """`catalog/eventsource_bind/get`: the event sources (pixels, apps) bound to a catalog."""

    catalog_id: str | None = None
    event_sources: list[_EventSource] = []
