"""Report plots: each metric against each swept parameter, and the quality–speed Pareto front."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.reports.directions import MAXIMIZE, is_speed_metric
from toolkit.reports.table import AblationTable, Cell, Row
from toolkit.utils.atomic import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _numeric(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _error_bars(cells: list[Cell]) -> list[list[float]]:
    """Asymmetric error bars (below, above the mean) from each cell's interval; none where it has none."""
    return [[c.mean - c.low if c.has_interval else 0.0 for c in cells],
            [c.high - c.mean if c.has_interval else 0.0 for c in cells]]


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    return path


def metric_plots(table: AblationTable, out_dir: Path) -> list[Path]:
    """`<metric>_vs_<param>.png` for every metric and every group-by key with more than one value; the other
    keys split the points into series. Error bars are the table's intervals (none where n = 1)."""
    plt = _pyplot()
    written = []
    for axis_index, param in enumerate(table.group_by):
        if len({row.values[axis_index] for row in table.rows}) < 2:
            continue
        series: dict[tuple[str, ...], list[Row]] = {}
        for row in table.rows:
            rest = row.values[:axis_index] + row.values[axis_index + 1:]
            series.setdefault(rest, []).append(row)
        others = table.group_by[:axis_index] + table.group_by[axis_index + 1:]
        for metric in table.metrics:
            fig, ax = plt.subplots(figsize=(5, 3.4))
            labels = sorted({row.values[axis_index] for row in table.rows}, key=lambda v: (_numeric([v]) is None, v))
            positions = _numeric(labels) or list(range(len(labels)))
            where = dict(zip(labels, positions, strict=True))
            drawn = False
            for rest, rows in series.items():
                points = [(where[r.values[axis_index]], r.cells[metric]) for r in rows if r.cells[metric]]
                if not points:
                    continue
                points.sort(key=lambda p: p[0])
                xs = [p[0] for p in points]
                ys = [p[1].mean for p in points]
                errors = _error_bars([p[1] for p in points])
                name = ", ".join(f"{k}={v}" for k, v in zip(others, rest, strict=True)) or None
                ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=name)
                drawn = True
            if not drawn:
                plt.close(fig)
                continue
            if _numeric(labels) is None:
                ax.set_xticks(positions, labels, rotation=30, ha="right")
            ax.set_xlabel(param)
            ax.set_ylabel(f"{metric} ({'higher' if table.directions[metric] == MAXIMIZE else 'lower'} is better)")
            ax.set_title(f"{table.name}: {metric} vs {param}")
            if len(series) > 1:
                ax.legend(fontsize="small")
            written.append(_save(fig, out_dir / f"{_safe(metric)}_vs_{_safe(param)}.png"))
            plt.close(fig)
    return written


def pareto_front(points: list[tuple[float, float]], directions: tuple[str, str]) -> list[int]:
    """Indices of the points no other point beats on both axes (given each axis's direction)."""
    signs = [(-1.0 if d == MAXIMIZE else 1.0) for d in directions]
    scaled = [(signs[0] * x, signs[1] * y) for x, y in points]
    front = []
    for i, (x, y) in enumerate(scaled):
        dominated = any(ox <= x and oy <= y and (ox < x or oy < y) for j, (ox, oy) in enumerate(scaled) if j != i)
        if not dominated:
            front.append(i)
    return front


def pareto_plot(table: AblationTable, out_dir: Path) -> Path | None:
    """Quality (first non-speed metric) against speed (first speed metric: rtf, seconds_per_clip) per row, the
    Pareto-optimal rows joined; None when the table lacks either kind of metric."""
    quality = next((m for m in table.metrics if not is_speed_metric(m)), None)
    speed = next((m for m in table.metrics if is_speed_metric(m)), None)
    if quality is None or speed is None:
        return None
    rows = [row for row in table.rows if row.cells[quality] and row.cells[speed]]
    if not rows:
        return None
    points = [(row.cells[speed].mean, row.cells[quality].mean) for row in rows]
    front = sorted(pareto_front(points, (table.directions[speed], table.directions[quality])),
                   key=lambda i: points[i][0])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.errorbar([p[0] for p in points], [p[1] for p in points],
                xerr=_error_bars([row.cells[speed] for row in rows]),
                yerr=_error_bars([row.cells[quality] for row in rows]), fmt="o", color="tab:gray", capsize=2)
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front], "-o", color="tab:red",
            label="Pareto front")
    for row, (x, y) in zip(rows, points, strict=True):
        ax.annotate(", ".join(row.values), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{speed} ({'higher' if table.directions[speed] == MAXIMIZE else 'lower'} is better)")
    ax.set_ylabel(f"{quality} ({'higher' if table.directions[quality] == MAXIMIZE else 'lower'} is better)")
    ax.set_title(f"{table.name}: quality vs speed")
    ax.legend(fontsize="small")
    path = _save(fig, out_dir / f"pareto_{_safe(quality)}_{_safe(speed)}.png")
    plt.close(fig)
    return path
