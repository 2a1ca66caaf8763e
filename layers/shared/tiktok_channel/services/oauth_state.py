"""What both TikTok callbacks share: the `state` they bring back (signed by us, for this purpose, issued and
unexpired), whether a used state is this same callback reloaded, and the redeeming of TikTok's code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from tiktok_channel.errors import (
    BadRequest,
    PausedError,
    TikTokAuthCodeInvalid,
    TikTokError,
    TikTokTokenRevoked,
    UpstreamUnavailable,
)
from tiktok_channel.models.store import OAuthState, StatePurpose
from tiktok_channel.models.tiktok import AccessTokenData
from tiktok_channel.security import ExpiredToken, InvalidToken, constant_time_equals, verify_state

if TYPE_CHECKING:
    from tiktok_channel.ports import Services
    from tiktok_channel.settings import AppSecrets

logger = Logger(child=True)


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


def is_reload(record: OAuthState, code_hash: str) -> bool:
    """A state already consumed, brought back with the same code: the same callback reloaded, safe to resume."""
    return bool(
        record.status == "consumed" and record.auth_code_hash and constant_time_equals(record.auth_code_hash, code_hash)
    )


def redeem_code(services: Services, auth_code: str, *, again: str) -> AccessTokenData:
    """Exchange TikTok's single-use code for a token; every refusal a 4xx or 503 that says to start `again`.

    The code cannot be redeemed twice, so a failure here is never resumed by a reload.
    """
    try:
        return services.tiktok().exchange_auth_code(auth_code)
    except TikTokAuthCodeInvalid:
        raise BadRequest(
            f"TikTok says this authorization is invalid or expired. {again}", code="tiktok_auth_code_invalid"
        ) from None
    except TikTokTokenRevoked:
        raise BadRequest(f"TikTok refused this app's access. {again}", code="tiktok_access_revoked") from None
    except TikTokError as failure:
        logger.warning(
            "TikTok code exchange failed",
            extra={"code": failure.code, "request_id": failure.request_id, "failure": type(failure).__name__},
        )
        raise UpstreamUnavailable(
            f"TikTok is not answering right now. Wait a minute. {again}", code="tiktok_unavailable"
        ) from None
    except PausedError:
        raise UpstreamUnavailable(
            f"TikTok asked this app to slow down. Wait a few minutes. {again}", code="tiktok_busy"
        ) from None
