"""Verified, atomic model downloads against a mirror on 127.0.0.1 (never the network)."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import socket
import stat
import urllib.error
from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.model.catalog import Download, failure_reason, fetch, load_catalog, where
from edge_app.progress import Progress
from tests.fakes.cli_run import assert_one_line_error, run_cli, run_module
from tests.fakes.model_server import Reply, serve
from tests.helpers.shared_data import IMAGES, MODELS

DATA = os.urandom(300_000)
GOOD = Download("m.tflite", "http://127.0.0.1:9/m.tflite", sha256=hashlib.sha256(DATA).hexdigest(), size=len(DATA))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("EDGE_APP_MODELS", str(folder))
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_download_is_verified_and_renamed_into_place(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int | None]] = []

    def progress(received: int, total: int | None) -> None:
        seen.append((received, total))
        assert not (cache / "m.tflite").exists(), "nothing appears under the final name before it is verified"
        [partial] = _files(cache)
        assert partial.startswith(".m.tflite.") and partial.endswith(".part")

    with serve({"m.tflite": Reply(DATA)}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        path = fetch(GOOD, progress=progress)
    assert path == cache / "m.tflite"
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert _files(cache) == ["m.tflite"], "no temporary file is left"
    assert len(seen) > 1 and seen[-1] == (len(DATA), len(DATA))
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))


def test_git_blob_verification_for_edgetpu_twins(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blob = hashlib.sha1(b"blob %d\0" % len(DATA) + DATA).hexdigest()
    twin = Download("m_edgetpu.tflite", "http://127.0.0.1:9/", git_blob=blob)
    with serve({"m_edgetpu.tflite": Reply(DATA)}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        assert fetch(twin).read_bytes() == DATA
        with pytest.raises(EdgeAppError, match="expected git blob"):
            fetch(Download("m_edgetpu.tflite", "http://127.0.0.1:9/", git_blob="0" * 40))
    assert _files(cache) == ["m_edgetpu.tflite"]


FAILURES = {
    "not_found": ({}, "download of m.tflite failed: HTTP 404 from http://127.0.0.1:"),
    "wrong_checksum": ({"m.tflite": Reply(DATA[::-1])}, "checksum mismatch for m.tflite: expected SHA-256"),
    "cut_off": ({"m.tflite": Reply(DATA, cut_after=100_000)}, "download of m.tflite was cut off"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failed_download_leaves_nothing_behind(cache: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    routes, message = FAILURES[case]
    with serve(routes) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        with pytest.raises(EdgeAppError, match=message.replace(".", r"\.")):
            fetch(GOOD)
    assert _files(cache) == []


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failed_download_keeps_the_cached_copy_intact(cache: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    cache.mkdir()
    (cache / "m.tflite").write_bytes(DATA)
    with serve(FAILURES[case][0]) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        with pytest.raises(EdgeAppError):
            fetch(GOOD)
    assert _files(cache) == ["m.tflite"] and (cache / "m.tflite").read_bytes() == DATA


def test_unreachable_mirror(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", f"http://127.0.0.1:{port}")
    with pytest.raises(
        EdgeAppError, match="download of m.tflite failed: cannot reach 127.0.0.1 .connection refused.; offline?"
    ) as failure:
        fetch(GOOD)
    assert "Errno" not in str(failure.value)
    assert _files(cache) == []


def test_unwritable_cache_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EDGE_APP_MODELS", str(blocker / "models"))
    with pytest.raises(EdgeAppError, match="cannot create model cache .*; set EDGE_APP_MODELS to a writable folder"):
        fetch(GOOD)


# --- a plain folder as the mirror (a USB stick, a share) ---------------------------------------


def test_a_plain_folder_mirror_is_verified_like_any_other(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "stick"
    mirror.mkdir()
    (mirror / "m.tflite").write_bytes(DATA)
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", str(mirror))
    assert fetch(GOOD).read_bytes() == DATA
    (mirror / "m.tflite").write_bytes(DATA[::-1])
    with pytest.raises(EdgeAppError, match="checksum mismatch for m.tflite"):
        fetch(GOOD)
    assert _files(cache) == ["m.tflite"]


def test_a_folder_mirror_without_the_file_or_that_is_not_there(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", str(tmp_path))
    with pytest.raises(EdgeAppError, match=f"m.tflite is not in the mirror folder {tmp_path}; copy it there"):
        fetch(GOOD)
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", str(tmp_path / "gone"))
    with pytest.raises(EdgeAppError, match="is neither a folder nor a URL"):
        fetch(GOOD)
    assert _files(cache) == []


def test_failurefailure_reasons_are_words_not_errno() -> None:
    assert (
        failure_reason(urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")))
        == "host name not found"
    )
    assert (
        failure_reason(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))) == "connection refused"
    )
    assert failure_reason(urllib.error.URLError(TimeoutError("timed out"))).startswith("no answer within")
    assert where("https://user:pw@github.com/google-coral/x.tflite") == "github.com"


# --- offline with nothing cached: the ways on, by name --------------------------------------------


def _closed_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]


def _offline_needles(cache: Path, host: str) -> tuple[str, ...]:
    return (f"cannot reach {host}", "--model PATH", "EDGE_APP_MODEL_MIRROR", str(cache))


def test_offline_with_a_dead_mirror_names_the_ways_on(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", f"http://127.0.0.1:{_closed_port()}/")
    run = run_cli(capsys, "classify", "-m", TINY.name, str(IMAGES / "cat.bmp"))
    assert run.code == 2 and run.out == ""
    assert_one_line_error(run, *_offline_needles(cache, "127.0.0.1"))
    assert "is not cached yet" not in run.err, "no download began: the error line alone says what happened"


def test_offline_without_a_mirror_names_the_catalog_host(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        f'["tiny"]\nfile = "{TINY.file}"\n'
        f'url = "http://127.0.0.1:{_closed_port()}/models/{TINY.file}"\n'
        f'sha256 = "{TINY.download.sha256}"\n'
    )
    monkeypatch.setenv("EDGE_APP_CATALOG", str(catalog))
    run = run_cli(capsys, "classify", "-m", "tiny", str(IMAGES / "cat.bmp"))
    assert_one_line_error(run, *_offline_needles(cache, "127.0.0.1"))
    assert run.code == 2


@pytest.mark.slow
def test_offline_run_exits_2_naming_the_ways_on(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_module(
        "run",
        "--source",
        "synthetic",
        "--max-frames",
        "5",
        "--no-realtime",
        env={"EDGE_APP_MODEL_MIRROR": f"http://127.0.0.1:{_closed_port()}/"},
    )
    assert run.code == 2
    assert_one_line_error(run, *_offline_needles(cache, "127.0.0.1"))
    assert _files(cache) == []


# --- through `edge-app models fetch` ----------------------------------------------------------

TINY = load_catalog()["mobilenet_v1_0.25_128_quant"]


@functools.cache
def tiny_bytes() -> bytes:
    """The real model from ../shared/models, read when a test (marked `shared`) first asks."""
    return (MODELS / TINY.file).read_bytes()


CLI_FAILURES = {  # case -> (routes the mirror serves, made when the test runs; what the error says)
    "not_found": (lambda: {}, "HTTP 404"),
    "wrong_checksum": (
        lambda: {TINY.file: Reply((MODELS / "mobilenet_v1_0.5_160_quant.tflite").read_bytes())},
        "checksum mismatch",
    ),
    "cut_off": (lambda: {TINY.file: Reply(tiny_bytes(), cut_after=len(tiny_bytes()) // 2)}, "cut off"),
}


@pytest.mark.shared
def test_models_fetch_good_then_cached_then_forced(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve({TINY.file: Reply(tiny_bytes())}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        first = run_cli(capsys, "models", "fetch", TINY.name)
        again = run_cli(capsys, "models", "fetch", TINY.name)
        forced = run_cli(capsys, "models", "fetch", "--force", TINY.name)
    assert first.code == 0 and first.out == f"{TINY.file}: verified and saved to {cache / TINY.file}\n"
    assert again.code == 0 and "already cached" in again.out
    assert forced.code == 0 and "verified and saved" in forced.out
    assert _files(cache) == [TINY.file] and (cache / TINY.file).read_bytes() == tiny_bytes()


@pytest.mark.shared
@pytest.mark.parametrize("case", sorted(CLI_FAILURES))
def test_models_fetch_failure_is_one_line_and_leaves_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    routes, needle = CLI_FAILURES[case]
    with serve(routes()) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        run = run_cli(capsys, "models", "fetch", TINY.name)
    assert_one_line_error(run, needle, TINY.file)
    assert _files(cache) == []


def test_models_fetch_unknown_name(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(run_cli(capsys, "models", "fetch", "mobilenet_v3"), "unknown model 'mobilenet_v3'")


# --- the progress bar --------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal() -> None:
    out = _Terminal()
    with Progress(4_000_000, "fetching m.tflite", out, unit="B") as bar:
        bar.advance(1_000_000)
        bar.advance(3_000_000)
    text = out.getvalue()
    assert text.startswith("\rfetching m.tflite [")
    assert "100% 4.0 MB/4.0 MB" in text and text.endswith("\n")


def test_progress_bar_is_silent_in_logs() -> None:
    out = io.StringIO()
    with Progress(10, "working", out) as bar:
        bar.advance(10)
    assert out.getvalue() == ""


def test_progress_without_a_known_total_counts_up() -> None:
    out = _Terminal()
    bar = Progress(None, "fetching", out, unit="B")
    bar.advance(2_500_000)
    bar.close()
    assert "fetching 2.5 MB" in out.getvalue()
