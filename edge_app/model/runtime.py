"""Find a TFLite interpreter: LiteRT first, then tflite_runtime, then tensorflow.lite.

All three expose the same `Interpreter` and `load_delegate`; we keep whichever imports.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_app.errors import EdgeAppError

RUNTIMES = ("litert", "tflite_runtime", "tensorflow")
_MODULES = {
    "litert": ("ai_edge_litert.interpreter", "ai-edge-litert"),
    "tflite_runtime": ("tflite_runtime.interpreter", "tflite-runtime"),
    "tensorflow": ("tensorflow", "tensorflow"),
}


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    Interpreter: Callable[..., Any]
    load_delegate: Callable[..., Any]


def _is_numpy_abi_error(exc: BaseException) -> bool:
    text = str(exc)
    return (
        "_ARRAY_API" in text or "numpy.core.multiarray failed to import" in text or ("compiled using NumPy 1.x" in text)
    )


def _numpy_abi_error(package: str) -> EdgeAppError:
    import numpy

    return EdgeAppError(
        f"{package} was built for NumPy 1.x and cannot load under NumPy {numpy.__version__}",
        "pip install ai-edge-litert (its maintained successor, works with NumPy 2), "
        "or pin NumPy with pip install 'numpy<2'",
    )


def _import(name: str) -> Runtime:
    """Import one runtime. NumPy 2 writes a warning and a stack trace to sys.stderr when a module
    built for NumPy 1.x loads (tflite-runtime 2.14); hold that text back, and drop it when the
    import then fails, so the user sees our one line instead."""
    held = io.StringIO()
    with contextlib.redirect_stderr(held):
        runtime = _import_unguarded(name)
    sys.stderr.write(held.getvalue())
    return runtime


def _import_unguarded(name: str) -> Runtime:
    module_name, _ = _MODULES[name]
    module = importlib.import_module(module_name)
    if name == "tensorflow":
        lite = module.lite
        return Runtime(name, module.__version__, lite.Interpreter, lite.experimental.load_delegate)
    version = getattr(importlib.import_module(module_name.split(".")[0]), "__version__", "?")
    return Runtime(name, str(version), module.Interpreter, module.load_delegate)


def load_runtime(prefer: str = "auto") -> Runtime:
    """Import the preferred runtime, or the first that works in RUNTIMES order."""
    if prefer != "auto" and prefer not in RUNTIMES:
        raise EdgeAppError(f"unknown runtime {prefer!r}", f"use one of: auto, {', '.join(RUNTIMES)}")
    names = RUNTIMES if prefer == "auto" else (prefer,)
    abi_failure: str | None = None
    for name in names:
        try:
            return _import(name)
        except ImportError as exc:
            if _is_numpy_abi_error(exc):
                abi_failure = abi_failure or _MODULES[name][1]
        except AttributeError as exc:
            # tflite-runtime 2.14 under NumPy 2 fails with "AttributeError: _ARRAY_API not found".
            if not _is_numpy_abi_error(exc):
                raise
            abi_failure = abi_failure or _MODULES[name][1]
    if abi_failure:
        raise _numpy_abi_error(abi_failure)
    wanted = " or ".join(_MODULES[n][1] for n in names)
    hint = (
        "pip install ai-edge-litert"
        if prefer == "auto"
        else f"pip install {wanted}, or drop --runtime to use any installed runtime"
    )
    raise EdgeAppError(f"no TFLite runtime found ({wanted} is not installed)", hint)
