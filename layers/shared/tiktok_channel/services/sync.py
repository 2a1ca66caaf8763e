"""The sync engine's entry: a part of a full sync (services/sync_run.py) or one Ecwid event, for a store whose
TikTok connection is live; work for any other is dropped.

The engine's other parts: sync_writer.py writes to the store's TikTok catalog and commits what TikTok accepted,
sync_images.py maps products with the image sizes Ecwid gave none for, sync_notices.py changes the store's state
(catalog frozen, syncing stopped, progress).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.visibility import KeptOff
from tiktok_channel.errors import NotConnected
from tiktok_channel.inputs import parse_id
from tiktok_channel.models.store import CatalogTarget, Store
from tiktok_channel.services.jobs import request_full_sync
from tiktok_channel.services.pixel import set_up_pixel
from tiktok_channel.services.sync_images import ImageSizeResolver
from tiktok_channel.services.sync_notices import (
    clear_refusal,
    freeze,
    is_frozen,
    lift_freeze,
    stop_when_access_lost,
)
from tiktok_channel.services.sync_run import refresh_categories, remembered_categories, start_run
from tiktok_channel.services.sync_writer import CatalogWriter

if TYPE_CHECKING:
    from tiktok_channel.models.messages import EcwidEventMessage, SyncMessage
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

CATEGORY_CHUNK = 100  # a category's products are mapped and compared this many at a time


class CatalogSync:
    """Brings a store's TikTok catalog up to date: `run` for a part of a full sync, `apply_event` for one
    Ecwid change. When Ecwid or TikTok no longer accept the store's access, its syncing stops instead."""

    def __init__(self, services: Services, *, remaining_seconds: Callable[[], float], reserve_seconds: float = 60.0):
        self._s = services
        self._remaining = remaining_seconds
        self._reserve = reserve_seconds

    def run(self, message: SyncMessage) -> str:
        """Run (a part of) a full sync; answers what happened: done, continued, frozen, stopped, dropped."""
        store = self._s.stores.get(message.store_id)
        target = _target(store) if store is not None and store.epoch == message.epoch else None
        if store is None or target is None:
            metrics.add_metric(name="SyncDropped", unit=MetricUnit.Count, value=1)
            logger.info("Sync message of another connection dropped", extra={"store_id": message.store_id})
            return "dropped"
        return stop_when_access_lost(
            self._s,
            store,
            lambda: start_run(
                self._s, store, target, message, remaining_seconds=self._remaining, reserve_seconds=self._reserve
            ),
            ends_sync=True,
        )

    def apply_event(self, message: EcwidEventMessage) -> str:
        """Bring TikTok up to date with one Ecwid catalog or profile change, re-reading the entity as it is now."""
        store = self._s.stores.get(message.store_id)
        target = _target(store) if store is not None else None
        if store is None or target is None:
            metrics.add_metric(name="EventDropped", unit=MetricUnit.Count, value=1)
            logger.info(
                "Event for a store that is not syncing dropped",
                extra={
                    "store_id": message.store_id,
                    "event_type": message.event_type,
                    "status": store.status if store else None,
                },
            )
            return "dropped"
        return stop_when_access_lost(self._s, store, lambda: self._apply_event(store, target, message), ends_sync=False)

    def _apply_event(self, store: Store, target: CatalogTarget, message: EcwidEventMessage) -> str:
        kind, route = message.event_type, message.route
        ecwid_token = self._s.cipher.decrypt(store.ecwid_token or b"", store_id=store.store_id, field="ecwid_token")
        if route == "profile":
            return self._profile_changed(store, target, ecwid_token)
        if is_frozen(store):
            return "frozen"  # nothing moves until the currency is back (a profile event lifts it)
        entity = parse_id(message.entity_id)  # unsigned by Ecwid: ASCII digits only, or the event is ignored
        if entity is None:
            logger.warning("Event without a usable entity id", extra={"store_id": store.store_id, "event_type": kind})
            return "ignored"
        tiktok_token = self._s.cipher.decrypt(target.access_token, store_id=store.store_id, field="tiktok_token")
        if route not in ("category", "product"):
            logger.warning(
                "Event type this worker does not handle", extra={"store_id": store.store_id, "event_type": kind}
            )
            metrics.add_metric(name="EventNotHandled", unit=MetricUnit.Count, value=1)
            return "ignored"
        writer = CatalogWriter(self._s, target, self._s.tiktok(), tiktok_token)
        if route == "category":
            self._category_changed(target, ecwid_token, entity, writer, store.store_name)
        else:
            self._product_changed(target, ecwid_token, entity, writer, store.store_name)
        writer.flush()
        writer.flush_deletions()
        self._s.stores.add_counts(store.store_id, store.epoch, writer.count_changes, now=_iso(self._s.clock()))
        if writer.tiktok_accepted:
            clear_refusal(self._s, store)
        metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=1)
        return "applied"

    def _category_changed(
        self, target: CatalogTarget, ecwid_token: str, category_id: int, writer: CatalogWriter, store_name: str
    ) -> None:
        # A category shown or hidden (or moved under another) changes which products are shown: read again.
        categories = refresh_categories(self._s, target.store_id, ecwid_token)
        kept_off = KeptOff(self._s.choices.kept_off_products(target.store_id), categories.kept_off)
        images = ImageSizeResolver(self._s, store_name)
        products = list(self._s.ecwid().products_in_category(target.store_id, ecwid_token, category_id))
        for start in range(0, len(products), CATEGORY_CHUNK):
            chunk = products[start : start + CATEGORY_CHUNK]
            mappings = images.map_products(chunk, currency=target.currency, hidden=categories.hidden, kept_off=kept_off)
            writer.take(chunk, mappings)

    def _product_changed(
        self, target: CatalogTarget, ecwid_token: str, product_id: int, writer: CatalogWriter, store_name: str
    ) -> None:
        categories = remembered_categories(self._s, target.store_id, ecwid_token)
        switched_off = self._s.choices.is_kept_off(target.store_id, product_id)
        kept_off = KeptOff(frozenset({product_id}) if switched_off else frozenset(), categories.kept_off)
        existing = self._s.catalog.skus_of_product(target.store_id, product_id)
        product = self._s.ecwid().get_product(target.store_id, ecwid_token, product_id)
        if product is None:  # deleted (or gone by the time we asked)
            for record in existing.values():
                writer.remove(record)
            return
        mappings = ImageSizeResolver(self._s, store_name).map_products(
            [product], currency=target.currency, hidden=categories.hidden, kept_off=kept_off
        )
        writer.take([product], mappings, existing)

    def _profile_changed(self, store: Store, target: CatalogTarget, ecwid_token: str) -> str:
        profile = self._s.ecwid().get_profile(store.store_id, ecwid_token)
        # The store's own TikTok pixel setting may have changed: the storefront gets one pixel, never two.
        tiktok_token = self._s.cipher.decrypt(target.access_token, store_id=store.store_id, field="tiktok_token")
        set_up_pixel(self._s, store, ecwid_token=ecwid_token, tiktok_token=tiktok_token, profile=profile)
        if profile.currency != target.currency:
            if not is_frozen(store):
                freeze(self._s, store, catalog_currency=target.currency, currency=profile.currency)
            return "frozen"
        if is_frozen(store):
            lift_freeze(self._s, store)
            request_full_sync(self._s, store)  # catch up with what changed while frozen
            return "unfrozen"
        return "unchanged"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _target(store: Store) -> CatalogTarget | None:
    """The catalog a connected store syncs into; None for a store not connected, or whose connection lacks an id
    (its work is dropped like any other store's that is not connected)."""
    if store.status != "connected":
        return None
    try:
        return CatalogTarget.of(store)
    except NotConnected as refusal:
        logger.warning(str(refusal), extra={"store_id": store.store_id})
        return None
