"""`edge-app classify IMAGE...`: top-k labels for still images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List

import typer

from edge_app.cli import options as opt


def classify(
    images: Annotated[List[Path], typer.Argument(help="Image files to classify.", show_default=False)],
    model: opt.Model = None,
    labels: opt.Labels = None,
    runtime: opt.RuntimeName = "auto",
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: opt.Threads = None,
    resize: opt.Resize = "crop",
    top_k: opt.TopK = 3,
    threshold: opt.Threshold = 0.0,
    as_json: opt.Json = False,
) -> None:
    """Print the top-k labels, scores and inference time for each image."""
    from edge_app.images import read_image
    from edge_app.model.classifier import Classifier, ModelOptions

    options = ModelOptions(model, labels, runtime, delegate, device, threads, resize, top_k, threshold)
    classifier = Classifier.open(options)
    pictures = [(path, read_image(path)) for path in images]  # fail on a bad file before any output
    report = []
    for path, image in pictures:
        top, ms, _ = classifier.classify(image, "bgr")
        report.append({"image": str(path), "inference_ms": round(ms, 3), "top": [label.as_dict() for label in top]})
    if as_json:
        print(json.dumps(report, indent=2))
        return
    for item in report:
        print(f"{item['image']}  ({item['inference_ms']:.1f} ms)")
        for label in item["top"]:
            print(f"  {label['score']:6.3f}  {label['label']}  [{label['index']}]")


def register(app: typer.Typer) -> None:
    app.command()(classify)
