"""Real time: a 640x480 file paced at 30 fps, three browsers on /stream.mjpg, for N frames.

Runs the real command (`edge-app run --source VIDEO --http ...`) and reports, measured in this run:
- frames/s each viewer receives vs the source's 30 fps      (target: >= 28.5, ratio >= 0.95)
- result age p95 vs 2 x inference time + one frame interval  (target: ratio <= 1.0)
- RSS: peak vs 200 MB, and growth from the first to the last tenth of the run (flat)

- CPU: the run's share of one core in the steady window (what a paced source costs)

    python benchmarks/bench_realtime.py [--frames 10000] [--model tf2_mobilenet_v2_1.0_224_ptq] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import _common
import psutil

from tests.helpers.ports import free_port

FPS = 30.0


class Viewer(threading.Thread):
    """Reads /stream.mjpg like a browser, recording when each part arrives."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.arrivals: list[float] = []

    def run(self) -> None:
        with urllib.request.urlopen(self.url, timeout=10) as stream:
            while not self.stop.is_set():
                line = stream.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                    stream.readline()
                    stream.read(length)
                    self.arrivals.append(time.monotonic())

    def fps(self, start: float, end: float) -> float:
        count = sum(1 for t in self.arrivals if start <= t <= end)
        return count / (end - start)


def wait_for(url: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                status = json.load(response)
            if status.get("labels"):
                return status
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no live status at {url} after {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=10000)
    parser.add_argument("--model", default="tf2_mobilenet_v2_1.0_224_ptq")
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="end with the figures as one JSON line")
    args = parser.parse_args()
    video = _common.video(Path(tempfile.gettempdir()) / f"edge-app-bench-{args.frames}.avi", args.frames, FPS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "edge_app",
        "run",
        "--source",
        str(video),
        "--http",
        f"127.0.0.1:{port}",
        "--model",
        args.model,
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=os.environ.copy())
    stop = threading.Event()
    try:
        wait_for(f"{base}/api/status", 60)
        viewers = [Viewer(f"{base}/stream.mjpg", stop) for _ in range(args.viewers)]
        for viewer in viewers:
            viewer.start()
        ps = psutil.Process(process.pid)
        rss: list[tuple[float, float]] = []
        cpu: list[tuple[float, float]] = []  # (when, CPU seconds the run has used so far)
        started = time.monotonic()
        last_status: dict = {}
        while process.poll() is None:
            try:
                times, memory = ps.cpu_times(), ps.memory_info()
            except psutil.NoSuchProcess:  # it ended between poll() and the reading
                break
            now = time.monotonic()
            rss.append((now, memory.rss / 1e6))
            cpu.append((now, times.user + times.system))
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as response:
                    last_status = json.load(response)
            except OSError:
                pass
            time.sleep(1.0)
        ended = time.monotonic()
    finally:
        stop.set()
        if process.poll() is None:
            process.terminate()
            process.wait(5)

    window = (started + 3.0, ended - 2.0)  # steady state: after the viewers connect, before the end
    fps = [viewer.fps(*window) for viewer in viewers]
    latency = last_status.get("latency", {})
    inference = latency.get("inference_ms_p50") or 0.0
    age_p95 = latency.get("result_age_ms_p95") or float("nan")
    bound = 2 * inference + 1000.0 / FPS
    values = [mb for _, mb in rss]
    tenth = max(1, len(values) // 10)
    first, last = (
        sorted(values[tenth : 2 * tenth])[len(values[tenth : 2 * tenth]) // 2],
        sorted(values[-tenth:])[tenth // 2],
    )
    print(f"model {args.model}, {args.frames} frames at {FPS:g} fps, {args.viewers} viewers, {ended - started:.0f} s")
    for i, value in enumerate(fps):
        print(_common.ratio_line(f"viewer {i + 1} frames/s vs source", value, FPS, 0.95))
    print(
        f"{'result age p95 vs 2 x inference + frame':<42} ours {age_p95:8.1f} ms   bound {bound:8.1f} ms   "
        f"ratio {age_p95 / bound:5.2f}  (target <= 1.00: {'ok' if age_p95 <= bound else 'ABOVE'})"
    )
    print(
        f"{'RSS peak vs 200 MB':<42} ours {max(values):8.1f} MB   limit    200.0 MB   ratio "
        f"{max(values) / 200:5.2f}  (target <= 1.00: {'ok' if max(values) <= 200 else 'ABOVE'})"
    )
    print(f"{'RSS growth, 2nd tenth -> last tenth':<42} {first:8.1f} MB -> {last:8.1f} MB ({last - first:+.1f} MB)")
    steady = [(t, used) for t, used in cpu if window[0] <= t <= window[1]] or cpu
    cpu_share = (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0]) if len(steady) > 1 else float("nan")
    print(f"{'CPU in the steady window':<42} {cpu_share * 100:8.1f} % of one core")
    print(
        f"frames captured {last_status.get('frames', {}).get('captured')}, dropped "
        f"{last_status.get('dropped')}, stream {last_status.get('stream')}"
    )
    if args.json:
        figures = {
            "viewer_fps": sum(fps) / len(fps),
            "result_age_p95_ms": age_p95,
            "inference_ms_p50": inference,
            "cpu_share": cpu_share,
            "rss_peak_mb": max(values),
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
