"""The live view's access token on disk: `<state dir>/http-token`, mode 0600, made on first use.

Made with O_CREAT|O_EXCL and mode 0600 before a byte is written, so it is never readable by
others, not even for a moment, and two starts racing cannot both write one. A user may write
a token of their own into the file (16 or more letters, digits and -._~+/=).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path

from edge_app.errors import EdgeAppError

log = logging.getLogger(__name__)

TOKEN_FILE = "http-token"
TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
_USABLE = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")


def token_path(state: Path) -> Path:
    return state / TOKEN_FILE


def read_token(path: Path) -> str | None:
    """The token in `path`; None if there is no file (or an empty one, left by a crash)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EdgeAppError(
            f"cannot read the live view token {path} ({exc.strerror})",
            "run as the user that owns it (the service: sudo edge-app token --service)",
        ) from None
    if not text:
        return None
    if not _USABLE.fullmatch(text):
        raise EdgeAppError(
            f"the live view token in {path} is not usable",
            "delete the file to have edge-app make a new one, or write 16 or more letters and digits into it",
        )
    return text


def load_or_create_token(state: Path) -> tuple[str, bool]:
    """(token, made now). Tightens a file others can read, with a warning."""
    path = token_path(state)
    token = read_token(path)
    if token is not None:
        _keep_private(path)
        return token, False
    try:
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size == 0:
            path.unlink()  # left empty by a crash between create and write
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:  # another start made it just now: use theirs
        theirs = read_token(path)
        if theirs is None:
            raise EdgeAppError(f"the live view token {path} is empty", "delete it and start again") from None
        return theirs, False
    except OSError as exc:
        raise EdgeAppError(
            f"cannot create the live view token {path} ({exc.strerror})",
            'set state_dir to a folder edge-app may write, or http_auth = "none" on a trusted network',
        ) from None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (token + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return token, True


def _keep_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            path.chmod(0o600)
            log.warning("live view: %s was readable by others (mode %o); it is now 0600", path, mode)
        except OSError as exc:
            log.warning(
                "live view: %s is readable by others (mode %o) and cannot be changed: %s", path, mode, exc.strerror
            )


URLS_FILE = "http-urls"  # where the last run that needed the token served, for `edge-app token`


def save_urls(state: Path, urls: list[str]) -> None:
    """Remember where the view serves (the URLs other machines open). Best effort: without it,
    `edge-app token` falls back to the configured address."""
    from edge_app.atomic import atomic_write_text

    try:
        atomic_write_text(state / URLS_FILE, "".join(f"{url}\n" for url in urls))
    except OSError as exc:
        log.debug("live view: cannot note the URLs in %s: %s", state / URLS_FILE, exc)


def read_urls(state: Path) -> list[str]:
    try:
        text = (state / URLS_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip().startswith(("http://", "https://"))]
