"""Report math and writers on constructed numbers: t-intervals, intervals over clips with seeds pooled, paired
differences to a baseline row, best per direction, md/csv/tex, plots."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from toolkit.metrics.bootstrap import bootstrap_mean_ci
from toolkit.metrics.wilson import wilson_interval
from toolkit.reports.plots import metric_plots, pareto_front, pareto_plot
from toolkit.reports.runs import RunRecord
from toolkit.reports.table import Cell, build_table, format_cell, t_interval
from toolkit.reports.writers import to_csv, to_latex, to_markdown, write_reports

T_975 = {2: 4.302652729911275, 4: 2.7764451051977987}  # Student-t 97.5% quantiles by degrees of freedom


def test_t_interval_matches_the_textbook_formula() -> None:
    cell = t_interval([1.0, 2.0, 3.0])  # mean 2, s = 1
    assert cell.mean == pytest.approx(2.0) and cell.n == 3
    assert cell.half_width == pytest.approx(T_975[2] / math.sqrt(3))
    five = t_interval([2.0, 4.0, 4.0, 4.0, 6.0])  # mean 4, s = sqrt(2)
    assert five.half_width == pytest.approx(T_975[4] * math.sqrt(2) / math.sqrt(5))
    assert t_interval([2.0, 4.0, 4.0, 4.0, 6.0], confidence=0.5).half_width < five.half_width


def test_one_value_has_no_interval() -> None:
    assert t_interval([0.7]) == Cell(0.7, None, 1)
    assert format_cell(Cell(0.7, None, 1)) == "0.7 (n=1)"
    assert format_cell(None) == "—"


def test_cells_round_the_mean_to_the_interval() -> None:
    assert format_cell(Cell(2.0, 2.484, 3)) == "2.0 ± 2.5"
    assert format_cell(Cell(0.123456, 0.0123, 4)) == "0.123 ± 0.012"
    assert format_cell(Cell(1234.5, 56.0, 4)) == "1234 ± 56"


def _record(trial: int, params: dict, metrics: dict, state: str = "COMPLETE", reason: str = "") -> RunRecord:
    label = ", ".join(f"{k}={v}" for k, v in params.items())
    return RunRecord(trial, {k: str(v) for k, v in params.items()}, metrics, state, reason, label)


@pytest.fixture
def records() -> list[RunRecord]:
    """Three patch sizes × three seeds; fad falls and rtf rises with patch size; one failed trial."""
    rows = []
    values = {2: ([3.0, 3.2, 3.4], [0.10, 0.10, 0.10]), 4: ([2.0, 2.1, 2.2], [0.20, 0.21, 0.22]),
              16: ([1.0, 1.5, 2.0], [0.50, 0.52, 0.54])}
    for patch, (fads, rtfs) in values.items():
        for seed, (fad, rtf) in enumerate(zip(fads, rtfs, strict=True)):
            params = {"head.plan_refine.patch_size": patch, "seed": seed}
            rows.append(_record(len(rows), params, {"fad": fad, "rtf": rtf}))
    rows.append(_record(len(rows), {"head.plan_refine.patch_size": 8, "seed": 0}, {}, "FAIL", "ValueError: NaN loss"))
    return rows


def test_rows_group_seeds_and_mark_the_best_per_direction(records: list[RunRecord]) -> None:
    table = build_table(records, "patch", ("head.plan_refine.patch_size",), ("fad", "rtf"),
                        {"fad": "minimize", "rtf": "minimize"}, "toolkit report sweeps/patch.yaml")
    assert [row.values for row in table.rows] == [("2",), ("4",), ("16",)]  # numeric order, failed row absent
    assert [row.n_trials for row in table.rows] == [3, 3, 3]
    assert table.rows[0].cells["fad"].mean == pytest.approx(3.2)
    assert table.rows[0].cells["fad"].half_width == pytest.approx(T_975[2] * 0.2 / math.sqrt(3))
    assert table.best == {"fad": {2}, "rtf": {0}}
    # rtf: 0.10 ± 0 clears 0.21 ± …; fad: 1.5 ± 1.24 overlaps 2.1 ± 0.25, so it is not "separated"
    assert table.separated == {"fad": False, "rtf": True}
    assert table.failures == ["trial 9 [head.plan_refine.patch_size=8, seed=0]: fail — ValueError: NaN loss"]

    maximize = build_table(records, "patch", ("head.plan_refine.patch_size",), ("fad",), {"fad": "maximize"}, "cmd")
    assert maximize.best == {"fad": {0}}


def test_ties_share_the_mark(records: list[RunRecord]) -> None:
    tied = [_record(0, {"x": "a"}, {"m": 1.0}), _record(1, {"x": "b"}, {"m": 1.0}), _record(2, {"x": "c"}, {"m": 2.0})]
    table = build_table(tied, "t", ("x",), ("m",), {"m": "minimize"}, "cmd")
    assert table.best == {"m": {0, 1}}


def test_writers_carry_rows_marks_and_the_command(records: list[RunRecord], tmp_path: Path) -> None:
    table = build_table(records, "patch", ("head.plan_refine.patch_size",), ("fad", "rtf"),
                        {"fad": "minimize", "rtf": "minimize"}, "toolkit report sweeps/patch.yaml")
    markdown = to_markdown(table)
    assert "Regenerate: `toolkit report sweeps/patch.yaml`" in markdown
    assert "| head.plan_refine.patch_size | n | fad ↓ | rtf ↓ |" in markdown  # names as the sweep gives them
    assert "| 2 | 3 | 3.20 ± 0.50 | **0.1 ± 0** † |" in markdown
    assert "| 16 | 3 | **1.5 ± 1.2** | 0.520 ± 0.050 |" in markdown
    lines = to_csv(table).splitlines()
    assert lines[0] == "# regenerate: toolkit report sweeps/patch.yaml"
    rows = list(csv.DictReader(lines[1:]))
    assert [r["fad_best"] for r in rows] == ["false", "false", "true"]
    assert float(rows[0]["fad_mean"]) == pytest.approx(3.2) and rows[0]["fad_n"] == "3"
    half = T_975[2] * 0.2 / math.sqrt(3)
    assert float(rows[0]["fad_lo"]) == pytest.approx(3.2 - half)
    assert float(rows[0]["fad_hi"]) == pytest.approx(3.2 + half)
    assert rows[0]["fad_over"] == "seeds" and "fad_delta" not in rows[0]  # no baseline: no paired columns
    tex = to_latex(table)
    assert tex.startswith("% regenerate: toolkit report sweeps/patch.yaml")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"head.plan\_refine.patch\_size & $n$ & fad $\downarrow$ & rtf $\downarrow$ \\" in tex
    assert r"16 & 3 & \textbf{1.5 $\pm$ 1.2} & 0.520 $\pm$ 0.050 \\" in tex
    written = write_reports(table, tmp_path)
    assert sorted(p.name for p in written) == ["patch.csv", "patch.md", "patch.tex"]


def test_pareto_front_respects_directions() -> None:
    points = [(0.1, 3.0), (0.2, 2.0), (0.5, 1.0), (0.6, 2.5), (0.3, 2.0)]  # (rtf, fad), both minimised
    assert pareto_front(points, ("minimize", "minimize")) == [0, 1, 2]
    assert pareto_front(points, ("minimize", "maximize")) == [0]
    assert pareto_front(points, ("maximize", "maximize")) == [0, 3] or pareto_front(
        points, ("maximize", "maximize")) == [3, 0]


def test_plots_are_written(records: list[RunRecord], tmp_path: Path) -> None:
    table = build_table(records, "patch", ("head.plan_refine.patch_size",), ("fad", "rtf"),
                        {"fad": "minimize", "rtf": "minimize"}, "cmd")
    plots = metric_plots(table, tmp_path)
    assert sorted(p.name for p in plots) == [f"{m}_vs_head.plan_refine.patch_size.png" for m in ("fad", "rtf")]
    pareto = pareto_plot(table, tmp_path)
    assert pareto is not None and pareto.name == "pareto_fad_rtf.png"
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in [*plots, pareto])
    no_speed = build_table(records, "patch", ("head.plan_refine.patch_size",), ("fad",), {"fad": "minimize"}, "cmd")
    assert pareto_plot(no_speed, tmp_path) is None


def test_lists_of_named_parts_are_labelled_by_their_names() -> None:
    from toolkit.reports.table import group_label

    assert group_label('[{"name": "semantic", "feature_dim": 32}, {"name": "rhythm"}]') == "semantic+rhythm"
    assert group_label("[]") == "none"
    assert group_label("True") == "True" and group_label("0.5") == "0.5" and group_label("[1, 2]") == "[1, 2]"


def test_the_header_counts_only_complete_trials(records: list[RunRecord], monkeypatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    import toolkit.reports.sweep_report as sweep_report

    pruned = {"head.plan_refine.patch_size": 8, "seed": 1}
    records.append(_record(len(records), pruned, {"fad": 9.0}, "PRUNED", "at step 2"))
    records.append(_record(len(records), {"head.plan_refine.patch_size": 8, "seed": 2}, {}, ""))  # its worker died
    monkeypatch.setattr(sweep_report, "sweep_runs", lambda spec: records)
    monkeypatch.chdir(tmp_path)
    spec = SimpleNamespace(name="patch", group_by=("head.plan_refine.patch_size",), report_metrics=("fad",),
                           report_directions={"fad": "minimize"}, path=tmp_path / "patch.yaml", trial="train-evaluate",
                           experiment=tmp_path / "micro.yaml", baseline=None)
    note = sweep_report.sweep_table(spec).notes[-1]
    assert note.startswith("3 configuration(s) from 9 finished trial run(s) of MLflow experiment `patch` "
                           "(2 pruned or failed, not in the table);")


# --- per-clip values: intervals over clips, paired differences ------------------------------------------------
CLIP_IDS = [f"c{i}" for i in range(12)]


def _clip_record(trial: int, arm: str, seed: int, per_clip: dict[str, float], metric: str = "bhs[0.2s]") -> RunRecord:
    record = _record(trial, {"arm": arm, "seed": seed}, {"bhs.0.2s": float(np.mean(list(per_clip.values())))})
    record.per_clip = {metric: per_clip}
    return record


@pytest.fixture
def paired_records() -> list[RunRecord]:
    """Arms on the same 12 clips, two seeds: `better` is `base` + 0.05 on every clip (plus seed noise that
    cancels); `same` is `base` with its seeds' noise; clip difficulty spreads 0.1–0.9, far above 0.05."""
    rng = np.random.default_rng(0)
    difficulty = dict(zip(CLIP_IDS, np.linspace(0.1, 0.9, 12), strict=True))
    rows, n = [], 0
    for seed in (0, 1):
        noise = {c: float(rng.normal(0, 0.01)) for c in CLIP_IDS}
        for arm, shift in (("base", 0.0), ("better", 0.05), ("same", 0.0)):
            values = {c: difficulty[c] + shift + noise[c] * (1 if arm != "same" else -1) for c in CLIP_IDS}
            rows.append(_clip_record(n, arm, seed, values))
            n += 1
    return rows


