"""Bodies of the app's own HTTP API (docs/contract.md): what the routes take and what they answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)


class _Answer(BaseModel):
    # An answer carries exactly its model's fields: a service that starts answering more fails the tests.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


# -- requests ----------------------------------------------------------------------------------
class SessionRequest(_Request):
    """POST /api/session: Ecwid's encrypted payload, as the merchant page received it."""

    payload: str = Field(min_length=1, max_length=8192)


class ConnectRequest(_Request):
    """POST /api/stores/{storeId}/connect: the phone the merchant typed (normalized by the service)."""

    phone: str = Field(max_length=40)


# -- answers -----------------------------------------------------------------------------------
class ErrorDetail(_Answer):
    """What went wrong: a stable snake_case `code`, a `message` that says what to do, and for a form `fields`
    (each wrong field and what to enter there)."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorAnswer(_Answer):
    """Every refusal and failure: `{"error": {"code", "message"}}`."""

    error: ErrorDetail


class SessionAnswer(_Answer):
    """A merchant page session: the bearer token of the store routes, for at most an hour."""

    session: str
    store_id: int
    expires_at: str


class AuthorizeUrl(_Answer):
    """Where the merchant's browser goes next: TikTok's authorize page."""

    authorize_url: str


class SyncJob(_Answer):
    """The full sync "Sync Products" queued, or the one already queued or running."""

    job_id: str
    state: Literal["idle", "queued", "running"]


class ProductReason(_Answer):
    """Why TikTok rejected a product or the app held it back, and what to do about it."""

    message: str
    suggestion: str | None


class ListedProduct(_Answer):
    """One SKU of a product list."""

    sku_id: str
    product_id: int
    title: str
    status: str
    reasons: list[ProductReason]
    # Sent to TikTok with the store's name as its brand, since the product has no Brand attribute in Ecwid.
    brand_from_store_name: bool = False


class ProductPage(_Answer):
    """One page of a status's products; `next_cursor` asks for the next page (null on the last one)."""

    items: list[ListedProduct]
    next_cursor: str | None


class DisconnectAnswer(_Answer):
    """The store is disconnected here; TikTok was told at once ("done") or will be in the background."""

    status: Literal["disconnected"]
    remote_cleanup: Literal["done", "pending"]


class PixelRequest(_Request):
    """PUT /api/stores/{storeId}/pixel: the merchant's server-side purchases switch."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    server_events: bool = Field(strict=True)


class PixelLastError(_Answer):
    """The pixel's last failure: a stable `code`, a `message` that says what to do, when, and the order if any."""

    code: str
    message: str
    at: str
    order_id: str | None = None


class PixelAnswer(_Answer):
    """GET|PUT /api/stores/{storeId}/pixel (design.md contract), plus what the page needs to say what to do:
    the Ecwid scopes still to grant and the code of the store's own TikTok pixel when that one fires."""

    pixel_code: str | None
    storefront_script: Literal["installed", "not_installed", "store_pixel_active"]
    server_events: bool
    purchases_sent_24h: int
    last_error: PixelLastError | None = None
    missing_scopes: list[str]
    grant_access_url: str | None = None
    store_pixel_code: str | None = None


class VisibilityRequest(_Request):
    """PUT /api/stores/{storeId}/products/visibility: `{"product_ids": [1-500 ids], "show"}` or
    `{"category_id", "show"}`, never both."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    # Ecwid's ids are 64-bit at most: a larger number is no product or category of Ecwid's (a 400, not a request
    # Ecwid would refuse as malformed).
    product_ids: list[Annotated[int, Field(gt=0, lt=2**63, strict=True)]] | None = Field(
        default=None, min_length=1, max_length=500
    )
    category_id: int | None = Field(default=None, gt=0, lt=2**63, strict=True)
    show: bool = Field(strict=True)

    @model_validator(mode="after")
    def _one_form(self) -> VisibilityRequest:
        if (self.product_ids is None) == (self.category_id is None):
            raise ValueError("give either product_ids (a list of product ids) or category_id, not both")
        return self


class VisibilityAnswer(_Answer):
    """How many products' choice changed (for a category: its products as Ecwid counts them, when it changed)."""

    updated: int


class CategoryItem(_Answer):
    """One of the store's categories: `hidden` in Ecwid, `kept_off` by the merchant's switch."""

    id: int
    name: str
    parent_id: int | None
    hidden: bool
    kept_off: bool


class CategoryList(_Answer):
    """GET /api/stores/{storeId}/categories: every category of the store, for the page's category switch."""

    items: list[CategoryItem]
