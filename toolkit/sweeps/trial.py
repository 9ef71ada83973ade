"""What one sweep trial is (train → generate on the test split → evaluate), as a pluggable callable.

A trial is a function `run_trial(cfg, report, workdir) -> TrialResult`:
- `cfg` is the experiment config with this trial's parameters applied;
- `report(step, value)` hands an intermediate validation value to the pruner (and MLflow); it raises
  `optuna.TrialPruned` when the trial should stop — let it propagate;
- `workdir` is a fresh folder for the trial's files (checkpoints, generated clips).
It returns final metrics, the files worth keeping as artifacts, and any per-step curves.

Trials register by name with `@register_trial("name")`; a sweep file picks one with `trial: name`. The
built-ins are found on first use (`toolkit.utils.registry`), and installed packages can add trials through the
`v2m_toolkit.trials` entry-point group (naming a module that registers, or the trial function itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from toolkit.utils.registry import Registry


class Report(Protocol):
    """The callback a trial uses to report intermediate values: `report(step, value, name="val_loss")`."""

    def __call__(self, step: int, value: float, name: str = ...) -> None: ...


@dataclass
class TrialResult:
    """What a finished trial hands back: final metrics, files to log, and per-step metric curves."""

    metrics: dict[str, Any]
    artifacts: list[Path] = field(default_factory=list)
    step_metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


class Trial(Protocol):
    """The signature every registered trial has. A trial may also carry a `setup(cfg)` attribute: the parent runs
    it once, before parallel workers start, to build what all trials share (data, caches, models); and a
    `report_note` (one line) that every report of its sweeps repeats (the demo trial's: not measurements)."""

    def __call__(self, cfg: Any, report: Report, workdir: Path) -> TrialResult: ...


# Built-ins live in this package (`train-evaluate` too: a trial imports training, never the reverse). Trial
# modules import the trainer and torch only inside the trial, so walking them stays cheap for `trial: demo`.
TRIALS: Registry[Trial] = Registry("trial", "trials", __package__)
ENTRY_POINT_GROUP = TRIALS.entry_point_group


def register_trial(name: str) -> Callable[[Trial], Trial]:
    """Decorator: make `fn` available to sweep files as `trial: name`."""
    return TRIALS.register(name)


def get_trial(name: str) -> Trial:
    """The trial registered as `name`; `UserError` (with a suggestion) when no built-in or plug-in provides it."""
    return TRIALS.get(name)


def report_notes(name: str) -> list[str]:
    """The notes a report of a sweep run with trial `name` carries: the trial's `report_note`, if it has one.
    None for a trial not installed here: its report is still made, from MLflow alone."""
    note = getattr(TRIALS.get(name), "report_note", None) if name in TRIALS else None
    return [str(note)] if note else []
