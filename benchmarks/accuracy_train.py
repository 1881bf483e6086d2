"""Accuracy of `edge-app train` on ../shared/flowers-4: trained on train/, measured on test/.

For each base model: head only and --fine-tune on all 30 training photos per species, then
`--subsets` random draws of 5 photos per species (the default split leaves 4 to train on and 1
to validate; the written head is refit on all 5). Every model is measured as `edge-app eval`
measures it, and checked against a bare interpreter on the same photos. Flowers-4 has 30
training photos per species, so the "60 per species" case of issue 9 cannot be run here.

    python benchmarks/accuracy_train.py [--subsets 10] [--base NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
import cv2
import numpy as np
from _common import SHARED, bare_input

from edge_app.evaluate.dataset import scan
from edge_app.evaluate.evaluation import evaluate
from edge_app.model.classifier import ModelOptions
from edge_app.model.lanes import open_lanes
from edge_app.model.runtime import load_runtime
from edge_app.train.trainer import TrainOptions, train

FLOWERS = SHARED / "flowers-4"
BASES = ("tf2_mobilenet_v2_1.0_224_ptq", "mobilenet_v2_1.0_224_quant")


def test_top1(model: Path) -> tuple[float, bool]:
    """eval's top-1 on the test photos, and whether a bare interpreter agrees photo for photo."""
    listing = scan(FLOWERS / "test")
    evaluation = evaluate(open_lanes(ModelOptions(model=str(model), delegate="cpu")), listing)
    interpreter = load_runtime().Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    bare = []
    for sample in evaluation.dataset.samples:
        interpreter.set_tensor(inp["index"], bare_input(cv2.imread(str(sample.path)), 224, 224))
        interpreter.invoke()
        bare.append(int(np.argmax(interpreter.get_tensor(out["index"])[0])))
    return evaluation.metrics.top1, bare == evaluation.predictions.top[:, 0].tolist()


def subset(root: Path, per_class: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for species in sorted(p.name for p in (FLOWERS / "train").iterdir()):
        photos = sorted((FLOWERS / "train" / species).iterdir())
        (root / species).mkdir(parents=True)
        for i in rng.choice(len(photos), per_class, replace=False):
            (root / species / photos[i].name).symlink_to(photos[i])
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", action="append")
    parser.add_argument("--subsets", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accuracy-train-") as folder:
        work = Path(folder)
        cache = work / "cache"
        for base in args.base or BASES:
            for fine in (False, True):
                out = work / "model.tflite"
                result = train(TrainOptions(FLOWERS / "train", out, base, fine_tune=fine, cache=cache))
                top1, agree = test_top1(out)
                tried = ", ".join(f"{c.name} {c.top1:.1%}" for c in result.candidates)
                print(
                    f"{base:<30} {'--fine-tune' if fine else 'head only':<12} 30/species: test top-1 {top1:6.1%} (bare "
                    f"interpreter agrees: {agree}); validation {tried}; kept {result.chosen.name}; l2 "
                    f"{result.search.chosen:g}"
                )
            for fine in (False, True):
                scores = []
                for seed in range(args.subsets):
                    out = work / "small.tflite"
                    train(
                        TrainOptions(
                            subset(work / f"five-{base}-{fine}-{seed}", 5, seed),
                            out,
                            base,
                            fine_tune=fine,
                            seed=seed,
                            cache=cache,
                        )
                    )
                    scores.append(test_top1(out)[0])
                label = "--fine-tune" if fine else "head only"
                print(
                    f"{base:<30} {label:<12} 5/species, {args.subsets} draws: test top-1 mean {np.mean(scores):6.1%}, "
                    f"min {np.min(scores):6.1%}, max {np.max(scores):6.1%}"
                )


if __name__ == "__main__":
    main()
