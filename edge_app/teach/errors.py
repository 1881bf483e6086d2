"""What teaching can refuse, by kind rather than by HTTP status: the web edge maps each kind to a
status in one table (teach/http.py), so teaching itself knows nothing of HTTP."""

from __future__ import annotations

from edge_app.errors import EdgeAppError


class TeachError(EdgeAppError):
    """A request teaching cannot honour; nothing stored is lost by it."""


class Invalid(TeachError):
    """The request itself is wrong (a bad class name, a photo that does not decode)."""


class NotFound(TeachError):
    """No such class, example or taught model."""


class Conflict(TeachError):
    """Something else is happening to the same thing (training, a delete racing an add)."""


class TooLarge(TeachError):
    """A photo beyond what a teaching example needs."""


class Unsupported(TeachError):
    """A photo in a format teaching does not take."""


class NotEnough(TeachError):
    """Training cannot start on these examples (too few classes or examples, too many classes)."""


class Busy(TeachError):
    """Too much is being decoded at once; the same request a moment later will do."""

    def __init__(self, message: str, hint: str = "", retry_after: int = 1) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class NotStored(TeachError):
    """The state dir did not take a file (space, permissions)."""


class Failed(TeachError):
    """Teaching's own failure (a model that did not build or read back)."""


class Cancelled(TeachError):
    """Training was cancelled (POST /api/teach/cancel, or a reset)."""
