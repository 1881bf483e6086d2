"""Waiting in tests: poll for a condition instead of sleeping a fixed time, and catch hangs.

A fixed sleep before an assertion is too short on a loaded machine (the test flakes) and too
long everywhere else (the suite crawls). `wait_until` returns as soon as the condition holds.
Its deadline means "this never happens", not "this is too slow", so it is set far above the
expected time: no test asserts speed; benchmarks/bench_responsiveness.py measures it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _text(message: str | Callable[[], str]) -> str:
    return message() if callable(message) else message


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str | Callable[[], str] = "",
) -> T:
    """Poll `predicate` until it returns something truthy, and return that (so never None).

    After `timeout` seconds without it, fail with `message` (a string, or a function that builds
    one then, e.g. to show the last state seen).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"not within {timeout:g} s: {_text(message) or getattr(predicate, '__name__', 'condition')}"
            )
        time.sleep(interval)


def poll(predicate: Callable[[], T | None], timeout: float, interval: float = 0.02) -> T | None:
    """Like wait_until, but a timeout is an answer, not a failure: the truthy value, or None.
    For helpers whose callers decide what "not within the time" means."""
    try:
        return wait_until(predicate, timeout, interval)
    except AssertionError:
        return None


def completes(call: Callable[[], T], timeout: float = 30.0, message: str | Callable[[], str] = "") -> T:
    """Run `call` in a daemon thread; return its result or raise what it raised.

    Fails when it is still running after `timeout`: for "gives up instead of hanging" checks,
    where the call's own limit is far shorter. A hang fails the test instead of blocking it.
    """
    returned: list[T] = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            returned.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            raised.append(exc)

    thread = threading.Thread(target=run, name="completes", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(
            f"still running after {timeout:g} s (hung): {_text(message) or getattr(call, '__name__', 'call')}"
        )
    if raised:
        raise raised[0]
    return returned[0]
