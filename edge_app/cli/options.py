"""Options shared by every command that loads a model, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


Model = Annotated[Optional[str], typer.Option("--model", "-m", help="Catalog name or .tflite path (default: the catalog's default, fetched on first use).")]
Labels = Annotated[Optional[Path], typer.Option("--labels", help="Label file (one per line, or 'id label'); default: labels embedded in the model.")]
Runtime = Annotated[str, typer.Option("--runtime", help="auto | litert | tflite_runtime | tensorflow.")]
Delegate = Annotated[Optional[str], typer.Option("--delegate", help="cpu | edgetpu | auto (default: auto, quiet when no Coral is attached).")]
Device = Annotated[Optional[str], typer.Option("--device", help="Edge TPU: usb, usb:N, pci or pci:N.")]
Threads = Annotated[Optional[int], typer.Option("--threads", min=1, help="Interpreter threads (default: every core).")]
Resize = Annotated[str, typer.Option("--resize", help="crop (central 87.5 %, as in training) | squash | letterbox.")]
TopK = Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many labels to report.")]
Threshold = Annotated[float, typer.Option("--threshold", min=0.0, max=1.0, help="Hide labels scoring below this.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]

