"""The TikTok side of a connect: what the business profile already set up, else the Business Center, ad
account, catalog and pixel the app finds or creates, each remembered on the pending connection at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from aws_lambda_powertools import Logger

from tiktok_channel.errors import AppError, Conflict, TikTokOutcomeUnknown, TikTokRequestRejected
from tiktok_channel.models.store import PendingConnection, Store
from tiktok_channel.models.tiktok import BusinessProfile

if TYPE_CHECKING:
    from tiktok_channel.ports import Services, TikTokApi

logger = Logger(child=True)

T = TypeVar("T")


def set_up_tiktok(
    services: Services, tiktok: TikTokApi, token: str, store: Store, pending: PendingConnection
) -> PendingConnection:
    """Fill in Business Center, ad account, catalog and pixel, remembering each as soon as it is known.

    Looks before it creates, so a retried callback never makes a second catalog or pixel. Raises a 409
    `tiktok_setup_incomplete` when the account has no Business Center or ad account yet, and what the TikTok
    port raises (the caller turns those into the merchant's answer).
    """
    store_id = store.store_id

    def remember(**fields: object) -> PendingConnection:
        services.connections.update_pending(store_id, pending.nonce, **fields)
        return pending.model_copy(update=fields)

    if not pending.via_business_profile and not pending.catalog_id:
        profile = _business_profile(services, tiktok, token, store_id)
        if profile is not None and profile.exists:
            found = {
                k: v
                for k, v in profile.model_dump(include={"bc_id", "adv_id", "catalog_id", "pixel_code"}).items()
                if v
            }
            pending = remember(via_business_profile=True, **found)
    if not pending.bc_id:
        bc_ids = tiktok.list_business_centers(token).bc_ids
        if not bc_ids:
            raise _setup_incomplete("a Business Center")
        pending = remember(bc_id=bc_ids[0])
    if not pending.adv_id:
        if not pending.advertiser_ids:
            raise _setup_incomplete("an ad account")
        pending = remember(adv_id=pending.advertiser_ids[0])
    if not pending.catalog_id:
        pending = remember(catalog_id=_find_or_create_catalog(tiktok, token, store, pending.bc_id or ""))
    if not pending.pixel_code:
        pending = remember(pixel_code=_find_or_create_pixel(tiktok, token, store_id, pending.adv_id or ""))
    return pending


def _business_profile(services: Services, tiktok: TikTokApi, token: str, store_id: int) -> BusinessProfile | None:
    """What TikTok's hosted setup made for this store, or None when the app may not read profiles."""
    try:
        return tiktok.get_business_profile(
            token, business_platform=services.settings.tiktok_business_platform, external_business_id=str(store_id)
        )
    except TikTokRequestRejected as refusal:
        # The TBP endpoints are not open to every developer app (tiktok-api.md): carry on without them.
        logger.info("No business profile access", extra={"code": refusal.code, "request_id": refusal.request_id})
        return None


def _find_or_create_catalog(tiktok: TikTokApi, token: str, store: Store, bc_id: str) -> str:
    # The name carries the store id and currency, which is how a retried callback finds what an
    # earlier attempt created; a catalog's currency never changes, so another currency needs another one.
    marker = f"(Ecwid {store.store_id}, {store.currency})"
    name = f"{(store.store_name or 'Ecwid store')[:100]} {marker}"

    def look() -> str | None:
        return next(
            (
                catalog.catalog_id
                for catalog in tiktok.iter_catalogs(token, bc_id)
                if catalog.catalog_name.endswith(marker) and catalog.catalog_conf.currency in (None, store.currency)
            ),
            None,
        )

    def create() -> str:
        return tiktok.create_catalog(
            token, bc_id=bc_id, name=name, region_code=store.country, currency=store.currency
        ).catalog_id

    return _look_then_create(look, create)


def _find_or_create_pixel(tiktok: TikTokApi, token: str, store_id: int, advertiser_id: str) -> str:
    name = f"Ecwid {store_id}"

    def look() -> str | None:
        return next((p.pixel_code for p in tiktok.iter_pixels(token, advertiser_id) if p.pixel_name == name), None)

    def create() -> str:
        return tiktok.create_pixel(token, advertiser_id=advertiser_id, name=name).pixel_code

    return _look_then_create(look, create)


def _look_then_create(look: Callable[[], T | None], create: Callable[[], T], attempts: int = 3) -> T:
    """Create only what a look did not find; after a create whose answer was lost, look again."""
    for _ in range(attempts):
        found = look()
        if found is not None:
            return found
        try:
            return create()
        except TikTokOutcomeUnknown:
            continue
    raise TikTokOutcomeUnknown("TikTok kept losing the answer to a create")


def _setup_incomplete(missing: str) -> AppError:
    return Conflict(
        f"Your TikTok For Business account has no {missing} yet. Press Connect TikTok Account again "
        "and finish TikTok's setup (Business Center, ad account, pixel and catalog).",
        code="tiktok_setup_incomplete",
    )
