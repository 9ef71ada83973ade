"""Which way is better for each metric a sweep can name, and the MLflow key it is stored under.

The metrics suite's directions come from the metric registry (`toolkit.metrics.registry`); the trainer's own
numbers are listed here; any other metric needs a direction in the sweep file.
"""

from __future__ import annotations

from toolkit.errors import UserError
from toolkit.metrics import names
from toolkit.metrics.registry import MAXIMIZE, MINIMIZE, metric_direction

__all__ = ["MAXIMIZE", "MINIMIZE", "known_direction", "is_speed_metric", "storage_key"]

TRAINER_DIRECTIONS = {"loss": MINIMIZE, "val_loss": MINIMIZE}

# Metrics that measure cost rather than quality: the x axis of the quality–speed Pareto plot.
SPEED_METRICS = ("rtf", "seconds_per_clip")


def known_direction(name: str) -> str | None:
    """The direction of a suite metric (any spelling or alias) or a trainer metric; None when unknown."""
    return TRAINER_DIRECTIONS.get(name) or metric_direction(name)


def storage_key(name: str) -> str:
    """The key a trial's metrics hold `name` under: its MLflow spelling for a metric name, else `name`."""
    try:
        return names.stored(name)
    except UserError:
        return name


def is_speed_metric(name: str) -> bool:
    """True for speed/cost metrics (`rtf`, `seconds_per_clip`, and names ending in them)."""
    try:
        base = names.parse(name)[0]
    except UserError:
        base = name
    return any(base == s or base.endswith(f"_{s}") for s in SPEED_METRICS)
