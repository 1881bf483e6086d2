"""Writing results: fail early on a path that cannot be written, and never leave half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from edge_app.atomic import atomic_write_bytes
from edge_app.errors import EdgeAppError


def check_writable(path: Path) -> None:
    """Fail before the long work, not after it: the folder must exist and take a new file, and
    the path must not be a folder."""
    if path.is_dir():
        raise EdgeAppError(f"cannot write {path}: it is a folder", "give a file name, e.g. --out my_model.tflite")
    folder = path.parent
    if not folder.is_dir():
        raise EdgeAppError(f"cannot write {path}: folder {folder} does not exist", "create it or choose another path")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise EdgeAppError(f"cannot write {path} ({exc.strerror or exc})", "choose a writable location") from None
    os.close(fd)
    os.unlink(probe)


# The public name (edge_app.train.write_atomic) of edge_app.atomic's writer: a reader sees the old
# file or the whole new one, never half of it; `durable` also flushes it first (models yes, caches no).
write_atomic = atomic_write_bytes


def check_reads_back(model: bytes, labels: Sequence[str]) -> None:
    """Refuse, before anything is written, a model whose bytes do not load or do not give back
    exactly `labels` for its outputs: a model that does not read back is never written."""
    from edge_app.model.classifier import _outputs, make_interpreter
    from edge_app.model.labels import embedded_labels, fit_labels
    from edge_app.model.runtime import load_runtime

    interpreter = make_interpreter(load_runtime(), model, 1, None)  # a load failure is one EdgeAppError
    read = fit_labels(embedded_labels(model), _outputs(interpreter), "the labels embedded in the new model")
    if read != list(labels):
        raise EdgeAppError(
            f"the new model reads back {len(read)} labels, not its {len(labels)} classes; nothing was written",
            "rename class folders whose names hold line breaks or control characters",
        )
