"""The sweep file: which experiment to vary, how, towards which objective, and how to report it.

    name: text_dropout
    experiment: experiments/micro.yaml      # relative to the working directory or to the sweep's folders
    objective: {metrics: [fad], directions: [minimize]}
    study: {n_trials: 6, sampler: {type: grid, seed: 0}, pruner: {type: median, n_warmup_steps: 1}}
    params:
      train.text_dropout: choice(0.0, 0.1, 0.3)
      seed: choice(0, 1)
    report: {group_by: [train.text_dropout], metrics: [fad, kl, {my_metric: maximize}]}

Optional keys: `trial` (the registered trial to run; default `train-evaluate`), and under `study`
`heartbeat_interval`, `grace_period` (seconds) and `max_retry` (re-runs of a trial whose worker died).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config.load import read_yaml_mapping
from toolkit.errors import UserError
from toolkit.metrics.registry import METRICS, canonical
from toolkit.reports.directions import MAXIMIZE, MINIMIZE, known_direction
from toolkit.reports.table import row_label
from toolkit.sweeps.syntax import Choice, Distribution, SweepSyntaxError, is_expression, parse

SAMPLERS = ("grid", "tpe", "random")
PRUNERS = ("none", "median", "hyperband")
DEFAULT_TRIAL = "train-evaluate"
DEFAULT_TRIALS = 20  # target for tpe/random when the file gives none; a grid defaults to its size
# What `train-evaluate` reports besides the metrics suite's (every registered metric, named as the experiment's
# evaluation settings name it): the trainer's losses and parameter counts. A trial may declare its own as a
# `metrics` attribute; names ending in `*` are prefixes. A trial that declares none is not checked.
TRAIN_EVALUATE_METRICS = ("loss", "val_loss", "params_*", "aux.*", "val_aux.*")

_SCHEMA: dict[str, Any] = {
    "name": None,
    "experiment": None,
    "trial": None,
    "objective": {"metrics": None, "directions": None},
    "study": {
        "n_trials": None,
        "sampler": {"type": None, "seed": None},
        "pruner": {"type": None, "n_warmup_steps": None, "n_startup_trials": None},
        "heartbeat_interval": None,
        "grace_period": None,
        "max_retry": None,
    },
    "params": None,
    "report": {"group_by": None, "metrics": None, "baseline": None},
}


@dataclass(frozen=True)
class SamplerSpec:
    """Optuna sampler choice; `seed` makes tpe/random reproducible (each extra worker offsets it by one)."""

    type: str = "tpe"
    seed: int | None = None


@dataclass(frozen=True)
class PrunerSpec:
    """Optuna pruner choice; trials feed it through `report(step, value)`."""

    type: str = "none"
    n_warmup_steps: int = 0
    n_startup_trials: int = 5


@dataclass(frozen=True)
class StudySpec:
    """How many trials the study should hold, how they are chosen and stopped, and dead-worker detection."""

    n_trials: int
    sampler: SamplerSpec = field(default_factory=SamplerSpec)
    pruner: PrunerSpec = field(default_factory=PrunerSpec)
    heartbeat_interval: int = 60
    grace_period: int = 180
    max_retry: int = 3


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated sweep file."""

    path: Path
    name: str
    experiment: Path
    trial: str
    metrics: tuple[str, ...]
    directions: tuple[str, ...]
    study: StudySpec
    params: dict[str, Distribution]
    fixed: dict[str, Any]
    group_by: tuple[str, ...]
    report_metrics: tuple[str, ...]
    report_directions: dict[str, str]
    baseline: dict[str, str] | None = None  # the report row the others are compared with: group_by key → value

    @property
    def grid(self) -> dict[str, list[Any]]:
        """The grid sampler's search space (every param is a `Choice` when the sampler is grid)."""
        return {k: list(d.values) for k, d in self.params.items() if isinstance(d, Choice)}

    @property
    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid.values())

    def overrides(self, values: dict[str, Any]) -> list[str]:
        """`key=value` overrides for the fixed keys plus one trial's sampled `values`."""
        return [f"{key}={format_value(value)}" for key, value in {**self.fixed, **values}.items()]

    def fingerprint(self) -> str:
        """What must not change under a study that already has trials: the search space and objective."""
        space = {k: repr(v) for k, v in sorted(self.params.items())}
        return json.dumps({"params": space, "metrics": self.metrics, "directions": self.directions})


