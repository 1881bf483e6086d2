"""Telling URLs from paths, and keeping passwords in them out of logs and the status page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")


# The protocols a camera streams live over, as FFmpeg opens them. Others FFmpeg knows (ftp://,
# file transfers, data:) would be accepted and then retried forever as a camera that is down.
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "rtp", "srt", "tcp")


def is_url(text: str) -> bool:
    """rtsp://, http://, https://, rtmp://, udp://... (anything with a scheme, supported or not)."""
    return bool(_SCHEME.match(text))


def scheme(url: str) -> str:
    return url.partition("://")[0].lower()


def redact_url(url: str) -> str:
    """rtsp://user:secret@cam/stream -> rtsp://user:***@cam/stream."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
