"""What is left to tell TikTok about a connection taken down here (journey 6)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

CleanupStep = Literal["catalog_delete", "shop_disconnect", "profile_disconnect", "revoke_token"]
# The store's products leave its catalog first; the storefront and the business profile need the token too,
# so the token is revoked last.
CLEANUP_STEPS: tuple[CleanupStep, ...] = ("catalog_delete", "shop_disconnect", "profile_disconnect", "revoke_token")
SKUS_PER_CHUNK = 1000  # TikTok's catalog/product/delete takes at most 1,000 sku_ids per call


class CleanupItem(BaseModel):
    """What is left to tell TikTok about one connection taken down here. `access_token` is KMS ciphertext.

    `bc_id` and `catalog_id`: the live connection's catalog, whose products the "catalog_delete" step deletes
    (absent for a half-made connection, and on items written before that step existed: "no_catalog").
    """

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    store_id: int
    cleanup_id: str
    epoch: int  # the store's epoch once disconnected
    source: Literal["connection", "pending_connection"]
    reason: Literal["disconnect", "uninstall"]
    access_token: bytes
    bc_id: str | None = None
    catalog_id: str | None = None
    outcomes: dict[str, str] = {}  # step → done | token_revoked | refused_<code> | no_catalog | skipped_reconnected
    attempts: int = 0
    last_error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def steps_left(self) -> list[CleanupStep]:
        return [step for step in CLEANUP_STEPS if step not in self.outcomes]


class SkuChunk(BaseModel):
    """≤ 1,000 sku_ids the disconnected connection had on TikTok, kept for its cleanup's "catalog_delete" step.

    Written before the SKU items they come from are deleted, apart from them (no sync nor newer connection
    reads them), and deleted once TikTok's feed log confirmed their deletion. `first_sku` names the chunk.
    """

    model_config = ConfigDict(extra="ignore")

    store_id: int
    cleanup_id: str
    first_sku: str
    sku_ids: list[str]
