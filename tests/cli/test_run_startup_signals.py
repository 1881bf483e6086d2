"""A stop during `edge-app run`'s start-up: SIGTERM exits 0 and Ctrl-C is one line, never a traceback,
whether it comes while the CLI is still being imported or while the model download hangs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def silent_mirror() -> Iterator[socket.socket]:
    """A model mirror that takes the connection and never answers: the download blocks."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(60)
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_while_the_model_download_hangs_exits_0_at_once(
    tmp_path: Path, silent_mirror: socket.socket, signum: int
) -> None:
    mirror = f"http://127.0.0.1:{silent_mirror.getsockname()[1]}/"
    env = {**os.environ, "EDGE_APP_MODELS": str(tmp_path / "empty-cache"), "EDGE_APP_MODEL_MIRROR": mirror}
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_app", "run", "--source", "synthetic"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stderr is not None
        connection, _ = silent_mirror.accept()  # the download has begun, and waits for an answer that never comes
        with connection:
            process.send_signal(signum)
            assert process.wait(15) == 0  # the download waits 30 s for an answer: the stop did not
            rest = process.stderr.read()
    finally:
        process.kill()
        process.wait(5)
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert "stopped before start-up finished" in rest
    assert not any((tmp_path / "empty-cache").glob("*")), "a half-downloaded model was left behind"


# The child sends itself the signal the moment the CLI starts being imported, as a user or systemd might.
SIGNAL_DURING_IMPORT = """
import builtins, os, signal, sys, time
sys.argv = ["edge-app", "run", "--source", "synthetic", "--model", "mobilenet_v1_0.25_128_quant"]
real_import = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "edge_app.cli":
        builtins.__import__ = real_import
        os.kill(os.getpid(), {signum})
        time.sleep(0.5)  # the signal arrives mid-import
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
from edge_app.__main__ import main
main()
"""


@pytest.mark.parametrize(
    ("signum", "code", "err"),
    [(signal.SIGTERM, 0, ""), (signal.SIGINT, 130, "edge-app: interrupted\n")],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_while_the_cli_is_imported_is_clean(model_cache: Path, signum: int, code: int, err: str) -> None:
    # model_cache: had the signal been lost, the run that follows has its model and downloads nothing
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_DURING_IMPORT.format(signum=int(signum))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (code, err)
