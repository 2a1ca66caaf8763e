"""Journey 2: connect a store to TikTok For Business, from the Connect button to the first sync.

The callback is resumable: the TikTok token is stored first, each setup step is remembered as soon as
it succeeds, and catalogs and pixels are looked for before they are created. A callback retried after
a timeout (same state, same auth_code) therefore continues where the first stopped and never creates
twice; once the connection is complete the state is spent and a replay is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as random_tokens
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.eligibility import eligibility
from tiktok_channel.errors import (
    AppError,
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    NotEligible,
    NotFound,
    PausedError,
    TikTokError,
    TikTokRequestRejected,
    TikTokTokenRevoked,
    UpstreamUnavailable,
)
from tiktok_channel.inputs import ascii_digits, is_dash_or_space
from tiktok_channel.models.messages import SyncMessage
from tiktok_channel.models.store import OAuthState, PendingConnection, StatePurpose, Store, SyncState, TikTokConnection
from tiktok_channel.security import (
    hash_code,
    issue_state,
)
from tiktok_channel.services.connect_setup import set_up_tiktok
from tiktok_channel.services.oauth_state import checked_state, is_reload, redeem_code
from tiktok_channel.settings import AppSecrets

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

TIKTOK_CALLBACK_PATH = "/oauth/tiktok/callback"
EXTERNAL_DATA_VERSION = "1.0"
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164 in ASCII: a country code and at most 15 digits
_PHONE_SEPARATORS = frozenset("().")  # besides every space and dash
_PLUS = {"\uff0b": "+"}  # the full-width plus of a full-width keyboard
_JOB_NAMESPACE = uuid.UUID("5b0a1c8e-2f4e-4a57-9d0b-6f1d2c3e4a5b")
_AGAIN = "Go back to the TikTok page in your Ecwid admin and press Connect TikTok Account again."


# -- the Connect button ------------------------------------------------------------------------
def normalize_phone(raw: str) -> str:
    """The phone in E.164 as TikTok takes it and the app stores it, in ASCII: digits of any script (full-width,
    Arabic-Indic, Devanagari…) become ASCII digits, spaces, dashes, brackets and dots go; anything else is refused."""
    typed = ascii_digits(raw)
    phone = "".join(
        _PLUS.get(char, char) for char in typed if not (is_dash_or_space(char) or char in _PHONE_SEPARATORS)
    )
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _PHONE.fullmatch(phone):
        raise BadRequest(
            "Enter your mobile phone number in international format: + and the country code, then the number, "
            "for example +14155550123.",
            code="invalid_phone",
        )
    return phone


def start_connect(services: Services, store_id: int, phone: str, base_url: str) -> str:
    """Check the store may connect and answer the TikTok authorize URL to send the merchant to."""
    normalized_phone = normalize_phone(phone)
    store = services.stores.get(store_id)
    if store is None or store.ecwid_token is None:  # no token: uninstalled (a session lives up to an hour)
        raise NotFound(
            "This store has not installed the app. Install it from the Ecwid App Market.", code="store_not_found"
        )
    if store.status == "connected":
        raise Conflict(
            "This store is already connected to TikTok. Disconnect it first to connect another account.",
            code="already_connected",
        )
    if store.status == "ecwid_access_lost":
        raise Conflict(
            "The app lost access to your Ecwid store. Reinstall it from the Ecwid App Market, then connect TikTok.",
            code="ecwid_access_lost",
        )
    allowed = eligibility(store.country, store.currency)
    if not allowed.catalog_allowed:
        raise NotEligible(allowed.reason or "Your store cannot connect to TikTok.")

    secrets = services.secrets()
    url = tiktok_authorize_url(
        services,
        secrets,
        store,
        purpose="connect",
        phone=normalized_phone,
        redirect_uri=base_url + TIKTOK_CALLBACK_PATH,
        remember_phone=True,
    )
    logger.info("TikTok connect started", extra={"store_id": store_id})
    return url


def tiktok_authorize_url(
    services: Services,
    secrets: AppSecrets,
    store: Store,
    *,
    purpose: StatePurpose,
    phone: str,
    redirect_uri: str,
    remember_phone: bool,
) -> str:
    """TikTok's authorize URL with a signed, single-use state for `purpose`, its nonce recorded first."""
    now = services.clock()
    nonce = random_tokens.token_urlsafe(18)
    state, expires_at = issue_state(secrets.session_key, store_id=store.store_id, nonce=nonce, purpose=purpose, now=now)
    services.connections.issue_state(
        OAuthState(store_id=store.store_id, nonce=nonce, purpose=purpose, expires_at=expires_at),
        phone=services.cipher.encrypt(phone, store_id=store.store_id, field="phone") if remember_phone else None,
        now=_iso(now),
    )
    query = {
        "app_id": secrets.tiktok_app_id,
        "state": state,
        "redirect_uri": redirect_uri,
        "external_data": external_data(services, store, secrets, phone, redirect_uri, now),
    }
    return f"{services.settings.tiktok_auth_url}?{urlencode(query)}"


