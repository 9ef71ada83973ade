"""Ablation tables: one row per configuration, its metrics with intervals, the best marked, and (when the
sweep names a baseline row) each other row's paired difference to it on the same clips.

A cell's interval depends on what the trials logged:

- a per-clip metric (BHS, KL, tempo accuracy…) whose trials all logged per-clip values: the mean over clips of
  each clip's mean over the row's seeds, with a 95% percentile bootstrap that resamples clips (each clip
  carries all its seeds' values, so seed noise stays inside each resample), or a Wilson interval over clips
  for a 0/1 rate;
- otherwise (a set metric such as FAD, or trials without per-clip values): the mean over seeds with the
  Student-t interval mean ± t(0.975, n−1) · s / √n (wide at two seeds: t = 12.7), none for one trial.

The best mean per column is marked according to the metric's direction; *separated* when its interval does
not overlap the runner-up's (a reading aid, not a test). Paired differences (`paired.py`) are the test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolkit.metrics.bootstrap import bootstrap_mean_ci
from toolkit.metrics.registry import is_binary
from toolkit.metrics.wilson import wilson_bounds
from toolkit.reports.clips import RESAMPLES, clip_means
from toolkit.reports.directions import MAXIMIZE, storage_key
from toolkit.reports.paired import Delta, paired_delta
from toolkit.reports.paired_sets import paired_set_delta
from toolkit.reports.runs import RunRecord
from toolkit.utils.mlflow_store import param_text

CLIPS, SEEDS = "clips", "seeds"


@dataclass(frozen=True)
class Cell:
    """A metric over one row: mean and interval (None when there is none), trials behind it, and how the
    interval was drawn (`clips`: resampled clips, seeds pooled inside; `seeds`: Student-t over trials)."""

    mean: float
    half_width: float | None
    n: int
    low_bound: float | None = None
    high_bound: float | None = None
    over: str = SEEDS
    n_clips: int = 0

    @property
    def low(self) -> float:
        return self.low_bound if self.low_bound is not None else self.mean - (self.half_width or 0.0)

    @property
    def high(self) -> float:
        return self.high_bound if self.high_bound is not None else self.mean + (self.half_width or 0.0)

    @property
    def has_interval(self) -> bool:
        return self.half_width is not None or self.low_bound is not None


@dataclass
class Row:
    """One configuration: its group-by values, how many completed trials it holds, one cell per metric, and
    (for a row other than the baseline) one paired difference per metric."""

    values: tuple[str, ...]
    n_trials: int
    cells: dict[str, Cell | None]
    deltas: dict[str, Delta | None] = field(default_factory=dict)
    members: list[RunRecord] = field(default_factory=list, repr=False)


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
    baseline: int | None = None  # index of the baseline row

    @property
    def paired(self) -> bool:
        return self.baseline is not None


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


def row_label(value: Any) -> str:
    """A config value (as a sweep file writes it) as the row label a report gives it."""
    return group_label(param_text(value))


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
                directions: dict[str, str], command: str, confidence: float = 0.95,
                baseline: dict[str, str] | None = None) -> AblationTable:
    """Group completed trials by their `group_by` config values and summarise each metric; with `baseline`
    (group-by key → row label) every other row also gets its paired differences to that row."""
    complete = [r for r in records if r.state == "COMPLETE"]
    groups: dict[tuple[str, ...], list[RunRecord]] = {}
    for record in complete:
        groups.setdefault(tuple(group_label(record.params.get(k, "—")) for k in group_by), []).append(record)
    rows = []
    for values in sorted(groups, key=_sort_key):
        members = groups[values]
        rows.append(Row(values, len(members), {m: summarise(members, m, confidence) for m in metrics},
                        members=members))
    table = AblationTable(name, group_by, metrics, directions, rows, command, confidence=confidence)
    for metric in metrics:
        table.best[metric], table.separated[metric] = best_rows(rows, metric, directions[metric])
    table.failures = [f"trial {r.trial} [{r.label}]: {r.state.lower()} — {r.reason}"
                      for r in records if r.state in ("FAIL", "PRUNED")]
    if baseline is not None:
        wanted = tuple(baseline[k] for k in group_by)
        index = next((i for i, row in enumerate(rows) if row.values == wanted), None)
        if index is None:
            shown = ", ".join(f"{k}={v}" for k, v in baseline.items())
            table.notes.append(f"The baseline row {shown} has no completed trial (yet), so no row is paired with it.")
        else:
            table.baseline = index
            for i, row in enumerate(rows):
                if i != index:
                    row.deltas = {m: _delta(row.members, rows[index].members, m, confidence) for m in metrics}
    return table


def _delta(members: list[RunRecord], baseline: list[RunRecord], metric: str, confidence: float):
    """A per-clip metric's paired difference, else a set metric's from the runs' embedding windows."""
    return paired_delta(members, baseline, metric, confidence) or paired_set_delta(members, baseline, metric,
                                                                                    confidence)


def summarise(members: list[RunRecord], metric: str, confidence: float = 0.95) -> Cell | None:
    """The cell of `metric` over one row's trials (module docstring: clips when it can, else seeds)."""
    key = storage_key(metric)
    found = [r.metrics[key] for r in members if key in r.metrics]
    if not found:
        return None
    clips = clip_means(members, metric)
    if clips is None or len(clips) < 2:
        return t_interval(found, confidence)
    values = np.fromiter(clips.values(), np.float64)
    mean = float(values.mean())
    if is_binary(metric):
        low, high = wilson_bounds(mean, values.size, confidence)
    else:
        low, high = bootstrap_mean_ci(values, confidence, RESAMPLES)
    return Cell(mean, None, len(found), low, high, CLIPS, int(values.size))


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
    if not others or any(not cell.has_interval for cell in winners + others):
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
    """"1.23 ± 0.04" (a t-interval, rounded to two significant digits, mean to match), "0.81 [0.70, 0.90]"
    (a bootstrap or Wilson interval over clips, which need not be symmetric), "1.234 (n=1)", or "—"."""
    if cell is None:
        return "—"
    if cell.low_bound is not None:
        return format_interval(cell.mean, cell.low, cell.high)
    if cell.half_width is None:
        return f"{cell.mean:.4g} (n=1)"
    if cell.half_width == 0 or not math.isfinite(cell.half_width):
        return f"{cell.mean:.4g} ± {cell.half_width:.2g}"
    decimals = min(max(0, 1 - math.floor(math.log10(abs(cell.half_width)))), 8)
    return f"{cell.mean:.{decimals}f} ± {cell.half_width:.{decimals}f}"


def format_interval(mean: float, low: float, high: float, sign: bool = False) -> str:
    """"0.81 [0.70, 0.90]": the mean and bounds to the decimals that the interval's width warrants."""
    width = abs(high - low)
    decimals = 3 if width == 0 or not math.isfinite(width) else min(max(0, 1 - math.floor(math.log10(width))), 8)
    plus = "+" if sign else ""
    return f"{mean:{plus}.{decimals}f} [{low:{plus}.{decimals}f}, {high:{plus}.{decimals}f}]"
