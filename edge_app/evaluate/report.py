"""An Evaluation as text for people and as files (CSV, PNG) for later digging."""

from __future__ import annotations

import csv
from pathlib import Path

from edge_app.atomic import replacing
from edge_app.evaluate import confusion
from edge_app.evaluate.evaluation import LIST_LIMIT, Evaluation
from edge_app.words import plural

PER_CLASS_SHOWN = 20  # more classes than this: the text shows the weakest; per_class.csv has all


def write_outputs(evaluation: Evaluation, out_dir: Path) -> dict[str, str]:
    """Write the confusion matrix (CSV + picture), per-class scores (CSV + bars) and per-image
    predictions; all appear together once complete (Ctrl-C midway leaves none half-written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    m = evaluation.metrics
    names = ("confusion.csv", "confusion.png", "per_class.csv", "per_class.png", "predictions.csv")
    files = {name: out_dir / name for name in names}
    with replacing(list(files.values())) as temps:
        staged = dict(zip(files, temps, strict=True))
        confusion.write_csv(staged["confusion.csv"], m.confusion, evaluation.names)
        title = f"{evaluation.model} evaluated on {evaluation.dataset.listing.data.name}: top-1 {m.top1:.1%} of {m.n}"
        write_pictures(evaluation, staged["confusion.png"], staged["per_class.png"], title)
        _write_per_class(staged["per_class.csv"], evaluation)
        _write_predictions(staged["predictions.csv"], evaluation)
    return {name: str(path) for name, path in files.items()}


def write_pictures(evaluation: Evaluation, confusion_png: Path, per_class_png: Path, title: str) -> None:
    """The confusion matrix and per-class precision, recall and F1, as pictures (eval and train)."""
    from edge_app import plots

    m = evaluation.metrics
    plots.confusion(confusion_png, m.confusion, evaluation.names, title)
    plots.class_scores(per_class_png, m.classes, title)


def _write_per_class(path: Path, evaluation: Evaluation) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "label", "precision", "recall", "f1", "support", "predicted"])
        for c in evaluation.metrics.per_class:
            writer.writerow(
                [c.index, c.name, f"{c.precision:.6f}", f"{c.recall:.6f}", f"{c.f1:.6f}", c.support, c.predicted]
            )


def _write_predictions(path: Path, evaluation: Evaluation) -> None:
    """One row per image; `top` holds the model's own output indices, best first."""
    p = evaluation.predictions
    canonical = evaluation.matcher.canonical
    names = evaluation.names
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["file", "truth", "truth_label", "predicted", "predicted_label", "score", "correct", "top", "error"]
        )
        for row, sample in enumerate(evaluation.dataset.samples):
            if row in p.failed:
                writer.writerow([sample.path, sample.truth, names[sample.truth], "", "", "", "", "", p.failed[row]])
                continue
            best = int(p.top[row, 0])
            correct = int(canonical[best] == sample.truth)
            top = " ".join(str(int(i)) for i in p.top[row])
            writer.writerow(
                [
                    sample.path,
                    sample.truth,
                    names[sample.truth],
                    best,
                    names[best],
                    f"{p.scores[row, 0]:.6f}",
                    correct,
                    top,
                    "",
                ]
            )


def _skipped_line(evaluation: Evaluation) -> str:
    skipped = {k.replace("_", " "): v for k, v in evaluation.skipped.items() if v}
    if not skipped:
        return "nothing skipped"
    return f"skipped {sum(skipped.values())}: " + ", ".join(f"{v} {k}" for k, v in skipped.items())


def predicted_only_line(evaluation: Evaluation, limit: int = 5) -> str:
    """The classes the model predicted that the data does not have: how many, and the most predicted."""
    extra = evaluation.metrics.predicted_only
    if not extra:
        return ""
    shown = ", ".join(f"{c.name.split(',')[0]} ({c.predicted})" for c in extra[:limit])
    images = sum(c.predicted for c in extra)
    return (
        f"also predicted, not in the data (so not averaged): {plural(len(extra), 'class', 'classes')}, "
        f"{plural(images, 'image')}: {shown}{' ...' if len(extra) > limit else ''}"
    )


def format_text(evaluation: Evaluation) -> str:
    m = evaluation.metrics
    data = evaluation.dataset
    classes = m.classes
    lines = [
        f"{evaluation.model} evaluated on {data.listing.data} ({data.listing.form}): {m.n} images, "
        f"{plural(len(classes), 'class', 'classes')}; {_skipped_line(evaluation)}",
        f"top-1 {m.top1:6.1%} ({m.top1_correct}/{m.n})    top-{m.k} {m.topk:6.1%} ({m.topk_correct}/{m.n})",
        f"averages over the {plural(len(classes), 'class', 'classes')} in the data (macro: each class "
        "alike; weighted: by images)",
        f"{'':10}precision  recall      F1",
    ]
    for avg in ("macro", "weighted"):
        lines.append(
            f"{avg:10}{getattr(m, avg)('precision'):9.3f} {getattr(m, avg)('recall'):7.3f} {getattr(m, avg)('f1'):7.3f}"
        )
    extra = predicted_only_line(evaluation)
    if extra:
        lines.append(extra)
    if len(classes) > PER_CLASS_SHOWN:
        lines.append(f"\nweakest {PER_CLASS_SHOWN} of {len(classes)} classes by F1 (all in per_class.csv):")
        classes = sorted(classes, key=lambda c: (c.f1, -c.support, c.index))[:PER_CLASS_SHOWN]
    else:
        lines.append("\nper class:")
    lines.append(f"  {'precision':>9} {'recall':>7} {'F1':>7} {'images':>7}  label")
    lines += [f"  {c.precision:9.3f} {c.recall:7.3f} {c.f1:7.3f} {c.support:7d}  {c.name}" for c in classes]
    confused = m.most_confused(LIST_LIMIT)
    if confused:
        lines.append("\nmost confused (truth -> predicted):")
        lines += [f"  {count:4d}  {t.name} -> {p.name}" for t, p, count in confused]
    if data.unknown:
        shown = ", ".join(f"{label!r} ({n})" for label, n in data.unknown.most_common(5))
        lines.append(f"\nlabels the model does not know: {shown}{' ...' if len(data.unknown) > 5 else ''}")
    unreadable = evaluation.unreadable()
    if unreadable:
        lines.append("\nunreadable images:")
        lines += [f"  {why}" for why in unreadable[:5]]
        if len(unreadable) > 5:
            lines.append(f"  ... and {len(unreadable) - 5} more (see predictions.csv)")
    return "\n".join(lines)
