"""`reports/<sweep>.{md,csv,tex}` plus plots, from the sweep's MLflow runs."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from toolkit.reports.plots import metric_plots, pareto_plot
from toolkit.reports.runs import sweep_runs
from toolkit.reports.table import AblationTable, build_table
from toolkit.reports.writers import write_reports


def regenerate_command(sweep_path: Path) -> str:
    """The command that rebuilds the report, run from the current working directory."""
    # abspath, not resolve: a symlinked checkout must not put the machine's real paths into committed reports
    path = os.path.relpath(os.path.abspath(sweep_path), Path.cwd())
    shown = path if not path.startswith("..") else os.path.abspath(sweep_path)
    from toolkit.utils.mlflow_store import user_tracking_uri

    uri = user_tracking_uri()
    prefix = f"MLFLOW_TRACKING_URI={shlex.quote(uri)} " if uri else ""
    return f"{prefix}toolkit report {shlex.quote(shown)}"


def sweep_table(spec, notes: Sequence[str] = ()) -> AblationTable:
    """The ablation table of a sweep, from MLflow; `notes` (e.g. the trial's own, `toolkit.sweeps.trial.report_notes`)
    come first among its notes."""
    records = sweep_runs(spec)
    table = build_table(records, spec.name, spec.group_by, spec.report_metrics, spec.report_directions,
                        regenerate_command(spec.path), baseline=spec.baseline)
    table.notes.extend(notes)
    finished = sum(r.state == "COMPLETE" for r in records)  # only these are in the table
    others = f" ({len(table.failures)} pruned or failed, not in the table)" if table.failures else ""
    table.notes.append(f"{len(table.rows)} configuration(s) from {finished} finished trial run(s) of MLflow "
                       f"experiment `{spec.name}`{others}; trial: `{spec.trial}`; experiment file: "
                       f"`{_shown(spec.experiment)}`.")
    return table


def _shown(path: Path) -> str:
    relative = os.path.relpath(path, Path.cwd())
    return relative if not relative.startswith("..") else path.name


def write_sweep_report(spec, reports_dir: str | Path = "reports", notes: Sequence[str] = ()) -> list[Path]:
    """Write the tables and plots (`notes` as in `sweep_table`); returns every file written (tables first)."""
    reports_dir = Path(reports_dir)
    table = sweep_table(spec, notes)
    plot_dir = reports_dir / spec.name
    plots = metric_plots(table, plot_dir)
    pareto = pareto_plot(table, plot_dir)
    if pareto is not None:
        plots.append(pareto)
    for stale in set(plot_dir.glob("*.png")) - set(plots):  # the folder is the report's: no plot of an old name
        stale.unlink()
    return write_reports(table, reports_dir, plots) + plots
