"""The chosen trial's learning curves as a picture beside the model: people look at curves."""

from __future__ import annotations

from pathlib import Path

from edge_app.atomic import replacing
from edge_app.plots import _save, pyplot
from edge_app.train.finetune import FineTuned


def curves_path(model: Path) -> Path:
    """flowers.tflite -> flowers.curves.png"""
    return model.with_name(model.stem + ".curves.png")


def write_curves(path: Path, trial: FineTuned, title: str) -> None:
    """Loss and top-1 per epoch, training and validation, the kept (best) epoch marked; atomically."""
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
    with replacing([path]) as (temp,):
        _save(fig, temp)