def format_value(value: Any) -> str:
    """A value as the right-hand side of a `key=value` override (strings quoted, None as null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def load_sweep(path: str | Path, n_trials: int | None = None) -> SweepSpec:
    """Read and validate a sweep file; `n_trials` (from `--trials`) replaces the file's target.

    Every problem raises `UserError` with one line naming the file and the key.
    """
    path = Path(path)
    raw = read_yaml_mapping(path, kind="sweep")
    _check_keys(raw, _SCHEMA, path, "")
    return _Reader(path, raw).read(n_trials)


def _check_keys(raw: dict, schema: dict, path: Path, prefix: str) -> None:
    for key, value in raw.items():
        full = f"{prefix}{key}"
        if key not in schema:
            known = [f"{prefix}{k}" for k in schema]
            match = difflib.get_close_matches(full, known, n=1, cutoff=0.6)
            hint = f" — did you mean {match[0]}?" if match else f" (expected one of: {', '.join(known)})"
            raise UserError(f"{path}: unknown key {full}{hint}")
        if isinstance(schema[key], dict):
            if not isinstance(value, dict):
                raise UserError(f"{path}: {full}: expected a mapping, got {value!r}")
            _check_keys(value, schema[key], path, f"{full}.")


class _Reader:
    def __init__(self, path: Path, raw: dict):
        self.path, self.raw = path, raw

    def fail(self, key: str, message: str) -> UserError:
        return UserError(f"{self.path}: {key}: {message}")

    def read(self, n_trials: int | None) -> SweepSpec:
        name = self.raw.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise self.fail("name", f"expected a file-name-safe name (letters, digits, _ . -), got {name!r}")
        experiment = self._experiment()
        trial = self.raw.get("trial", DEFAULT_TRIAL)
        if not isinstance(trial, str):
            raise self.fail("trial", f"expected the name of a registered trial, got {trial!r}")
        self.options = self._evaluation_options(experiment)
        metrics, directions = self._objective()
        self._check_reported(trial, metrics)
        params, fixed = self._params(experiment)
        sampler = self._sampler()
        study = self._study(sampler, params, n_trials)
        group_by, report_metrics, report_directions = self._report(experiment, params, metrics, directions)
        baseline = self._baseline(group_by)
        return SweepSpec(self.path, name, experiment, trial, metrics, directions, study, params, fixed,
                         group_by, report_metrics, report_directions, baseline)

    def _evaluation_options(self, experiment: Path) -> Any:
        """The experiment's `evaluation` settings: they decide what each suite metric is called."""
        from omegaconf import OmegaConf

        from toolkit.config import load_config
        from toolkit.config.sections.evaluation import EvalConfig

        try:
            return EvalConfig(**OmegaConf.to_container(load_config(experiment).evaluation, resolve=True))
        except UserError as err:
            raise self.fail("experiment", str(err)) from None

    def _metric_name(self, name: str, where: str) -> str:
        """`name` as the trial reports it: a suite metric at the experiment's convention (`fad` →
        `fad[mel-stats]`; old names are aliases), checked against what that convention reports."""
        try:
            shown = canonical(name, self.options)
        except UserError as err:
            raise self.fail(where, str(err)) from None
        base = shown.partition("[")[0]
        if base in METRICS:
            reported = METRICS.get(base)().names(self.options)
            if shown not in reported:
                raise self.fail(where, f"{name}: the experiment's evaluation settings report {', '.join(reported)}")
        return shown

    def _baseline(self, group_by: tuple[str, ...]) -> dict[str, str] | None:
        value = (self.raw.get("report") or {}).get("baseline")
        if value is None:
            return None
        if not isinstance(value, dict):
            if len(group_by) != 1:
                raise self.fail("report.baseline", f"expected a mapping of {', '.join(group_by)} to row values")
            value = {group_by[0]: value}
        unknown = [k for k in value if k not in group_by]
        if unknown or set(value) != set(group_by):
            raise self.fail("report.baseline", f"expected one value for each of {', '.join(group_by)}, got "
                            f"{', '.join(map(str, value)) or 'none'}")
        return {str(k): row_label(v) for k, v in value.items()}

    def _experiment(self) -> Path:
        value = self.raw.get("experiment")
        if not isinstance(value, str):
            raise self.fail("experiment", "expected the path of an experiment file")
        candidate = Path(value)
        if candidate.is_absolute():
            places = [candidate]
        else:  # the working directory, then the sweep file's folder and its parent (repo-root layout)
            places = [Path.cwd() / candidate, self.path.parent / candidate, self.path.parent.parent / candidate]
        for place in places:
            if place.is_file():
                return place.resolve()
        raise self.fail("experiment", f"{value}: no such experiment file")

    def _objective(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        section = self.raw.get("objective")
        if not isinstance(section, dict) or "metrics" not in section:
            raise self.fail("objective", "expected {metrics: [...], directions: [...]}")
        metrics = _string_list(section["metrics"])
        if not metrics:
            raise self.fail("objective.metrics", "expected one metric name or a list of them")
        metrics = [self._metric_name(m, "objective.metrics") for m in metrics]
        raw_directions = section.get("directions")
        if raw_directions is None:
            unknown = [m for m in metrics if known_direction(m) is None]
            if unknown:
                raise self.fail("objective.directions", f"no known direction for {unknown[0]}; list directions")
            return tuple(metrics), tuple(known_direction(m) for m in metrics)
        directions = _string_list(raw_directions)
        if directions is None or len(directions) != len(metrics):
            raise self.fail("objective.directions", f"expected {len(metrics)} direction(s), one per metric")
        for direction in directions:
            if direction not in (MINIMIZE, MAXIMIZE):
                raise self.fail("objective.directions", f"{direction!r} is not minimize or maximize")
        return tuple(metrics), tuple(directions)

    def _check_reported(self, trial: str, metrics: tuple[str, ...]) -> None:
        """Each objective metric is one the trial reports, so a typo fails now, not as a failed trial."""
        from toolkit.sweeps.trial import get_trial

        try:
            reported = getattr(get_trial(trial), "metrics", None)
        except UserError as err:
            raise self.fail("trial", str(err)) from None
        if reported is None and trial == DEFAULT_TRIAL:
            reported = TRAIN_EVALUATE_METRICS
        if reported is None:
            return
        exact = [n for n in reported if not n.endswith("*")]
        prefixes = [n[:-1] for n in reported if n.endswith("*")]
        if trial == DEFAULT_TRIAL:  # and the suite's metrics, named as the experiment's settings name them
            exact += [n for base in METRICS.names() for n in METRICS.get(base)().names(self.options)]
        for name in metrics:
            if name not in exact and not any(name.startswith(p) for p in prefixes):
                bases = METRICS.names() if trial == DEFAULT_TRIAL else []
                close = difflib.get_close_matches(name, exact + bases, n=1)
                suggestion = canonical(close[0], self.options) if close else ""
                hint = f" — did you mean {suggestion}?" if close else f" (one of: {', '.join(reported)})"
                raise self.fail("objective.metrics", f"trial {trial!r} reports no metric {name!r}{hint}")

    def _params(self, experiment: Path) -> tuple[dict[str, Distribution], dict[str, Any]]:
        section = self.raw.get("params")
        if not isinstance(section, dict) or not section:
            raise self.fail("params", "expected a mapping of config keys to choice(...), interval(...), ...")
        params: dict[str, Distribution] = {}
        fixed: dict[str, Any] = {}
        for key, text in section.items():
            key = str(key)
            if is_expression(text):
                try:
                    params[key] = parse(text)
                except SweepSyntaxError as err:
                    raise self.fail(f"params.{key}", f"malformed {text!r}: {err}") from None
            elif isinstance(text, str) and re.match(r"\s*\w+\s*\(", text):
                raise self.fail(f"params.{key}", f"unknown function in {text!r} (choice, range, interval, int, tag)")
            else:
                fixed[key] = text
        # Every trial runs the fixed values plus one of each param's: check each value that way, so a bad one
        # fails now rather than as a failed trial (values combined across params are checked when trials run).
        base: list[str] = []
        for key, value in fixed.items():
            base.append(f"{key}={format_value(value)}")
            self._loads(experiment, base, key)
        for key, distribution in params.items():
            for value in distribution.examples():
                self._loads(experiment, [*base, f"{key}={format_value(value)}"], key)
        if not params:
            raise self.fail("params", "nothing to sweep: no choice(...), range(...) or interval(...)")
        return params, fixed

    def _loads(self, experiment: Path, overrides: list[str], key: str) -> None:
        from toolkit.config import load_config

        try:
            load_config(experiment, overrides)
        except UserError as err:
            raise self.fail(f"params.{key}", str(err)) from None

    def _sampler(self) -> SamplerSpec:
        section = (self.raw.get("study") or {}).get("sampler") or {}
        kind = section.get("type", "tpe")
        if kind not in SAMPLERS:
            raise self.fail("study.sampler.type", f"unknown sampler {kind!r} (one of: {', '.join(SAMPLERS)})")
        seed = section.get("seed")
        if seed is not None and not _is_int(seed):
            raise self.fail("study.sampler.seed", f"expected an integer, got {seed!r}")
        return SamplerSpec(kind, seed)

    def _study(self, sampler: SamplerSpec, params: dict[str, Distribution], n_trials: int | None) -> StudySpec:
        section = self.raw.get("study") or {}
        if sampler.type == "grid":
            intervals = [k for k, d in params.items() if not isinstance(d, Choice)]
            if intervals:
                raise self.fail(f"params.{intervals[0]}", "the grid sampler needs choice(...) or range(...)")
        pruner_section = section.get("pruner") or {}
        kind = pruner_section.get("type", "none")
        if kind not in PRUNERS:
            raise self.fail("study.pruner.type", f"unknown pruner {kind!r} (one of: {', '.join(PRUNERS)})")
        numbers = {}
        for key, default in (("n_warmup_steps", 0), ("n_startup_trials", 5)):
            numbers[key] = self._whole(pruner_section, key, default, f"study.pruner.{key}", minimum=0)
        pruner = PrunerSpec(kind, **numbers)
        grid_size = math.prod(len(d.values) for d in params.values()) if sampler.type == "grid" else None
        target = n_trials if n_trials is not None else section.get("n_trials", grid_size or DEFAULT_TRIALS)
        if not _is_int(target) or target < 1:
            raise self.fail("study.n_trials", f"expected a positive integer, got {target!r}")
        if grid_size is not None:
            target = min(target, grid_size)  # a grid study is complete once every point ran
        interval = self._whole(section, "heartbeat_interval", 60, "study.heartbeat_interval", minimum=1)
        grace = self._whole(section, "grace_period", max(180, 2 * interval), "study.grace_period", minimum=1)
        if grace <= interval:
            raise self.fail("study.grace_period", f"must exceed heartbeat_interval ({interval} s)")
        max_retry = self._whole(section, "max_retry", 3, "study.max_retry", minimum=0)
        return StudySpec(target, sampler, pruner, interval, grace, max_retry)

    def _whole(self, section: dict, key: str, default: int, where: str, minimum: int) -> int:
        value = section.get(key, default)
        if not _is_int(value) or value < minimum:
            raise self.fail(where, f"expected an integer ≥ {minimum}, got {value!r}")
        return int(value)

    def _report(self, experiment: Path, params: dict, metrics: tuple[str, ...], directions: tuple[str, ...]):
        from toolkit.config import load_config
        from toolkit.config.keys import key_paths, present_paths, suggest

        section = self.raw.get("report") or {}
        default_group = [k for k in params if k != "seed"] or list(params)
        group_by = _string_list(section.get("group_by", default_group))
        if not group_by:
            raise self.fail("report.group_by", "expected a config key or a list of them")
        loaded = load_config(experiment)
        known = sorted(set(key_paths(loaded)) | set(present_paths(loaded)))
        for key in group_by:
            if key not in known:
                raise self.fail("report.group_by", f"unknown config key {key}{suggest(key, known)}")
        resolved = dict(zip(metrics, directions, strict=True))
        entries = section.get("metrics", list(metrics))
        if isinstance(entries, (str, dict)):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise self.fail("report.metrics", "expected a list of metric names or {name: direction}")
        names = []
        for entry in entries:
            if isinstance(entry, dict) and len(entry) == 1:
                (name, direction), = entry.items()
                if direction not in (MINIMIZE, MAXIMIZE):
                    raise self.fail("report.metrics", f"{name}: {direction!r} is not minimize or maximize")
                name = self._metric_name(str(name), "report.metrics")
                resolved[name] = direction
            elif isinstance(entry, str):
                name = self._metric_name(entry, "report.metrics")
                if name not in resolved and known_direction(name) is None:
                    raise self.fail("report.metrics", f"no known direction for {name}; write {{{name}: maximize}}")
                resolved.setdefault(name, known_direction(name) or MINIMIZE)
            else:
                raise self.fail("report.metrics", f"expected a name or {{name: direction}}, got {entry!r}")
            names.append(str(name))
        return tuple(group_by), tuple(names), {n: resolved[n] for n in names}


def _string_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
