"""`train(cfg)`: prepare data, attach adapters to the frozen backbone, optimise them through the configured
stages, write checkpoints, and log the run to MLflow. `toolkit train` and the `train-evaluate` trial call it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UserError
from toolkit.training.checkpoint import CHECKPOINT
from toolkit.utils.threads import use_threads

NOTHING_TO_TRAIN = "nothing to train (list conditioners or set lora.enabled=true)"


@dataclass
class TrainResult:
    """Where a finished run lies and what it measured (per-step curves, final metrics, parameter counts)."""

    run_dir: Path
    checkpoint: Path
    step: int
    run_id: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    prepared: Any = None  # the `Prepared` dataset it trained on, so callers need not scan and hash it again


def new_run_dir(cfg: Any) -> Path:
    """`train.output_dir/<name>-<time>` (with a suffix if two runs start within one second)."""
    base = Path(cfg.train.output_dir) / f"{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return path


def train(
    cfg: Any,
    *,
    resume: Any = None,
    run_dir: str | Path | None = None,
    track: bool = True,
    backbone: Any = None,
    report: Any = None,
) -> TrainResult:
    """Train `cfg`'s adapters for `cfg.train.steps` steps.

    `resume`: a `Checkpoint` to continue (its adapters, optimiser, scheduler and step; its MLflow run).
    `run_dir`: where checkpoints go (default: a new folder under `train.output_dir`). `track`: log to MLflow.
    `backbone`: an already loaded backbone for `cfg.backbone` (it gets adapters attached, then detached).
    `report(step, value)`: called with each validation loss (a sweep's pruning hook)."""
    from toolkit.config.stages import plan_stages
    from toolkit.features.read import feature_kinds
    from toolkit.prepare import prepare
    from toolkit.training.data import ClipSet, load_clips
    from toolkit.training.loop import Loop
    from toolkit.training.model import attach_adapters, load_experiment_backbone, parameter_counts

    tc = cfg.train
    check_trainable(cfg, resume, run_dir)  # before the world, features or backbone are built
    if tc.threads:
        use_threads(int(tc.threads))
    prepared = prepare(cfg, progress=tc.progress)
    if backbone is None:
        backbone = load_experiment_backbone(cfg)
    attached = attach_adapters(cfg, backbone)
    try:
        if not attached.trainable_parameters():
            raise UserError(f"conditioners: {NOTHING_TO_TRAIN}")
        keys, head = attached.feature_keys, attached.head
        kinds = feature_kinds(cfg, keys) if keys else {}
        sets = {}
        for split in ("train", "val"):
            items = prepared.split(split)
            if split == "train" and not items:
                raise UserError(f"data: no clips in the train split of {prepared.root}")
            clips = load_clips(items, backbone, cfg, keys, tc.progress, "latents" in head.music) if items else []
            sets[split] = (
                ClipSet(clips, backbone.frame_rate, cfg.features.fps, tc.crop_seconds, keys, backbone.max_frames,
                        kinds)
                if clips else None
            )
        train_clips = sets["train"].clips
        head.fit({"codes": [c.codes for c in train_clips], "latents": [c.latents for c in train_clips]})
        stages = plan_stages(tc.stages, int(tc.steps), attached.stage_names())
        loop = Loop(attached, sets["train"], sets["val"], tc, stages, cfg.seed)
        start = 0
        if resume is not None:
            resume.load_into(attached)
            loop.load_state_dict(resume.trainer_state())
            start = resume.step
            run_dir = Path(run_dir or resume.path.parent)
        run_dir = Path(run_dir) if run_dir is not None else new_run_dir(cfg)
        counts = parameter_counts(attached)
        counts.update({f"params_{n}": v for n, v in attached.num_trainable().items()})
        result = _run(cfg, loop, start, run_dir, counts, resume, track, report)
        result.prepared = prepared
        return result
    finally:
        attached.detach()


def check_trainable(cfg: Any, resume: Any = None, run_dir: str | Path | None = None) -> None:
    """What only training needs, checked without building anything: something to train, steps left past a
    resumed checkpoint, and a `train.output_dir` that can hold a new run folder. (Value ranges and stages were
    checked when the config loaded.)"""
    from toolkit.config.sections.conditioners import adapter_specs

    if not adapter_specs(cfg):
        raise UserError(f"conditioners: {NOTHING_TO_TRAIN}")
    if resume is not None and resume.step >= int(cfg.train.steps):
        raise UserError(f"train.steps={cfg.train.steps}: the checkpoint is already at step {resume.step}; "
                        "raise train.steps to train further")
    if resume is None and run_dir is None:  # else the run folder is given and `output_dir` is not used
        _check_writable(Path(cfg.train.output_dir), "train.output_dir")


def _check_writable(folder: Path, key: str) -> None:
    """`folder`, or the nearest of its parents that exists, is a directory this process may write into."""
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{key}: {folder}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{key}: {folder}: {existing} is not writable")


def _run(cfg, loop, start, run_dir, counts, resume, track, report) -> TrainResult:
    from toolkit.config import to_dict
    from toolkit.training.checkpoint import save_checkpoint
    from toolkit.training.tracking import TrainingRun

    tc = cfg.train
    checkpoint = run_dir / CHECKPOINT
    history: dict[str, list[tuple[int, float]]] = {}
    mlflow_run = None
    if track:
        previous = resume.state.get("mlflow_run_id") if resume is not None else None
        mlflow_run = TrainingRun(cfg.name, run_dir, previous)
        mlflow_run.log_params(to_dict(cfg), counts)
    run_id = mlflow_run.run_id if mlflow_run else None

    def on_metrics(step: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            history.setdefault(name, []).append((step, value))
        if mlflow_run is not None:
            mlflow_run.log_metrics(step, {**metrics, "stage": loop.stages.index(loop.stage)})
        if report is not None and "val_loss" in metrics:
            report(step, metrics["val_loss"])

    def on_checkpoint(step: int, metrics: dict[str, float]) -> None:
        extra = {"stage": loop.stage.name, "total_steps": int(tc.steps), "mlflow_run_id": run_id,
                 "metrics": metrics, "counts": counts}
        save_checkpoint(checkpoint, loop.attached, cfg, step, loop.optimizer, loop.scheduler, extra)

    print(f"training {counts['params_trainable']:,} adapter parameters of {counts['params_total']:,} "
          f"(run folder {run_dir})", file=sys.stderr)
    try:
        last = loop.run(start, int(tc.steps), on_metrics, on_checkpoint, progress=bool(tc.progress))
    except BaseException as err:
        if mlflow_run is not None:
            reason = str(err) if isinstance(err, UserError) else type(err).__name__
            mlflow_run.end("KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED", reason)
        raise
    if mlflow_run is not None:
        mlflow_run.log_checkpoint(checkpoint)
        mlflow_run.end("FINISHED")
    return TrainResult(run_dir, checkpoint, int(tc.steps), run_id, last, history, counts)
