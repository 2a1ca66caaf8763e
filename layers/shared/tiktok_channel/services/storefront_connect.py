"""Journey 5's last step: "Connect TikTok Storefront" for an approved store, and TikTok's storefront callback,
confirmed with TikTok's shop connection status before the storefront counts as connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import (
    AppError,
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    PausedError,
    TikTokError,
    TikTokRequestRejected,
    TikTokTokenRevoked,
    UpstreamUnavailable,
)
from tiktok_channel.models.store import OAuthState, Store
from tiktok_channel.security import hash_code
from tiktok_channel.services.connect import tiktok_authorize_url
from tiktok_channel.services.oauth_state import checked_state, is_reload, redeem_code
from tiktok_channel.services.storefront import move_storefront, store_or_not_found
from tiktok_channel.settings import AppSecrets

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

STOREFRONT_CALLBACK_PATH = "/oauth/tiktok/storefront/callback"
CAN_CONNECT = frozenset({"approved", "connecting"})

_AGAIN = "Go back to the TikTok page in your Ecwid admin and click Connect TikTok Storefront again."


def start_connect(services: Services, store_id: int, base_url: str) -> str:
    """An approved store's "Connect TikTok Storefront": answer TikTok's authorize URL with a storefront state."""
    store = store_or_not_found(services, store_id)
    _check_can_connect(store)
    now = services.clock()
    if store.storefront_state == "approved":
        move_storefront(services, store_id, {"approved"}, "connecting", now, by="merchant", check=_check_can_connect)
    secrets = services.secrets()
    phone = services.cipher.decrypt(store.phone, store_id=store_id, field="phone") if store.phone else ""
    url = tiktok_authorize_url(
        services,
        secrets,
        store,
        purpose="storefront",
        phone=phone,
        redirect_uri=base_url + STOREFRONT_CALLBACK_PATH,
        remember_phone=False,
    )
    logger.info("TikTok storefront connect started", extra={"store_id": store_id})
    return url


def _check_can_connect(store: Store) -> None:
    if store.status != "connected":
        raise Conflict(
            "Connect your store to TikTok For Business first (Connect TikTok Account).", code="not_connected"
        )
    state = store.storefront_state
    if state == "connected":
        raise Conflict("Your TikTok Storefront is already connected.", code="storefront_connected")
    if state not in CAN_CONNECT:
        waiting = {
            "submitted": "TikTok is still reviewing your application; you will be notified by email once it decides.",
            "rejected": "TikTok did not approve your application: fix what TikTok asked for and apply again.",
        }
        raise Conflict(
            "You can connect TikTok Storefront once TikTok approves your application. "
            + waiting.get(state, "Click Apply for TikTok Storefront first."),
            code="storefront_not_approved",
        )


def finish_connect(services: Services, *, auth_code: str | None, state: str | None, error: str | None = None) -> str:
    """TikTok's storefront callback: confirm the storefront with TikTok, mark it connected, back to the page.
    `error`: TikTok's word that the merchant did not authorize (`access_denied`: cancelled)."""
    if error:
        raise BadRequest(
            "You did not finish connecting your storefront on TikTok, so nothing changed. Click Connect TikTok "
            "Storefront when you are ready.",
            code="storefront_cancelled",
        )
    if not auth_code or not state:
        raise BadRequest(f"TikTok did not finish connecting your storefront. {_AGAIN}", code="missing_parameter")
    secrets = services.secrets()
    now = services.clock()
    record = _valid_state(services, secrets, state, now)
    code_hash = hash_code(auth_code)
    if record.status == "issued":
        # Proof that TikTok authorized this callback, and the code is spent. The token it grants is not kept: the
        # store's connection token (same app, same scopes) confirms the storefront below and stays the one the
        # catalog uses, so a disconnect has one token to revoke.
        redeem_code(services, auth_code, again=_AGAIN)
        try:
            services.storefronts.consume_state(record.store_id, record.nonce, code_hash)
        except ConcurrentUpdate:
            raise _state_used() from None
    elif not is_reload(record, code_hash):
        raise _state_used()
    # From here on a reload with the same state and code resumes (TikTok slow, or not yet confirmed).
    store = store_or_not_found(services, record.store_id)
    if store.storefront_state != "connected":
        _check_connecting(store)
        _confirm_with_tiktok(services, store)
        move_storefront(
            services,
            store.store_id,
            {"connecting"},
            "connected",
            services.clock(),
            by="tiktok",
            check=_check_connecting,
        )
        metrics.add_metric(name="TikTokStorefrontConnected", unit=MetricUnit.Count, value=1)
        logger.info("TikTok storefront connected", extra={"store_id": store.store_id})
    services.connections.set_state_status(record.store_id, record.nonce, "completed")
    return services.settings.app_page_url(store.store_id)


def _valid_state(services: Services, secrets: AppSecrets, state: str, now: float) -> OAuthState:
    return checked_state(
        services, secrets, state, purpose="storefront", now=now, what="TikTok Storefront connection", again=_AGAIN
    )


def _state_used() -> AppError:
    return BadRequest(f"This TikTok Storefront connection link was already used. {_AGAIN}", code="state_used")


def _check_connecting(store: Store) -> None:
    if store.status != "connected" or store.tiktok is None:
        raise Conflict(
            "Your store is no longer connected to TikTok For Business. Connect TikTok Account first, then "
            "connect your storefront.",
            code="not_connected",
        )
    if store.storefront_state != "connecting":
        raise Conflict(
            f"Your storefront is not waiting to be connected (it is {store.storefront_state}). Reload the TikTok "
            "page in your Ecwid admin.",
            code="storefront_not_connecting",
        )


def _confirm_with_tiktok(services: Services, store: Store) -> None:
    assert store.tiktok is not None  # _check_connecting
    token = services.cipher.decrypt(store.tiktok.access_token, store_id=store.store_id, field="tiktok_token")
    try:
        status = services.tiktok().shop_connection_status(
            token,
            business_platform=services.settings.tiktok_business_platform,
            external_business_id=str(store.store_id),
        )
    except TikTokTokenRevoked:
        raise Conflict(
            "TikTok withdrew this app's access. Connect TikTok Account again, then connect your storefront.",
            code="tiktok_access_revoked",
        ) from None
    except TikTokRequestRejected as refusal:
        logger.warning("TikTok refused the shop status", extra={"code": refusal.code, "request_id": refusal.request_id})
        raise Forbidden(
            f"TikTok did not let this app read your storefront's status. {_AGAIN} Allow every permission TikTok "
            "asks for.",
            code="tiktok_permission_missing",
        ) from None
    except TikTokError as failure:
        logger.warning("TikTok shop status failed", extra={"code": failure.code, "request_id": failure.request_id})
        raise UpstreamUnavailable(
            "TikTok is not answering right now. Reload this page in a minute to finish connecting your storefront.",
            code="tiktok_unavailable",
        ) from None
    except PausedError:
        raise UpstreamUnavailable(
            "TikTok asked this app to slow down. Reload this page in a few minutes to finish connecting your "
            "storefront.",
            code="tiktok_busy",
        ) from None
    if not status.connected:
        raise Conflict(
            "TikTok has not connected your storefront. Click Connect TikTok Storefront again and, on the TikTok "
            "For Business page, click Connect in the TikTok Shopping section, then Finish Setup.",
            code="storefront_not_confirmed",
        )
