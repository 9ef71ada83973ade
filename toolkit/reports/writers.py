"""Write an ablation table as Markdown, CSV and LaTeX (booktabs), each with the command that regenerates it."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from toolkit.reports.directions import MAXIMIZE
from toolkit.reports.table import CLIPS, SEEDS, AblationTable, format_cell, format_interval
from toolkit.utils.atomic import write_text_atomic


def _arrow(direction: str) -> str:
    return "↑" if direction == MAXIMIZE else "↓"


def _legend(table: AblationTable, down: str = "↓", up: str = "↑", dagger: str = "†", pm: str = "±") -> str:
    level = f"{table.confidence:.0%}"
    over = {cell.over for row in table.rows for cell in row.cells.values() if cell is not None}
    parts = [f"Cells: the row's mean with a {level} interval."]
    if CLIPS in over:
        parts.append("Bracketed [low, high]: over the test clips, each clip's value averaged over the row's seeds, "
                     "by a percentile bootstrap resampling clips (Wilson's interval for 0/1 rates).")
    if SEEDS in over:
        parts.append(f"Mean {pm} half-width: the Student-t interval over the row's trials (seeds), used for set "
                     "metrics (FAD, coverage, IS) and runs without per-clip values; none for one trial (n=1).")
    parts.append(f"n = trials behind the row. {down} lower is better, {up} higher is better; the best mean per "
                 f"column is marked, {dagger} when its interval does not overlap the runner-up's.")
    return " ".join(parts)


def _paired_legend(table: AblationTable) -> str:
    base = ", ".join(table.rows[table.baseline].values)
    return (f"Paired differences to the baseline row ({base}): the mean over shared test clips of (row − baseline), "
            f"each side's clip value averaged over its seeds, with a {table.confidence:.0%} percentile bootstrap "
            "over clips. FAD, density and coverage are paired the same way: recomputed from every run's embedding "
            "windows on each resample of the shared clips, averaged over seeds, differenced. * marks a difference "
            "whose interval excludes zero. Numbers without per-clip values or windows (FAD-∞, IS, losses, runs "
            "that did not log them) are not paired (—).")


FEW_CLIPS = 10  # below this a bootstrap over clips has too few units to reach its nominal coverage


def _paired_words(table: AblationTable) -> list[str]:
    """Plain words per metric: which rows differ from the baseline, or that none does; a warning first when the
    rows share too few clips for the intervals to hold their level."""
    counts = [d.n_clips for row in table.rows for d in row.deltas.values() if d is not None]
    lines = []
    if counts and min(counts) < FEW_CLIPS:
        lines.append(f"Only {min(counts)} shared clips: a bootstrap over so few clips covers less often than "
                     f"{table.confidence:.0%}, so read * as a hint, not a finding.")
        lines.append("")
    for metric in table.metrics:
        scored = [(row, row.deltas.get(metric)) for i, row in enumerate(table.rows) if i != table.baseline]
        scored = [(row, d) for row, d in scored if d is not None]
        if not scored:
            continue
        apart = [", ".join(row.values) for row, d in scored if d.excludes_zero]
        lines.append(f"- {metric}: " + (f"differs from the baseline for {'; '.join(apart)}." if apart else
                                         "no row's difference from the baseline excludes zero; nothing separates "
                                         "them at this number of clips."))
    return lines


def _delta_text(row, metric: str) -> str:
    delta = row.deltas.get(metric)
    if delta is None:
        return "—"
    return format_interval(delta.mean, delta.low, delta.high, sign=True) + (" *" if delta.excludes_zero else "")


def to_markdown(table: AblationTable, plots: list[Path] | None = None, base: Path | None = None) -> str:
    lines = [f"# Sweep `{table.name}`", "", f"Regenerate: `{table.command}`", ""]
    lines += [f"> {note}" for note in table.notes] + ([""] if table.notes else [])
    header = [*table.group_by, "n"] + [f"{m} {_arrow(table.directions[m])}" for m in table.metrics]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in enumerate(table.rows):
        cells = []
        for metric in table.metrics:
            text = format_cell(row.cells[metric])
            if index in table.best[metric]:
                text = f"**{text}**" + (" †" if table.separated[metric] else "")
            cells.append(text)
        label = [*row.values]
        if index == table.baseline:
            label[-1] += " (baseline)"
        lines.append("| " + " | ".join([*label, str(row.n_trials), *cells]) + " |")
    if not table.rows:
        lines.append("| " + " | ".join(["(no completed trials)"] + [""] * (len(header) - 1)) + " |")
    lines += ["", _legend(table)]
    if table.paired:
        lines += ["", "## Paired differences to the baseline", ""]
        header = [*table.group_by, "clips"] + [f"Δ {m} {_arrow(table.directions[m])}" for m in table.metrics]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for index, row in enumerate(table.rows):
            if index == table.baseline:
                continue
            clips = max((d.n_clips for d in row.deltas.values() if d is not None), default=0)
            cells = [_delta_text(row, m) for m in table.metrics]
            lines.append("| " + " | ".join([*row.values, str(clips), *cells]) + " |")
        lines += ["", _paired_legend(table), "", *_paired_words(table)]
    if table.failures:
        lines += ["", "Trials not in the table:", ""] + [f"- {item}" for item in table.failures]
    if plots:
        lines += ["", "## Plots", ""]
        for plot in plots:
            relative = os.path.relpath(plot, base) if base else str(plot)
            lines.append(f"![{plot.stem}]({relative})")
    return "\n".join(lines) + "\n"


def to_csv(table: AblationTable) -> str:
    """One row per configuration; per metric `<m>_mean`, `<m>_lo`, `<m>_hi`, `<m>_n`, `<m>_over`, `<m>_best`,
    and with a baseline `<m>_delta`, `<m>_delta_lo`, `<m>_delta_hi` (empty on the baseline row itself)."""
    out = io.StringIO()
    out.write(f"# regenerate: {table.command}\n")
    writer = csv.writer(out, lineterminator="\n")
    header = [*table.group_by, "n_trials", "baseline"]
    for metric in table.metrics:
        header += [f"{metric}_{s}" for s in ("mean", "lo", "hi", "n", "over", "best")]
        if table.paired:
            header += [f"{metric}_{s}" for s in ("delta", "delta_lo", "delta_hi")]
    writer.writerow(header)
    for index, row in enumerate(table.rows):
        line: list[object] = [*row.values, row.n_trials, str(index == table.baseline).lower()]
        for metric in table.metrics:
            cell = row.cells[metric]
            if cell is None:
                line += ["", "", "", 0, "", ""]
            else:
                bounds = [repr(cell.low), repr(cell.high)] if cell.has_interval else ["", ""]
                line += [repr(cell.mean), *bounds, cell.n, cell.over, str(index in table.best[metric]).lower()]
            if table.paired:
                delta = row.deltas.get(metric)
                line += ["", "", ""] if delta is None else [repr(delta.mean), repr(delta.low), repr(delta.high)]
        writer.writerow(line)
    return out.getvalue()


def _tex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                          ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(char, escaped)
    return text


def to_latex(table: AblationTable) -> str:
    arrows = {m: r"$\uparrow$" if table.directions[m] == MAXIMIZE else r"$\downarrow$" for m in table.metrics}
    columns = "l" * len(table.group_by) + "r" + "c" * len(table.metrics)
    lines = [f"% regenerate: {table.command}", "% needs \\usepackage{booktabs}", r"\begin{table}[t]", r"\centering",
             rf"\begin{{tabular}}{{{columns}}}", r"\toprule"]
    header = [_tex(k) for k in table.group_by] + ["$n$"] + [f"{_tex(m)} {arrows[m]}" for m in table.metrics]
    lines += [" & ".join(header) + r" \\", r"\midrule"]
    for index, row in enumerate(table.rows):
        cells = []
        for metric in table.metrics:
            text = format_cell(row.cells[metric]).replace("±", r"$\pm$").replace("—", "--")
            if index in table.best[metric]:
                text = rf"\textbf{{{text}}}" + (r"$^\dagger$" if table.separated[metric] else "")
            cells.append(text)
        lines.append(" & ".join([*map(_tex, row.values), str(row.n_trials), *cells]) + r" \\")
    legend = _tex(_legend(table, down="DOWN", up="UP", dagger="DAGGER", pm="PLUSMINUS"))
    for word, symbol in (("DOWN", r"$\downarrow$"), ("UP", r"$\uparrow$"), ("DAGGER", r"$^\dagger$"),
                         ("PLUSMINUS", r"$\pm$")):
        legend = legend.replace(word, symbol)
    caption = _tex(f"Sweep {table.name}. ") + legend
    label = table.name.replace("_", "-")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{caption}}}", rf"\label{{tab:{label}}}", r"\end{table}"]
    if table.paired:
        lines += _latex_paired(table, arrows, label)
    return "\n".join(lines) + "\n"


def _latex_paired(table: AblationTable, arrows: dict[str, str], label: str) -> list[str]:
    columns = "l" * len(table.group_by) + "r" + "c" * len(table.metrics)
    lines = ["", r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{columns}}}", r"\toprule"]
    header = [_tex(k) for k in table.group_by] + ["clips"] + [rf"$\Delta$ {_tex(m)} {arrows[m]}" for m in table.metrics]
    lines += [" & ".join(header) + r" \\", r"\midrule"]
    for index, row in enumerate(table.rows):
        if index == table.baseline:
            continue
        clips = max((d.n_clips for d in row.deltas.values() if d is not None), default=0)
        cells = [_tex(_delta_text(row, m)).replace("—", "--") for m in table.metrics]
        lines.append(" & ".join([*map(_tex, row.values), str(clips), *cells]) + r" \\")
    caption = _tex(f"Sweep {table.name}, paired. " + _paired_legend(table))
    return lines + [r"\bottomrule", r"\end{tabular}", rf"\caption{{{caption}}}", rf"\label{{tab:{label}-paired}}",
                    r"\end{table}"]


def write_reports(table: AblationTable, out_dir: Path, plots: list[Path] | None = None) -> list[Path]:
    """`<out_dir>/<name>.md`, `.csv` and `.tex`, each written atomically; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in ((".md", to_markdown(table, plots, out_dir)), (".csv", to_csv(table)),
                         (".tex", to_latex(table))):
        path = out_dir / f"{table.name}{suffix}"
        write_text_atomic(path, text)
        written.append(path)
    return written
