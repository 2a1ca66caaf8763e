"""What a refused upload request points at, read from TikTok's message (tiktok-api.md, "One refused product can
refuse the whole request").

TikTok can answer an upload with a parameter error (40000/40002) instead of a feed log: nothing of the request
is applied. Its exact message is unconfirmed, so the reading is by what the message names:
- a product: its position (`products[3]`, 0-based as in the request body) or its SKU (a SKU of the batch right
  after `sku_id`/`sku`): that product is dropped and the rest sent again in one call (services/sync_uploads.py
  checks the naming: a rest refused again alike means the naming was wrong, and the batch is split instead);
- the request: `bc_id`, `catalog_id` or `feed_id`, or a missing permission (40001): no split helps, the store is
  told (sync_notices);
- anything else (a product field such as `products.title`, a bare `products: …`, or a message this reading does
  not know): the batch is split to find the products that cause it, at a bounded cost. A wrong guess here costs
  a few calls; a wrong "request" would stop the store's syncing, so only what certainly names the request does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

PERMISSION_MISSING: Final = 40001  # a scope the token lacks: a store-level refusal whatever the message says

_INDEX: Final = re.compile(r"\bproducts\s*\[\s*(\d+)\s*\]")
_REQUEST_FIELD: Final = re.compile(r"\b(bc_id|catalog_id|feed_id)\b")
_PRODUCT_FIELD: Final = re.compile(r"\bproducts\s*[.\[]")
# A SKU named as such: `sku_id: 123-4`, `sku_id=123-4`, `(sku 123-4)`, quoted or not.
_NAMED_SKU: Final = re.compile(r"\bsku(?:_id)?\b\s*[:=]?\s*[\"'`]?([^\s\"'`,;:()\[\]{}<>=]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """What a refusal points at: `kind` "product" (with `index` into the batch), "request" or "field"."""

    kind: Literal["product", "request", "field"]
    index: int | None = None


def read_refusal(code: int | None, message: str, sku_ids: Sequence[str]) -> Refusal:
    """What the refusal of a request that carried these SKUs (in request order) points at.

    `code` is TikTok's envelope code, `message` its text. A position outside the batch is not trusted as one.
    """
    if code == PERMISSION_MISSING:
        return Refusal("request")
    index = _INDEX.search(message)
    if index is not None and int(index.group(1)) < len(sku_ids):
        return Refusal("product", int(index.group(1)))
    positions = {sku: i for i, sku in enumerate(sku_ids)}
    for named in _NAMED_SKU.findall(message):
        if named in positions:
            return Refusal("product", positions[named])
    if _PRODUCT_FIELD.search(message) is None and _REQUEST_FIELD.search(message) is not None:
        return Refusal("request")
    return Refusal("field")
