"""Metrics by name: `@register_metric("fad", "one line")` on a callable or class; `get_metric("fad")`.

`toolkit list metrics` prints each with its description. The suite (`toolkit.metrics.suite`) does not read the
registry yet: the built-in entries (`families.py`) describe the families it computes, and point at the
function that computes each.
"""

from __future__ import annotations

from typing import Any

from toolkit.utils.registry import Registry


def _check(name: str, obj: Any) -> None:
    if not callable(obj):
        raise TypeError(f"metric {name!r} must be a callable or a class, got {obj!r}")


# Built-ins are the decorated objects of this package's modules, imported on first lookup.
METRICS: Registry[Any] = Registry("metric", "metrics", __package__, _check)
register_metric = METRICS.register
available_metrics = METRICS.names
metric_class = METRICS.get
get_metric = METRICS.get
describe_metric = METRICS.describe
