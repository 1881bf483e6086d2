"""Mirror of picamera2.job.Job: a Future completed by the camera's event loop."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class Job:
    def __init__(
        self, functions: list[Callable[[], tuple[bool, Any]]], signal_function: Callable[[Job], None] | None = None
    ) -> None:
        self._functions = functions
        self._future: Future = Future()
        self._future.set_running_or_notify_cancel()
        self._signal_function = signal_function
        self._result: Any = None
        self.calls = 0

    def execute(self) -> bool:
        try:
            while self._functions:
                done, result = self._functions[0]()
                self.calls += 1
                if not done:
                    break
                self._functions.pop(0)
            if not self._functions:
                self._result = result
        except Exception as exc:
            self._future.set_exception(exc)
            self._functions = []
        return not self._functions

    def signal(self) -> None:
        if not self._future.done():
            self._future.set_result(self._result)
        if self._signal_function:
            self._signal_function(self)

    def get_result(self, timeout: float | None = None) -> Any:
        return self._future.result(timeout=timeout)
