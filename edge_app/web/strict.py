"""What h11 lets through and a proxy in front might read differently (pure checks on the raw
header block, before h11 parses it). h11 already refuses a space before the colon, a
Content-Length that is not digits, conflicting lengths and two Host headers; it unfolds
obs-folded lines and merges equal duplicate lengths, and these checks refuse both."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

MAX_HEADERS = 100  # as http.server had it


@dataclass(frozen=True)
class Problem:
    status: int
    message: str


def head_problem(head: bytes, max_bytes: int) -> Problem | None:
    """Why the header block `head` (request line to blank line) must be refused, or None."""
    if len(head) > max_bytes:
        return Problem(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"the request's headers are over {max_bytes} bytes")
    lines = head.split(b"\n")[1:]
    fields = [line.rstrip(b"\r") for line in lines]
    fields = [line for line in fields if line]
    if len(fields) > MAX_HEADERS:
        return Problem(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"more than {MAX_HEADERS} headers")
    if any(line[:1] in (b" ", b"\t") for line in fields):
        return Problem(HTTPStatus.BAD_REQUEST, "folded header lines (obs-fold) are not accepted")
    names = [line.partition(b":")[0].lower() for line in fields]
    for name in (b"content-length", b"host", b"transfer-encoding"):
        if names.count(name) > 1:
            return Problem(HTTPStatus.BAD_REQUEST, f"more than one {name.decode().title()} header")
    if b"transfer-encoding" in names:
        if b"content-length" in names:
            return Problem(
                HTTPStatus.BAD_REQUEST, "both Transfer-Encoding and Content-Length: the framing is ambiguous"
            )
        return Problem(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
    return None
