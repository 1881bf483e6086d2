"""`edge-app run` as a user and as systemd run it: real processes, signals, config reload,
the notify protocol, and one instance reading another's live view while it dies and returns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.app_process import FAST_MODEL, log_of, processes, start, status_when_up  # noqa: F401 (fixture)
from tests.helpers.live_view import get_status
from tests.helpers.notify_listener import Listener, path_listener, pings  # noqa: F401  (fixture)
from tests.helpers.ports import free_port
from tests.helpers.stream_servers import FlakyMjpegServer
from tests.helpers.waiting import wait_until


def test_sigterm_stops_with_exit_code_zero(model_cache: Path, processes: list) -> None:
    """How soon it exits (target: 2 s) is measured in benchmarks/bench_responsiveness.py."""
    process, reader = start(["--source", "synthetic", "--model", FAST_MODEL, "--events", "-", "--http", "127.0.0.1:0"])
    processes.append(process)
    wait_until(lambda: reader.count() > 10, timeout=30, message=lambda: log_of(process))
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert "Traceback" not in log_of(process)


def test_max_frames_with_events_to_stdout(model_cache: Path, processes: list) -> None:
    process, reader = start(
        [
            "--source",
            "synthetic",
            "--fps",
            "200",
            "--model",
            FAST_MODEL,
            "--events",
            "-",
            "--max-frames",
            "40",
            "--no-realtime",
        ]
    )
    processes.append(process)
    assert process.wait(30) == 0
    reader.join(5)
    assert [e["frame"] for e in reader.events] == list(range(40))


def test_sighup_reloads_the_config_and_a_bad_reload_keeps_running(
    model_cache: Path, tmp_path: Path, processes: list
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nmodel = "{FAST_MODEL}"\ntop_k = 1\n[source]\nsource = "synthetic"\nfps = '
        '50\n[output]\nevents = "-"\n'
    )
    process, reader = start(["--config", str(config)])
    processes.append(process)
    wait_until(lambda: reader.count() > 5, timeout=30, message=lambda: log_of(process))
    assert all(len(e["top"]) == 1 for e in reader.events)

    config.write_text(config.read_text().replace("top_k = 1", "top_k = 2"))
    process.send_signal(signal.SIGHUP)
    wait_until(lambda: len(reader.events[-1]["top"]) == 2, timeout=30, message="SIGHUP did not apply top_k = 2")

    config.write_text(config.read_text().replace("top_k = 2", "top_kk = 3"))
    process.send_signal(signal.SIGHUP)
    seen = reader.count()
    wait_until(lambda: reader.count() > seen + 20, timeout=30, message=lambda: log_of(process))  # still classifying
    assert process.poll() is None
    assert len(reader.events[-1]["top"]) == 2  # with the last good configuration

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    log = log_of(process)
    assert "reload failed, keeping the running configuration" in log and "top_kk" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_notify_protocol_ready_status_watchdog_stopping(
    model_cache: Path, path_listener: Listener, processes: list
) -> None:
    """That the pings come every half WATCHDOG_USEC is measured in benchmarks/bench_responsiveness.py
    (Watchdog.period is unit-tested in test_service_watchdog.py)."""
    env = {"NOTIFY_SOCKET": path_listener.env_value, "WATCHDOG_USEC": "1000000"}
    process, reader = start(["--source", "synthetic", "--model", FAST_MODEL, "--events", "-"], env)
    processes.append(process)

    def ready_with_pings_and_status(messages: list) -> bool:
        fields = [m for _, m in messages]
        ready = next((i for i, m in enumerate(fields) if m.get("READY") == "1"), None)
        return (
            ready is not None
            and len(pings(messages)) >= 8
            and any("fps" in m.get("STATUS", "") for m in fields[ready:])
        )

    messages = path_listener.collect_until(
        ready_with_pings_and_status, message="READY=1, 8 pings and a STATUS with fps"
    )
    assert reader.events, "READY=1 must come after the first result"
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    messages += path_listener.drain()  # it has exited: all it sent while stopping is in the socket
    fields = [m for _, m in messages]
    assert fields[-1].get("STOPPING") == "1" or any(m.get("STOPPING") == "1" for m in fields[-3:])


@pytest.mark.slow
def test_an_instance_survives_its_upstream_dying_and_resumes_when_it_returns(
    model_cache: Path, path_listener: Listener, processes: list
) -> None:
    up_port = free_port()
    upstream_args = ["--source", "synthetic", "--model", FAST_MODEL, "--http", f"127.0.0.1:{up_port}"]
    upstream, _ = start(upstream_args)
    processes.append(upstream)
    down_port = free_port()
    env = {"NOTIFY_SOCKET": path_listener.env_value, "WATCHDOG_USEC": "2000000"}
    reader_process, events = start(
        [
            "--source",
            f"http://127.0.0.1:{up_port}/stream.mjpg",
            "--model",
            FAST_MODEL,
            "--http",
            f"127.0.0.1:{down_port}",
            "--events",
            "-",
            "--reconnect-max",
            "1",
        ],
        env,
    )
    processes.append(reader_process)
    base = f"http://127.0.0.1:{down_port}"
    wait_until(lambda: events.count() > 10, timeout=40, message=lambda: log_of(reader_process))

    upstream.kill()
    upstream.wait(5)
    wait_until(
        lambda: get_status(base)["state"] == "no signal", timeout=30, message=lambda: f"status {get_status(base)}"
    )
    status = get_status(base)
    assert status["source"]["connected"] is False and status["healthy"] is False
    path_listener.drain()  # what came before the outage does not count
    outage = path_listener.collect_until(lambda got: len(pings(got)) >= 3, message="3 watchdog pings during the outage")
    assert not any(m.get("STATUS", "").startswith("stuck") for _, m in outage)  # retrying is progress: no restart
    assert reader_process.poll() is None and get_status(base)["state"] == "no signal"

    upstream, _ = start(upstream_args)
    processes.append(upstream)
    count = events.count()
    wait_until(
        lambda: get_status(base)["state"] == "running" and events.count() > count + 10,
        timeout=40,
        message=lambda: f"status {get_status(base)}",
    )
    assert get_status(base)["source"]["reconnects"] >= 1
    reader_process.send_signal(signal.SIGTERM)
    assert reader_process.wait(30) == 0


@pytest.mark.slow
def test_a_source_failing_every_few_seconds_for_a_minute_never_brings_it_down(
    model_cache: Path, path_listener: Listener, processes: list
) -> None:
    camera = FlakyMjpegServer()
    port = free_port()
    env = {"NOTIFY_SOCKET": path_listener.env_value, "WATCHDOG_USEC": "10000000"}
    process, events = start(
        [
            "--source",
            camera.url,
            "--model",
            FAST_MODEL,
            "--http",
            f"127.0.0.1:{port}",
            "--events",
            "-",
            "--reconnect-max",
            "1",
        ],
        env,
    )
    processes.append(process)
    base = f"http://127.0.0.1:{port}"
    try:
        messages = path_listener.collect(
            60.0
        )  # a minute of faults is what this test is about: the wait makes the condition
        assert process.poll() is None, log_of(process)

        def survived_enough() -> bool:  # however slow the machine: counts, not rates
            messages.extend(path_listener.drain())
            source = get_status(base)["source"]
            return (
                len(pings(messages)) >= 10
                and camera.connections >= 12
                and source["reconnects"] >= 8
                and source["faults"] >= 8
                and events.count() > 100
            )

        wait_until(
            survived_enough,
            timeout=120,
            interval=0.5,
            message=lambda: f"{camera.connections} connections, {events.count()} events, status {get_status(base)}",
        )
        assert process.poll() is None, log_of(process)
    finally:
        camera.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    # It never called itself stuck, so it never withheld a ping
    # (the gaps between pings: benchmarks/bench_responsiveness.py).
    assert not [m for _, m in messages if m.get("STATUS", "").startswith("stuck")]
    assert "Traceback" not in log_of(process)


@pytest.mark.slow
def test_the_live_view_of_a_real_run_in_chromium(model_cache: Path, processes: list, output_dir: Path) -> None:
    from tests.helpers.live_view import check_live_view, chromium_driver, require_browser

    require_browser()
    port = free_port()
    process, _ = start(
        ["--source", "synthetic", "--model", FAST_MODEL, "--http", f"127.0.0.1:{port}", "--smooth", "30"]
    )
    processes.append(process)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: status_when_up(base).get("labels"), timeout=30, message=lambda: log_of(process))
    with chromium_driver() as driver:
        playing = check_live_view(driver, base + "/", screenshot=output_dir / "live_view_run.png", scores=False)
    assert (playing["width"], playing["height"]) == (640, 480)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


def test_with_no_output_chosen_there_is_still_a_local_live_view(model_cache: Path, processes: list) -> None:
    import urllib.request

    process, _ = start(["--source", "synthetic", "--model", FAST_MODEL, "--duration", "20"])
    processes.append(process)
    wait_until(lambda: "live view: http://127.0.0.1:" in log_of(process), timeout=30, message=lambda: log_of(process))
    url = log_of(process).split("live view: ", 1)[1].split()[0]
    wait_until(
        lambda: status_when_up(url.rstrip("/")).get("frames", {}).get("displayed", 0) > 0,
        timeout=30,
        message=lambda: log_of(process),
    )
    with urllib.request.urlopen(url + "snapshot.jpg", timeout=5) as response:
        assert response.headers["Content-Type"] == "image/jpeg"
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


@pytest.mark.slow
def test_batch_run_gives_one_event_per_frame_equal_to_classifying_each_frame(model_cache: Path, tmp_path: Path) -> None:
    import cv2

    from edge_app.model.classifier import Classifier, ModelOptions
    from tests.helpers.videos import make_video

    video = make_video(tmp_path / "photos.avi", 120, per_photo=3)
    events = tmp_path / "events.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_app",
            "run",
            "--source",
            str(video),
            "--no-realtime",
            "--events",
            str(events),
            "--model",
            "mobilenet_v2_1.0_224_quant",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert "interpreters x 1 thread each" in done.stderr or (os.cpu_count() or 1) == 1  # lanes, side by side
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["frame"] for e in lines] == list(range(120))
    classifier = Classifier.open(ModelOptions(model="mobilenet_v2_1.0_224_quant"))
    capture = cv2.VideoCapture(str(video))
    expected = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        expected.append(classifier.classify(image, "bgr")[0][0].index)
    assert [e["top"][0]["index"] for e in lines] == expected
