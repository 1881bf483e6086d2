"""The live view's frame policy, without HTTP: one encoder, only on demand, slow clients skip."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from edge_app.web.hub import JpegHub, jpeg_encoder
from tests.helpers.pictures import imdecode
from tests.helpers.waiting import wait_until


class CountingEncoder:
    """Stands in for the JPEG encoder: the 'JPEG' is the image's first byte, and every call is counted."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, image: np.ndarray) -> bytes:
        self.entered.set()
        self.gate.wait(5.0)
        self.calls += 1
        if image.dtype != np.uint8:
            raise ValueError("not an image")
        return bytes([int(image.flat[0])])


def image(value: int) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


@pytest.fixture
def encoder() -> CountingEncoder:
    return CountingEncoder()


@pytest.fixture
def hub(encoder: CountingEncoder) -> Iterator[JpegHub]:
    hub = JpegHub(encoder)
    stop = threading.Event()
    thread = threading.Thread(target=hub.run, args=(stop,), daemon=True)
    thread.start()
    yield hub
    hub.close()
    thread.join(2.0)
    assert not thread.is_alive(), "close() did not end the encoder"


def test_nothing_is_encoded_while_nobody_watches(hub: JpegHub, encoder: CountingEncoder) -> None:
    for value in range(50):
        hub.put(image(value))
    assert hub.wait(0, 0, timeout=0.3) is None
    assert encoder.calls == 0
    assert hub.stats()["encoded"] == 0


def test_a_viewer_gets_the_newest_frame_at_once_and_each_new_frame_once(hub: JpegHub, encoder: CountingEncoder) -> None:
    for value in range(5):
        hub.put(image(value))
    with hub.viewer() as viewer:
        first = viewer.next(timeout=2.0)
        assert first is not None and first.data == bytes([4])  # the newest, not a backlog
        assert viewer.next(timeout=0.2) is None  # nothing new: no re-send, no re-encode
        hub.put(image(9))
        second = viewer.next(timeout=2.0)
        assert second is not None and second.data == bytes([9])
        assert hub.stats()["viewers"] == 1
    assert hub.stats()["viewers"] == 0
    assert encoder.calls == 2


def test_many_viewers_share_one_encode_per_frame(hub: JpegHub, encoder: CountingEncoder) -> None:
    with hub.viewer() as a, hub.viewer() as b, hub.viewer() as c:
        for value in range(1, 6):
            hub.put(image(value))
            got = [viewer.next(timeout=2.0) for viewer in (a, b, c)]
            assert [jpeg.data if jpeg else None for jpeg in got] == [bytes([value])] * 3
        assert hub.stats()["viewers"] == 3
    assert encoder.calls == 5


def test_a_slow_viewer_skips_to_the_newest_and_its_drops_are_counted(hub: JpegHub) -> None:
    with hub.viewer() as fast, hub.viewer() as slow:
        hub.put(image(1))
        assert fast.next(2.0) is not None and slow.next(2.0) is not None
        for value in range(2, 7):  # the slow viewer is busy writing meanwhile
            hub.put(image(value))
            assert fast.next(2.0) is not None
        jpeg = slow.next(2.0)
        assert jpeg is not None and jpeg.data == bytes([6])
        assert (slow.drops, fast.drops) == (4, 0)
        assert hub.stats()["viewer_drops"] == 4


def test_a_busy_encoder_skips_to_the_newest_frame(hub: JpegHub, encoder: CountingEncoder) -> None:
    with hub.viewer() as viewer:
        encoder.gate.clear()  # the encoder is stuck in a slow encode...
        hub.put(image(1))
        assert encoder.entered.wait(2.0)
        for value in range(2, 30):  # ...while frames keep coming, each put() returning at once
            hub.put(image(value))
        encoder.gate.set()
        wait_until(lambda: hub.stats()["encoded"] == 2, message="the busy encoder never got to the newest frame")
        jpeg = viewer.next(2.0)
    assert jpeg is not None and jpeg.data == bytes([29])  # frame 1, encoded meanwhile, is already stale
    assert encoder.calls == 2  # 1 and 29; none of the 27 in between


def test_snapshot_encodes_the_current_frame_once_even_without_viewers(hub: JpegHub, encoder: CountingEncoder) -> None:
    assert hub.snapshot(timeout=0.2) is None  # no frame yet
    hub.put(image(7))
    hub.put(image(8))
    jpeg = hub.snapshot()
    assert jpeg is not None and jpeg.data == bytes([8])
    again = hub.snapshot()
    assert again is jpeg and encoder.calls == 1  # unchanged frame: no second encode
    hub.put(image(3))
    newer = hub.snapshot()
    assert newer is not None and newer.data == bytes([3]) and encoder.calls == 2


def test_an_unencodable_frame_is_skipped_not_fatal(hub: JpegHub) -> None:
    with hub.viewer() as viewer:
        hub.put(np.zeros((2, 2, 3), np.float64))
        assert viewer.next(0.3) is None
        hub.put(image(5))
        jpeg = viewer.next(2.0)
    assert jpeg is not None and jpeg.data == bytes([5])


def test_close_wakes_every_waiter(encoder: CountingEncoder) -> None:
    hub = JpegHub(encoder)  # no encoder thread: waiters would sleep their whole timeout
    results: list[object] = []
    with hub.viewer() as viewer:
        waiter = threading.Thread(target=lambda: results.append(viewer.next(timeout=30.0)))
        waiter.start()
        hub.close()
        waiter.join(2.0)
    assert not waiter.is_alive() and results == [None]


def test_stop_event_ends_the_encoder_and_closes_the_hub(encoder: CountingEncoder) -> None:
    hub = JpegHub(encoder)
    stop = threading.Event()
    thread = threading.Thread(target=hub.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(2.0)
    assert not thread.is_alive() and hub.closed


def test_jpeg_encoder_round_trips() -> None:
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, 32:] = (0, 0, 255)  # red right half, in BGR
    data = jpeg_encoder(80)(picture)
    decoded = imdecode(data)
    assert data[:2] == b"\xff\xd8" and decoded.shape == picture.shape
    assert np.abs(decoded.astype(int) - picture).mean() < 4
