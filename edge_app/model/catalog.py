"""Known models, the local model cache, and verified downloads.

A download goes to a temporary file next to its destination, is checked against the
catalog's checksum, and only then renamed into place: a failed or tampered download
leaves nothing behind, and a reader never sees half a model.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge_app.errors import EdgeAppError
from edge_app.paths import xdg_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CHUNK = 64 * 1024
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Download:
    file: str
    url: str
    sha256: str = ""
    git_blob: str = ""
    size: int = 0


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    download: Download
    input_size: int
    labels: str
    edgetpu: Download | None = None
    default: bool = False
    extra: bool = False  # another architecture, for `compare` by name; not in the default set
    label_file: Download | None = None  # for models that carry no labels of their own
    mean: float | None = None  # the input normalization (pixel - mean) / std, where not the usual
    std: float | None = None

    @property
    def file(self) -> str:
        return self.download.file


def catalog_path() -> Path:
    """$EDGE_APP_CATALOG, then the source tree's models/, then the installed share/ copy
    (the venv's, or the user's for `pip install --user`)."""
    override = os.environ.get("EDGE_APP_CATALOG")
    if override:
        return Path(override)
    import site

    in_tree = Path(__file__).resolve().parents[2] / "models" / "catalog.toml"
    installed = [
        Path(base) / "share" / "edge-app" / "models" / "catalog.toml" for base in (sys.prefix, site.USER_BASE or "")
    ]
    return next((path for path in (in_tree, *installed) if path.is_file()), installed[0])


def load_catalog(path: Path | None = None) -> dict[str, ModelEntry]:
    path = path or catalog_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise EdgeAppError(f"model catalog not found at {path}", "reinstall edge-app or set EDGE_APP_CATALOG") from None
    except tomllib.TOMLDecodeError as exc:
        raise EdgeAppError(f"model catalog {path} is not valid TOML ({exc})", "fix or restore the file") from None
    entries = {}
    for name, raw in data.items():
        entries[name] = ModelEntry(
            name=name,
            description=raw.get("description", ""),
            download=_download(raw),
            input_size=int(raw.get("input", 0)),
            labels=raw.get("labels", ""),
            edgetpu=_download(raw["edgetpu"]) if "edgetpu" in raw else None,
            default=bool(raw.get("default", False)),
            extra=bool(raw.get("extra", False)),
            label_file=_download(raw["label_file"]) if "label_file" in raw else None,
            mean=float(raw["mean"]) if "mean" in raw else None,
            std=float(raw["std"]) if "std" in raw else None,
        )
    return entries


def _download(raw: dict[str, object]) -> Download:
    return Download(
        str(raw["file"]),
        str(raw["url"]),
        str(raw.get("sha256", "")),
        str(raw.get("git_blob", "")),
        int(raw.get("size", 0)),  # type: ignore[call-overload]
    )


def default_model(catalog: dict[str, ModelEntry] | None = None) -> ModelEntry:
    catalog = catalog or load_catalog()
    return next((e for e in catalog.values() if e.default), next(iter(catalog.values())))


def cache_dir() -> Path:
    """$EDGE_APP_MODELS, else $XDG_CACHE_HOME/edge-app/models, else ~/.cache/edge-app/models."""
    override = os.environ.get("EDGE_APP_MODELS")
    if override:
        return Path(override).expanduser()
    return xdg_dir("CACHE", ".cache") / "models"


def is_path_like(spec: str) -> bool:
    return "/" in spec or os.sep in spec or spec.endswith(".tflite")


def file_digests(path: Path) -> tuple[str, str]:
    """SHA-256 and git blob id (sha1 of "blob <size>\\0" + data) of a file."""
    sha256 = hashlib.sha256()
    git = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha256.update(chunk)
            git.update(chunk)
    return sha256.hexdigest(), git.hexdigest()


def _mirror_url(download: Download) -> str:
    """Where to get `download`: $EDGE_APP_MODEL_MIRROR (an http(s):// or file:// URL, or a plain
    folder, e.g. a USB stick holding the model files), else the catalog's URL."""
    mirror = os.environ.get("EDGE_APP_MODEL_MIRROR", "").strip()
    if not mirror:
        return download.url
    if "://" not in mirror:
        folder = Path(mirror).expanduser().resolve()
        if not folder.is_dir():
            raise EdgeAppError(
                f"EDGE_APP_MODEL_MIRROR={mirror} is neither a folder nor a URL",
                "give a folder holding the model files, or an http://, https:// or file:// URL",
            )
        return f"{folder.as_uri()}/{download.file}"
    return f"{mirror.rstrip('/')}/{download.file}"


def where(url: str) -> str:
    """The host (or folder) a download tries, for messages: no path, no credentials."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return str(Path(urllib.request.url2pathname(parts.path)).parent)
    return parts.hostname or url


def offline_hint(download: Download) -> str:
    """The ways on without the network, each one concrete."""
    return (
        f"offline? use --model PATH with a .tflite file, set EDGE_APP_MODEL_MIRROR to a folder or server "
        f"that has {download.file}, or copy it into {cache_dir()}"
    )


def failure_reason(exc: BaseException) -> str:
    """Why a connection failed, in words instead of "[Errno 111]"."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)


