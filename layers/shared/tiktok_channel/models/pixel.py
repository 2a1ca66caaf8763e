"""The store's pixel as the app keeps it (journey 7): the merchant's server-events choice, what the app set up in
Ecwid and TikTok for it, the last failure, and one record per order whose purchase the server handled."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

_MODEL = ConfigDict(extra="ignore", hide_input_in_errors=True)


class PixelFailure(BaseModel):
    """What last went wrong for the pixel, worded for the merchant: `code` is stable snake_case."""

    model_config = _MODEL

    code: str
    message: str
    at: str  # ISO 8601, UTC
    order_id: str | None = None


class PixelState(BaseModel):
    """(STORE#<id>, PIXEL). Survives a disconnect (the merchant's choice); deleted at uninstall.

    - `server_events`: the merchant's switch; None until they touch it (then the default by country applies);
    - `public_config`: the JSON the app last wrote to Ecwid's public app storage, None when none is there;
    - `bound`: "<catalog_id>:<pixel_code>" once that catalog is bound to that pixel (tiktok-api.md);
    - `store_pixel_code`: the store's own TikTok pixel setting (profile `settings.tikTokPixel.code`) when on.
    """

    model_config = _MODEL

    server_events: bool | None = None
    public_config: str | None = None
    bound: str | None = None
    store_pixel_code: str | None = None
    last_error: PixelFailure | None = None
    checked_at: str | None = None  # when the app last put the storefront config and binding in place


PurchaseState = Literal["sending", "sent", "refused", "expired"]


class PurchaseRecord(BaseModel):
    """(STORE#<id>, ORDER#<order id>): one paid order's purchase event, so TikTok gets it once.

    `first_attempt_at` (epoch seconds) starts TikTok's 48-hour deduplication window: an event whose first try
    may have reached TikTok is not sent again after it (tiktok-api.md, "Deduplication").
    """

    model_config = _MODEL

    order_id: str
    event_id: str
    state: PurchaseState
    epoch: int
    first_attempt_at: int  # whole seconds: DynamoDB's serializer refuses floats
    sent_at: int | None = None
    reason: str | None = None
