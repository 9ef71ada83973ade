"""Numeric range rules: each lives beside what it constrains (a config section, a conditioner's kwargs) and
is checked here, so a config check and a constructor ask the same rule instead of keeping copies."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from toolkit.errors import UserError

INF = math.inf


class Range(NamedTuple):
    """Allowed values `low … high`; each end inclusive unless said otherwise."""

    low: float
    high: float = INF
    low_inclusive: bool = True
    high_inclusive: bool = True

    def __str__(self) -> str:
        return (f"{'[' if self.low_inclusive else '('}{_num(self.low)}, {_num(self.high)}"
                f"{']' if self.high_inclusive and self.high != INF else ')'}")

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_inclusive else value > self.low
        below = value <= self.high if self.high_inclusive else value < self.high
        return above and below


def check_range(key: str, value: Any, rule: Range) -> None:
    """`UserError` naming `key` when `value` is not a finite number within `rule`; None means unset."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{key}: must be a number in {rule}, got {value!r}")
    if not math.isfinite(value):
        raise UserError(f"{key}: must be a finite number, got {value}")
    if not rule.contains(value):
        raise UserError(f"{key}: must be in {rule}, got {value}")


def check_ranges(values: Mapping[str, Any], rules: Mapping[str, Range], prefix: str) -> None:
    """Check each of `rules` whose key is in `values`; keys are reported as `prefix.key`."""
    for key, rule in rules.items():
        if key in values:
            check_range(f"{prefix}.{key}" if prefix else key, values[key], rule)


def _num(x: float) -> str:
    return "inf" if x == INF else f"{x:g}"
