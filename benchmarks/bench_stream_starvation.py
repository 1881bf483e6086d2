"""/api/status while MJPEG viewers never read (issue 22: 300 of them once took all 64 workers,
and /api/status took 8.35 s). Measured in one run on this machine: the status answer's time
with no viewer (the baseline) and with N viewers that asked for the stream and never read,
fed 640x480 frames at 30 fps; printed as times and as the ratio of the two.

    python benchmarks/bench_stream_starvation.py [--viewers 300] [--calls 50]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.address import parse_address  # noqa: E402
from edge_app.web.sink import HttpSink  # noqa: E402
from tests.helpers.lan_load import raise_own_open_files  # noqa: E402
from tests.helpers.live_view import FakeStatus, Feeder, get, get_status, stuck_viewer  # noqa: E402
from tests.helpers.waiting import wait_until  # noqa: E402


def status_times(url: str, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        code, _, _ = get(url, "/api/status", timeout=30.0)
        times.append(time.perf_counter() - start)
        assert code == 200, code
    return times


def line(name: str, times: list[float]) -> str:
    return f"  {name:<22} p50 {1000 * statistics.median(times):7.2f} ms   max {1000 * max(times):7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    raise_own_open_files(2 * args.viewers + 256)
    sink = HttpSink(parse_address("127.0.0.1:0"), FakeStatus(), send_timeout=60.0)
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=30.0)
    feeder.start()
    viewers: list[socket.socket] = []
    try:
        alone = status_times(sink.url, args.calls)
        viewers = [stuck_viewer(sink.url) for _ in range(args.viewers)]
        wait_until(lambda: get_status(sink.url)["stream"]["viewers"] == args.viewers, timeout=60.0)
        time.sleep(2.0)  # their socket buffers fill: now they are stuck
        crowded = status_times(sink.url, args.calls)
        streamed = get_status(sink.url)["stream"]
    finally:
        for viewer in viewers:
            viewer.close()
        feeder.close()
        sink.close()
    print(f"/api/status, {args.calls} calls each, live view fed 640x480 at 30 fps:")
    print(line("no viewer (baseline)", alone))
    print(line(f"{args.viewers} stuck viewers", crowded))
    print(
        f"  ratio (p50): {statistics.median(crowded) / statistics.median(alone):.2f}x; "
        f"all {streamed['viewers']} viewers streamed to at once, {streamed['viewer_drops']} frames skipped for them"
    )


if __name__ == "__main__":
    main()
