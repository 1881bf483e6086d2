"""Fakes of the TFLite runtimes and of the Edge TPU delegate loader.

They mirror the real APIs signature for signature (ai_edge_litert.interpreter.Interpreter,
load_delegate, Delegate) and raise the exact errors the real ones raise, so edge-app's handling
of a missing runtime, a NumPy-2 ABI break, a missing libedgetpu or an unplugged Coral can be
tested on a machine that has none of them.
"""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ai_edge_litert import interpreter as _real

RUNTIME_MODULES = {
    "litert": ("ai_edge_litert", "ai_edge_litert.interpreter"),
    "tflite_runtime": ("tflite_runtime", "tflite_runtime.interpreter"),
    "tensorflow": ("tensorflow",),
}


class RecordingInterpreter(_real.Interpreter):
    """The real LiteRT interpreter, recording how it was built.

    Delegates passed in are fakes, so they are recorded and not handed to LiteRT; the model
    itself runs for real, which lets a test see both which file was opened and what came out.
    """

    created: list[dict[str, Any]] = []

    def __init__(
        self,
        model_path: str | None = None,
        model_content: bytes | None = None,
        experimental_delegates: list[Any] | None = None,
        num_threads: int | None = None,
        **kwargs: Any,
    ) -> None:
        RecordingInterpreter.created.append(
            {"model_path": model_path, "delegates": list(experimental_delegates or []), "num_threads": num_threads}
        )
        super().__init__(model_path=model_path, model_content=model_content, num_threads=num_threads, **kwargs)


class Delegate:
    """Mirrors ai_edge_litert.interpreter.Delegate, including its __del__ that raises
    AttributeError when the library never loaded (which CPython reports as "Exception ignored")."""

    def __init__(self, library: str, options: dict[str, Any] | None = None, *, outcome: str = "loads") -> None:
        self.options = {str(k): str(v) for k, v in (options or {}).items()}
        if outcome == "no_library":
            # what ctypes.pydll.LoadLibrary raises when the .so is not installed
            raise OSError(f"{library}: cannot open shared object file: No such file or directory")
        self._library: str | None = library
        self.library = library
        if outcome == "no_device":
            # tflite_plugin_create_delegate returned NULL; libedgetpu reports nothing through the callback
            raise ValueError("")

    def __del__(self) -> None:
        if self._library is not None:
            self._library = None


def make_load_delegate(outcome: str, calls: list[tuple[str, dict[str, Any]]] | None = None) -> Callable[..., Any]:
    """A load_delegate(library, options=None) whose Delegate `loads`, or fails with `no_library`
    (OSError) or `no_device` (ValueError, wrapped exactly as LiteRT wraps it)."""

    def load_delegate(library: str, options: dict[str, Any] | None = None) -> Delegate:
        if calls is not None:
            calls.append((library, dict(options or {})))
        try:
            return Delegate(library, options, outcome=outcome)
        except ValueError as e:
            raise ValueError(f"Failed to load delegate from {library}\n{str(e)}") from e

    return load_delegate


def runtime_modules(
    name: str, version: str, interpreter: Any, load_delegate: Callable[..., Any]
) -> dict[str, types.ModuleType]:
    """sys.modules entries that make `name` importable the way edge-app imports it."""
    # The ignores below: a bare ModuleType has none of these attributes until the fake gives them.
    if name == "tensorflow":
        tf = types.ModuleType("tensorflow")
        tf.__version__ = version  # type: ignore[attr-defined]
        tf.lite = types.SimpleNamespace(  # type: ignore[attr-defined]
            Interpreter=interpreter, experimental=types.SimpleNamespace(load_delegate=load_delegate)
        )
        return {"tensorflow": tf}
    package_name, module_name = RUNTIME_MODULES[name]
    package = types.ModuleType(package_name)
    package.__version__ = version  # type: ignore[attr-defined]
    module = types.ModuleType(module_name)
    module.Interpreter = interpreter  # type: ignore[attr-defined]
    module.load_delegate = load_delegate  # type: ignore[attr-defined]
    package.interpreter = module  # type: ignore[attr-defined]
    return {package_name: package, module_name: module}


def install_runtimes(monkeypatch: pytest.MonkeyPatch, **present: dict[str, types.ModuleType] | None) -> None:
    """For each runtime: a dict from runtime_modules() makes it importable, None makes it missing."""
    for name, modules in present.items():
        for module_name in RUNTIME_MODULES[name]:
            monkeypatch.setitem(sys.modules, module_name, (modules or {}).get(module_name))


def fake_litert(
    monkeypatch: pytest.MonkeyPatch, outcome: str, calls: list[tuple[str, dict[str, Any]]] | None = None
) -> None:
    """LiteRT as installed, except that the Edge TPU delegate loader behaves as `outcome`."""
    RecordingInterpreter.created.clear()
    install_runtimes(
        monkeypatch,
        litert=runtime_modules("litert", "2.3.0-fake", RecordingInterpreter, make_load_delegate(outcome, calls)),
    )


# What NumPy 2 writes to sys.stderr when a module built against NumPy 1.x asks for its C API
# (numpy/core/_multiarray_umath.py), then what the module's import_array() does with the failure.
_NUMPY2_WARNING = """
A module that was compiled using NumPy 1.x cannot be run in
NumPy 2.0.0 as it may crash. To support both 1.x and 2.x
versions of NumPy, modules must be compiled with NumPy 2.0.
Some module may need to rebuild instead e.g. with 'pybind11>=2.12'.

If you are a user of the module, the easiest solution will be to
downgrade to 'numpy<2' or try to upgrade the affected module.
We expect that some modules will need time to support NumPy 2.

Traceback (most recent call last):  File "<string>", line 1, in <module>
  File "tflite_runtime/interpreter.py", line 33, in <module>
    from tflite_runtime import _pywrap_tensorflow_interpreter_wrapper as _interpreter_wrapper
"""

ABI_FAILURES = {
    # _import_array() failing straight through
    "attribute": 'raise AttributeError("_ARRAY_API not found")',
    # the import_array() macro: PyErr_Print() the AttributeError, then raise ImportError
    "import": (
        'sys.stderr.write("AttributeError: _ARRAY_API not found\\n")\n'
        'raise ImportError("numpy.core.multiarray failed to import")'
    ),
}


def write_numpy2_broken_tflite_runtime(root: Path, failure: str = "attribute") -> Path:
    """A `tflite_runtime` package under `root` that fails to import like tflite-runtime 2.14 under NumPy 2."""
    package = root / "tflite_runtime"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('__version__ = "2.14.0"\n')
    (package / "interpreter.py").write_text(
        textwrap.dedent(
            f"""\
            import sys
            sys.stderr.write({_NUMPY2_WARNING!r})
            """
        )
        + ABI_FAILURES[failure]
        + "\n"
    )
    return root


class InvokeFailingInterpreter(RecordingInterpreter):
    """Loads and allocates, then fails in invoke() the way LiteRT reports a failing kernel."""

    def invoke(self) -> None:
        raise RuntimeError("tensorflow/lite/kernels/fake_op.cc:42 failed\nNode number 0 (FAKE_OP) failed to invoke.")
