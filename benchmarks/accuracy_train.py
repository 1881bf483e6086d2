"""Accuracy of `edge-app train` on ../shared/flowers-4: trained on train/, measured on test/,
for --fine-tune N = 0 (the head only), 1, 2, 3, each with one trial and with a random search.

Two training sets: all 30 training photos per species, and `--subsets` seeded draws of
`--per-class` photos per species (5: the default split leaves 4 to train on and 1 to validate;
the written head is refit on all 5). Every model is measured as `edge-app eval` measures it on the 40 test photos, and a
bare interpreter must agree with it photo for photo. "kept" counts the runs whose validation
kept the fine-tuned blocks rather than the head alone. Prints a Markdown table.

    python benchmarks/accuracy_train.py [--subsets 5] [--per-class 5] [--trials 8] [--base NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
import numpy as np
from _common import SHARED, bare_input

from edge_app.evaluate.dataset import scan
from edge_app.evaluate.evaluation import evaluate
from edge_app.model.classifier import ModelOptions
from edge_app.model.lanes import open_lanes
from edge_app.model.runtime import load_runtime
from edge_app.train.trainer import TrainOptions, train
from tests.helpers.pictures import imread

FLOWERS = SHARED / "flowers-4"
BASES = ("tf2_mobilenet_v2_1.0_224_ptq", "mobilenet_v2_1.0_224_quant")
TEST_PHOTOS = 40


@dataclass(frozen=True)
class Setting:
    blocks: int  # --fine-tune N
    search: bool

    @property
    def name(self) -> str:
        if not self.blocks:
            return "head only (--fine-tune 0)"
        return f"--fine-tune {self.blocks}" + (" --search random" if self.search else "")


SETTINGS = [Setting(0, False)] + [Setting(n, s) for s in (False, True) for n in (1, 2, 3)]


def test_top1(model: Path) -> float:
    """eval's top-1 on the test photos; a bare interpreter must agree photo for photo."""
    listing = scan(FLOWERS / "test")
    evaluation = evaluate(open_lanes(ModelOptions(model=str(model), delegate="cpu")), listing)
    interpreter = load_runtime().Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    bare = []
    for sample in evaluation.dataset.samples:
        interpreter.set_tensor(inp["index"], bare_input(imread(sample.path), 224, 224))
        interpreter.invoke()
        bare.append(int(np.argmax(interpreter.get_tensor(out["index"])[0])))
    if bare != evaluation.predictions.top[:, 0].tolist():
        raise SystemExit(f"{model}: a bare interpreter disagrees with eval")
    return evaluation.metrics.top1


def subset(root: Path, per_class: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for species in sorted(p.name for p in (FLOWERS / "train").iterdir()):
        photos = sorted((FLOWERS / "train" / species).iterdir())
        (root / species).mkdir(parents=True)
        for i in rng.choice(len(photos), per_class, replace=False):
            (root / species / photos[i].name).symlink_to(photos[i])
    return root


@dataclass
class Scores:
    top1: list[float]
    kept: int = 0  # runs that kept the fine-tuned blocks
    seconds: float = 0.0


def measure(data: Path, out: Path, base: str, setting: Setting, seed: int, cache: Path, trials: int) -> Scores:
    start = time.perf_counter()
    result = train(
        TrainOptions(
            data,
            out,
            base,
            fine_tune=setting.blocks,
            search="random" if setting.search else None,
            trials=trials,
            seed=seed,
            cache=cache,
        )
    )
    seconds = time.perf_counter() - start
    return Scores([test_top1(out)], int(result.chosen.block is not None), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", action="append")
    parser.add_argument("--subsets", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--per-class", type=int, default=5)
    args = parser.parse_args()
    print(
        f"| base | setting | 30/species: test top-1 (kept) | {args.per_class}/species, {args.subsets} draws: mean, "
        "worst (kept) | seconds (30/species) |\n| --- | --- | --- | --- | --- |"
    )
    with tempfile.TemporaryDirectory(prefix="accuracy-train-") as folder:
        work = Path(folder)
        cache = work / "cache"
        for base in args.base or BASES:
            for setting in SETTINGS:
                whole = measure(FLOWERS / "train", work / "model.tflite", base, setting, 0, cache, args.trials)
                small = Scores([])
                for seed in range(args.subsets):
                    small_folder = work / f"small-{base}-{setting.blocks}-{setting.search}-{seed}"
                    data = subset(small_folder, args.per_class, seed)
                    found = measure(data, work / "small.tflite", base, setting, seed, cache, args.trials)
                    small.top1 += found.top1
                    small.kept += found.kept
                right = round(whole.top1[0] * TEST_PHOTOS)
                kept = "" if not setting.blocks else f" ({whole.kept}/1)"
                small_kept = "" if not setting.blocks else f" ({small.kept}/{args.subsets})"
                print(
                    f"| {base} | {setting.name} | {right}/{TEST_PHOTOS}{kept} | {np.mean(small.top1):.1%}, "
                    f"{np.min(small.top1):.1%}{small_kept} | {whole.seconds:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
