"""State of the sandbox TikTok For Business: plain dataclasses the tests can read and change.

Ids follow TikTok's shapes (19-digit numeric strings for Business Centers, advertisers, catalogs and
feed logs; 20-character pixel codes starting with "C") so that client code that validates or stores
them meets realistic values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Response codes of TikTok's envelope that the sandbox answers (tiktok-api.md, "Envelope and errors").
OK = 0
PARAM_MALFORMED = 40000
NO_PERMISSION = 40001
PARAM_INVALID = 40002
RATE_LIMITED = 40100
TOKEN_INVALID = 40105
AUTH_CODE_INVALID = 40110

# TikTok answers `scope` as a list of numeric permission ids; the real ids are not published in
# anything we rely on, so these are the sandbox's own, one per permission group the project uses.
SCOPE_AD_ACCOUNT = 1
SCOPE_BUSINESS_CENTER = 2
SCOPE_PIXEL = 3
SCOPE_CATALOG = 4
SCOPE_TBP = 5  # TikTok Business Plugin: business profile and shop connection endpoints
SCOPE_EVENTS = 6
ALL_SCOPES: tuple[int, ...] = (
    SCOPE_AD_ACCOUNT,
    SCOPE_BUSINESS_CENTER,
    SCOPE_PIXEL,
    SCOPE_CATALOG,
    SCOPE_TBP,
    SCOPE_EVENTS,
)

AUDIT_PROCESSING = "processing"
AUDIT_APPROVED = "approved"
AUDIT_REJECTED = "rejected"

PROFILE_CONNECTED = 2  # business_profile/get `status`: anything else means "not fully connected"
SHOP_CONNECTED = 2  # shop/connection/get_status `connect_info.connect_status.connect`
SHOP_NOT_CONNECTED = 1


class ApiError(Exception):
    """Ends a handler with a non-zero envelope code; `message` names the field at fault."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Token:
    access_token: str
    advertiser_ids: list[str]
    scope: list[int]
    bc_ids: list[str]
    revoked: bool = False
    created_at: float = 0.0


@dataclass
class AuthCode:
    code: str
    app_id: str
    advertiser_ids: list[str]
    bc_ids: list[str]
    scope: list[int]
    expires_at: float
    used: bool = False


@dataclass
class BusinessCenter:
    bc_id: str
    name: str
    currency: str = "USD"
    registered_area: str = "US"
    timezone: str = "Etc/GMT"


@dataclass
class Advertiser:
    advertiser_id: str
    advertiser_name: str
    bc_id: str
    currency: str = "USD"
    country: str = "US"


@dataclass
class Pixel:
    pixel_id: str
    pixel_code: str
    pixel_name: str
    advertiser_id: str


@dataclass
class CatalogProduct:
    """One SKU item as TikTok holds it: the uploaded fields plus TikTok's own review state."""

    fields: dict[str, Any]
    audit_status: str = AUDIT_PROCESSING
    reject_info: list[dict[str, Any]] = field(default_factory=list)
    uploaded_at: float = 0.0
    product_id: str = ""
    # TikTok's image_status: SUCCESS, or FILTERED / NOT_SUPPORTED / NO_FOUND / FAIL when the image is
    # unusable; such a product stays "processing" for ever (TikTok's reference says so).
    image_status: str = "PROCESSING"
    review_due_at: float = 0.0
    # Sandbox-clock time of the last accepted upload of this SKU, changed or not: it expires
    # `TikTokSandbox.product_expiry_seconds` later. None (a product a test planted) never expires.
    refreshed_at: float | None = None

    @property
    def sku_id(self) -> str:
        return str(self.fields.get("sku_id", ""))


@dataclass
class Catalog:
    catalog_id: str
    bc_id: str
    name: str
    region_code: str
    currency: str
    catalog_type: str = "ECOM"
    created_at: float = 0.0
    products: dict[str, CatalogProduct] = field(default_factory=dict)
    # Pixel codes bound to the catalog (tiktok-api.md "Pixel ↔ catalog"), in binding order; a new catalog
    # (one deleted and created again included) starts with none.
    event_sources: list[str] = field(default_factory=list)


@dataclass
class BusinessProfile:
    """What TikTok's hosted setup produced for one store, keyed (business_platform, external_business_id)."""

    bc_id: str
    adv_id: str
    pixel_code: str
    catalog_id: str
    store_name: str
    status: int = PROFILE_CONNECTED
    connected: bool = True
    business_platform: str = ""
    external_business_id: str = ""


@dataclass
class ShopConnection:
    """TikTok Shopping (storefront) state of one store, keyed by external_business_id."""

    external_business_id: str
    business_platform: str = ""
    approved: bool = False  # set by approve_shop(): TikTok accepted the storefront application
    connected: bool = False


@dataclass
class FeedLog:
    feed_log_id: str
    bc_id: str
    catalog_id: str
    created_at: float
    ready_at: float
    add_count: int = 0
    update_count: int = 0
    delete_count: int = 0
    error_count: int = 0
    error_affected_products: list[dict[str, Any]] = field(default_factory=list)
    # The feed log's file (download_path): one row per (failed product, issue), every failed product.
    error_rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrackedEvent:
    pixel_code: str
    event: dict[str, Any]
    received_at: float


@dataclass
class MerchantAccount:
    """The TikTok For Business account behind one store: a returning merchant gets the same BC and ad
    account back when they authorize again, as they would log in to the same account on TikTok."""

    bc_id: str
    advertiser_id: str
