"""The embedding cache and the atomic writes: never a wrong or half-written file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.train.cache import EmbeddingCache, default_root
from edge_app.train.output import check_writable, write_atomic

SHAPES = {"pooled": ((4,), np.dtype(np.uint8)), "features": ((2, 2, 3), np.dtype(np.int8))}
VALUES = {"pooled": np.arange(4, dtype=np.uint8), "features": -np.ones((2, 2, 3), np.int8)}
DIGEST = "0f" * 32


def test_round_trip_and_misses(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, SHAPES)
    assert cache.get(DIGEST, "orig") is None
    cache.put(DIGEST, "orig", VALUES)
    found = cache.get(DIGEST, "orig")
    assert found is not None and all(np.array_equal(found[k], VALUES[k]) for k in VALUES)
    assert cache.get(DIGEST, "flip") is None and cache.get("1f" * 32, "orig") is None
    assert not list(tmp_path.rglob("*.part"))


def test_corrupt_or_foreign_files_are_ignored(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, SHAPES)
    cache.put(DIGEST, "orig", VALUES)
    (tmp_path / "pooled" / "orig" / f"{DIGEST}.npy").write_bytes(b"\x93NUMPY garbage")
    assert cache.get(DIGEST, "orig") is None
    cache.put(DIGEST, "orig", {**VALUES, "pooled": np.zeros(5, np.uint8)})  # another model's shape
    assert cache.get(DIGEST, "orig") is None
    cache.put(DIGEST, "orig", VALUES)
    assert cache.get(DIGEST, "orig") is not None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 3e38, -2e4])
def test_a_damaged_float_embedding_is_a_miss_and_recomputed(tmp_path: Path, bad: float) -> None:
    shapes: dict[str, tuple[tuple[int, ...], np.dtype]] = {"pooled": ((4,), np.dtype(np.float32))}
    cache = EmbeddingCache(tmp_path, shapes)
    cache.put(DIGEST, "orig", {"pooled": np.array([0.0, 1.5, bad, 6.0], np.float32)})
    assert cache.get(DIGEST, "orig") is None
    sound = np.array([0.0, 1.5, 2.0, 6.0], np.float32)
    cache.put(DIGEST, "orig", {"pooled": sound})
    found = cache.get(DIGEST, "orig")
    assert found is not None and np.array_equal(found["pooled"], sound)


def test_an_unwritable_cache_is_switched_off_with_a_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = EmbeddingCache(blocker / "cache", SHAPES)
    cache.put(DIGEST, "orig", VALUES)
    assert cache.problem and "going on without it" in cache.problem
    assert EmbeddingCache(None, SHAPES).get(DIGEST, "orig") is None


def test_default_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_root() == tmp_path / "edge-app" / "embeddings"


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "model.tflite"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two" and os.listdir(tmp_path) == ["model.tflite"]
    with pytest.raises(OSError):
        write_atomic(tmp_path / "missing" / "model.tflite", b"x")


def test_check_writable_fails_early(tmp_path: Path) -> None:
    check_writable(tmp_path / "new.tflite")
    assert os.listdir(tmp_path) == []  # the probe is gone
    with pytest.raises(EdgeAppError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.tflite")
    with pytest.raises(EdgeAppError, match="it is a folder"):
        check_writable(tmp_path)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(EdgeAppError, match="cannot write"):
            check_writable(locked / "x.tflite")
