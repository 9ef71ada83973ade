"""Write an ablation table as Markdown, CSV and LaTeX (booktabs), each with the command that regenerates it."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from toolkit.reports.directions import MAXIMIZE
from toolkit.reports.table import AblationTable, format_cell
from toolkit.utils.atomic import write_text_atomic


def _arrow(direction: str) -> str:
    return "↑" if direction == MAXIMIZE else "↓"


def _legend(table: AblationTable, down: str = "↓", up: str = "↑", dagger: str = "†", pm: str = "±") -> str:
    level = f"{table.confidence:.0%}"
    return (f"Cells: mean {pm} half-width of the {level} Student-t interval over the completed trials of the row "
            f"(seeds); n = trials behind the row; a row with one trial has no interval (n=1). {down} lower is "
            f"better, {up} higher is better; the best mean per column is marked, {dagger} when its interval does "
            f"not overlap the runner-up's.")


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
        lines.append("| " + " | ".join([*row.values, str(row.n_trials), *cells]) + " |")
    if not table.rows:
        lines.append("| " + " | ".join(["(no completed trials)"] + [""] * (len(header) - 1)) + " |")
    lines += ["", _legend(table)]
    if table.failures:
        lines += ["", "Trials not in the table:", ""] + [f"- {item}" for item in table.failures]
    if plots:
        lines += ["", "## Plots", ""]
        for plot in plots:
            relative = os.path.relpath(plot, base) if base else str(plot)
            lines.append(f"![{plot.stem}]({relative})")
    return "\n".join(lines) + "\n"


def to_csv(table: AblationTable) -> str:
    out = io.StringIO()
    out.write(f"# regenerate: {table.command}\n")
    writer = csv.writer(out, lineterminator="\n")
    header = [*table.group_by, "n_trials"]
    for metric in table.metrics:
        header += [f"{metric}_mean", f"{metric}_ci{round(table.confidence * 100)}", f"{metric}_n", f"{metric}_best"]
    writer.writerow(header)
    for index, row in enumerate(table.rows):
        line: list[object] = [*row.values, row.n_trials]
        for metric in table.metrics:
            cell = row.cells[metric]
            if cell is None:
                line += ["", "", 0, ""]
            else:
                half = "" if cell.half_width is None else repr(cell.half_width)
                line += [repr(cell.mean), half, cell.n, str(index in table.best[metric]).lower()]
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
    return "\n".join(lines) + "\n"


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
