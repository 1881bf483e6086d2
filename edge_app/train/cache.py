"""Embeddings cached on disk, so training again with other settings does not run the backbone again.

One .npy file per photo, view and layer, named by the SHA-256 of the photo's bytes, in a folder
named by the base model file's SHA-256 and the preprocessing: a renamed or moved photo still
hits, an edited photo or another model misses. Files are written to a temporary name and renamed
into place, and a file that does not load as the expected array is ignored and recomputed, so a
crash or a stray file can never feed a wrong embedding; nor can a damaged one, NaN or absurdly
large (a float beyond SANE, far past any activation of a quantized model). A cache that cannot be written is
switched off with one warning; training goes on without it.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np

from edge_app.atomic import atomic_write_bytes
from edge_app.paths import xdg_dir

SANE = 1e4  # |value| of a float embedding beyond this is damage, not data (ReLU6 nets stay below 10)
# np.load parses each file's header with ast.literal_eval, which CPython 3.11 can fail with a
# SystemError ("AST constructor recursion depth mismatch", python/cpython#106905) when threads do
# it at once, as the embedding workers do: loads take turns (small files, a fraction of a backbone run).
_LOADING = threading.Lock()


def default_root() -> Path:
    """$XDG_CACHE_HOME/edge-app/embeddings, else ~/.cache/edge-app/embeddings."""
    return xdg_dir("CACHE", ".cache") / "embeddings"


class EmbeddingCache:
    def __init__(self, folder: Path | None, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        """`folder` None: no caching. `shapes`: the expected shape and dtype of each layer."""
        self.folder = folder
        self.shapes = shapes
        self.problem: str | None = None  # why writing stopped, for one warning

    def _file(self, digest: str, view: str, layer: str) -> Path:
        assert self.folder is not None
        return self.folder / layer / view / f"{digest}.npy"

    def get(self, digest: str, view: str) -> dict[str, np.ndarray] | None:
        """Every layer of one photo's view, or None when any is missing or unusable."""
        if self.folder is None:
            return None
        found = {}
        for layer, (shape, dtype) in self.shapes.items():
            try:
                with _LOADING:
                    value = np.load(self._file(digest, view, layer), allow_pickle=False)
            except (OSError, ValueError, EOFError):
                value = None
            if value is None or value.shape != shape or value.dtype != dtype or not _sane(value):
                return None
            found[layer] = value
        return found

    def put(self, digest: str, view: str, values: dict[str, np.ndarray]) -> None:
        if self.folder is None or self.problem is not None:
            return
        for layer, value in values.items():
            target = self._file(digest, view, layer)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(target, _npy_bytes(value), durable=False)
            except OSError as exc:
                self.problem = (
                    f"cannot write the embedding cache in {self.folder} ({exc.strerror or exc}); going on without it"
                )
                return


def _sane(value: np.ndarray) -> bool:
    """Integers are always in range; floats must be finite and within SANE."""
    if not np.issubdtype(value.dtype, np.floating):
        return True
    return bool(np.isfinite(value).all() and (value.size == 0 or np.abs(value).max() <= SANE))


def _npy_bytes(value: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, value, allow_pickle=False)
    return stream.getvalue()