def test_cells_resample_clips_with_seeds_pooled_inside(paired_records) -> None:
    table = build_table(paired_records, "p", ("arm",), ("bhs[0.2s]",), {"bhs[0.2s]": "maximize"}, "cmd")
    cell = table.rows[0].cells["bhs[0.2s]"]  # base
    members = [r for r in paired_records if r.params["arm"] == "base"]
    clip_means = [np.mean([r.per_clip["bhs[0.2s]"][c] for r in members]) for c in sorted(CLIP_IDS)]
    low, high = bootstrap_mean_ci(np.array(clip_means), 0.95, 1000)
    assert cell.over == "clips" and cell.n_clips == 12 and cell.n == 2
    assert cell.mean == pytest.approx(np.mean(clip_means))
    assert (cell.low, cell.high) == pytest.approx((low, high))
    assert format_cell(cell).startswith(f"{cell.mean:.2f} [")


def test_paired_differences_find_a_shift_the_unpaired_intervals_hide(paired_records) -> None:
    table = build_table(paired_records, "p", ("arm",), ("bhs[0.2s]",), {"bhs[0.2s]": "maximize"}, "cmd",
                        baseline={"arm": "base"})
    rows = {row.values[0]: row for row in table.rows}
    base, better, same = rows["base"], rows["better"], rows["same"]
    # unpaired: the two intervals overlap (clip difficulty dominates) ...
    assert better.cells["bhs[0.2s]"].low < base.cells["bhs[0.2s]"].high
    # ... paired: the difference is 0.05 on every clip up to seed noise, and its interval excludes zero
    delta = better.deltas["bhs[0.2s]"]
    assert delta.mean == pytest.approx(0.05, abs=0.01) and delta.excludes_zero and delta.n_clips == 12
    assert not same.deltas["bhs[0.2s]"].excludes_zero and base.deltas == {}
    markdown = to_markdown(table)
    assert "| base (baseline) |" in markdown and "## Paired differences to the baseline" in markdown
    assert "differs from the baseline for better." in markdown and "Only 12 shared clips" not in markdown
    rows_csv = list(csv.DictReader(to_csv(table).splitlines()[1:]))
    assert [r["baseline"] for r in rows_csv] == ["true", "false", "false"]
    assert rows_csv[0]["bhs[0.2s]_delta"] == "" and float(rows_csv[1]["bhs[0.2s]_delta"]) == pytest.approx(delta.mean)
    assert float(rows_csv[1]["bhs[0.2s]_delta_lo"]) > 0
    assert r"$\Delta$ bhs[0.2s]" in to_latex(table)


