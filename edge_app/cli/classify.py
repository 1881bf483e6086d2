"""`edge-app classify IMAGE|FOLDER...`: top-k labels for still images."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from edge_app.cli import options as opt
from edge_app.errors import EdgeAppError
from edge_app.printable import printable

ShowAll = Annotated[
    bool, typer.Option("--all", help="Also show the background class and labels that score 0 (hidden by default).")
]


def images_in(paths: list[Path]) -> Iterator[tuple[Path, EdgeAppError | None]]:
    """Each image to classify, in the order given (a folder's images sorted, from every folder
    below it), or an argument with its problem, so one bad path never stops the rest."""
    from edge_app.images import is_image_name, walk

    for path in paths:
        if path.is_dir():
            found = [p for p in walk(path) if is_image_name(p)]
            yield from (
                ((p, None) for p in found)
                if found
                else [(path, EdgeAppError(f"no images in folder {path}", "use JPEG, PNG, BMP or WebP files"))]
            )
        elif path.exists():
            yield path, None
        else:
            yield path, EdgeAppError(f"no file or folder {path}", "check the path")


def classify(
    images: Annotated[
        list[Path], typer.Argument(help="Image files, or folders to classify every image in.", show_default=False)
    ],
    model: opt.Model = None,
    labels: opt.Labels = None,
    runtime: opt.RuntimeName = "auto",
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: opt.Threads = None,
    resize: opt.Resize = "crop",
    top_k: opt.TopK = 3,
    threshold: opt.Threshold = 0.0,
    show_all: ShowAll = False,
    as_json: opt.Json = False,
) -> None:
    """Print the top-k labels, scores and inference time for each image.

    An unreadable file is reported on stderr and the rest are classified; the exit code is then 1.
    """
    from edge_app.images import read_image
    from edge_app.model.classifier import Classifier, ModelOptions
    from edge_app.model.postprocess import shown
    from edge_app.model.postprocess import top_k as ranked

    options = ModelOptions(model, labels, runtime, delegate, device, threads, resize, top_k, threshold)
    classifier = Classifier.open(options)
    rank = ranked if show_all else shown
    report: list[dict[str, Any]] = []
    failed = 0
    for path, problem in images_in(images):
        try:
            if problem:
                raise problem
            image = read_image(path)
        except EdgeAppError as exc:
            failed += 1
            print(f"edge-app: error: {printable(str(exc))}", file=sys.stderr)
            report.append({"image": str(path), "error": str(exc)})
            continue
        _, ms, scores = classifier.classify(image, "bgr")
        entry = {
            "image": str(path),
            "inference_ms": round(ms, 3),
            "top": [label.as_dict() for label in rank(scores, classifier.labels, top_k, threshold)],
        }
        report.append(entry)
        if not as_json:
            _print(entry)
    if as_json:
        print(json.dumps(report, indent=2))
    if failed:
        raise typer.Exit(1)


def _print(item: dict) -> None:
    print(f"{item['image']}  ({item['inference_ms']:.1f} ms)")
    for label in item["top"]:
        print(f"  {label['score']:6.3f}  {label['label']}  [{label['index']}]")


def register(app: typer.Typer) -> None:
    app.command()(classify)
