"""What one sweep trial is (train → generate on the test split → evaluate), as a pluggable callable.

A trial is a function `run_trial(cfg, report, workdir) -> TrialResult`:
- `cfg` is the experiment config with this trial's parameters applied;
- `report(step, value)` hands an intermediate validation value to the pruner (and MLflow); it raises
  `optuna.TrialPruned` when the trial should stop — let it propagate;
- `workdir` is a fresh folder for the trial's files (checkpoints, generated clips).
It returns final metrics, the files worth keeping as artifacts, and any per-step curves.

Trials register by name with `@register_trial("name")`; a sweep file picks one with `trial: name`. Built-in
names map to the module that registers them (imported on first use), and installed packages can add trials
through the `v2m_toolkit.trials` entry-point group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from toolkit.errors import UserError


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
    it once, before parallel workers start, to build what all trials share (data, caches, models)."""

    def __call__(self, cfg: Any, report: Report, workdir: Path) -> TrialResult: ...


# Built-in trial names → the module whose import registers them.
BUILTIN_TRIALS = {
    "train-evaluate": "toolkit.training.trial",
    "demo": "toolkit.sweeps.demo_trial",
}
ENTRY_POINT_GROUP = "v2m_toolkit.trials"

_REGISTRY: dict[str, Trial] = {}


def register_trial(name: str) -> Callable[[Trial], Trial]:
    """Decorator: make `fn` available to sweep files as `trial: name`."""

    def decorate(fn: Trial) -> Trial:
        _REGISTRY[name] = fn
        return fn

    return decorate


def get_trial(name: str) -> Trial:
    """The trial registered as `name`; `UserError` when no built-in module or plug-in provides it."""
    if name not in _REGISTRY and name in BUILTIN_TRIALS:
        module = BUILTIN_TRIALS[name]
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name is not None and module.startswith(err.name):
                raise UserError(f"trial {name!r} is not available: {module} is not built yet") from None
            raise
    if name not in _REGISTRY:
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry.name == name:
                _REGISTRY[name] = entry.load()
    if name not in _REGISTRY:
        known = sorted(set(_REGISTRY) | set(BUILTIN_TRIALS))
        raise UserError(f"unknown trial {name!r} (known: {', '.join(known)})")
    return _REGISTRY[name]
