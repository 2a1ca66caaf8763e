"""What a sync of a sandbox store should do, worked out from the sandboxes' own state (never from the engine's),
and the lower bounds of the issue on the calls it needs.

Which SKUs the store shows follows design.md's catalog rules as the sandbox sees them: an enabled product with
a name, in no category or in one a shopper can see, priced above 0, with an image of at least 500×500 px
(JPG or PNG; a variation may use its own image or the product's), yields one SKU per variation, or one for
itself without variations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sandboxes.ecwid import EcwidSandbox
from sandboxes.ecwid_catalog import EcwidStore, Product
from sandboxes.ecwid_images import ImageSpec
from sandboxes.tiktok import TikTokSandbox

MIN_SIDE = 500
DELETE_BATCH = 1000  # TikTok's limit per delete call
# product/get takes up to 1000 sku_ids but answers at most page_size ≤ 500 items per call, so the status-read
# bound is ⌈pending SKUs/500⌉ (restated by issue 11, item 7).
STATUS_BATCH = 500
LISTING_PAGE = 500  # product/get's largest page


def _qualifies(image: ImageSpec | None) -> bool:
    return image is not None and image.fmt in ("jpg", "png") and min(image.width, image.height) >= MIN_SIDE


def _shown(store: EcwidStore, product: Product) -> bool:
    if not product.enabled or not product.name.strip():
        return False
    return not product.category_ids or any(not store.is_hidden(c) for c in product.category_ids)


def shown_skus(store: EcwidStore, product: Product) -> list[str]:
    """The SKUs of one product that belong on TikTok (empty when it is hidden or all are held back)."""
    if not _shown(store, product):
        return []
    product_image = any(_qualifies(i) for i in (product.image, *product.gallery))
    if not product.combinations:
        return [str(product.id)] if product.price >= 0.005 and product_image else []
    found = []
    for combination in product.combinations:
        price = product.price if combination.price is None else combination.price
        if price >= 0.005 and (product_image or _qualifies(combination.image)):
            found.append(f"{product.id}-{combination.id}")
    return found


def store_skus(ecwid: EcwidSandbox, store: EcwidStore) -> dict[str, int]:
    """sku_id → product id of every SKU the store shows."""
    with ecwid.lock:
        return {sku: p.id for p in store.products.values() for sku in shown_skus(store, p)}


def sizeless_image_urls(ecwid: EcwidSandbox, store: EcwidStore) -> int:
    """Pictures whose size Ecwid's JSON does not carry (media-only products), of products the store shows."""
    with ecwid.lock:
        return sum(
            1 + len(p.gallery)
            for p in store.products.values()
            if p.media_only_images and p.image is not None and _shown(store, p)
        )


def catalog_state(tiktok: TikTokSandbox, catalog_id: str) -> dict[str, str]:
    """sku_id → audit status of what the TikTok catalog holds now."""
    with tiktok.lock:
        tiktok.apply_due_reviews()
        return {sku: p.audit_status for sku, p in tiktok.catalogs[catalog_id].products.items()}


@dataclass
class Expectation:
    """The inputs of the bounds for one scenario, and the bounds themselves (by endpoint)."""

    mode: str  # "replace" | "full"
    products: int
    categories: int
    batch_size: int
    upserts: set[str]
    deletes: set[str]
    pending: int
    tiktok_skus_listed: int
    sizeless_images: int
    expected_after: set[str] = field(default_factory=set)
    # Upload calls allowed beyond ⌈upserts/batch⌉ (isolating products TikTok refuses), and whence.
    extra_uploads: int = 0
    extra_formula: str = ""

    def base_uploads(self) -> int:
        """The upload calls the SKUs to upsert need when TikTok refuses none of them."""
        return math.ceil(len(self.upserts) / self.batch_size)

    def bounds(self) -> dict[str, dict[str, Any]]:
        uploads = self.base_uploads() + self.extra_uploads
        deletes = math.ceil(len(self.deletes) / DELETE_BATCH)
        status_reads = math.ceil(self.pending / STATUS_BATCH)
        listing = math.ceil(self.tiktok_skus_listed / LISTING_PAGE) if self.mode == "replace" else 0
        return {
            "ecwid profile": {"bound": 1, "formula": "1"},
            "ecwid categories": {
                "bound": math.ceil(self.categories / 100),
                "formula": f"⌈{self.categories} categories/100⌉",
            },
            "ecwid products": {"bound": math.ceil(self.products / 100), "formula": f"⌈{self.products} products/100⌉"},
            "ecwid storage writes": {
                "bound": 1 if self.mode == "replace" else 0,
                "formula": "1 at a connect's first sync (the pixel's storefront config), 0 once written"
                if self.mode == "replace"
                else "0 (the pixel's storefront config is written once)",
            },
            "tiktok upload": {
                "bound": uploads,
                "formula": f"⌈{len(self.upserts)} SKUs to upsert/{self.batch_size}⌉" + self.extra_formula,
            },
            "tiktok feed log": {"bound": uploads + deletes, "formula": "one per write call (upload + delete bounds)"},
            "tiktok delete": {"bound": deletes, "formula": f"⌈{len(self.deletes)} SKUs to delete/{DELETE_BATCH}⌉"},
            "tiktok status reads": {
                "bound": status_reads,
                "formula": f"⌈{self.pending} pending SKUs/{STATUS_BATCH}⌉ (TikTok answers at most 500 items a call)",
            },
            "tiktok pixel binding": {
                "bound": 2 if self.mode == "replace" else 0,
                "formula": "a lookup and a bind at a connect's first sync"
                if self.mode == "replace"
                else "0 (bound once)",
            },
            "tiktok listing reads": {
                "bound": listing,
                "formula": f"⌈{self.tiktok_skus_listed} TikTok SKUs/{LISTING_PAGE}⌉"
                if self.mode == "replace"
                else "0 (full mode does not list)",
            },
        }


def allowed(bound: int) -> int:
    """The issue's tolerance: within max(1.05 × bound, bound + 1)."""
    return max(math.floor(1.05 * bound), bound + 1)


def expect(
    *,
    mode: str,
    ecwid: EcwidSandbox,
    store: EcwidStore,
    tiktok: TikTokSandbox,
    catalog_id: str,
    batch_size: int,
    upserts: set[str],
    sizeless_images: int,
) -> Expectation:
    """The expectation of a scenario about to run; `upserts` are the SKUs whose content changed since the last
    sync (every SKU the store shows, for a first sync)."""
    shown = set(store_skus(ecwid, store))
    before = catalog_state(tiktok, catalog_id)
    deletes = set(before) - shown
    pending = {s for s, status in before.items() if status == "processing"} - upserts - deletes
    with ecwid.lock:
        categories = len(store.categories)
        products = len(store.products)
    return Expectation(
        mode=mode,
        products=products,
        categories=categories,
        batch_size=batch_size,
        upserts=upserts & shown,
        deletes=deletes,
        pending=len(pending),
        tiktok_skus_listed=len(set(before) | shown),
        sizeless_images=sizeless_images,
        expected_after=shown,
    )
