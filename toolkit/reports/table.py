"""Ablation tables: one row per configuration, mean ± 95% t-interval over its trials (seeds), best marked.

The interval is Student's t: mean ± t(0.975, n−1) · s / √n with the sample standard deviation s. A row
with one trial has no interval (shown as "n=1"). The best mean per column is marked according to the
metric's direction; it is also flagged *separated* when its interval does not overlap the runner-up's
(a quick reading aid, not a significance test).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from toolkit.reports.directions import MAXIMIZE
from toolkit.reports.runs import RunRecord


@dataclass(frozen=True)
class Cell:
    """A metric over one row's trials: mean, half-width of the interval (None when n = 1), sample count."""

    mean: float
    half_width: float | None
    n: int

    @property
    def low(self) -> float:
        return self.mean - (self.half_width or 0.0)

    @property
    def high(self) -> float:
        return self.mean + (self.half_width or 0.0)


@dataclass
class Row:
    """One configuration: its group-by values, how many completed trials it holds, and one cell per metric."""

    values: tuple[str, ...]
    n_trials: int
    cells: dict[str, Cell | None]


@dataclass
class AblationTable:
    """Everything a writer needs: rows, best rows per metric, directions, notes and the regenerate command."""

    name: str
    group_by: tuple[str, ...]
    metrics: tuple[str, ...]
    directions: dict[str, str]
    rows: list[Row]
    command: str
    best: dict[str, set[int]] = field(default_factory=dict)
    separated: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    confidence: float = 0.95


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Cell:
    """Mean and half-width of the two-sided Student-t interval; no interval for a single value."""
    from scipy import stats

    data = np.asarray(list(values), dtype=np.float64)
    if data.size == 0:
        raise ValueError("t_interval needs at least one value")
    mean = float(data.mean())
    if data.size == 1:
        return Cell(mean, None, 1)
    sem = float(data.std(ddof=1)) / math.sqrt(data.size)
    if sem <= 1e-12 * max(1.0, abs(mean)):  # identical values: rounding noise, not spread
        sem = 0.0
    quantile = float(stats.t.ppf(0.5 + confidence / 2, data.size - 1))
    return Cell(mean, quantile * sem, int(data.size))


def group_label(value: str) -> str:
    """A param as a row label; a logged list of named parts (e.g. conditioners) reads `semantic+rhythm`, and
    an empty list reads `none`."""
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return value
    if isinstance(parsed, list) and all(isinstance(p, dict) and "name" in p for p in parsed):
        return "+".join(str(p["name"]) for p in parsed) or "none"
    return value


def build_table(records: list[RunRecord], name: str, group_by: tuple[str, ...], metrics: tuple[str, ...],
                directions: dict[str, str], command: str, confidence: float = 0.95) -> AblationTable:
    """Group completed trials by their `group_by` config values and summarise each metric."""
    complete = [r for r in records if r.state == "COMPLETE"]
    groups: dict[tuple[str, ...], list[RunRecord]] = {}
    for record in complete:
        groups.setdefault(tuple(group_label(record.params.get(k, "—")) for k in group_by), []).append(record)
    rows = []
    for values in sorted(groups, key=_sort_key):
        members = groups[values]
        cells: dict[str, Cell | None] = {}
        for metric in metrics:
            found = [r.metrics[metric] for r in members if metric in r.metrics]
            cells[metric] = t_interval(found, confidence) if found else None
        rows.append(Row(values, len(members), cells))
    table = AblationTable(name, group_by, metrics, directions, rows, command, confidence=confidence)
    for metric in metrics:
        table.best[metric], table.separated[metric] = best_rows(rows, metric, directions[metric])
    table.failures = [f"trial {r.trial} [{r.label}]: {r.state.lower()} — {r.reason}"
                      for r in records if r.state in ("FAIL", "PRUNED")]
    return table


def best_rows(rows: list[Row], metric: str, direction: str) -> tuple[set[int], bool]:
    """Indices of the rows with the best mean (ties share it), and whether the best interval clears the rest."""
    scored = [(i, row.cells[metric]) for i, row in enumerate(rows) if row.cells.get(metric) is not None]
    if not scored:
        return set(), False
    sign = -1.0 if direction == MAXIMIZE else 1.0
    best_value = min(sign * cell.mean for _, cell in scored)
    best = {i for i, cell in scored if math.isclose(sign * cell.mean, best_value, rel_tol=1e-12, abs_tol=1e-15)}
    others = [cell for i, cell in scored if i not in best]
    winners = [cell for i, cell in scored if i in best]
    if not others or any(cell.half_width is None for cell in winners + others):
        return best, False
    runner_up = min(others, key=lambda cell: sign * cell.mean)
    winner = winners[0]
    separated = winner.high < runner_up.low if direction != MAXIMIZE else winner.low > runner_up.high
    return best, separated


def _sort_key(values: tuple[str, ...]) -> tuple:
    """Numbers in numeric order, then text."""
    key = []
    for value in values:
        try:
            key.append((0, float(value), ""))
        except ValueError:
            key.append((1, 0.0, value))
    return tuple(key)


def format_cell(cell: Cell | None) -> str:
    """"1.23 ± 0.04" (interval rounded to two significant digits, mean to match), "1.234 (n=1)", or "—"."""
    if cell is None:
        return "—"
    if cell.half_width is None:
        return f"{cell.mean:.4g} (n=1)"
    if cell.half_width == 0 or not math.isfinite(cell.half_width):
        return f"{cell.mean:.4g} ± {cell.half_width:.2g}"
    decimals = min(max(0, 1 - math.floor(math.log10(abs(cell.half_width)))), 8)
    return f"{cell.mean:.{decimals}f} ± {cell.half_width:.{decimals}f}"
