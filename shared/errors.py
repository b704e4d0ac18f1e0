"""Domain errors. The gateway maps them to HTTP in one middleware; jobs store them as their failure."""

from __future__ import annotations


class BrickyardError(Exception):
    status: int = 500
    default_message = "Internal error"

    def __init__(self, message: str | None = None, *, details: object = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class BadRequest(BrickyardError):
    status = 400
    default_message = "Bad request"


class Unauthorized(BrickyardError):
    status = 401
    default_message = "Missing or invalid access token"


class Forbidden(BrickyardError):
    status = 403
    default_message = "Forbidden"


class NotFound(BrickyardError):
    status = 404
    default_message = "Not found"


class Conflict(BrickyardError):
    status = 409
    default_message = "Conflict"


class RequestTimeout(BrickyardError):
    status = 408
    default_message = "The request took too long to arrive"


class PreconditionFailed(BrickyardError):
    status = 412
    default_message = "Precondition failed"


class PayloadTooLarge(BrickyardError):
    status = 413
    default_message = "Payload too large"


class UnsupportedMediaType(BrickyardError):
    status = 415
    default_message = "Unsupported media type"


class Unprocessable(BrickyardError):
    status = 422
    default_message = "Unprocessable request"


class TooManyRequests(BrickyardError):
    """A limit of the caller's own (per principal); ``retry_after_s`` becomes Retry-After."""

    status = 429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(BrickyardError):
    status = 503
    default_message = "Service unavailable"


class JobTimeout(BrickyardError):
    status = 504
    default_message = "The job did not finish in time"


class JobCancelled(BrickyardError):
    # 409: the job's own state (CANCELLED) conflicts with producing a result.
    status = 409
    default_message = "cancelled"


_BY_STATUS: dict[int, type[BrickyardError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        ServiceUnavailable,
        JobTimeout,
    )
}


def error_for_status(status: int, message: str) -> BrickyardError:
    """Rebuild the error a failed job recorded, so a waiting caller can raise it again."""
    error = _BY_STATUS.get(status, BrickyardError)(message)
    error.status = status
    return error
