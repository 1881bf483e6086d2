"""The pictures `train` writes beside the model, because people look at pictures, not columns:
the validation split's confusion matrix and per-class scores (eval's), and the chosen trial's
learning curves when it fine-tuned. Written together, atomically; matplotlib on first use."""

from __future__ import annotations

from pathlib import Path

from edge_app.atomic import replacing
from edge_app.evaluate.evaluation import Evaluation
from edge_app.evaluate.report import write_pictures
from edge_app.plots import _save, pyplot
from edge_app.train.finetune import FineTuned

KINDS = ("confusion", "per_class", "curves")


def picture_paths(model: Path, fine_tuned: bool) -> dict[str, Path]:
    """flowers.tflite -> flowers.confusion.png, flowers.per_class.png (and flowers.curves.png)."""
    return {kind: model.with_name(f"{model.stem}.{kind}.png") for kind in KINDS if fine_tuned or kind != "curves"}


def write_beside(model: Path, validation: Evaluation, trial: FineTuned | None) -> dict[str, Path]:
    paths = picture_paths(model, trial is not None)
    with replacing(list(paths.values())) as temps:
        staged = dict(zip(paths, temps, strict=True))
        m = validation.metrics
        title = f"{validation.model} on its {validation.dataset.listing.form}: top-1 {m.top1:.1%} of {m.n}"
        write_pictures(validation, staged["confusion"], staged["per_class"], title)
        if trial is not None:
            write_curves(staged["curves"], trial, f"{model.name}: learning curves of the chosen trial")
    return paths


def write_curves(path: Path, trial: FineTuned, title: str) -> None:
    """Loss and top-1 per epoch, training and validation, the kept (best) epoch marked."""
    plt = pyplot()
    epochs = list(range(1, len(trial.curves) + 1))
    fig, (loss, top1) = plt.subplots(1, 2, figsize=(10, 4))
    loss.plot(epochs, [e.train_loss for e in trial.curves], "o-", label="train")
    loss.plot(epochs, [e.val_loss for e in trial.curves], "o-", label="validation")
    top1.plot(epochs, [e.train_top1 for e in trial.curves], "o-", label="train")
    top1.plot(epochs, [e.val_top1 for e in trial.curves], "o-", label="validation")
    for axis, name in ((loss, "cross-entropy loss"), (top1, "top-1")):
        axis.axvline(trial.best_epoch, color="grey", linestyle="--", label=f"kept: epoch {trial.best_epoch}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.suptitle(title)
    _save(fig, path)
