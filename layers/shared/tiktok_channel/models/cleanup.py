"""What is left to tell TikTok about a connection taken down here (journey 6)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

CleanupStep = Literal["shop_disconnect", "profile_disconnect", "revoke_token"]
# The storefront and the business profile need the token, so the token is revoked last.
CLEANUP_STEPS: tuple[CleanupStep, ...] = ("shop_disconnect", "profile_disconnect", "revoke_token")


class CleanupItem(BaseModel):
    """What is left to tell TikTok about one connection taken down here. `access_token` is KMS ciphertext."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    store_id: int
    cleanup_id: str
    epoch: int  # the store's epoch once disconnected
    source: Literal["connection", "pending_connection"]
    reason: Literal["disconnect", "uninstall"]
    access_token: bytes
    outcomes: dict[str, str] = {}  # step → done | token_revoked | refused_<code>
    attempts: int = 0
    last_error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def steps_left(self) -> list[CleanupStep]:
        return [step for step in CLEANUP_STEPS if step not in self.outcomes]