def fetch(
    download: Download,
    dest_dir: Path | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    on_connect: Callable[[], None] | None = None,
) -> Path:
    """Download, verify and atomically place one file; return its path in the cache.
    `on_connect` runs once the server (or mirror folder) answers, before the first byte."""
    dest_dir = dest_dir or cache_dir()
    dest = dest_dir / download.file
    url = _mirror_url(download)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgeAppError(
            f"cannot create model cache {dest_dir} ({exc.strerror})", "set EDGE_APP_MODELS to a writable folder"
        ) from None
    tmp = dest_dir / f".{download.file}.{os.getpid()}.part"  # created inside the try: a stop signal cannot strand it
    try:
        with open(tmp, "wb") as out:
            _stream(url, out, download, progress, on_connect)
        verify(tmp, download)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _stream(
    url: str,
    out,
    download: Download,
    progress: Callable[[int, int | None], None] | None,
    on_connect: Callable[[], None] | None,
) -> None:
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        raise EdgeAppError(
            f"download of {download.file} failed: HTTP {exc.code} from {url}",
            "check the URL or EDGE_APP_MODEL_MIRROR, then retry",
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        if url.startswith("file:"):
            missing = isinstance(getattr(exc, "reason", exc), FileNotFoundError)
            raise EdgeAppError(
                f"{download.file} is not in the mirror folder {where(url)}"
                + ("" if missing else f" ({failure_reason(exc)})"),
                "copy it there, use --model PATH with a .tflite file, or unset EDGE_APP_MODEL_MIRROR to download "
                "it from the catalog's URL",
            ) from None
        raise EdgeAppError(
            f"download of {download.file} failed: cannot reach {where(url)} ({failure_reason(exc)})",
            offline_hint(download),
        ) from None
    except ValueError as exc:  # not a URL at all, e.g. a catalog entry without a scheme
        raise EdgeAppError(
            f"cannot download {download.file} from {url!r}: {exc}",
            "EDGE_APP_MODEL_MIRROR must be a folder or an http(s):// or file:// URL",
        ) from None
    if on_connect:
        on_connect()
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else (download.size or None)
        received = 0
        try:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                if progress:
                    progress(received, total)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise EdgeAppError(
                f"download of {download.file} was cut off after {received} bytes ({exc})", "retry"
            ) from None
    if total is not None and received != total:
        raise EdgeAppError(f"download of {download.file} was cut off: got {received} of {total} bytes", "retry")


def verify(path: Path, download: Download) -> None:
    """Raise unless the file matches the catalog's SHA-256 (or git blob id for Edge TPU twins)."""
    sha256, git_blob = file_digests(path)
    for kind, expected, actual in (("SHA-256", download.sha256, sha256), ("git blob", download.git_blob, git_blob)):
        if expected and actual != expected:
            raise EdgeAppError(
                f"checksum mismatch for {download.file}: expected {kind} {expected[:12]}..., got {actual[:12]}...",
                "the download was corrupted or replaced and was not saved; retry, or check EDGE_APP_MODEL_MIRROR",
            )


def fetch_with_progress(download: Download, on_connect: Callable[[], None] | None = None) -> Path:
    """fetch() with a progress bar on a terminal; the bar ends its line even when the download fails."""
    from edge_app.progress import Progress

    with Progress(download.size or None, f"fetching {download.file}", unit="B") as bar:
        return fetch(download, progress=bar.update_to, on_connect=on_connect)


def resolve(spec: str | None, fetch_missing: bool = True) -> tuple[Path, ModelEntry | None]:
    """A --model value (catalog name, file path, or None for the default) -> a local file."""
    if spec and is_path_like(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise EdgeAppError(
                f"model file not found: {spec}", "give a .tflite path or a catalog name (edge-app models list)"
            )
        return path, None
    entry = catalog_entry(spec)
    return cached_or_fetch(entry.download, fetch_missing), entry


def catalog_entry(spec: str | None) -> ModelEntry:
    """A catalog name (None: the default model) -> its entry."""
    catalog = load_catalog()
    entry = default_model(catalog) if not spec else catalog.get(spec)
    if entry is None:
        raise EdgeAppError(f"unknown model {spec!r}", f"use a .tflite path or one of: {', '.join(catalog)}")
    return entry


def uncached(spec: str | None) -> ModelEntry | None:
    """The catalog entry of a --model value whose file is not in the cache yet; None for a path
    or a cached model (so a report can say "not cached" instead of downloading)."""
    if spec and is_path_like(spec):
        return None
    entry = catalog_entry(spec)
    return None if (cache_dir() / entry.file).is_file() else entry


def cached_or_fetch(download: Download, fetch_missing: bool = True) -> Path:
    path = cache_dir() / download.file
    if path.is_file():
        return path
    if not fetch_missing:
        raise EdgeAppError(
            f"model {download.file} is not in the cache {cache_dir()}",
            f"run: edge-app models fetch {Path(download.file).stem}",
        )

    def announce() -> None:  # only once a download really starts: offline, the error line says it all
        print(f"edge-app: {download.file} is not cached yet; downloading it once into {cache_dir()}", file=sys.stderr)

    return fetch_with_progress(download, announce)


def resolve_twin(model: Path, entry: ModelEntry | None, fetch_missing: bool = True) -> Path | None:
    """The model compiled for the Edge TPU: the catalog's twin, or `x_edgetpu.tflite` beside `x.tflite`."""
    if model.stem.endswith("_edgetpu"):
        return model
    if entry is not None:
        return cached_or_fetch(entry.edgetpu, fetch_missing) if entry.edgetpu else None
    sibling = model.with_name(f"{model.stem}_edgetpu{model.suffix}")
    return sibling if sibling.is_file() else None
