"""HttpSink over real sockets on 127.0.0.1, fed at 30 fps by a thread standing in for the pipeline."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from edge_app.address import parse_address
from edge_app.frames import Frame
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus, Feeder, MjpegViewer, get, get_status, stuck_viewer
from tests.helpers.pictures import imdecode
from tests.helpers.waiting import completes, wait_until

FPS = 30.0


@pytest.fixture
def status() -> FakeStatus:
    return FakeStatus()


@pytest.fixture
def sink(status: FakeStatus) -> Iterator[HttpSink]:
    sink = HttpSink(parse_address("127.0.0.1:0"), status, send_timeout=1.5)
    sink.start(threading.Event())
    yield sink
    sink.close()


@pytest.fixture
def feeder(sink: HttpSink) -> Iterator[Feeder]:
    feeder = Feeder(sink.frame, fps=FPS)
    feeder.start()
    yield feeder
    feeder.close()


def stream_stats(sink: HttpSink) -> dict[str, int]:
    return get_status(sink.url)["stream"]


@pytest.mark.slow
def test_three_viewers_get_the_stream_and_a_stuck_viewer_slows_nobody(sink: HttpSink, feeder: Feeder) -> None:
    """How many frames each viewer gets per second is measured in benchmarks/bench_responsiveness.py."""
    viewers = [MjpegViewer(sink.url) for _ in range(3)]
    for viewer in viewers:
        viewer.start()
    assert all(viewer.connected.wait(10.0) for viewer in viewers)
    stuck = stuck_viewer(sink.url)  # asks for the stream, never reads: its socket jams
    try:
        wait_until(lambda: stream_stats(sink)["viewers"] == 4, message="the stuck viewer was never counted")
        fed0, encoded0, got0 = feeder.fed, stream_stats(sink)["encoded"], [len(viewer.arrivals) for viewer in viewers]
        # the stuck client is dropped once a send has waited send_timeout (1.5 s); the others never notice it
        wait_until(lambda: stream_stats(sink)["viewers"] == 3, message="stuck viewer still counted")
        fed1, encoded1, got1 = feeder.fed, stream_stats(sink)["encoded"], [len(viewer.arrivals) for viewer in viewers]
    finally:
        stuck.close()
        for viewer in viewers:
            viewer.close()

    assert [viewer.error for viewer in viewers] == [None] * 3
    print(
        f"while a viewer was stuck: fed {fed1 - fed0}, encoded {encoded1 - encoded0}, viewers got "
        f"{[b - a for a, b in zip(got0, got1)]}"
    )
    # 1.5 s of send timeout is ~45 frames at 30 fps: had frame() or a viewer waited on the stuck one, far fewer
    assert fed1 - fed0 >= 10, "frame() waited while a viewer was stuck"
    assert all(b - a >= 10 for a, b in zip(got0, got1)), "a stuck viewer held up the others"
    assert 0 < encoded1 - encoded0 <= fed1 - fed0 + 2  # each frame encoded once for all viewers, not once each
    assert viewers[0].content_type.startswith("multipart/x-mixed-replace")
    picture = imdecode(viewers[0].frames[-1])
    assert picture.shape == (480, 640, 3)


def frames_fed(feeder: Feeder, count: int) -> None:
    """Wait until `count` more frames went to the sink: the window in which something must (not) happen."""
    target = feeder.fed + count
    wait_until(lambda: feeder.fed >= target, message=f"the feeder stopped short of {count} frames")


def test_nothing_is_encoded_while_nobody_watches_and_snapshot_encodes_on_demand(sink: HttpSink, feeder: Feeder) -> None:
    frames_fed(feeder, 15)
    assert stream_stats(sink)["encoded"] == 0
    code, headers, body = get(sink.url, "/snapshot.jpg")
    assert code == 200 and headers["Content-Type"] == "image/jpeg"
    picture = imdecode(body)
    assert picture.shape == (480, 640, 3)
    frames_fed(feeder, 10)
    assert stream_stats(sink)["encoded"] == 1  # the snapshot's frame only


def test_viewers_leaving_stop_the_encoder(sink: HttpSink, feeder: Feeder) -> None:
    viewer = MjpegViewer(sink.url)
    viewer.start()
    wait_until(lambda: len(viewer.arrivals) >= 5, message="the viewer got no frames")
    viewer.close()
    wait_until(lambda: stream_stats(sink)["viewers"] == 0, message="the viewer who left is still counted")
    encoded = stream_stats(sink)["encoded"]
    frames_fed(feeder, 12)
    assert stream_stats(sink)["encoded"] == encoded


@pytest.mark.slow
def test_a_slow_viewer_skips_frames_and_they_are_counted(sink: HttpSink, feeder: Feeder) -> None:
    slow, fast = (
        MjpegViewer(sink.url, read_delay=0.3, rcvbuf=4096),
        MjpegViewer(sink.url),
    )  # the slow one reads 3 frames a second at most
    slow.start()
    fast.start()
    try:
        wait_until(
            lambda: stream_stats(sink)["viewer_drops"] > 0, message="the slow viewer's skipped frames were not counted"
        )
        wait_until(lambda: len(fast.arrivals) >= 45 and slow.arrivals, message="the viewers got too few frames")
    finally:
        slow.close()
        fast.close()
    assert slow.error is None and fast.error is None
    assert len(fast.arrivals) > 2 * len(slow.arrivals) > 0


def test_a_viewer_who_leaves_while_no_frames_come_is_uncounted(sink: HttpSink) -> None:
    viewer = MjpegViewer(sink.url)  # the source is down: no frame() calls at all
    viewer.start()
    wait_until(lambda: stream_stats(sink)["viewers"] == 1, message="the viewer was never counted")
    viewer.close()
    wait_until(lambda: stream_stats(sink)["viewers"] == 0, message="the viewer who left is still counted")


def test_snapshot_before_the_first_frame_is_503(sink: HttpSink) -> None:
    code, _, body = get(sink.url, "/snapshot.jpg")
    assert (code, body) == (503, b"no frame yet\n")


def test_api_status_is_the_pipeline_status_plus_stream_stats(sink: HttpSink, status: FakeStatus) -> None:
    code, headers, body = get(sink.url, "/api/status")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    data = json.loads(body)
    stream = data.pop("stream")
    assert data == status()
    assert {"viewers": 0, "encoded": 0, "viewer_drops": 0}.items() <= stream.items()


def test_healthz_follows_the_pipeline(sink: HttpSink, status: FakeStatus) -> None:
    assert get(sink.url, "/healthz")[::2] == (200, b"ok\n")
    status.data.update(healthy=False, state="no signal", reason="camera lost 31 s ago; reconnecting")
    assert get(sink.url, "/healthz")[::2] == (503, b"camera lost 31 s ago; reconnecting\n")


def test_a_failing_status_is_an_answer_not_a_crash() -> None:
    def broken() -> dict[str, object]:
        raise RuntimeError("stats lock poisoned")

    sink = HttpSink(parse_address("0"), broken)
    sink.start(threading.Event())
    try:
        assert get(sink.url, "/api/status")[::2] == (500, b"status unavailable: stats lock poisoned\n")
        assert get(sink.url, "/healthz")[0] == 503
        assert get(sink.url, "/")[0] == 200  # the server lives on
    finally:
        sink.close()


def test_the_page_is_self_contained(sink: HttpSink) -> None:
    code, headers, body = get(sink.url, "/")
    page = body.decode()
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'src="stream.mjpg"' in page and "api/status" in page and 'name="viewport"' in page
    assert "http://" not in page and "https://" not in page and 'src="//' not in page  # works offline
    assert get(sink.url, "/index.html?x=1")[2] == body
    assert get(sink.url, "/nope")[0] == 404


def test_head_and_keep_alive(sink: HttpSink) -> None:
    with socket.create_connection(("127.0.0.1", sink.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        for method in ("HEAD", "GET"):  # two requests, one connection
            sock.sendall(f"{method} /healthz HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n\r\n".encode())
            assert stream.readline().startswith(b"HTTP/1.1 200")
            while stream.readline().strip():
                pass
        assert stream.read(3) == b"ok\n"


def test_close_ends_streams_and_threads(status: FakeStatus) -> None:
    others = set(threading.enumerate())  # threads earlier tests left winding down are not this sink's
    sink = HttpSink(parse_address("0"), status)
    sink.start(threading.Event())
    black = np.zeros((48, 64, 3), np.uint8)
    sink.frame(black, Frame(black, 0), None)
    viewers = [MjpegViewer(sink.url) for _ in range(2)]
    for viewer in viewers:
        viewer.start()
    wait_until(lambda: all(viewer.arrivals for viewer in viewers), message="the viewers got no frame")
    completes(
        lambda: sink.close(timeout=2.0), message="close() hung"
    )  # how long it takes: benchmarks/bench_responsiveness.py
    for viewer in viewers:
        viewer.join(10.0)
        assert not viewer.is_alive()  # the server hung up
    wait_until(
        lambda: not [t for t in threading.enumerate() if t.name.startswith("http-") and t not in others],
        message=lambda: (
            "still running: "
            f"{[t.name for t in threading.enumerate() if t.name.startswith('http-') and t not in others]}"
        ),
    )


def test_the_stop_event_alone_ends_the_stream(status: FakeStatus) -> None:
    stop = threading.Event()
    sink = HttpSink(parse_address("0"), status)
    sink.start(stop)
    try:
        black = np.zeros((48, 64, 3), np.uint8)
        sink.frame(black, Frame(black, 0), None)
        viewer = MjpegViewer(sink.url)
        viewer.start()
        wait_until(lambda: viewer.arrivals, message="the viewer got no frame")
        stop.set()
        viewer.join(10.0)
        assert not viewer.is_alive()
    finally:
        sink.close()
