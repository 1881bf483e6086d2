"""Live view under load: ours vs the stdlib ThreadingHTTPServer it replaced (a thread per
connection, listen queue 5), each in a process of its own with a 1,024-descriptor limit,
measured in the same run on this machine:

1. 200 clients send a request at the same moment (and keep their connections open):
   how many are answered within 20 s, and when the last one is.
2. 1,100 slowloris clients connect over about 2 s (paced, so the baseline's 5-deep listen
   queue takes them in too), then trickle a header line every 2 s and never finish: how long
   until all are connected or refused; 5 s later, the server's open files and how long a real
   request takes; then the server's CPU over 5 s while they trickle (a busy loop shows ~100 %).

    python benchmarks/bench_http_limits.py [--clients 200] [--tricklers 1100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.lan_load import Tricklers, get, raise_own_open_files, server, simultaneous  # noqa: E402

NOFILE = "1024"


def burst(args: argparse.Namespace, baseline: bool) -> str:
    with server(
        "--http", "0.0.0.0:0", "--nofile", NOFILE, *(["--baseline", "--http", "127.0.0.1:0"] if baseline else [])
    ) as running:
        statuses, elapsed = simultaneous(running.port, args.clients, timeout=20.0)
    answered = sum(status == 200 for status in statuses)
    last = f"last answer after {elapsed:6.2f} s" if answered == len(statuses) else "some never answered"
    return f"{answered:4d}/{len(statuses)} answered 200 within 20 s, {last}"


def trickle(args: argparse.Namespace, baseline: bool) -> str:
    with server(
        "--http", "0.0.0.0:0", "--nofile", NOFILE, *(["--baseline", "--http", "127.0.0.1:0"] if baseline else [])
    ) as running:
        tricklers = Tricklers(running.port, args.tricklers, every_s=2.0)
        try:
            connected_s = tricklers.connect(timeout=20.0, pace_s=0.002)
            wait_s = args.wait
            time.sleep(wait_s)  # they trickle on, and the server takes in what it will
            files = running.open_files()
            start = time.monotonic()
            try:
                code: int | str = get(running.port, timeout=20.0)
            except OSError as exc:
                code = type(exc).__name__
            real_s = time.monotonic() - start
            cpu0, t0 = running.cpu_seconds(), time.monotonic()
            time.sleep(5.0)
            cpu = (running.cpu_seconds() - cpu0) / (time.monotonic() - t0)
            held = tricklers.still_connected()
        finally:
            tricklers.close()
        warnings = sum("shedding" in line for line in running.errors)
    return (
        f"all {args.tricklers} connected or refused in {connected_s:5.2f} s ({tricklers.connect_failures} "
        "failed to connect); "
        f"{wait_s:g} s later the server has {files} files open, and a real request gets {code} after {real_s:5.2f} s; "
        f"server CPU in the next 5 s {100 * cpu:4.1f} % of a core; {held} tricklers still connected; "
        f"{warnings} shed warnings logged"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--tricklers", type=int, default=1100)
    parser.add_argument(
        "--wait",
        type=float,
        default=5.0,
        help="seconds of trickling before the real request (ours drops tricklers after 10)",
    )
    args = parser.parse_args()
    if not raise_own_open_files(args.tricklers + 300):
        sys.exit(f"this process may not open {args.tricklers + 300} files (ulimit -Hn)")
    print(f"{args.clients} simultaneous requests, server limited to {NOFILE} descriptors:")
    print(f"  ours     {burst(args, baseline=False)}")
    print(f"  baseline {burst(args, baseline=True)}")
    print(f"{args.tricklers} trickling clients, server limited to {NOFILE} descriptors:")
    print(f"  ours     {trickle(args, baseline=False)}")
    print(f"  baseline {trickle(args, baseline=True)}")


if __name__ == "__main__":
    main()
