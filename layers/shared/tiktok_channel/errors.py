"""Errors a caller can see: a stable snake_case code, an HTTP status and a message that says what to do."""

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
