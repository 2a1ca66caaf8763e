"""Errors: those a caller can see (a stable snake_case code, an HTTP status and a message that says what to do),
and those the ports raise (Ecwid, TikTok, the queue and the stores table failing in ways the services handle)."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error that becomes an HTTP answer `{"error": {"code", "message"}}`."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class InvalidFields(BadRequest):
    """A form with mistakes: `fields` maps each wrong field's name to what the merchant should enter there."""

    def __init__(self, message: str, fields: dict[str, str], *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.fields = fields


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class NotEligible(AppError):
    status = 422
    code = "store_not_eligible"


class UpstreamUnavailable(AppError):
    """Ecwid or TikTok did not answer usefully; trying again later is the fix."""

    status = 503
    code = "upstream_unavailable"


# -- What the ports raise -----------------------------------------------------------------------------------
# The adapters raise these and the services catch them, so neither side imports the other's module.


class TransientError(Exception):
    """A failure worth another try; `retry_after` is the server's own hint in seconds, when it gave one."""

    retry_after: float | None = None


class PausedError(Exception):
    """TikTok calls must wait until `until` (epoch seconds); the caller gives its message back until then."""

    def __init__(self, until: float, reason: str = "TikTok asked the app to wait (40100)") -> None:
        super().__init__(f"{reason}; calls wait until {until:.3f}")
        self.until = until


class NotConnected(Exception):
    """The store has no live TikTok connection."""


class ConcurrentUpdate(Exception):
    """Someone else changed the item first; the caller decides whether to re-read or give up."""


class EventPublishFailed(Exception):
    """The event bus did not take the event."""


class QueueSendFailed(Exception):
    """The queue refused some messages of a batch."""


class EcwidError(Exception):
    """Ecwid answered with an error. The message never carries a token."""

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class EcwidOAuthRejected(EcwidError):
    """The install code was refused (expired, used, or not this app's)."""


class EcwidAccessLost(EcwidError):
    """403 (INVALID_API_TOKEN, INSUFFICIENT_APP_SCOPE) or 402: the store's token no longer works here."""


class EcwidNotFound(EcwidError):
    """404, e.g. PRODUCT_NOT_FOUND."""


class EcwidUnavailable(EcwidError, TransientError):
    """Ecwid is rate limiting, failing or unreachable: try again later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TikTokError(Exception):
    """TikTok answered with an error code. The message never carries a token or secret.

    `detail` is TikTok's own `message` (at most 500 characters; empty when TikTok gave none or did not answer).
    """

    def __init__(self, message: str, *, code: int | None = None, request_id: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id
        self.detail = detail


class TikTokTokenRevoked(TikTokError):
    """40105: the access token is wrong or revoked; the merchant must reconnect."""


class TikTokAuthCodeInvalid(TikTokError):
    """40110: the authorization code is invalid, expired or already used."""


class TikTokRequestRejected(TikTokError):
    """40000/40001/40002 and other codes that another try will not fix."""


class CatalogUploadRefused(TikTokRequestRejected):
    """TikTok refused an upload for a reason of the store's connection or of the request itself (40001, or a
    40000/40002 naming bc_id, catalog_id or the product list), not of one product: splitting the batch would not
    help, so the store's page says what to do (sync_notices) instead."""


class TikTokUnavailable(TikTokError, TransientError):
    """Rate limited (40100), failing (5xx, 50000, 51001) or unreachable: worth another try later."""


class TikTokOutcomeUnknown(TikTokError):
    """A request that is not safe to repeat was sent but its answer was lost: it may have taken effect."""
