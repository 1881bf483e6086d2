"""`edge-app info`: what this machine can run, and what the model expects."""

from __future__ import annotations

import ctypes
import json
import platform
import sys
from typing import TYPE_CHECKING, Any

import typer

from edge_app.cli import options as opt
from edge_app.words import plural

if TYPE_CHECKING:
    from edge_app.model.options import ModelOptions


def _edgetpu_status() -> dict[str, object]:
    from edge_app.model.delegate import edgetpu_library, find_edgetpu_devices

    library = edgetpu_library()
    try:
        ctypes.CDLL(library)
        loadable = True
    except OSError:
        loadable = False
    return {"library": library, "library_found": loadable, "devices": find_edgetpu_devices()}


def info(
    model: opt.Model = None,
    labels: opt.Labels = None,
    runtime: opt.RuntimeName = "auto",
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: opt.Threads = None,
    as_json: opt.Json = False,
) -> None:
    """Show the runtime, the model's input and output, Edge TPU status and cameras."""
    import numpy as np

    from edge_app.model import catalog
    from edge_app.model.options import ModelOptions
    from edge_app.model.runtime import load_runtime
    from edge_app.sources.discovery import list_cameras

    missing = catalog.uncached(model)  # info never downloads: it says so instead
    if missing is None:
        runtime_name, runtime_version, model_report = _model_report(
            ModelOptions(model, labels, runtime, delegate, device, threads)
        )
    else:
        loaded = load_runtime(runtime)
        runtime_name, runtime_version = loaded.name, loaded.version
        model_report = {"name": missing.name, "cached": False, "path": str(catalog.cache_dir() / missing.file)}
    cameras = [{"name": c.name, "backend": c.backend, "option": c.option} for c in list_cameras()]
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "numpy": np.__version__,
        "runtime": runtime_name,
        "runtime_version": runtime_version,
        "model": model_report,
        "edgetpu": _edgetpu_status(),
        "cameras": cameras,  # each once, with the option that selects it
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    mi = report["model"]
    tpu = report["edgetpu"]
    print(f"python      {report['python']} on {report['platform']}, numpy {report['numpy']}")
    print(f"runtime     {runtime_name} {runtime_version}")
    if mi["cached"]:
        quantization = mi["input_quantization"]
        print(f"model       {mi['name']} ({mi['path']})")
        print(f"  runs on   {mi['delegate']}, {plural(mi['threads'], 'thread')}")
        print(
            f"  input     {mi['input_shape']} {mi['input_type']}, scale {quantization['scale']:.6g}, zero "
            f"point {quantization['zero_point']}"
        )
        print(f"  output    {mi['outputs']} x {mi['output_type']}, {mi['labels']} labels ({mi['labels_source']})")
    else:
        print(
            f"model       {mi['name']}: not cached (fetched on first use, or now with: edge-app models fetch "
            f"{mi['name']})"
        )
    print(
        f"edge tpu    library {tpu['library']}: {'found' if tpu['library_found'] else 'not installed'}; "
        f"devices: {', '.join(tpu['devices']) or 'none'}"
    )
    _print_cameras(cameras)


def _model_report(options: ModelOptions) -> tuple[str, str, dict[str, object]]:
    """The runtime's name and version, and what the (cached) model expects."""
    from edge_app.model.classifier import Classifier

    classifier = Classifier.open(options)
    m = classifier.info
    spec = m.input
    return (
        m.runtime,
        m.runtime_version,
        {
            "name": m.name,
            "cached": True,
            "path": str(m.path),
            "delegate": m.delegate,
            "threads": m.threads,
            "input_shape": [1, spec.height, spec.width, 3],
            "input_type": spec.dtype.name,
            "input_quantization": {"scale": spec.scale, "zero_point": spec.zero_point},
            "outputs": m.outputs,
            "output_type": m.output_dtype,
            "labels": len(classifier.labels),
            "labels_source": m.labels_source,
        },
    )


def _print_cameras(cameras: list[dict[str, str]]) -> None:
    """One line per camera: its name, and what to type to use it."""
    if not cameras:
        print("cameras     none found")
    for i, camera in enumerate(cameras):
        print(f"{'cameras' if i == 0 else '':<12}{camera['name']}: {camera['option']}")


def register(app: typer.Typer) -> None:
    app.command()(info)
