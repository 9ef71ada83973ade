"""Which way is better for each metric the toolkit computes (used to mark the best value in a table)."""

from __future__ import annotations

MINIMIZE, MAXIMIZE = "minimize", "maximize"

# Metric names as written by `toolkit.metrics.suite` and the trainer; others need a direction in the sweep file.
KNOWN_DIRECTIONS: dict[str, str] = {
    "fad": MINIMIZE,
    "kl": MINIMIZE,
    "is": MAXIMIZE,
    "density": MAXIMIZE,
    "coverage": MAXIMIZE,
    "bhs": MAXIMIZE,
    "bcs": MAXIMIZE,
    "tb_iou": MAXIMIZE,
    "tempo_acc": MAXIMIZE,
    "tempo_acc_octave": MAXIMIZE,
    "key_acc": MAXIMIZE,
    "key_acc_loose": MAXIMIZE,
    "rtf": MINIMIZE,
    "seconds_per_clip": MINIMIZE,
    "loss": MINIMIZE,
    "val_loss": MINIMIZE,
}

# Metrics that measure cost rather than quality: the x axis of the quality–speed Pareto plot.
SPEED_METRICS = ("rtf", "seconds_per_clip")


def is_speed_metric(name: str) -> bool:
    """True for speed/cost metrics (`rtf`, `seconds_per_clip`, and names ending in them)."""
    return any(name == s or name.endswith(f"_{s}") for s in SPEED_METRICS)
