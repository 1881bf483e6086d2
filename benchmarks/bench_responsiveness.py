"""The timing targets the test suite checks only as behaviour, measured here on this machine.

Tests assert what happens (a stuck viewer is dropped, stop ends a run, a dead stream is an
error, SIGTERM exits 0), never how fast: on a shared, loaded machine speed is noise. This
script measures the speed, with the same fakes and servers as the tests, and prints each
figure against its target:

  pipeline    result age p95 <= 2 x inference + one frame (+15 ms scheduling slack); the display
              keeps up with a slow model; a file is paced at its rate; stop with a source stuck
              in a driver call; heartbeats of stuck vs idle threads; persistent inference errors
  live view   3 viewers + 1 stuck viewer at 30 fps: viewer fps, encodes per fed frame, slowest
              frame() call; close() with viewers attached
  sinks       recorder close with a slow-disk backlog; events close with a blocked write
  sources     network stream open/stall/kill timeouts; silent Pi camera; missing webcam;
              synthetic reads never paced
  systemd     watchdog ping spacing over a real socket; `edge-app run`: READY and ping gaps
              at WATCHDOG_USEC=1 s, SIGTERM to exit; with --soak, a minute of a flaky camera

    python benchmarks/bench_responsiveness.py [--only pipeline live sinks sources systemd] [--soak]

The `systemd` group runs `edge-app run` with a catalog model from ../shared.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from unittest.mock import patch

import _common  # noqa: F401  (tests/ on the path; catalog names resolve to ../shared/models)
import numpy as np

from edge_app.address import parse_address
from edge_app.frames import Frame
from edge_app.pipeline import Pipeline, PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sources.base import SourceError
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus, Feeder, MjpegViewer, get_status, stuck_viewer
from tests.helpers.pipeline_fakes import FakeClassifier, RecordingSink, ScriptedSource, make_pipeline
from tests.helpers.waiting import wait_until

if TYPE_CHECKING:
    from tests.helpers.notify_listener import Listener

rows: list[tuple[str, str, str, bool]] = []


def report(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    rows.append((name, f"{value:8.3f} {unit}", target, ok))
    print(f"{name:<58} {value:9.3f} {unit:<4} target {target:<26} {'ok' if ok else 'MISSED'}", flush=True)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """Seconds `call` took, and what it returned or raised."""
    started = time.monotonic()
    try:
        outcome: object = call()
    except Exception as exc:  # noqa: BLE001 - the measured calls are expected to raise
        outcome = exc
    return time.monotonic() - started, outcome


def failed(outcome: object) -> bool:
    """The measured call ended in the SourceError a dead source must give (not a hang, not a crash)."""
    return isinstance(outcome, SourceError)


def run_in_thread(pipeline: Pipeline) -> threading.Thread:
    thread = threading.Thread(target=pipeline.run, daemon=True)
    thread.start()
    return thread


# -- pipeline ---------------------------------------------------------------------------------


def pipeline_group() -> None:
    fps, delay = 100.0, 0.02
    p = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False, fps=fps),
        FakeClassifier(delay=delay),
        [RecordingSink()],
        PipelineOptions(capture=CaptureOptions(max_frames=300)),
    )
    p.run()
    age, bound = p.state.result_age_ms.percentile(95) or float("nan"), (2 * delay + 1 / fps) * 1000
    report(
        "result age p95, 20 ms model at 100 fps",
        age,
        "ms",
        f"<= {bound + 15:.0f} (2 inf + frame + 15)",
        age <= bound + 15,
    )

    p = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False, fps=200),
        FakeClassifier(delay=0.03),
        [RecordingSink()],
        PipelineOptions(capture=CaptureOptions(max_frames=200)),
    )
    p.run()
    counts = p.state.counters.snapshot()
    report(
        "frames displayed of 200 at 200 fps, 30 ms model", counts["displayed"], "", ">= 150", counts["displayed"] >= 150
    )
    report(
        "frames the 30 ms model skipped of 200",
        counts["dropped_inference"],
        "",
        "> 100",
        counts["dropped_inference"] > 100,
    )

    source = ScriptedSource(lambda i: "frame", live=False, fps=50, fps_known_after_open=True)
    took, _ = timed(
        make_pipeline(source, FakeClassifier(), [], PipelineOptions(capture=CaptureOptions(max_frames=50))).run
    )
    report("a 50-frame file at 50 fps runs for", took, "s", "0.9 .. 2.0", 0.9 <= took <= 2.0)

    stuck = threading.Event()
    p = make_pipeline(
        ScriptedSource(lambda i: stuck.wait(60) and "frame" if i == 5 else "frame", live=True),
        FakeClassifier(),
        [RecordingSink()],
        PipelineOptions(),
    )
    thread = run_in_thread(p)
    time.sleep(1.5)  # the source has been stuck for most of this
    capture_age, inference_age = p.heartbeats["capture"].age(), p.heartbeats["inference"].age()
    report("stuck capture thread's heartbeat age after 1.5 s", capture_age, "s", "> 1.2", capture_age > 1.2)
    report("idle inference thread's heartbeat age after 1.5 s", inference_age, "s", "< 1.0", inference_age < 1.0)

    def stop_and_join() -> None:
        p.stop.set()
        thread.join(30)

    took, _ = timed(stop_and_join)
    stuck.set()
    report("stop -> run() returns, source stuck in a driver call", took, "s", "< 2.0", took < 2.0)

    broken = make_pipeline(
        ScriptedSource(lambda i: "frame", live=True),
        FakeClassifier(fail=lambda i: True),
        [],
        PipelineOptions(error_window_s=0.3),
    )
    took, _ = timed(broken.run)
    report("every inference fails (0.3 s window) -> run ends after", took, "s", "< 3.0", took < 3.0)


# -- live view --------------------------------------------------------------------------------


def live_group() -> None:
    fps = 30.0
    sink = HttpSink(parse_address("127.0.0.1:0"), FakeStatus(), send_timeout=1.5)
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=fps)
    feeder.start()
    viewers = [MjpegViewer(sink.url) for _ in range(3)]
    for viewer in viewers:
        viewer.start()
    stuck = stuck_viewer(sink.url)
    try:
        wait_until(lambda: get_status(sink.url)["stream"]["viewers"] == 4)
        time.sleep(0.7)  # warm-up: every viewer is receiving
        start, fed0, encoded0 = time.monotonic(), feeder.fed, get_status(sink.url)["stream"]["encoded"]
        time.sleep(3.0)  # the measuring window, with the stuck viewer jammed for most of it
        end, fed1, encoded1 = time.monotonic(), feeder.fed, get_status(sink.url)["stream"]["encoded"]
    finally:
        stuck.close()
        for viewer in viewers:
            viewer.close()
        feeder.close()
    fed_fps = (fed1 - fed0) / (end - start)
    slowest = min(viewer.fps_between(start, end) for viewer in viewers)
    encoded_ratio = (encoded1 - encoded0) / max(1, fed1 - fed0)
    report("fed fps (the feeder itself; below 25 the machine is too busy)", fed_fps, "fps", "> 25", fed_fps > 25)
    report(
        "slowest of 3 viewers, 1 stuck viewer jammed",
        slowest,
        "fps",
        f">= {28.5 * fed_fps / fps:.1f} (0.95 x fed)",
        slowest >= 28.5 * fed_fps / fps,
    )
    report("encodes per fed frame, 3 viewers", encoded_ratio, "", "0.95 .. 1.05", abs(encoded_ratio - 1) <= 0.05)
    report(
        "slowest frame() call, stuck viewer, 1.5 s send timeout",
        feeder.slowest_call_s,
        "s",
        "< 0.25",
        feeder.slowest_call_s < 0.25,
    )

    viewers = [MjpegViewer(sink.url) for _ in range(2)]
    for viewer in viewers:
        viewer.start()
    black = np.zeros((48, 64, 3), np.uint8)
    sink.frame(black, Frame(black, 0), None)
    wait_until(lambda: all(viewer.arrivals for viewer in viewers))
    took, _ = timed(lambda: sink.close(timeout=2.0))
    report("HttpSink.close(timeout=2) with 2 viewers", took, "s", "< 2.5", took < 2.5)


# -- sinks ------------------------------------------------------------------------------------


def sinks_group() -> None:
    from edge_app.sinks import recorder
    from edge_app.sinks.events import EventsSink
    from edge_app.sinks.recorder import RecorderSink
    from tests.sinks.test_events import BlockedStream, result
    from tests.sinks.test_recorder import SlowVideoFile, image

    SlowVideoFile.writing = threading.Event()
    with patch.object(recorder, "VideoFile", SlowVideoFile):  # a 0.2 s write per frame: a slow SD card
        with tempfile.TemporaryDirectory() as folder:
            sink = RecorderSink(str(Path(folder) / "live.mp4"), 12.0, queue_size=30)
            sink.start(threading.Event(), lossless=False)
            for seq in range(32):
                picture = image(seq)
                sink.frame(picture, Frame(picture, seq), None)
                SlowVideoFile.writing.wait(5)
            took, _ = timed(lambda: sink.close(timeout=1.0))
    report("recorder live close(timeout=1), 31 frames queued", took, "s", "< 1.0", took < 1.0)

    stream, stdout = BlockedStream(), sys.stdout
    sys.stdout = stream
    try:
        events = EventsSink("-")
        events.start(threading.Event())
        threading.Thread(target=events.result, args=(result(0),), daemon=True).start()
        stream.entered.wait(5)
        took, _ = timed(lambda: events.close(timeout=0.2))
        stream.unblock.set()
    finally:
        sys.stdout = stdout
    report("events close(timeout=0.2) with a write blocked", took, "s", "0.15 .. 2.0", 0.15 < took < 2.0)


# -- sources ----------------------------------------------------------------------------------


def sources_group() -> None:
    from edge_app.sources.opencv_camera import OpenCVCamera
    from edge_app.sources.synthetic import SyntheticSource
    from edge_app.sources.video import StreamSource
    from tests.helpers.stream_servers import MjpegServer, SilentServer

    open_timeout, read_timeout, slack = 1.5, 1.0, 1.5
    frames = SyntheticSource((320, 240))
    frames.open()

    def stream(url: str) -> StreamSource:
        return StreamSource(url, open_timeout=open_timeout, read_timeout=read_timeout)

    def read_until_error(source: StreamSource, limit: int) -> None:
        for _ in range(limit):
            source.read()

    with SilentServer() as server:
        url = server.url
        took, outcome = timed(stream(url).open)
    report(
        f"stream open, server never answers ({open_timeout} s timeout)",
        took,
        "s",
        f"< {open_timeout + slack}",
        failed(outcome) and took < open_timeout + slack,
    )
    took, outcome = timed(stream(url).open)  # the port is closed now
    report("stream open, connection refused", took, "s", f"< {slack}", failed(outcome) and took < slack)

    with MjpegServer(frames.frame, count=6, then="stall") as stalling:
        source = stream(stalling.url)
        source.open()
        read_until_error(source, 6)
        took, outcome = timed(source.read)
        source.close()
    ok = failed(outcome) and read_timeout * 0.8 < took < read_timeout + slack
    report(
        f"stalled stream -> error ({read_timeout} s read timeout)",
        took,
        "s",
        f"{read_timeout * 0.8} .. {read_timeout + slack}",
        ok,
    )

    killed = MjpegServer(frames.frame, interval=0.03).start()
    source = stream(killed.url)
    source.open()
    read_until_error(source, 5)
    killed.kill()
    took, outcome = timed(lambda: read_until_error(source, 200))  # frames already in the socket buffer may still arrive
    source.close()
    report(
        "server killed mid-stream -> error",
        took,
        "s",
        f"< {read_timeout + slack}",
        failed(outcome) and took < read_timeout + slack,
    )

    stop = threading.Event()
    sink = HttpSink(parse_address("127.0.0.1:0"), status=dict)
    sink.start(stop)
    feeder = Feeder(sink.frame, fps=30.0, size=(320, 240))
    feeder.start()
    source = stream(sink.url + "stream.mjpg")
    source.open()
    read_until_error(source, 10)
    stop.set()  # the other edge-app stops
    feeder.close()
    sink.close()
    took, outcome = timed(lambda: read_until_error(source, 100))
    source.close()
    report(
        "the edge-app we read from stops -> error",
        took,
        "s",
        f"< {read_timeout + slack}",
        failed(outcome) and took < read_timeout + slack,
    )

    sys.path.insert(0, str(_common.ROOT / "tests" / "fakes"))  # the fake picamera2, as the tests use it
    import picamera2

    from edge_app.sources.pi_camera import PiCameraSource

    picamera2.Picamera2.stall_after = 2
    with PiCameraSource(0, (64, 48), read_timeout=0.3) as camera:
        camera.read()
        camera.read()
        took, outcome = timed(camera.read)
    report("silent Pi camera (fake, 0.3 s read timeout) -> error", took, "s", "< 2.0", failed(outcome) and took < 2.0)

    took, outcome = timed(OpenCVCamera(57).open)
    report("missing webcam /dev/video57 -> error", took, "s", "< 3.0", failed(outcome) and took < 3.0)

    synthetic = SyntheticSource((640, 480), fps=1.0)
    synthetic.open()
    took, _ = timed(lambda: [synthetic.read() for _ in range(30)])
    report("30 synthetic reads at fps=1 (30 s if it paced)", took, "s", "< 5.0", took < 5.0)


# -- systemd ----------------------------------------------------------------------------------


def listener() -> tuple[Listener, Callable[[], None]]:
    import shutil
    import socket

    from tests.helpers.notify_listener import Listener

    folder = tempfile.mkdtemp(prefix="notify-", dir="/tmp")  # AF_UNIX paths must stay under 108 bytes
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(f"{folder}/notify")

    def cleanup() -> None:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)

    return Listener(sock, f"{folder}/notify"), cleanup


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])] or [float("nan")]


def systemd_group(soak: bool) -> None:
    from edge_app.service.notify import Notifier
    from edge_app.service.watchdog import Heartbeat, Watchdog
    from tests.helpers.app_process import FAST_MODEL, start
    from tests.helpers.notify_listener import pings
    from tests.helpers.ports import free_port
    from tests.helpers.stream_servers import FlakyMjpegServer

    notify, cleanup = listener()
    try:
        stop = threading.Event()
        beat = Heartbeat("capture")

        def beating() -> None:
            while not stop.wait(0.01):
                beat.beat()

        threading.Thread(target=beating, daemon=True).start()
        notifier = Notifier.from_env({"NOTIFY_SOCKET": notify.env_value, "WATCHDOG_USEC": "400000"})
        dog = Watchdog(notifier, [beat], stop)
        notifier.ready()
        notify.receive()
        dog.start()
        healthy = pings(notify.collect(1.5))
        stop.set()
        dog.join(2)
        median = statistics.median(gaps(healthy))
        report(
            "watchdog ping gap median, WATCHDOG_USEC 0.4 s", median, "s", "0.15 .. 0.3 (half)", 0.15 <= median <= 0.3
        )

        env = {"NOTIFY_SOCKET": notify.env_value, "WATCHDOG_USEC": "1000000"}
        process, reader = start(
            ["--source", "synthetic", "--model", FAST_MODEL, "--events", "-", "--http", "127.0.0.1:0"], env
        )
        messages = notify.collect(8.0)
        wait_until(lambda: reader.count() > 10, timeout=30)

        def terminate() -> int:
            process.send_signal(signal.SIGTERM)
            return process.wait(30)

        took, code = timed(terminate)
        between = gaps(pings(messages))
        report("edge-app run pings in 8 s, WATCHDOG_USEC 1 s", len(between) + 1, "", ">= 8", len(between) + 1 >= 8)
        report("edge-app run longest ping gap, WATCHDOG_USEC 1 s", max(between), "s", "< 0.9", max(between) < 0.9)
        report(
            "edge-app run mean ping gap, WATCHDOG_USEC 1 s",
            statistics.mean(between),
            "s",
            "0.35 .. 0.65 (half)",
            abs(statistics.mean(between) - 0.5) <= 0.15,
        )
        report(f"SIGTERM -> exit (code {code})", took, "s", "< 2.0", took < 2.0 and code == 0)

        if soak:
            camera = FlakyMjpegServer()
            env = {"NOTIFY_SOCKET": notify.env_value, "WATCHDOG_USEC": "10000000"}
            process, _ = start(
                [
                    "--source",
                    camera.url,
                    "--model",
                    FAST_MODEL,
                    "--http",
                    f"127.0.0.1:{free_port()}",
                    "--events",
                    "-",
                    "--reconnect-max",
                    "1",
                ],
                env,
            )
            try:
                soaked = pings(notify.collect(60.0))
            finally:
                camera.close()
                process.send_signal(signal.SIGTERM)
                process.wait(30)
            report(
                "flaky camera for 60 s: longest ping gap, WATCHDOG 10 s",
                max(gaps(soaked)),
                "s",
                "< 10.0",
                max(gaps(soaked)) < 10.0,
            )
    finally:
        cleanup()


GROUPS = ("pipeline", "live", "sinks", "sources", "systemd")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--soak", action="store_true", help="also a minute of a flaky camera (systemd group)")
    args = parser.parse_args()
    for group in args.only:
        print(f"-- {group}", flush=True)
        if group == "systemd":
            systemd_group(args.soak)
        else:
            globals()[f"{group}_group"]()
    missed = [name for name, _, _, ok in rows if not ok]
    print(
        f"{len(rows) - len(missed)} of {len(rows)} targets met" + (f"; missed: {', '.join(missed)}" if missed else "")
    )


if __name__ == "__main__":
    main()
