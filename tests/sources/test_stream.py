"""Network streams through FFmpeg, against servers on 127.0.0.1: a good MJPEG stream (as another
edge-app serves it), a server that never answers, a stream that stalls, one that is killed."""

from __future__ import annotations

import threading
import time

import pytest

from edge_app.address import parse_address
from edge_app.frames import Frame
from edge_app.sources.base import SourceError
from edge_app.sources.synthetic import SyntheticSource, read_code
from edge_app.sources.video import StreamSource
from edge_app.web.sink import HttpSink
from tests.helpers.pictures import read_frame
from tests.helpers.stream_servers import MjpegServer, SilentServer
from tests.helpers.waiting import completes

OPEN_TIMEOUT = 1.5
READ_TIMEOUT = 1.0
# Tests check that a dead stream is an error instead of a hang; how close to these timeouts the
# error comes is measured in benchmarks/bench_responsiveness.py.


def frames() -> SyntheticSource:
    source = SyntheticSource((320, 240))
    source.open()
    return source


def stream(url: str) -> StreamSource:
    return StreamSource(url, open_timeout=OPEN_TIMEOUT, read_timeout=READ_TIMEOUT)


def test_reads_an_edge_app_mjpeg_stream_in_order() -> None:
    with MjpegServer(frames().frame, count=None) as server:
        source = stream(server.url)
        source.open()
        try:
            assert source.live and source.order == "bgr"
            images = [read_frame(source) for _ in range(15)]
        finally:
            source.close()
    assert {image.shape for image in images} == {(240, 320, 3)}
    numbers = [read_code(image) for image in images]
    first = numbers[0]
    assert first is not None and numbers == list(range(first, first + 15)), numbers
    assert first <= 2  # the first frames are not lost while FFmpeg probes the stream


@pytest.mark.slow
def test_a_server_that_never_answers_fails_open_instead_of_hanging(capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()  # only what this open prints counts
    with SilentServer() as server:
        source = stream(server.url)
        with pytest.raises(SourceError, match="cannot open") as failure:
            completes(source.open, message="open() of a silent server hung")
    assert "check the URL" in str(failure.value)
    source.close()  # safe after a failed open
    assert capfd.readouterr().err == ""  # FFmpeg's and OpenCV's own warnings are silenced


def test_a_refused_connection_is_a_source_error() -> None:
    with SilentServer() as server:
        url = server.url
    with pytest.raises(SourceError):
        completes(stream(url).open, message="open() of a closed port hung")  # the port is closed now


@pytest.mark.slow
def test_a_stream_that_stalls_raises_once_the_read_timeout_has_passed() -> None:
    with MjpegServer(frames().frame, count=6, then="stall") as server:
        source = stream(server.url)
        source.open()
        got = 0
        with pytest.raises(SourceError, match="sent nothing") as failure:
            while got < 50:
                started = time.monotonic()
                completes(source.read, message="read() of a stalled stream hung")
                got += 1
        elapsed = time.monotonic() - started
        source.close()
    assert got == 6
    assert (
        elapsed > READ_TIMEOUT * 0.8
    )  # it waited for the timeout before giving up (a lower bound: load cannot break it)
    assert server.url.split("//")[1].split("/")[0] in str(failure.value)


def test_a_server_killed_mid_stream_is_a_source_error_not_a_hang() -> None:
    server = MjpegServer(frames().frame, interval=0.03).start()
    source = stream(server.url)
    source.open()
    try:
        for _ in range(5):
            source.read()
        server.kill()
        with pytest.raises(SourceError):
            completes(
                lambda: [source.read() for _ in range(200)], message="reads after the server died hung"
            )  # buffered frames may still arrive
    finally:
        source.close()


def test_a_stream_that_ends_is_a_fault_for_a_live_source() -> None:
    with MjpegServer(frames().frame, count=3, then="close") as server:
        source = stream(server.url)
        source.open()
        images = [source.read() for _ in range(3)]
        with pytest.raises(SourceError, match="ended"):
            source.read()
        source.close()
    assert [read_code(i) for i in images] == [0, 1, 2]


def test_reopens_after_a_failure() -> None:
    with MjpegServer(frames().frame) as server:
        source = stream(server.url)
        for _ in range(2):
            source.open()
            assert read_code(source.read()) is not None
            source.close()


def test_passwords_stay_out_of_the_name_and_errors() -> None:
    source = StreamSource("rtsp://admin:hunter2@127.0.0.1:9/live", open_timeout=0.5)
    assert source.name == "stream:rtsp://admin:***@127.0.0.1:9/live"
    with pytest.raises(SourceError) as failure:
        source.open()
    assert "hunter2" not in str(failure.value)


def test_read_before_open_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not open"):
        StreamSource("http://127.0.0.1:9/x").read()


def test_reads_the_live_view_of_another_edge_app() -> None:
    """The real thing: edge-app's own HttpSink serving /stream.mjpg, fed at 30 fps."""
    stop = threading.Event()
    sink = HttpSink(parse_address("127.0.0.1:0"), status=dict)
    sink.start(stop)
    feed = frames()

    def feeder() -> None:
        while not stop.wait(1 / 30):
            picture = read_frame(feed)
            sink.frame(picture, Frame(picture, 0), None)

    thread = threading.Thread(target=feeder, daemon=True)
    thread.start()
    source = stream(sink.url + "stream.mjpg")
    try:
        source.open()
        numbers = [read_code(source.read()) for _ in range(10)]
        assert all(a is not None and b is not None and a < b for a, b in zip(numbers, numbers[1:])), numbers
        stop.set()  # the other edge-app stops
        sink.close()
        with pytest.raises(SourceError):
            completes(
                lambda: [source.read() for _ in range(100)], message="reads after the other edge-app stopped hung"
            )
    finally:
        stop.set()
        source.close()
        sink.close()
        thread.join(2)
