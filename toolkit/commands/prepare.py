"""`toolkit prepare EXPERIMENT.yaml [key=value ...]`: scan, split and cache features."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Attach the `prepare` command."""
    parser = subparsers.add_parser(
        "prepare", help="scan a dataset (or build the micro world), split it, and cache its features",
        description="Scan the experiment's dataset (data.root, or the micro world when it is null), skip "
        "unreadable clips with a warning each, assign deterministic splits, and fill the feature cache.",
    )
    parser.add_argument("experiment", help="experiment YAML file")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.prepare import prepare, summary

    cfg = load_config(args.experiment, args.overrides)
    print(summary(prepare(cfg, progress=not args.no_progress)))
    return 0
