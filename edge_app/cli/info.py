"""`edge-app info`: what this machine can run, and what the model expects."""

from __future__ import annotations

import ctypes
import json
import platform
import sys

import typer

from edge_app.cli import options as opt


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

    from edge_app.model.classifier import Classifier, ModelOptions
    from edge_app.sources.discovery import list_cameras

    classifier = Classifier.open(ModelOptions(model, labels, runtime, delegate, device, threads))
    m = classifier.info
    spec = m.input
    cameras = [{"name": c.name, "backend": c.backend, "option": c.option} for c in list_cameras()]
    report = {
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "numpy": np.__version__,
        "runtime": m.runtime,
        "runtime_version": m.runtime_version,
        "model": {
            "name": m.name,
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
        "edgetpu": _edgetpu_status(),
        "cameras": cameras,  # each once, with the option that selects it
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    mi = report["model"]
    tpu = report["edgetpu"]
    print(f"python      {report['python']} on {report['platform']}, numpy {report['numpy']}")
    print(f"runtime     {m.runtime} {m.runtime_version}")
    print(f"model       {mi['name']} ({mi['path']})")
    print(f"  runs on   {mi['delegate']}, {mi['threads']} threads")
    print(f"  input     {mi['input_shape']} {mi['input_type']}, scale {spec.scale:.6g}, zero point {spec.zero_point}")
    print(f"  output    {mi['outputs']} x {mi['output_type']}, {mi['labels']} labels ({mi['labels_source']})")
    print(f"edge tpu    library {tpu['library']}: {'found' if tpu['library_found'] else 'not installed'}; "
          f"devices: {', '.join(tpu['devices']) or 'none'}")
    _print_cameras(cameras)


def _print_cameras(cameras: list[dict[str, str]]) -> None:
    """One line per camera: its name, and what to type to use it."""
    if not cameras:
        print("cameras     none found")
    for i, camera in enumerate(cameras):
        print(f"{'cameras' if i == 0 else '':<12}{camera['name']}: {camera['option']}")


def register(app: typer.Typer) -> None:
    app.command()(info)
