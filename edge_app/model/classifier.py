"""One loaded model: frame in, ranked labels out.

`prepare` is pure and thread-safe, so a pipeline can run it on another thread while
`infer` (which owns the interpreter) runs the previous frame.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_app.errors import EdgeAppError, first_line, warn
from edge_app.frames import ChannelOrder, Frame, Label, Result
from edge_app.geometry import RESIZE_MODES
from edge_app.model import catalog
from edge_app.model.delegate import DELEGATE_MODES, check_device, find_edgetpu_devices, load_edgetpu
from edge_app.model.labels import embedded_labels, fit_labels, read_label_file
from edge_app.model.options import ModelOptions
from edge_app.model.postprocess import dequantize, output_doubt, top_k
from edge_app.model.preprocess import InputSpec, quantizer, to_tensor
from edge_app.model.runtime import Runtime, load_runtime
from edge_app.model.tflite_file import HEAD, not_a_model

NO_LABELS = "none (class indices)"


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    runtime: str
    runtime_version: str
    delegate: str
    threads: int
    input: InputSpec
    outputs: int
    output_dtype: str
    labels_source: str


class Classifier:
    def __init__(
        self,
        interpreter: Any,
        labels: list[str],
        info: ModelInfo,
        options: ModelOptions,
        runtime: Runtime,
        source: Path | bytes | None = None,
    ) -> None:
        """`source`: the model file, or the bytes of a model built in memory (for clone)."""
        self.interpreter = interpreter
        self.runtime = runtime
        self.labels = labels
        self.info = info
        self.options = options
        self.source = info.path if source is None else source
        self.spec = info.input
        self._lut = quantizer(self.spec)
        # An interpreter is not thread-safe: a region running the camera's own model shares it with the
        # whole-frame pipeline, so invoke and the reads of its outputs happen under one (uncontended: cheap) lock.
        self._invoking = threading.RLock()
        inp = interpreter.get_input_details()[0]
        outs = interpreter.get_output_details()
        self._in_index = inp["index"]
        self._out_index = outs[0]["index"]
        self._out_scale, self._out_zero = outs[0]["quantization"]
        # A second output is the pooled embedding (edge_app.train.dual_output_model): read with each result.
        self._embedding = (outs[1]["index"], *outs[1]["quantization"]) if len(outs) > 1 else None

    @property
    def embedding_size(self) -> int:
        """Values in the embedding output (0 without one)."""
        if self._embedding is None:
            return 0
        return int(np.prod(self.interpreter.get_output_details()[1]["shape"]))

    @classmethod
    def open(cls, options: ModelOptions, warn: Callable[[str], None] = warn) -> Classifier:
        return cls.from_plan(plan(options, warn), warn)

    @classmethod
    def from_plan(cls, planned: ModelPlan, warn: Callable[[str], None] = warn) -> Classifier:
        """The interpreter of a planned model: the one step of opening that costs memory and time."""
        path, entry, runtime = planned.path, planned.entry, planned.runtime
        interpreter = make_interpreter(runtime, path, planned.threads, planned.delegate)
        outputs = _outputs(interpreter)
        labels_path = planned.options.labels or _catalog_labels(entry, planned.cpu_path, path)
        labels, labels_source = _labels(labels_path, planned.cpu_path, path, outputs)
        info = _info(interpreter, runtime, path, planned.name, planned.delegate_name, planned.threads, labels_source)
        if entry is not None and entry.mean is not None and entry.std is not None:
            info = replace(info, input=replace(info.input, mean=entry.mean, std=entry.std))
        _warn_if_no_classifier(interpreter, info, warn)
        return cls(interpreter, labels, info, planned.options, runtime)

    @classmethod
    def from_bytes(
        cls, model: bytes, name: str, options: ModelOptions, warn: Callable[[str], None] = warn
    ) -> Classifier:
        """A CPU model built in memory (a taught model, one with its embedding as a second
        output), named `name` in logs and status; its labels are the ones embedded in it."""
        runtime = load_runtime(options.runtime)
        threads = options.threads or os.cpu_count() or 1
        interpreter = make_interpreter(runtime, model, threads, None)
        outputs = _outputs(interpreter)
        found = embedded_labels(model)
        labels = fit_labels(found, outputs, f"labels embedded in {name}")
        info = _info(
            interpreter, runtime, Path(name), name, "cpu", threads, f"embedded in {name}" if found else NO_LABELS
        )
        _warn_if_no_classifier(interpreter, info, warn)
        return cls(interpreter, labels, info, replace(options, threads=threads), runtime, model)

    def clone(self, threads: int) -> Classifier:
        """Another interpreter of this (CPU) model: labels, input spec and lookup table are shared,
        nothing is resolved or read again."""
        if self.info.delegate != "cpu":
            raise ValueError("an Edge TPU runs one model at a time: it cannot be cloned")
        interpreter = make_interpreter(self.runtime, self.source, threads, None)
        return Classifier(
            interpreter,
            self.labels,
            replace(self.info, threads=threads),
            replace(self.options, threads=threads),
            self.runtime,
            self.source,
        )

    def prepare(self, image: np.ndarray, order: ChannelOrder = "bgr") -> np.ndarray:
        return to_tensor(image, self.spec, order, self.options.resize, self._lut)

    def set_input(self, tensor: np.ndarray) -> None:
        self.interpreter.set_tensor(self._in_index, tensor)

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        """Scores (float32, one per output) and the invoke time in ms."""
        with self._invoking:
            self.set_input(tensor)
            start = time.perf_counter()
            try:
                self.interpreter.invoke()
            except RuntimeError as exc:
                raise EdgeAppError(
                    f"inference failed in {self.info.path.name}: {first_line(exc)}",
                    "check that the model runs on this runtime",
                ) from None
            elapsed_ms = (time.perf_counter() - start) * 1000.0
            raw = self.interpreter.get_tensor(self._out_index)
            return dequantize(raw, self._out_scale, self._out_zero), elapsed_ms

    def rank(self, scores: np.ndarray) -> tuple[Label, ...]:
        return top_k(scores, self.labels, self.options.top_k, self.options.threshold)

    def classify(self, image: np.ndarray, order: ChannelOrder = "bgr") -> tuple[tuple[Label, ...], float, np.ndarray]:
        scores, ms = self.infer(self.prepare(image, order))
        return self.rank(scores), ms, scores

    def embedding(self) -> np.ndarray | None:
        """The pooled embedding of the last inference (dequantized), when the model gives it."""
        if self._embedding is None:
            return None
        index, scale, zero_point = self._embedding
        return dequantize(self.interpreter.get_tensor(index), scale, zero_point)

    def classify_frame(self, frame: Frame, tensor: np.ndarray | None = None) -> Result:
        tensor = self.prepare(frame.image, frame.order) if tensor is None else tensor
        with self._invoking:  # the embedding read belongs to this invoke, not another thread's
            scores, ms = self.infer(tensor)
            embedding = self.embedding()
        return Result(frame.seq, frame.ts, frame.mono, self.rank(scores), ms, scores, frame.still, embedding)


@dataclass(frozen=True)
class ModelPlan:
    """A model resolved to its file, runtime and delegate, and not opened yet: what a caller can
    decide on (run it, or a model taught on it) before paying for an interpreter."""

    options: ModelOptions
    runtime: Runtime
    cpu_path: Path  # the CPU model (an Edge TPU twin is `path`)
    entry: catalog.ModelEntry | None
    path: Path
    delegate: Any  # the Edge TPU delegate, or None: the CPU

    @property
    def name(self) -> str:
        return self.entry.name if self.entry else self.path.stem

    @property
    def delegate_name(self) -> str:
        return "edgetpu" if self.delegate is not None else "cpu"

    @property
    def threads(self) -> int:
        return self.options.threads or os.cpu_count() or 1


def plan(options: ModelOptions, warn: Callable[[str], None] = warn) -> ModelPlan:
    """Everything of opening `options` but the interpreter: checked options, the runtime, the file
    (a catalog name downloaded), the delegate."""
    if options.resize not in RESIZE_MODES:
        raise EdgeAppError(f"bad resize mode {options.resize!r}", f"use one of: {', '.join(RESIZE_MODES)}")
    if options.delegate is not None and options.delegate not in DELEGATE_MODES:
        raise EdgeAppError(f"bad --delegate {options.delegate!r}", f"use one of: {', '.join(DELEGATE_MODES)}")
    if options.top_k < 1:
        raise EdgeAppError(f"bad --top-k {options.top_k}", "use 1 or more")
    device = check_device(options.device)
    runtime = load_runtime(options.runtime)
    cpu_path, entry = catalog.resolve(options.model)
    path, delegate = _choose_delegate(runtime, cpu_path, entry, options, device, warn)
    return ModelPlan(options, runtime, cpu_path, entry, path, delegate)


def _outputs(interpreter: Any) -> int:
    return int(np.prod(interpreter.get_output_details()[0]["shape"]))


def _info(
    interpreter: Any, runtime: Runtime, path: Path, name: str, delegate: str, threads: int, labels_source: str
) -> ModelInfo:
    out = interpreter.get_output_details()[0]
    return ModelInfo(
        path=path,
        name=name,
        runtime=runtime.name,
        runtime_version=runtime.version,
        delegate=delegate,
        threads=threads,
        input=_input_spec(interpreter.get_input_details()[0], path),
        outputs=_outputs(interpreter),
        output_dtype=np.dtype(out["dtype"]).name,
        labels_source=labels_source,
    )


def _warn_if_no_classifier(interpreter: Any, info: ModelInfo, warn: Callable[[str], None]) -> None:
    out = interpreter.get_output_details()[0]
    scale, zero_point = out["quantization"]
    doubt = output_doubt(
        tuple(out["shape"]), np.dtype(out["dtype"]), scale, zero_point, labelled=info.labels_source != NO_LABELS
    )
    if doubt:
        warn(f"{info.path.name}: {doubt}")


def _coral_attached() -> bool:
    return bool(find_edgetpu_devices())


def _choose_delegate(
    runtime: Runtime,
    cpu_path: Path,
    entry: catalog.ModelEntry | None,
    options: ModelOptions,
    device: str | None,
    warn: Callable[[str], None],
) -> tuple[Path, Any]:
    """Use the Edge TPU (and the model's `_edgetpu` twin) when asked or when `auto` finds one."""
    mode = options.delegate or "auto"
    if mode == "cpu":
        return cpu_path, None
    try:
        delegate = load_edgetpu(runtime.load_delegate, device)
        twin = catalog.resolve_twin(cpu_path, entry)
    except EdgeAppError as exc:
        if mode == "edgetpu":
            raise
        if options.delegate == "auto" or _coral_attached():
            warn(f"Edge TPU not used, running on the CPU: {exc}")
        return cpu_path, None
    if twin is None:
        if mode == "edgetpu":
            raise EdgeAppError(
                f"no Edge TPU build of {cpu_path.name} found (expected {cpu_path.stem}_edgetpu.tflite beside it)",
                "compile it with edgetpu_compiler, or pick a catalog model (edge-app models list)",
            )
        warn(f"no Edge TPU build of {cpu_path.name}; running it on the CPU")
        return cpu_path, None
    return twin, delegate


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """The runtime's C++ code prints "INFO: Created TensorFlow Lite XNNPACK delegate" straight to
    fd 2 on every load; its real errors also reach us as exceptions, so hide fd 2 meanwhile."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(HEAD)
    except OSError:
        return b""


def make_interpreter(runtime: Runtime, path: Path | bytes, threads: int, delegate: Any) -> Any:
    """An allocated interpreter of a model file (or of model bytes built in memory); load failures
    become one-line errors, and the runtime's banner stays quiet."""
    delegates = [delegate] if delegate is not None else None
    source = {"model_content": path} if isinstance(path, bytes) else {"model_path": str(path)}
    content = path if isinstance(path, bytes) else None
    path = Path("(model built in memory)") if isinstance(path, bytes) else path
    try:
        with _native_stderr_silenced():
            interpreter = runtime.Interpreter(**source, experimental_delegates=delegates, num_threads=threads)
            interpreter.allocate_tensors()
    except ValueError as exc:
        text = str(exc)
        if "Could not open" in text and path.is_file():
            raise EdgeAppError(f"cannot read model file {path}", "check its permissions") from None
        if error := not_a_model(str(path), content[:HEAD] if content is not None else _head(path)):
            raise error from None
        raise EdgeAppError(
            f"{path} is not a valid TFLite model (corrupt or truncated)",
            "download it again (edge-app models fetch --force NAME) or check the path",
        ) from None
    except RuntimeError as exc:
        text = str(exc)
        if "edgetpu-custom-op" in text:
            raise EdgeAppError(
                f"{path.name} is compiled for the Edge TPU and cannot run on the CPU",
                "run it with --delegate edgetpu on a machine with a Coral, or use the model without _edgetpu",
            ) from None
        raise EdgeAppError(
            f"{path.name} cannot be prepared by {runtime.name}: {first_line(exc)}",
            "use a model built from TFLite builtin ops",
        ) from None
    return interpreter


def _labels(labels_path: Path | None, cpu_path: Path, path: Path, outputs: int) -> tuple[list[str], str]:
    if labels_path is not None:
        return fit_labels(read_label_file(labels_path), outputs, f"labels file {labels_path}"), str(labels_path)
    for candidate in dict.fromkeys((path, cpu_path)):
        found = embedded_labels(candidate)
        if found:
            return fit_labels(found, outputs, f"labels embedded in {candidate.name}"), f"embedded in {candidate.name}"
    return fit_labels(None, outputs), NO_LABELS


def _catalog_labels(entry: catalog.ModelEntry | None, cpu_path: Path, path: Path) -> Path | None:
    """The catalog's label file, for a model that carries none of its own (fetched on first use)."""
    if entry is None or entry.label_file is None or any(embedded_labels(p) for p in {cpu_path, path}):
        return None
    return catalog.cached_or_fetch(entry.label_file)


def _input_spec(detail: dict[str, Any], path: Path) -> InputSpec:
    shape = detail["shape"]
    if len(shape) != 4 or shape[3] != 3:
        raise EdgeAppError(
            f"{path.name} is not an image classifier (input shape {list(shape)})",
            "use a model whose input is [1, height, width, 3]",
        )
    scale, zero_point = detail["quantization"]
    return InputSpec(int(shape[1]), int(shape[2]), np.dtype(detail["dtype"]), float(scale), int(zero_point))
