"""A training run for people (text) and for scripts (JSON).

The validation part is eval's own report: the evaluate.Evaluation that validation.py made of the
validation photos, printed by evaluate.report.format_text, with the confusion matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_app.evaluate import confusion
from edge_app.evaluate.report import format_text as eval_text
from edge_app.train.finetune import FineTuned

if TYPE_CHECKING:
    from edge_app.train.trainer import TrainResult

STAGES = ("check", "embed", "search", "fit", "fine-tune", "write", "pictures")


def _views(result: TrainResult) -> str:
    return " + ".join(view.name.split("-")[0] for view in result.views)


def format_report(result: TrainResult) -> str:
    o = result.options
    lines = [
        f"edge-app train: {len(result.classes)} classes from {o.data} "
        f"({result.validation.dataset.listing.form if o.val else 'split ' + format(o.val_split, 'g')}), "
        f"base {result.base} ({result.base_scheme}), views per training photo: {_views(result)}",
        f"  {'photos':>7} {'train':>6} {'val':>5}  class",
    ]
    for name, photos, train, val in result.per_class():
        lines.append(f"  {photos:7d} {train:6d} {val:5d}  {name}")
    lines.append(
        f"n_train {result.n_train}, n_val {result.n_val}; backbone runs {result.backbone_runs} (the rest "
        "from the embedding cache)"
    )
    skipped = {"unreadable": len(result.unreadable), **result.skipped}
    if any(skipped.values()):
        lines.append("skipped: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in skipped.items() if n))
        lines += [f"  {why}" for why in result.unreadable[:10]]
        if len(result.unreadable) > 10:
            lines.append(f"  ... and {len(result.unreadable) - 10} more")
    lines += ["", result.search.table(), ""]
    if result.trials:
        lines += [trials_table(result), ""]
    if len(result.candidates) > 1:
        lines.append("head alone vs the chosen trial, on validation (the written model's arithmetic):")
        for c in result.candidates:
            mark = "  <- kept" if c is result.chosen else ""
            lines.append(f"  {c.name:<11} top-1 {c.top1:6.1%}  log-loss {c.loss:.4f}{mark}")
        lines.append("")
    m = result.validation.metrics
    lines += [
        f"validation: the {result.chosen.name} model trained on the training split, on {result.n_val} held-out photos:",
        eval_text(result.validation),
        "",
        "confusion matrix (rows: truth, columns: predicted):",
        confusion.format_text(m.confusion, result.validation.names),
        "",
        f"wrote {o.out} ({result.size / 1e6:.1f} MB): {len(result.classes)} classes, labels embedded; "
        + (
            f"head refit on all {result.refit_photos} photos of DATA with the chosen settings"
            if o.val is None
            else "the validated model"
        ),
        "pictures beside it: " + ", ".join(path.name for path in result.pictures.values()),
        "seconds: "
        + ", ".join(f"{stage} {result.seconds[stage]:.2f}" for stage in STAGES if stage in result.seconds)
        + f"; total {sum(result.seconds.values()):.2f}",
    ]
    return "\n".join(lines)


def trials_table(result: TrainResult) -> str:
    """The fine-tuning trials (validation: the float model at its best epoch), then the choice."""
    lines = [
        "fine-tuning trials (validation figures of each trial's best epoch, float):",
        f"  {'#':>2} {'blocks':>6} {'lr':>8} {'batch':>5} {'epochs':>6} {'decay':>8} {'augment':>7} "
        f"{'val top-1':>9} {'val loss':>8} {'seconds':>7}",
    ]
    for number, trial in enumerate(result.trials, 1):
        p = trial.params
        mark = "  <- chosen" if trial is result.best_trial else ("  (median rule)" if trial.pruned else "")
        lines.append(
            f"  {number:2d} {p.blocks:6d} {p.lr:8.1e} {p.batch_size:5d} {len(trial.curves):>2}/{p.epochs:<3d} "
            f"{p.weight_decay:8.1e} {p.augment:7d} {trial.val_top1:9.1%} {trial.val_loss:8.4f} "
            f"{trial.seconds:7.1f}{mark}"
        )
    if any(trial.pruned for trial in result.trials):
        lines.append("  (median rule: stopped where its best loss was worse than the earlier trials' median)")
    if result.interrupted:
        lines.append("  (interrupted: the best trial so far was kept)")
    return "\n".join(lines)


def _trial(trial: FineTuned) -> dict[str, object]:
    return {
        "params": trial.params.as_dict(),
        "val_top1": round(trial.val_top1, 6),
        "val_loss": round(trial.val_loss, 6),
        "best_epoch": trial.best_epoch,
        "epochs_run": len(trial.curves),
        "pruned": trial.pruned,
        "seconds": round(trial.seconds, 3),
    }


def _curves(trial: FineTuned) -> dict[str, list[float]]:
    return {
        name: [round(getattr(e, name), 6) for e in trial.curves]
        for name in ("train_loss", "train_top1", "val_loss", "val_top1")
    }


def summary(result: TrainResult) -> dict[str, object]:
    m = result.validation.metrics
    counts = result.per_class()
    return {
        "out": str(result.options.out),
        "base": result.base,
        "classes": {name: photos for name, photos, _, _ in counts},
        "split": {name: {"train": train, "val": val} for name, _, train, val in counts},
        "n_train": result.n_train,
        "n_val": result.n_val,
        "views": [view.name for view in result.views],
        "backbone_runs": result.backbone_runs,
        "val_top1": round(m.top1, 6),
        **{
            f"val_{avg}_{field}": round(getattr(m, avg)(field), 6)
            for avg in ("macro", "weighted")
            for field in ("precision", "recall", "f1")
        },
        "best_params": {
            **(result.best_trial.params.as_dict() if result.best_trial else {}),
            "l2": result.search.chosen,
            "fine_tune": result.chosen.block is not None,
        },
        "trials": [_trial(t) for t in result.trials],
        "interrupted": result.interrupted,
        **({"curves": _curves(result.best_trial)} if result.best_trial else {}),
        "pictures": {kind: str(path) for kind, path in result.pictures.items()},
        "search": {
            "folds": result.search.folds,
            "note": result.search.note,
            "trials": [
                {"l2": t.l2, "cv_top1": round(t.top1, 6), "cv_log_loss": round(t.loss, 6)} for t in result.search.trials
            ],
        },
        "candidates": [
            {"name": c.name, "val_top1": round(c.top1, 6), "val_log_loss": round(c.loss, 6), "kept": c is result.chosen}
            for c in result.candidates
        ],
        "confusion": m.confusion.matrix.tolist(),
        "refit_photos": result.refit_photos,
        "size": result.size,
        "unreadable": result.unreadable,
        "skipped": {"unreadable": len(result.unreadable), **result.skipped},
        "seconds": {stage: round(s, 3) for stage, s in result.seconds.items()},
    }
