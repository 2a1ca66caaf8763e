"""Journey 8: the merchant keeps products, or a category's products, off TikTok ("Show on TikTok").

The choice is stored at once (the request answers in one Ecwid read per 100 products named, or one count for a
category, whatever its size); the products' SKUs leave or come back in one queued job of the store's FIFO group, with
⌈SKUs/1000⌉ delete calls. The sync engine applies the stored choices everywhere (catalog/visibility.py `KeptOff`):
later edits, category changes and full syncs keep a product off until it is switched on again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.visibility import KeptOff, hidden_category_ids
from tiktok_channel.errors import (
    BadRequest,
    Conflict,
    EcwidAccessLost,
    EcwidUnavailable,
    NotConnected,
    NotFound,
    UpstreamUnavailable,
)
from tiktok_channel.models.messages import VisibilityMessage
from tiktok_channel.models.store import CatalogTarget, Store
from tiktok_channel.services.sync_images import ImageSizeResolver
from tiktok_channel.services.sync_notices import clear_refusal, is_frozen, stop_when_access_lost
from tiktok_channel.services.sync_run import PRODUCTS_BY_ID, refresh_categories, remembered_categories
from tiktok_channel.services.sync_writer import CatalogWriter

if TYPE_CHECKING:
    from tiktok_channel.models.ecwid_catalog import EcwidProduct
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

_SHOWN_UNKNOWN = 10  # unknown product ids named in the refusal, at most


def switch(
    services: Services, store_id: int, *, product_ids: Sequence[int] | None, category_id: int | None, show: bool
) -> int:
    """PUT …/products/visibility: the category form when `category_id` is given, else the products form."""
    if category_id is not None:
        return switch_category(services, store_id, category_id, show=show)
    return switch_products(services, store_id, product_ids or [], show=show)


def switch_products(services: Services, store_id: int, product_ids: Sequence[int], *, show: bool) -> int:
    """PUT …/products/visibility with `product_ids` (1-500): keep them off TikTok or show them again; answers how
    many products' choice changed. 400 `unknown_products` (nothing changes) when the store has not all of them."""
    store, token = _store_and_token(services, store_id)
    wanted = sorted(set(product_ids))
    found: set[int] = set()
    try:
        for start in range(0, len(wanted), PRODUCTS_BY_ID):
            chunk = wanted[start : start + PRODUCTS_BY_ID]
            found.update(p.id for p in services.ecwid().products_by_id(store_id, token, chunk))
    except (EcwidAccessLost, EcwidUnavailable) as failure:
        raise _ecwid_failed(failure) from None
    unknown = [i for i in wanted if i not in found]
    if unknown:
        named = ", ".join(str(i) for i in unknown[:_SHOWN_UNKNOWN]) + (" …" if len(unknown) > _SHOWN_UNKNOWN else "")
        raise BadRequest(
            f"Your store has no product with the id {named}: nothing was changed. Reload the page and try again.",
            code="unknown_products",
        )
    changed = services.choices.keep_products_off(store_id, wanted, show=show, at=_now(services))
    _apply_soon(
        services,
        store,
        VisibilityMessage(store_id=store_id, epoch=store.epoch, job_id=_job(), product_ids=changed)
        if changed
        else None,
    )
    _log(store_id, show, products=len(changed))
    return len(changed)


def switch_category(services: Services, store_id: int, category_id: int, *, show: bool) -> int:
    """PUT …/products/visibility with `category_id`: keep the category's products off TikTok (a stored rule, applied
    like a hidden category, so it also covers products added to it later) or show them again. Answers the category's
    products as Ecwid counts them when the choice changed, else 0; 400 `unknown_category` for a category the store
    has not."""
    store, token = _store_and_token(services, store_id)
    try:
        categories = services.ecwid().all_categories(store_id, token)
        if not any(category.id == category_id for category in categories):
            raise BadRequest(
                f"Your store has no category with the id {category_id}: nothing was changed. Reload the page.",
                code="unknown_category",
            )
        count = services.ecwid().count_products_in_category(store_id, token, category_id)
    except (EcwidAccessLost, EcwidUnavailable) as failure:
        raise _ecwid_failed(failure) from None
    if not services.choices.keep_category_off(store_id, category_id, show=show, at=_now(services)):
        return 0
    message = VisibilityMessage(store_id=store_id, epoch=store.epoch, job_id=_job(), category_id=category_id)
    _apply_soon(services, store, message)
    _log(store_id, show, category=category_id)
    return count