def test_nothing_separates_is_said_in_words(paired_records) -> None:
    same_only = [r for r in paired_records if r.params["arm"] != "better"]
    table = build_table(same_only, "p", ("arm",), ("bhs[0.2s]",), {"bhs[0.2s]": "maximize"}, "cmd",
                        baseline={"arm": "base"})
    assert "no row's difference from the baseline excludes zero" in to_markdown(table)


def test_a_baseline_without_trials_yet_leaves_the_table_unpaired_and_says_so(paired_records) -> None:
    table = build_table(paired_records, "p", ("arm",), ("bhs[0.2s]",), {"bhs[0.2s]": "maximize"}, "cmd",
                        baseline={"arm": "nope"})
    assert not table.paired and all(row.deltas == {} for row in table.rows)
    assert table.notes == ["The baseline row arm=nope has no completed trial (yet), so no row is paired with it."]
    assert "Paired differences" not in to_markdown(table)


def test_binary_rates_pooled_over_seeds_get_a_wilson_interval() -> None:
    records = [_record(s, {"arm": "a", "seed": s}, {"tempo_acc.8pct": 1.0}) for s in (0, 1)]
    for r in records:
        r.per_clip = {"tempo_acc[8%]": {c: 1.0 for c in CLIP_IDS}}
    cell = build_table(records, "p", ("arm",), ("tempo_acc[8%]",), {"tempo_acc[8%]": "maximize"}, "cmd").rows[0].cells[
        "tempo_acc[8%]"]
    assert cell.mean == 1.0 and cell.high == pytest.approx(1.0)
    assert cell.low == pytest.approx(wilson_interval(12, 12)[0])  # 12/12 is not [1, 1]


