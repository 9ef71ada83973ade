"""`toolkit train EXPERIMENT.yaml [key=value ...] [--resume RUN]`: train the experiment's conditioners."""

from __future__ import annotations

import argparse

from toolkit.errors import UserError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an experiment's conditioners (adapters) on the frozen backbone",
        description="Train the conditioners (and LoRA) of EXPERIMENT.yaml on its dataset for train.steps steps, "
        "writing checkpoints under train.output_dir/<run>/checkpoint and an MLflow run to mlflow.db. "
        "key=value arguments override the experiment (e.g. train.steps=400 train.lr=5e-4). With --resume, "
        "training continues from a run folder or MLflow run id with that run's config (overrides still apply, "
        "e.g. a higher train.steps to train longer).",
    )
    parser.add_argument(
        "args", nargs="*", metavar="EXPERIMENT.yaml | key=value",
        help="the experiment file (optional with --resume), then key=value overrides",
    )
    parser.add_argument("--resume", metavar="RUN", help="run folder, checkpoint folder or MLflow run id to continue")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log this run to MLflow")
    parser.set_defaults(run=run)


def split_args(items: list[str]) -> tuple[str | None, list[str]]:
    """The experiment path (the first argument without '=') and the overrides."""
    experiment = None
    overrides = []
    for item in items:
        if "=" not in item and experiment is None and not overrides:
            experiment = item
        elif "=" not in item:
            raise UserError(f"{item!r}: expected key=value (the experiment file comes first)")
        else:
            overrides.append(item)
    return experiment, overrides


def run(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.training.trainer import train

    experiment, overrides = split_args(args.args)
    checkpoint = None
    if args.resume:
        from toolkit.training.run import checkpoint_config, find_checkpoint

        checkpoint = find_checkpoint(args.resume, "--resume")
        cfg = checkpoint_config(checkpoint, overrides)
        if experiment is not None:
            _require_same(load_config(experiment, overrides), cfg, experiment)
    else:
        if experiment is None:
            raise UserError("train: name an experiment file (or --resume a run)")
        cfg = load_config(experiment, overrides)
    result = train(cfg, resume=checkpoint, track=not args.no_mlflow)
    summary = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items() if k in ("loss", "val_loss"))
    print(f"trained {result.step} steps ({summary}); checkpoint {result.checkpoint}")
    if result.run_id:
        print(f"mlflow run {result.run_id}")
    return 0


def _require_same(given, resumed, path: str) -> None:
    """Resuming with an experiment file is allowed only when it describes the run (train.steps may differ)."""
    from toolkit.config import to_dict
    from toolkit.utils.mlflow_store import flatten

    a, b = flatten(to_dict(given)), flatten(to_dict(resumed))
    differing = sorted(k for k in set(a) | set(b) if k != "train.steps" and a.get(k) != b.get(k))
    if differing:
        key = differing[0]
        raise UserError(
            f"{path}: {key}={a.get(key)!r} differs from the resumed run's {b.get(key)!r}; "
            "drop the experiment file to resume with the run's own config"
        )
