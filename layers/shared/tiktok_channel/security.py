"""Sessions for the merchant page, signed OAuth `state`, and Ecwid's encrypted admin payload.

Sessions and states are HS256 JWTs signed with keys derived from the app's `session_key`, one key per
purpose, so a session can never pass as a state or the other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pydantic import ValidationError

from tiktok_channel.models.ecwid import AdminPayload
from tiktok_channel.models.store import StatePurpose

SESSION_SECONDS = 3600
STATE_SECONDS = 600
_ISSUER = "tiktok-channel"


class InvalidToken(Exception):
    """A session or state failed a check. Deliberately carries no detail a caller could learn from."""


class PayloadRejected(Exception):
    """Ecwid's admin payload could not be decrypted or parsed."""


def _derived_key(session_key: str, purpose: str) -> bytes:
    return hmac.new(session_key.encode(), f"tiktok-channel/{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class SessionClaims:
    store_id: int
    expires_at: int


@dataclass(frozen=True)
class StateClaims:
    store_id: int
    nonce: str
    purpose: StatePurpose
    expires_at: int


def issue_session(session_key: str, store_id: int, now: float) -> tuple[str, int]:
    expires_at = int(now) + SESSION_SECONDS
    token = jwt.encode(
        {"iss": _ISSUER, "aud": "session", "sub": str(store_id), "iat": int(now), "exp": expires_at},
        _derived_key(session_key, "session"),
        algorithm="HS256",
    )
    return token, expires_at


def verify_session(session_key: str, token: str, now: float) -> SessionClaims:
    claims = _decode(session_key, token, audience="session", now=now)
    return SessionClaims(store_id=int(claims["sub"]), expires_at=int(claims["exp"]))


def issue_state(session_key: str, *, store_id: int, nonce: str, purpose: StatePurpose, now: float) -> tuple[str, int]:
    expires_at = int(now) + STATE_SECONDS
    token = jwt.encode(
        {
            "iss": _ISSUER,
            "aud": f"state:{purpose}",
            "sub": str(store_id),
            "jti": nonce,
            "iat": int(now),
            "exp": expires_at,
        },
        _derived_key(session_key, f"state:{purpose}"),
        algorithm="HS256",
    )
    return token, expires_at


def verify_state(session_key: str, token: str, *, purpose: StatePurpose, now: float) -> StateClaims:
    claims = _decode(session_key, token, audience=f"state:{purpose}", now=now)
    return StateClaims(
        store_id=int(claims["sub"]), nonce=str(claims["jti"]), purpose=purpose, expires_at=int(claims["exp"])
    )


class ExpiredToken(InvalidToken):
    """Signed by us, but too old."""


def _decode(session_key: str, token: str, *, audience: str, now: float) -> dict[str, Any]:
    try:
        # Expiry is checked against the injected clock below, not PyJWT's own.
        claims: dict[str, Any] = jwt.decode(
            token,
            _derived_key(session_key, audience),
            algorithms=["HS256"],
            audience=audience,
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": False, "verify_iat": False},
        )
        expires_at = int(str(claims["exp"]))
        subject = str(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidToken from None
    if not subject.isdigit():
        raise InvalidToken
    if now >= expires_at:
        raise ExpiredToken
    return claims


def decrypt_admin_payload(payload: str, client_secret: str) -> AdminPayload:
    """Decrypt the `payload` Ecwid gives the app's page (ecwid-api.md, "Native admin page").

    AES-128-CBC has no integrity protection: the caller must still compare the token it carries with
    the one stored for the store.
    """
    try:
        standard = payload.strip().replace("-", "+").replace("_", "/")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        if len(raw) < 32 or len(raw) % 16:
            raise PayloadRejected
        iv, ciphertext = raw[:16], raw[16:]
        decryptor = Cipher(algorithms.AES(client_secret[:16].encode("ascii")), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plaintext = unpadder.update(padded) + unpadder.finalize()
        return AdminPayload.model_validate(json.loads(plaintext))
    except (binascii.Error, ValueError, UnicodeError, ValidationError, json.JSONDecodeError):
        raise PayloadRejected from None


def sign_cursor(session_key: str, scope: str, value: str) -> str:
    """An opaque paging cursor: `value` bound to `scope` (e.g. a store and a status), signed so it cannot be forged."""
    body = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    return f"{body}.{_cursor_mac(session_key, scope, body)}"


def read_cursor(session_key: str, scope: str, cursor: str) -> str:
    """The value inside a cursor from sign_cursor for the same scope; InvalidToken for anything else."""
    body, _, mac = cursor.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _cursor_mac(session_key, scope, body)):
        raise InvalidToken
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, ValueError):
        raise InvalidToken from None


def _cursor_mac(session_key: str, scope: str, body: str) -> str:
    digest = hmac.new(_derived_key(session_key, "cursor"), f"{scope}\n{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_code(code: str) -> str:
    """A one-way fingerprint of an auth code, to recognise a retried callback without storing the code."""
    return hashlib.sha256(code.encode()).hexdigest()
