"""Journey 7, store side: the pixel's place on the storefront, the catalog bound to it, and the page's Pixel section.

- The storefront script (GET /storefront.js) reads the store's pixel from Ecwid's public app storage: the app
  writes `{"pixel_code", "currency"}` there while the store is connected (at the first and every later full
  sync, and when the store profile changes), and deletes it at disconnect. A store whose own TikTok pixel
  setting is on gets no value (its pixel already fires; a second one would count everything twice).
- The catalog is bound to the pixel (tiktok-api.md, "Pixel ↔ catalog"), looked up first so it is bound once.
- Neither ever fails a sync or a connect: what went wrong is kept as the pixel's `last_error` for the page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger

from tiktok_channel.errors import (
    EcwidAccessLost,
    EcwidError,
    NotFound,
    PausedError,
    TikTokError,
    TikTokRequestRejected,
    TikTokTokenRevoked,
)
from tiktok_channel.models.pixel import PixelFailure, PixelState
from tiktok_channel.services.install import ECWID_CALLBACK_PATH
from tiktok_channel.services.purchases import MISSING_SCOPE, server_events_on

if TYPE_CHECKING:
    from tiktok_channel.models.ecwid import StoreProfile
    from tiktok_channel.models.store import Store
    from tiktok_channel.ports import Services

logger = Logger(child=True)

PUBLIC_CONFIG_KEY = "public"  # what Ecwid.getAppPublicConfig(client_id) returns on the storefront
# What the storefront script and the order webhooks need beyond the catalog's scopes (ecwid-api.md, "OAuth").
PIXEL_SCOPES = ("read_orders", "update_store_profile", "customize_storefront")
APP_SCOPES = ("read_store_profile", "read_catalog", "add_to_cp", *PIXEL_SCOPES)  # what the app registers
PURCHASES_WINDOW_SECONDS = 24 * 3600


def public_config(store: Store) -> str | None:
    """The JSON the storefront script reads, or None when the store has no pixel to load."""
    connection = store.tiktok
    if store.status != "connected" or connection is None or not connection.pixel_code:
        return None
    return json.dumps({"pixel_code": connection.pixel_code, "currency": store.currency}, separators=(",", ":"))


def missing_scopes(store: Store) -> list[str]:
    granted = set(store.ecwid_scope.split())
    return [scope for scope in PIXEL_SCOPES if scope not in granted]


def set_up_pixel(
    services: Services, store: Store, *, ecwid_token: str, tiktok_token: str, profile: StoreProfile | None
) -> PixelState:
    """Put the storefront config and the catalog binding in place for a connected store (idempotent: each looks
    at what is there first). Failures are kept for the page, never raised, except a fleet pause and a revoked
    TikTok token (the caller's to handle)."""
    pixel = services.pixels.get(store.store_id)
    changes: dict[str, Any] = {"checked_at": _iso(services.clock())}
    failure: PixelFailure | None = None
    if profile is not None and profile.store_pixel_code != pixel.store_pixel_code:
        changes["store_pixel_code"] = profile.store_pixel_code
    store_pixel = changes.get("store_pixel_code", pixel.store_pixel_code)
    wanted = None if store_pixel else public_config(store)
    try:
        if "update_store_profile" not in store.ecwid_scope.split():
            raise EcwidAccessLost("update_store_profile not granted", status=403, error_code=MISSING_SCOPE)
        _put_public_config(services, store, ecwid_token, wanted, written=pixel.public_config)
        changes["public_config"] = wanted
    except EcwidAccessLost as lost:
        if lost.error_code != MISSING_SCOPE:
            raise
        failure = _failure(services, "storefront_scope_missing", _STOREFRONT_SCOPE_MISSING)
    except EcwidError as error:
        logger.warning("Could not write the storefront config", extra={"store_id": store.store_id, "error": str(error)})
        failure = _failure(services, "storefront_config_failed", _STOREFRONT_CONFIG_FAILED)
    try:
        bound = _bind_catalog(services, store, tiktok_token, pixel.bound)
        if bound is not None:
            changes["bound"] = bound
    except (PausedError, TikTokTokenRevoked):
        raise
    except TikTokRequestRejected as refused:
        logger.warning(
            "TikTok refused to bind the catalog to the pixel",
            extra={"store_id": store.store_id, "code": refused.code, "request_id": refused.request_id},
        )
        failure = _failure(services, "catalog_binding_refused", _binding_refused(refused))
    except TikTokError as error:
        logger.warning(
            "Could not bind the catalog to the pixel", extra={"store_id": store.store_id, "error": str(error)}
        )
    if failure is not None:
        changes["last_error"] = failure
    elif pixel.last_error is not None and pixel.last_error.code in _SETUP_FAILURES:
        changes["last_error"] = None  # what the setup could not do before, it did now
    return services.pixels.update(store.store_id, **changes)


def take_pixel_down(services: Services, store: Store, *, uninstall: bool) -> None:
    """A disconnect takes the pixel off the storefront; an uninstall also forgets the merchant's choices (pixel,
    products kept off TikTok) and the store's purchase records (what the app kept in Ecwid is Ecwid's to drop: it
    refuses the token already)."""
    if uninstall:
        services.pixels.forget(store.store_id)
        services.choices.forget(store.store_id)
    else:
        remove_storefront_config(services, store)


def remove_storefront_config(services: Services, store: Store) -> bool:
    """Take the pixel off a disconnected store's storefront; True when nothing of it is left there.

    Best effort (a failure is logged, the disconnect goes on, and the cleanup worker tries again); without the
    store's Ecwid token (uninstalled) there is nothing the app may touch in Ecwid any more.
    """
    pixel = services.pixels.get(store.store_id)
    if pixel.public_config is None and pixel.bound is None:
        return True
    if store.ecwid_token is None:
        services.pixels.update(store.store_id, public_config=None, bound=None)
        return True
    try:
        ecwid_token = services.cipher.decrypt(store.ecwid_token, store_id=store.store_id, field="ecwid_token")
        services.ecwid().delete_app_storage(store.store_id, ecwid_token, PUBLIC_CONFIG_KEY)
    except Exception as error:  # Ecwid down or the scope gone: the script finds no pixel code once it is removed
        logger.warning(
            "Could not remove the storefront config",
            extra={"store_id": store.store_id, "failure": type(error).__name__},
        )
        return False
    services.pixels.update(store.store_id, public_config=None, bound=None)
    return True


def pixel_status(services: Services, store_id: int, base_url: str) -> dict[str, Any]:
    """GET /api/stores/{storeId}/pixel: `{pixel_code, storefront_script, server_events, purchases_sent_24h,
    last_error?, missing_scopes, grant_access_url?, store_pixel_code?}`; 404 for an unknown store.

    `grant_access_url` (when scopes are missing) is Ecwid's authorize page asking for every scope the app needs;
    the merchant's answer comes back to the install callback (`base_url` + ECWID_CALLBACK_PATH), which keeps the
    new token and its scopes."""
    return _answer(services, _installed(services, store_id), services.pixels.get(store_id), base_url)


def set_server_events(services: Services, store_id: int, on: bool, base_url: str) -> dict[str, Any]:
    """PUT /api/stores/{storeId}/pixel: keep the merchant's choice; answers as `pixel_status`."""
    store = _installed(services, store_id)
    pixel = services.pixels.update(store_id, server_events=on)  # the state after the write: no second read
    logger.info("Server-side purchases switched", extra={"store_id": store_id, "server_events": on})
    return _answer(services, store, pixel, base_url)


def _installed(services: Services, store_id: int) -> Store:
    store = services.stores.get(store_id)
    if store is None:
        raise NotFound("This store has not installed the app.", code="store_not_found")
    return store


def _answer(services: Services, store: Store, pixel: PixelState, base_url: str) -> dict[str, Any]:
    store_id = store.store_id
    connection = store.tiktok if store.status == "connected" else None
    if pixel.store_pixel_code:
        script = "store_pixel_active"
    elif connection is not None and pixel.public_config:
        script = "installed"
    else:
        script = "not_installed"
    answer: dict[str, Any] = {
        "pixel_code": connection.pixel_code if connection else None,
        "storefront_script": script,
        "server_events": server_events_on(store, pixel),
        "purchases_sent_24h": services.pixels.purchases_since(store_id, services.clock() - PURCHASES_WINDOW_SECONDS),
        "missing_scopes": missing_scopes(store),
    }
    if answer["missing_scopes"]:
        answer["grant_access_url"] = _grant_access_url(services, base_url)
    if pixel.store_pixel_code:
        answer["store_pixel_code"] = pixel.store_pixel_code
    if pixel.last_error is not None:
        answer["last_error"] = pixel.last_error.model_dump(exclude_none=True)
    return answer


def _grant_access_url(services: Services, base_url: str) -> str:
    query = urlencode(
        {
            "client_id": services.secrets().ecwid_client_id,
            "redirect_uri": base_url + ECWID_CALLBACK_PATH,
            "response_type": "code",
            "scope": " ".join(APP_SCOPES),
        }
    )
    return f"{str(services.settings.ecwid_oauth_url).rstrip('/')}/authorize?{query}"


def _put_public_config(
    services: Services, store: Store, ecwid_token: str, wanted: str | None, *, written: str | None
) -> None:
    """Write (or delete) the public value unless the app last wrote exactly that: the app's storage is its own (no
    other app or the merchant can change it), so a sync that changes nothing costs no Ecwid call."""
    if written == wanted:
        return
    ecwid = services.ecwid()
    if wanted is None:
        ecwid.delete_app_storage(store.store_id, ecwid_token, PUBLIC_CONFIG_KEY)
    else:
        ecwid.put_app_storage(store.store_id, ecwid_token, PUBLIC_CONFIG_KEY, wanted)


def _bind_catalog(services: Services, store: Store, token: str, bound: str | None) -> str | None:
    """The binding "<catalog_id>:<pixel_code>" now in place, or None when the connection lacks an id."""
    connection = store.tiktok
    if connection is None or not (connection.bc_id and connection.catalog_id and connection.pixel_code):
        return None
    wanted = f"{connection.catalog_id}:{connection.pixel_code}"
    if bound == wanted:
        return wanted
    tiktok = services.tiktok()
    pixels = tiktok.event_source_pixels(token, bc_id=connection.bc_id, catalog_id=connection.catalog_id)
    if connection.pixel_code not in pixels:
        tiktok.bind_event_source(
            token,
            advertiser_id=connection.adv_id or (connection.advertiser_ids[0] if connection.advertiser_ids else ""),
            bc_id=connection.bc_id,
            catalog_id=connection.catalog_id,
            pixel_code=connection.pixel_code,
        )
        logger.info("Catalog bound to the pixel", extra={"store_id": store.store_id})
    return wanted


_SETUP_FAILURES = frozenset({"storefront_scope_missing", "storefront_config_failed", "catalog_binding_refused"})
_STOREFRONT_SCOPE_MISSING = (
    "The app cannot add the TikTok pixel to your storefront yet. Press Grant access on this page to allow it."
)
_STOREFRONT_CONFIG_FAILED = (
    "Ecwid did not accept the pixel settings for your storefront. The app tries again at the next sync; if this "
    "stays, press Sync Products."
)


def _binding_refused(refused: TikTokRequestRejected) -> str:
    reason = (refused.detail or "no reason given")[:300]
    return (
        f"TikTok did not link your catalog to your pixel: {reason}. Check in TikTok Catalog Manager that the "
        "catalog's event sources include your pixel, or reconnect TikTok."
    )


def _failure(services: Services, code: str, message: str) -> PixelFailure:
    return PixelFailure(code=code, message=message, at=_iso(services.clock()))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
