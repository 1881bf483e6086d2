"""A bare live view in a process of its own, for load tests and benchmarks.

    python tests/helpers/lan_server.py --http 0.0.0.0:0 --token TOKEN [--nofile 1024] [--held N] [--baseline]

Sets its own RLIMIT_NOFILE first (as systemd's LimitNOFILE would), serves synthetic frames at
30 fps, prints "PORT <n>" once listening, and stops when its stdin closes. `--baseline` serves
the same status JSON from the stdlib's ThreadingHTTPServer instead (a thread per connection,
listen queue 5): what the live view was before issue 11, to compare against in one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the checkout, for tests.helpers

from tests.helpers.live_view import FakeStatus, Feeder  # noqa: E402


def baseline(port: int) -> ThreadingHTTPServer:
    status = FakeStatus()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps(status()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", default="0.0.0.0:0")
    parser.add_argument("--token", default="load-test-token-0123456789")
    parser.add_argument("--nofile", type=int, default=0)
    parser.add_argument(
        "--held", type=int, default=0, help="override the held-connection cap (e.g. above the descriptor limit)"
    )
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    if args.nofile:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")

    if args.baseline:
        server = baseline(int(args.http.rpartition(":")[2]))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"PORT {server.server_address[1]}", flush=True)
        sys.stdin.read()
        return

    from edge_app.address import parse_address
    from edge_app.web.auth import Access
    from edge_app.web.limits import limits_for, open_file_limit
    from edge_app.web.sink import HttpSink

    limits = limits_for(open_file_limit())
    if args.held:
        limits = replace(limits, held=args.held)
    sink = HttpSink(parse_address(args.http), FakeStatus(), access=Access(args.token), limits=limits)
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=30.0, size=(320, 240))
    feeder.start()
    print(f"PORT {sink.port}", flush=True)
    sys.stdin.read()
    feeder.close()
    sink.close()


if __name__ == "__main__":
    main()
