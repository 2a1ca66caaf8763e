"""Sessions of the merchant page: opened with Ecwid's encrypted payload, checked on every store route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tiktok_channel.errors import Forbidden, Unauthorized
from tiktok_channel.inputs import parse_id
from tiktok_channel.security import (
    InvalidToken,
    PayloadRejected,
    constant_time_equals,
    decrypt_admin_payload,
    issue_session,
    verify_session,
)

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

# One answer for every failed session attempt: which check failed is nobody's business.
_SESSION_REFUSED = "We could not confirm it is you. Open the TikTok page again from your Ecwid admin."


def open_session(services: Services, payload: str) -> dict[str, object]:
    store_id = verify_payload(services, payload)
    session, expires_at = issue_session(services.secrets().session_key, store_id, services.clock())
    return {
        "session": session,
        "store_id": store_id,
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat().replace("+00:00", "Z"),
    }


def verify_payload(services: Services, payload: str) -> int:
    """The store whose Ecwid admin made this payload; Unauthorized (always the same) for any other payload."""
    try:
        admin = decrypt_admin_payload(payload, services.secrets().ecwid_client_secret)
    except PayloadRejected:
        raise Unauthorized(_SESSION_REFUSED) from None
    store = services.stores.get(admin.store_id)
    if store is None or store.ecwid_token is None:
        raise Unauthorized(_SESSION_REFUSED)
    stored_token = services.cipher.decrypt(store.ecwid_token, store_id=store.store_id, field="ecwid_token")
    # The payload is AES-CBC without integrity: only the token inside it proves it came from Ecwid.
    if not constant_time_equals(stored_token, admin.access_token.get_secret_value()):
        raise Unauthorized(_SESSION_REFUSED)
    return store.store_id


def authorize_store(services: Services, authorization: str | None, store_id: str) -> int:
    """The store a `/api/stores/{storeId}/…` request may act on: 401 without a valid session, 403 for another store."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Your session is missing. Reload the TikTok page in your Ecwid admin.", code="session_required"
        )
    try:
        claims = verify_session(services.secrets().session_key, token.strip(), services.clock())
    except InvalidToken:
        raise Unauthorized(
            "Your session has expired. Reload the TikTok page in your Ecwid admin.", code="session_invalid"
        ) from None
    requested = parse_id(store_id)
    if requested is None:  # `١٠٠٣` or `１００３` is not store 1003: no session may act on an address naming no store
        raise Forbidden(
            "This address names no store: a store id is written in the digits 0-9, for example /api/stores/1003. "
            "Reload the TikTok page in your Ecwid admin.",
            code="invalid_store_id",
        )
    if requested != claims.store_id:
        raise Forbidden(
            "This session belongs to another store. Open the TikTok page from that store's Ecwid admin.",
            code="wrong_store",
        )
    return claims.store_id