def test_set_metrics_fall_back_to_seeds_and_are_not_paired(paired_records) -> None:
    for r in paired_records:
        r.metrics["fad.mel-stats"] = 1.0 + r.trial * 0.1
    table = build_table(paired_records, "p", ("arm",), ("fad[mel-stats]",), {"fad[mel-stats]": "minimize"}, "cmd",
                        baseline={"arm": "base"})
    assert all(row.cells["fad[mel-stats]"].over == "seeds" for row in table.rows)
    assert all(row.deltas.get("fad[mel-stats]") is None for row in table.rows)


def _windows_record(trial: int, arm: str, seed: int, reference: dict, generated: dict) -> RunRecord:
    from toolkit.reports.runs import Windows

    record = _record(trial, {"arm": arm, "seed": seed}, {"fad.mel-stats": 0.0})
    record.windows = Windows("mel-stats", reference, generated)
    return record


def test_fad_is_paired_from_the_runs_embedding_windows() -> None:
    from toolkit.metrics.fad import fad
    from toolkit.reports.paired_sets import paired_set_delta

    rng = np.random.default_rng(1)
    ids = [f"c{i:02d}" for i in range(20)]
    reference = {c: rng.normal(size=(4, 3)) for c in ids}
    close = {c: reference[c] + rng.normal(scale=0.1, size=(4, 3)) for c in ids}
    far = {c: close[c] + np.array([2.0, 0.0, 0.0]) for c in ids}  # every clip moved away along one axis
    base = [_windows_record(0, "base", 0, reference, close)]
    moved = [_windows_record(1, "moved", 0, reference, far)]
    delta = paired_set_delta(moved, base, "fad[mel-stats]", resamples=200)
    stack = lambda d: np.concatenate([d[c] for c in ids])  # noqa: E731
    expected = fad(stack(reference), stack(far)) - fad(stack(reference), stack(close))
    assert delta.mean == pytest.approx(expected) and delta.excludes_zero and delta.low > 0 and delta.n_clips == 20
    same = paired_set_delta(base, base, "fad[mel-stats]", resamples=50)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)
    assert paired_set_delta(moved, base, "fad[vggish]") is None  # the runs hold mel-stats windows
    assert paired_set_delta(moved, base, "fad_inf[mel-stats]") is None  # not recomputed per resample
    coverage = paired_set_delta(moved, base, "coverage[mel-stats,k5]", resamples=100)
    assert coverage.mean < 0 and coverage.excludes_zero  # the moved clips leave the reference's balls


