"""[model]: which classifier runs and how its results are cut (also per camera: model, labels)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_app.geometry import RESIZE_MODES
from edge_app.model.delegate import DELEGATE_MODES, check_device
from edge_app.model.options import MAX_THREADS, ModelOptions
from edge_app.model.runtime import RUNTIMES
from edge_app.settings.keys import setting


def _check_device(text: str) -> str | None:
    check_device(text)
    return text


@dataclass(frozen=True)
class ModelConfig:
    model: str | None = setting(
        None,
        "Catalog name or .tflite path; unset: the catalog's default model, fetched on first use.",
        short="-m",
        example="tf2_mobilenet_v2_1.0_224_ptq",
    )
    labels: str | None = setting(
        None,
        "Label file (one per line, or 'id label'); unset: the labels embedded in the model.",
        example="/etc/edge-app/labels.txt",
    )
    runtime: str = setting("auto", "TFLite runtime.", choices=("auto", *RUNTIMES))
    delegate: str | None = setting(
        None,
        "Where inference runs; unset: auto, quiet when no Coral is attached.",
        choices=DELEGATE_MODES,
        example="auto",
    )
    device: str | None = setting(None, "Which Edge TPU: usb, usb:N, pci or pci:N.", parse=_check_device, example="usb")
    threads: int | None = setting(
        None, "Interpreter threads; unset: every core.", minimum=1, maximum=MAX_THREADS, example=4
    )
    resize: str = setting(
        "crop",
        "How frames are fitted to the model input; crop takes the central 87.5 %, as in training.",
        choices=RESIZE_MODES,
    )
    top_k: int = setting(3, "Labels shown per result.", minimum=1, maximum=20, short="-k")
    teach: bool = setting(
        True,
        "Teach new classes from the live view (/api/teach), and run the model taught there, kept in the state dir.",
    )
    threshold: float = setting(0.0, "Hide labels scoring below this.", minimum=0.0, maximum=1.0)

    @property
    def options(self) -> ModelOptions:
        return ModelOptions(
            model=self.model,
            labels=Path(self.labels) if self.labels else None,
            runtime=self.runtime,
            delegate=self.delegate,
            device=self.device,
            threads=self.threads,
            resize=self.resize,
            top_k=self.top_k,
            threshold=self.threshold,
        )
