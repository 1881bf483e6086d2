"""`edge-app train DATA --out PATH`: teach the model your own classes, without TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from edge_app.cli.evaluate import DATA_HELP
from edge_app.errors import EdgeAppError


def blocks_to_train(value: str | int) -> int:
    """--fine-tune's number. Typer cannot take an optional value: `--fine-tune 1` is what a bare
    `--fine-tune` once meant, and a bare one followed by another option must say so, not take the
    option for its number."""
    if isinstance(value, int):  # the default
        return value
    if not value.isdigit():
        raise typer.BadParameter(
            f"takes the number of blocks to train, not {value!r}: --fine-tune 1 trains the last 1x1 block (what a "
            "bare --fine-tune meant), --fine-tune 0 the head only"
        )
    return int(value)


def train_command(
    data: Annotated[
        Path,
        typer.Argument(
            help="Training photos. "
            + DATA_HELP.replace("(named by label text or class index)", "(the folder name is the class)"),
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The .tflite to write: the base with the new head, labels embedded.", show_default=False
        ),
    ],
    base: Annotated[
        str | None,
        typer.Option("--base", "-b", help="Base model: catalog name or .tflite path (default: the catalog's default)."),
    ] = None,
    val_split: Annotated[
        float | None, typer.Option("--val-split", help="Share of each class held out for validation (default 0.2).")
    ] = None,
    val: Annotated[
        Path | None, typer.Option("--val", help="Validation photos (same classes) instead of a split of DATA.")
    ] = None,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment/--no-augment",
            metavar="",
            help="Also train on mirrored and jittered-crop views of each training photo.",
        ),
    ] = True,
    fine_tune: Annotated[
        int,
        typer.Option(
            "--fine-tune",
            parser=blocks_to_train,
            metavar="N",
            help="Also train the top N blocks: 1 the last 1x1 block, k also the k-1 inverted-residual blocks below it "
            "(needs the finetune extra). Kept only if validation says it beats the head alone. 0: the head only.",
        ),
    ] = 0,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            metavar="grid|random",
            help="Search lr, batch size, epochs, weight decay, blocks (1..N) and augmentation over --trials runs.",
        ),
    ] = None,
    trials: Annotated[int, typer.Option("--trials", min=1, help="Fine-tuning runs of a --search.")] = 8,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune/--no-prune",
            metavar="",
            help="Stop a search's trial early when its validation loss is worse than the earlier trials' median "
            "after as many epochs.",
        ),
    ] = True,
    keep_best_on_interrupt: Annotated[
        bool,
        typer.Option(
            "--keep-best-on-interrupt", help="Ctrl-C during fine-tuning writes the best so far (default: nothing)."
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the split, the folds, the augmentation and the search.")
    ] = 0,
    cache: Annotated[
        Path | None,
        typer.Option("--cache", help="Embedding cache folder (default: $XDG_CACHE_HOME/edge-app/embeddings)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Threads decoding photos and running the backbone (default: one per core)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print JSON.")] = False,
) -> None:
    """Train a classifier for your own classes: frozen MobileNet backbone, new softmax head, one quantized .tflite."""
    from edge_app.train.report import format_report, summary
    from edge_app.train.trainer import TrainOptions, train

    if val is not None and val_split is not None:
        raise EdgeAppError(
            "--val and --val-split exclude each other",
            "validate on a split of DATA (--val-split) or on other photos (--val), not both",
        )
    split = TrainOptions.val_split if val_split is None else val_split  # the dataclass's default
    options = TrainOptions(
        data=data,
        out=out,
        base=base,
        val_split=split,
        val=val,
        augment=augment,
        fine_tune=fine_tune,
        search=search,
        trials=trials,
        prune=prune,
        keep_best_on_interrupt=keep_best_on_interrupt,
        seed=seed,
        cache=cache,
        workers=workers,
    )
    result = train(options)
    if as_json:
        print(json.dumps(summary(result), indent=2))
        return
    print(format_report(result))


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