def external_data(
    services: Services, store: Store, secrets: AppSecrets, phone: str, redirect_uri: str, now: float
) -> str:
    """What TikTok's hosted setup needs to know about the store, as TikTok's own commerce plugins send it."""
    platform = services.settings.tiktok_business_platform
    timestamp = str(int(now * 1000))
    data: dict[str, str] = {
        "external_business_id": str(store.store_id),
        "business_platform": platform,
        "locale": "en",
        "version": EXTERNAL_DATA_VERSION,
        "timestamp": timestamp,
        "country_region": store.country,
        "currency": store.currency,
        "store_name": store.store_name,
        "website_url": store.store_url,
        "domain": urlsplit(store.store_url).hostname or "",
        "email": store.email,
        "phone_number": phone,  # key name unconfirmed (tiktok-api.md)
        "app_id": secrets.tiktok_app_id,
        "redirect_uri": redirect_uri,
    }
    if secrets.tiktok_external_data_key:
        signed = (
            f"version={EXTERNAL_DATA_VERSION}&timestamp={timestamp}&locale=en"
            f"&business_platform={platform}&external_business_id={store.store_id}"
        )
        data["hmac"] = hmac.new(secrets.tiktok_external_data_key.encode(), signed.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


# -- the TikTok callback -----------------------------------------------------------------------
def finish_connect(services: Services, *, auth_code: str | None, state: str | None, error: str | None = None) -> str:
    """Complete the connection TikTok authorized; answer where to send the merchant. `error`: TikTok's word that
    the merchant did not authorize (`access_denied`: cancelled)."""
    if error:
        raise BadRequest(
            "You did not finish connecting on TikTok, so nothing changed. Press Connect TikTok Account when you "
            "are ready.",
            code="connect_cancelled",
        )
    if not auth_code or not state:
        raise BadRequest(f"TikTok did not finish the connection. {_AGAIN}", code="missing_parameter")
    secrets = services.secrets()
    now = services.clock()
    record = _valid_state(services, secrets, state, now)
    code_hash = hash_code(auth_code)

    if record.status == "issued":
        _begin(services, record, auth_code, code_hash)
    elif not is_reload(record, code_hash):
        raise BadRequest(f"This TikTok connection link was already used. {_AGAIN}", code="state_used")

    store = services.stores.get(record.store_id)
    if store is None:
        raise NotFound(
            "This store has not installed the app. Install it from the Ecwid App Market.", code="store_not_found"
        )
    pending = store.pending_connection
    if pending is not None and pending.nonce == record.nonce:
        store = _set_up_and_complete(services, store, pending, now)
    elif store.connection_nonce != record.nonce:
        raise BadRequest(f"This TikTok connection link was already used. {_AGAIN}", code="state_used")

    # Reached by the first callback and by one retried after a crash past completion: both are safe
    # to repeat (the job id is derived from the nonce and SQS drops a duplicate within five minutes).
    job_id = _job_id(record.nonce)
    services.queue.send(SyncMessage(store_id=store.store_id, epoch=store.epoch, job_id=job_id, mode="replace"))
    services.connections.set_state_status(record.store_id, record.nonce, "completed")
    metrics.add_metric(name="TikTokConnected", unit=MetricUnit.Count, value=1)
    logger.info(
        "TikTok connected",
        extra={
            "store_id": store.store_id,
            "epoch": store.epoch,
            "job_id": job_id,
            "via_business_profile": bool(store.tiktok and store.tiktok.via_business_profile),
        },
    )
    return services.settings.app_page_url(store.store_id)


def _valid_state(services: Services, secrets: AppSecrets, state: str, now: float) -> OAuthState:
    return checked_state(services, secrets, state, purpose="connect", now=now, what="TikTok connection", again=_AGAIN)


def _begin(services: Services, record: OAuthState, auth_code: str, code_hash: str) -> None:
    """Exchange the auth code and store the encrypted token before anything else."""
    granted = redeem_code(services, auth_code, again=_AGAIN)
    pending = PendingConnection(
        nonce=record.nonce,
        access_token=services.cipher.encrypt(
            granted.access_token.get_secret_value(), store_id=record.store_id, field="tiktok_token"
        ),
        advertiser_ids=granted.advertiser_ids,
    )
    try:
        services.connections.begin_connection(record, auth_code_hash=code_hash, pending=pending)
    except ConcurrentUpdate:
        raise BadRequest(f"This TikTok connection link was already used. {_AGAIN}", code="state_used") from None


def _set_up_and_complete(services: Services, store: Store, pending: PendingConnection, now: float) -> Store:
    token = services.cipher.decrypt(pending.access_token, store_id=store.store_id, field="tiktok_token")
    tiktok = services.tiktok()
    try:
        pending = set_up_tiktok(services, tiktok, token, store, pending)
    except TikTokRequestRejected as refusal:
        logger.warning("TikTok refused a connect step", extra={"code": refusal.code, "request_id": refusal.request_id})
        raise Forbidden(
            "TikTok did not let this app set up your catalog and pixel. Press Connect TikTok Account again and "
            "allow every permission TikTok asks for (Business Center, ad account, pixel and catalog).",
            code="tiktok_permission_missing",
        ) from None
    except TikTokTokenRevoked:
        services.connections.abandon_connection(store.store_id, pending.nonce)
        raise BadRequest(
            f"TikTok withdrew this app's access while connecting. {_AGAIN}", code="tiktok_access_revoked"
        ) from None
    except TikTokError as failure:
        raise _tiktok_unavailable(failure) from None
    except PausedError:
        raise _tiktok_busy() from None

    connection = TikTokConnection.model_validate(
        {
            **pending.model_dump(exclude={"nonce"}),
            "catalog_currency": store.currency,
            "catalog_region": store.country,
            "connected_at": _iso(now),
        }
    )
    sync = SyncState(state="queued", job_id=_job_id(pending.nonce))
    try:
        return services.connections.complete_connection(store.store_id, pending.nonce, connection, sync, _iso(now))
    except ConcurrentUpdate:
        raise BadRequest(f"This TikTok connection link was already used. {_AGAIN}", code="state_used") from None


def _tiktok_unavailable(failure: TikTokError) -> AppError:
    """TikTok failed a setup step after the token was stored: reloading the callback resumes it."""
    logger.warning(
        "TikTok connect step failed",
        extra={"code": failure.code, "request_id": failure.request_id, "failure": type(failure).__name__},
    )
    return UpstreamUnavailable(
        "TikTok is not answering right now. Reload this page in a minute to finish connecting.",
        code="tiktok_unavailable",
    )


def _tiktok_busy() -> AppError:
    return UpstreamUnavailable(
        "TikTok asked this app to slow down. Reload this page in a few minutes to finish connecting.",
        code="tiktok_busy",
    )


def _job_id(nonce: str) -> str:
    return str(uuid.uuid5(_JOB_NAMESPACE, f"connect:{nonce}"))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
