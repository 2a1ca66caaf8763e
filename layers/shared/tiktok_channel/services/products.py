"""Journey 4 on the page: one status's products (Listed, Pending review, Rejected, Not uploaded), page by page.

Read from the `sku-status` index, so a page costs one query whatever the store's size; the cursor is the
last sku_id shown, signed and bound to the store and the status, so it cannot be forged or reused elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_channel.errors import BadRequest
from tiktok_channel.models.catalog import SKU_STATUSES
from tiktok_channel.security import InvalidToken, read_cursor, sign_cursor

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

PAGE_SIZE = 50


def list_products(services: Services, store_id: int, status: str | None, cursor: str | None) -> dict[str, Any]:
    if status not in SKU_STATUSES:
        raise BadRequest(
            "Choose which products to list: status must be listed, pending, rejected, held_back, excluded or kept_off.",
            code="invalid_status",
        )
    sku_status = status  # narrowed by the check above
    session_key = services.secrets().session_key
    scope = f"products:{store_id}:{sku_status}"
    after = None
    if cursor:
        try:
            after = read_cursor(session_key, scope, cursor)
        except InvalidToken:
            raise BadRequest(
                "This list is out of date. Reload the TikTok page and open the list again.", code="invalid_cursor"
            ) from None
    records, last = services.catalog.skus_by_status(store_id, sku_status, limit=PAGE_SIZE, after_sku=after)
    return {
        "items": [
            {
                "sku_id": record.sku_id,
                "product_id": record.product_id,
                "title": record.title,
                "status": record.status,
                "reasons": [{"message": r.message, "suggestion": r.suggestion} for r in record.reasons],
                "brand_from_store_name": record.brand_from_store_name,
            }
            for record in records
        ],
        "next_cursor": sign_cursor(session_key, scope, last) if last is not None else None,
    }
