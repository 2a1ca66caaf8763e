"""Checking the `state` a TikTok callback brings back: signed by us, for this purpose, issued and unexpired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiktok_channel.errors import BadRequest
from tiktok_channel.models.store import OAuthState, StatePurpose
from tiktok_channel.security import ExpiredToken, InvalidToken, verify_state

if TYPE_CHECKING:
    from tiktok_channel.ports import Services
    from tiktok_channel.settings import AppSecrets


def checked_state(
    services: Services, secrets: AppSecrets, state: str, *, purpose: StatePurpose, now: float, what: str, again: str
) -> OAuthState:
    """The stored state a callback's `state` names; a clear 400 when it is forged, foreign or expired.

    `what` names the journey for the merchant ("TikTok connection"); `again` says how to start over.
    """
    expired = BadRequest(f"This {what} took longer than 10 minutes and expired. {again}", code="state_expired")
    invalid = BadRequest(f"This {what} link is not valid. {again}", code="invalid_state")
    try:
        claims = verify_state(secrets.session_key, state, purpose=purpose, now=now)
    except ExpiredToken:
        raise expired from None
    except InvalidToken:
        raise invalid from None
    record = services.connections.get_state(claims.store_id, claims.nonce)
    if record is None or record.purpose != purpose:
        raise invalid
    if record.status == "issued" and now >= record.expires_at:  # DynamoDB's TTL deletes late, if ever
        raise expired
    return record


def state_store(services: Services, state: str | None, *, purpose: StatePurpose) -> int | None:
    """The store a callback's `state` was signed for by this app, for `purpose`, expired or not; None for any other
    state. Where to send the merchant back, whatever else is wrong with the callback."""
    if not state:
        return None
    try:
        # Expiry is beside the point here: the signature alone says which store's page to go back to.
        return verify_state(services.secrets().session_key, state, purpose=purpose, now=0).store_id
    except (InvalidToken, ValueError):  # ValueError: a subject of digits int() does not take (signed by us: never)
        return None