def test_a_report_removes_plots_of_metrics_it_no_longer_draws(records, monkeypatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    import toolkit.reports.sweep_report as sweep_report

    monkeypatch.setattr(sweep_report, "sweep_runs", lambda spec: records)
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / "reports" / "patch" / "fad_vs_head.plan_refine.patch_size_old-name.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    spec = SimpleNamespace(name="patch", group_by=("head.plan_refine.patch_size",), report_metrics=("fad", "rtf"),
                           report_directions={"fad": "minimize", "rtf": "minimize"}, path=tmp_path / "patch.yaml",
                           trial="train-evaluate", experiment=tmp_path / "micro.yaml", baseline=None)
    written = sweep_report.write_sweep_report(spec, tmp_path / "reports")
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "reports" / "patch").glob("*.png")) == sorted(
        p.name for p in written if p.suffix == ".png")


def test_a_paired_table_on_few_clips_says_its_intervals_are_hints(paired_records) -> None:
    for record in paired_records:
        record.per_clip = {m: {c: v for c, v in values.items() if c in CLIP_IDS[:4]}
                           for m, values in record.per_clip.items()}
    table = build_table(paired_records, "p", ("arm",), ("bhs[0.2s]",), {"bhs[0.2s]": "maximize"}, "cmd",
                        baseline={"arm": "base"})
    assert "Only 4 shared clips: a bootstrap over so few clips covers less often than 95%" in to_markdown(table)