def list_categories(services: Services, store_id: int) -> list[dict[str, object]]:
    """GET /api/stores/{storeId}/categories: the store's categories for the page's category switch, in Ecwid's
    order: `{"id", "name", "parent_id", "hidden" (in Ecwid), "kept_off" (switched off by the merchant)}`."""
    _, token = _store_and_token(services, store_id)
    try:
        categories = services.ecwid().all_categories(store_id, token)
    except (EcwidAccessLost, EcwidUnavailable) as failure:
        raise _ecwid_failed(failure) from None
    switched = services.choices.kept_off_categories(store_id)
    hidden = hidden_category_ids(categories)
    return [
        {
            "id": category.id,
            "name": category.name or f"Category {category.id}",
            "parent_id": category.parent_id or None,
            "hidden": category.id in hidden,
            "kept_off": category.id in switched,
        }
        for category in categories
    ]


def apply_visibility(services: Services, message: VisibilityMessage) -> str:
    """The worker's part: the switched products (or the category's) mapped again with the stored choices, their
    SKUs deleted from TikTok (or uploaded again) in batches. Dropped for a store not connected at that epoch."""
    store = services.stores.get(message.store_id)
    if store is None or store.status != "connected" or store.epoch != message.epoch:
        return "dropped"
    try:
        target = CatalogTarget.of(store)
    except NotConnected:
        return "dropped"
    if is_frozen(store):
        return "frozen"  # nothing moves while the currency differs; the next full sync applies the choices
    return stop_when_access_lost(services, store, lambda: _apply(services, store, target, message), ends_sync=False)


def _apply(services: Services, store: Store, target: CatalogTarget, message: VisibilityMessage) -> str:
    store_id = store.store_id
    ecwid_token = services.cipher.decrypt(store.ecwid_token or b"", store_id=store_id, field="ecwid_token")
    tiktok_token = services.cipher.decrypt(target.access_token, store_id=store_id, field="tiktok_token")
    if message.category_id is not None:
        categories = refresh_categories(services, store_id, ecwid_token)  # the rule, with its subcategories now
        products = list(services.ecwid().products_in_category(store_id, ecwid_token, message.category_id))
    else:
        categories = remembered_categories(services, store_id, ecwid_token)
        products = _products(services, store_id, ecwid_token, message.product_ids or [])
    kept_off = KeptOff(services.choices.kept_off_products(store_id), categories.kept_off)
    writer = CatalogWriter(services, target, services.tiktok(), tiktok_token)
    images = ImageSizeResolver(services, store.store_name)
    for start in range(0, len(products), PRODUCTS_BY_ID):
        chunk = products[start : start + PRODUCTS_BY_ID]
        writer.take(
            chunk, images.map_products(chunk, currency=target.currency, hidden=categories.hidden, kept_off=kept_off)
        )
    writer.flush()
    deleted = writer.flush_deletions()
    services.stores.add_counts(store_id, store.epoch, writer.count_changes, now=_now(services))
    if writer.tiktok_accepted:
        clear_refusal(services, store)
    logger.info("Visibility applied", extra={"store_id": store_id, "products": len(products), "deleted": deleted})
    return "applied"


def _products(services: Services, store_id: int, token: str, product_ids: list[int]) -> list[EcwidProduct]:
    """The products as they are now; one deleted since is left to its own product.deleted event."""
    products: list[EcwidProduct] = []
    for start in range(0, len(product_ids), PRODUCTS_BY_ID):
        products.extend(services.ecwid().products_by_id(store_id, token, product_ids[start : start + PRODUCTS_BY_ID]))
    return products


def _store_and_token(services: Services, store_id: int) -> tuple[Store, str]:
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound("This store has not installed the app.", code="store_not_found")
    if store.ecwid_token is None or store.status == "ecwid_access_lost":
        raise Conflict(
            "The app cannot read your Ecwid store right now. Install the app again from the Ecwid App Market, "
            "then choose the products again.",
            code="ecwid_access_lost",
        )
    return store, services.cipher.decrypt(store.ecwid_token, store_id=store_id, field="ecwid_token")


def _apply_soon(services: Services, store: Store, message: VisibilityMessage | None) -> None:
    # Stored choices apply at the next connect's first sync for a store not connected now.
    if message is not None and store.status == "connected":
        services.queue.send(message)


def _ecwid_failed(failure: Exception) -> UpstreamUnavailable | Conflict:
    if isinstance(failure, EcwidAccessLost):
        return Conflict(
            "Ecwid refused the app access to your store. Install the app again from the Ecwid App Market.",
            code="ecwid_access_lost",
        )
    return UpstreamUnavailable(
        "Ecwid is not answering right now. Nothing was changed; try again in a minute.", code="ecwid_unavailable"
    )


def _log(store_id: int, show: bool, *, products: int | None = None, category: int | None = None) -> None:
    metrics.add_metric(name="VisibilitySwitched", unit=MetricUnit.Count, value=1)
    logger.info(
        "Products switched" if category is None else "Category switched",
        extra={"store_id": store_id, "show": show, "products": products, "category_id": category},
    )


def _job() -> str:
    return f"visibility-{uuid.uuid4()}"


def _now(services: Services) -> str:
    return datetime.fromtimestamp(services.clock(), UTC).isoformat()
