"""What the app knows of a store's catalog: one record per SKU and the full sync in progress."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# "excluded": one item per product the store's own settings keep off TikTok (disabled, hidden categories);
# "kept_off": one item per product the merchant keeps off TikTok (its switch, or its categories' switches).
SkuStatus = Literal["pending", "listed", "rejected", "held_back", "excluded", "kept_off"]
SKU_STATUSES: tuple[SkuStatus, ...] = ("listed", "pending", "rejected", "held_back", "excluded", "kept_off")
OFF_TIKTOK: frozenset[SkuStatus] = frozenset({"held_back", "excluded", "kept_off"})  # statuses never uploaded


class Reason(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str
    suggestion: str | None = None


class SkuRecord(BaseModel):
    """What the app knows of one SKU. `hash` is the content TikTok last accepted (absent: send it again);
    `uploaded_at` when TikTok last accepted an upload of it (ISO 8601; absent for items written before it was
    kept), which its freshness refresh counts from; `refused_hash` the content TikTok refused a whole upload
    request for, not sent again as it is."""

    model_config = ConfigDict(extra="ignore")

    sku_id: str
    product_id: int
    title: str = ""
    status: SkuStatus
    on_tiktok: bool = False
    hash: str | None = None
    reasons: list[Reason] = []
    updated_at: str | None = None
    uploaded_at: str | None = None
    refused_hash: str | None = None
    brand_from_store_name: bool = False  # sent with the store's name as brand (no Brand attribute)


class SyncRun(BaseModel):
    """A full sync in progress: where it is, so a redelivered or continued message resumes there."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    mode: Literal["full", "replace"]
    hidden_category_ids: list[int] = []
    kept_off_category_ids: list[int] = []  # the merchant's category switches, with their subcategories
    offset: int = 0
    total: int = 0
    part: int = 0
    uploaded: int = 0
    deleted: int = 0
    started_at: str | None = None
    finished_at: str | None = None  # a message delivered again after the end finds nothing left to do
