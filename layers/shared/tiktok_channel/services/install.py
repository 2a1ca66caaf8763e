"""Journey 1: the merchant installs the app in Ecwid; the app keeps the store's token and profile."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from tiktok_channel.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    EcwidAccessLost,
    EcwidError,
    EcwidOAuthRejected,
    EcwidUnavailable,
    Forbidden,
    UpstreamUnavailable,
)
from tiktok_channel.inputs import parse_id
from tiktok_channel.models.ecwid import EcwidToken, StoreProfile
from tiktok_channel.models.store import Store, StoreStatus
from tiktok_channel.security import hash_code

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)

ECWID_CALLBACK_PATH = "/oauth/ecwid/callback"
_REINSTALL = "Install the app again from the Ecwid App Market."


def install_store(
    services: Services, *, code: str | None, store_id: str | None, error: str | None, base_url: str
) -> str:
    """Exchange the install code, read the profile, keep the store; answer where to send the merchant."""
    if error:
        raise BadRequest(
            f"The app was not installed because access was not granted. {_REINSTALL}", code="ecwid_install_declined"
        )
    store_number = parse_id(store_id)
    if not code or store_number is None:
        raise BadRequest(f"This install link is incomplete. {_REINSTALL}", code="missing_parameter")
    code_hash = hash_code(code)
    existing = services.stores.get(store_number)
    if existing is not None and existing.install_code_hash == code_hash:
        # A reloaded callback: exchanging the code again would make Ecwid disable the token it gave.
        return services.settings.app_page_url(store_number)
    secrets = services.secrets()
    ecwid = services.ecwid()
    try:
        token = ecwid.exchange_code(
            store_id=store_number,
            code=code,
            client_id=secrets.ecwid_client_id,
            client_secret=secrets.ecwid_client_secret,
            redirect_uri=base_url + ECWID_CALLBACK_PATH,
        )
        if token.store_id != store_number:
            raise BadRequest(f"This install link belongs to another store. {_REINSTALL}", code="ecwid_code_invalid")
        profile = ecwid.get_profile(store_number, token.access_token.get_secret_value())
    except EcwidOAuthRejected:
        raise BadRequest(
            f"This install link has expired or was already used. {_REINSTALL}", code="ecwid_code_invalid"
        ) from None
    except EcwidAccessLost:
        raise Forbidden(
            f"Ecwid refused this app access to your store. {_REINSTALL} Accept the permissions it asks for.",
            code="ecwid_access_denied",
        ) from None
    except EcwidUnavailable:
        raise UpstreamUnavailable(
            "Ecwid is not answering right now. Wait a minute, then install the app again.", code="ecwid_unavailable"
        ) from None
    except EcwidError as failure:
        logger.warning("Ecwid install failed", extra={"store_id": store_number, "failure": str(failure)})
        raise UpstreamUnavailable(
            "Ecwid answered in a way we did not expect. Wait a minute, then install again.", code="ecwid_unavailable"
        ) from None

    for attempt in range(2):  # one re-read if the store item changed underneath
        if attempt:
            existing = services.stores.get(store_number)
        store = _installed_store(services, existing, token, profile, code_hash)
        try:
            services.stores.save_installation(store, expected_version=existing.version if existing else None)
            break
        except ConcurrentUpdate:
            continue
    else:
        raise Conflict(
            "Your store was being updated at the same moment. Install the app again.", code="concurrent_update"
        )
    logger.info(
        "Store installed",
        extra={"store_id": store_number, "country": store.country, "currency": store.currency, "status": store.status},
    )
    return services.settings.app_page_url(store_number)


def _installed_store(
    services: Services, existing: Store | None, token: EcwidToken, profile: StoreProfile, code_hash: str
) -> Store:
    ciphertext = services.cipher.encrypt(
        token.access_token.get_secret_value(), store_id=token.store_id, field="ecwid_token"
    )
    now = datetime.fromtimestamp(services.clock(), UTC).isoformat()
    base = existing or Store(store_id=token.store_id, installed_at=now)
    return base.model_copy(
        update={
            "status": _status_after_install(existing),
            # The notice that asked for this reinstall is answered by it; any other (a frozen catalog) stays.
            "notice": None if existing and _access_lost(existing) else base.notice,
            "country": profile.country,
            "currency": profile.currency,
            "store_name": profile.store_name,
            "store_url": profile.store_url,
            "email": profile.email,
            "ecwid_token": ciphertext,
            "ecwid_scope": token.scope,
            "install_code_hash": code_hash,
            "updated_at": now,
        }
    )


def _access_lost(store: Store) -> bool:
    return store.status == "ecwid_access_lost" or (
        store.notice is not None and store.notice.code == "ecwid_access_lost"
    )


def _status_after_install(existing: Store | None) -> StoreStatus:
    """A reinstall brings back Ecwid access; a live TikTok connection stays as it was."""
    if existing is None:
        return "installed"
    if existing.status == "ecwid_access_lost":
        return "connected" if existing.tiktok else "installed"
    if existing.status == "disconnected" and existing.tiktok is None:
        return "installed"
    return existing.status
