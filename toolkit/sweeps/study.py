"""The Optuna study of a sweep, and one worker's loop that tops it up to its target.

`study.n_trials` is a target, not a count to add: a worker runs trials only while the study holds fewer.
What counts towards the target:
- COMPLETE and PRUNED trials;
- FAIL trials that failed on their own (the trial raised, returned no objective value, or a retried trial ran
  out of retries): the configuration was tried, the reason is in the trial's `fail_reason` user attribute,
  and re-running the sweep does not try it again;
- not a FAIL trial that was re-queued: a trial whose worker died (stale heartbeat, or its process is gone)
  or was interrupted (Ctrl-C) is re-queued as a WAITING copy with the same parameters, and the copy counts
  instead. Grid duplicates (two workers racing for the last point) do not count either.
RUNNING and WAITING trials are work in hand: a worker starts a new trial only when counted + running +
waiting is below the target, and always picks up a WAITING one first. So a killed sweep finishes where it
stopped, and a finished one runs nothing.

Each trial works in `trials/<sweep>/<number>`. A FAIL trial's folder is deleted (its re-queued copy, if any,
runs in a folder of its own; what a failure is worth keeping is its reason): workers delete them before
each trial, so a killed sweep's half-written checkpoints go when it is resumed.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from toolkit.errors import UserError
from toolkit.reports.directions import storage_key
from toolkit.sweeps.spec import SweepSpec
from toolkit.sweeps.storage import RetryCallback, mark_worker
from toolkit.sweeps.trial import Trial, TrialResult

FAIL_REASON = "fail_reason"
DUPLICATE_OF = "duplicate_of"
METRICS_ATTR = "metrics"
FINGERPRINT_ATTR = "v2m_fingerprint"


@dataclass
class Progress:
    """Where a study stands against its target."""

    complete: int = 0
    pruned: int = 0
    failed: int = 0  # failed on their own; counted
    requeued: int = 0  # failed because their worker died or was interrupted; a WAITING copy stands in
    duplicates: int = 0
    running: int = 0
    waiting: int = 0

    @property
    def counted(self) -> int:
        return self.complete + self.pruned + self.failed

    def __str__(self) -> str:
        text = f"{self.complete} complete, {self.pruned} pruned, {self.failed} failed"
        extra = [f"{n} {label}" for n, label in ((self.running, "running"), (self.waiting, "queued"),
                                                  (self.requeued, "re-queued: worker died or was interrupted"),
                                                  (self.duplicates, "duplicate")) if n]
        return text + (f" ({', '.join(extra)})" if extra else "")


def requeued_numbers(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of trials that a later trial retries (from Optuna's retry history)."""
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def counts_towards_target(trial: FrozenTrial, requeued: set[int]) -> bool:
    """The module docstring's rule for one finished trial."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and trial.number not in requeued and DUPLICATE_OF not in trial.user_attrs


def progress(study: optuna.Study) -> Progress:
    trials = study.get_trials(deepcopy=False)
    requeued = requeued_numbers(trials)
    state = Progress()
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            state.complete += 1
        elif trial.state == TrialState.PRUNED:
            state.pruned += 1
        elif trial.state == TrialState.RUNNING:
            state.running += 1
        elif trial.state == TrialState.WAITING:
            state.waiting += 1
        elif DUPLICATE_OF in trial.user_attrs:
            state.duplicates += 1
        elif trial.number in requeued:
            state.requeued += 1
        else:
            state.failed += 1
    return state


def make_sampler(spec: SweepSpec, worker_index: int = 0) -> optuna.samplers.BaseSampler:
    sampler = spec.study.sampler
    if sampler.type == "grid":  # the seed shuffles the grid's order: every worker must use the same one
        return optuna.samplers.GridSampler(spec.grid, seed=sampler.seed or 0)
    seed = None if sampler.seed is None else sampler.seed + worker_index
    if sampler.type == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def pruning_enabled(spec: SweepSpec) -> bool:
    """Optuna prunes single-objective studies only; with several metrics the pruner is ignored."""
    return spec.study.pruner.type != "none" and len(spec.metrics) == 1


def make_pruner(spec: SweepSpec) -> optuna.pruners.BasePruner:
    pruner = spec.study.pruner
    if not pruning_enabled(spec):
        return optuna.pruners.NopPruner()
    if pruner.type == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=pruner.n_startup_trials,
                                           n_warmup_steps=pruner.n_warmup_steps)
    return optuna.pruners.HyperbandPruner()


def open_study(spec: SweepSpec, storage: BaseStorage, worker_index: int = 0) -> optuna.Study:
    """Create the study named after the sweep, or load it; refuses one made from a different search space."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # workers print their own one-line progress
    try:
        study = optuna.create_study(storage=storage, study_name=spec.name, directions=list(spec.directions),
                                    sampler=make_sampler(spec, worker_index), pruner=make_pruner(spec),
                                    load_if_exists=True)
    except ValueError as err:
        raise UserError(f"{spec.path}: study {spec.name}: {str(err).splitlines()[0]}") from None
    recorded = study.user_attrs.get(FINGERPRINT_ATTR)
    if recorded is None:
        study.set_user_attr(FINGERPRINT_ATTR, spec.fingerprint())
    elif recorded != spec.fingerprint() or [d.name.lower() for d in study.directions] != list(spec.directions):
        raise UserError(f"{spec.path}: the stored study {spec.name!r} has a different search space or objective; "
                        "give the sweep a new name, or delete its journal to start over")
    return study


def trial_dir(workdir: Path, sweep: str, number: int) -> Path:
    """The folder trial `number` of sweep `sweep` works in."""
    return Path(workdir) / "trials" / sweep / f"{number:04d}"


def remove_failed_trial_dirs(study: optuna.Study, workdir: Path, sweep: str) -> int:
    """Delete the folders of FAIL trials (the module docstring says why); returns how many went."""
    removed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        folder = trial_dir(workdir, sweep, trial.number)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class Objective:
    """Runs one trial: sample → config → trial function → objective values, logged to MLflow."""

    def __init__(self, spec: SweepSpec, trial_fn: Trial, workdir: Path, experiment_id: str, parent_run_id: str,
                 retry: RetryCallback, log: Callable[[str], None]):
        self.spec, self.trial_fn, self.workdir = spec, trial_fn, workdir
        self.experiment_id, self.parent_run_id = experiment_id, parent_run_id
        self.retry, self.log = retry, log
        self.last_was_duplicate = False

    def __call__(self, trial: optuna.Trial) -> Any:
        from toolkit.config import load_config, to_dict
        from toolkit.sweeps import tracking
        from toolkit.utils import mlflow_store

        self.last_was_duplicate = False
        mark_worker(trial.study._storage, trial._trial_id)
        values = {name: dist.suggest(trial, name) for name, dist in self.spec.params.items()}
        label = ", ".join(f"{k}={v}" for k, v in values.items())
        duplicate = self._duplicate_of(trial, values)
        if duplicate is not None:
            self.last_was_duplicate = True
            trial.set_user_attr(DUPLICATE_OF, duplicate)
            trial.set_user_attr(FAIL_REASON, f"duplicate of trial {duplicate} (grid point taken by another worker)")
            self.log(f"trial {trial.number} [{label}]: skipped, trial {duplicate} has these parameters")
            return None  # Optuna records FAIL; not counted
        cfg = load_config(self.spec.experiment, self.spec.overrides(values))
        workdir = trial_dir(self.workdir, self.spec.name, trial.number)
        start = time.perf_counter()
        self.log(f"trial {trial.number} [{label}]: started")
        with tracking.trial_run(self.experiment_id, self.parent_run_id, trial.number, to_dict(cfg), values) as run:
            trial.set_user_attr("mlflow_run_id", run.run_id)
            try:
                result = self.trial_fn(cfg, _Reporter(trial, run, self.spec), workdir)
                objective = self._objective_values(result)
            except optuna.TrialPruned as err:
                run.stop("PRUNED", str(err) or "pruned")
                self.log(f"trial {trial.number} [{label}]: pruned ({err})")
                raise
            except KeyboardInterrupt:
                run.stop("FAIL", "interrupted")
                self.retry(trial.study, trial.study._storage.get_trial(trial._trial_id))  # re-queue it
                raise
            except Exception as err:
                reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
                trial.set_user_attr(FAIL_REASON, reason)
                run.stop("FAIL", reason)
                self.log(f"trial {trial.number} [{label}]: failed — {reason}")
                return None
            run.complete(result, values)
        seconds = time.perf_counter() - start
        trial.set_user_attr(METRICS_ATTR, mlflow_store.numeric_metrics(result.metrics))
        trial.set_user_attr("seconds", round(seconds, 3))
        shown = ", ".join(f"{m}={v:.4g}" for m, v in zip(self.spec.metrics, objective, strict=True))
        self.log(f"trial {trial.number} [{label}]: complete, {shown} ({seconds:.1f} s)")
        return objective if len(objective) > 1 else objective[0]

    def _objective_values(self, result: TrialResult) -> list[float]:
        if not isinstance(result, TrialResult):
            raise TypeError(f"the trial returned {type(result).__name__}, not a TrialResult")
        values = []
        for name in self.spec.metrics:
            value = result.metrics.get(storage_key(name))
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"objective metric {name} is {value!r} (metrics: {', '.join(result.metrics)})")
            values.append(float(value))
        return values

    def _duplicate_of(self, trial: optuna.Trial, values: dict[str, Any]) -> int | None:
        """For a grid: an earlier trial (counted, running or queued) with the same parameters."""
        if self.spec.study.sampler.type != "grid":
            return None
        trials = trial.study.get_trials(deepcopy=False)
        requeued = requeued_numbers(trials)
        for other in trials:
            if other.number >= trial.number or other.params != values:
                continue
            if other.state in (TrialState.RUNNING, TrialState.WAITING) or counts_towards_target(other, requeued):
                return other.number
        return None


class _Reporter:
    """The `report(step, value, name)` callback handed to a trial: logs to MLflow, feeds the pruner."""

    def __init__(self, trial: optuna.Trial, run: Any, spec: SweepSpec):
        self.trial, self.run = trial, run
        self.prune = pruning_enabled(spec)
        self.pruned_name: str | None = None  # the pruner follows the first curve the trial reports

    def __call__(self, step: int, value: float, name: str = "val_loss") -> None:
        self.run.log_step(name, value, step)
        if not self.prune:
            return
        self.pruned_name = self.pruned_name or name
        if name != self.pruned_name:
            return
        self.trial.report(float(value), int(step))
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"at step {step}, {name}={value:.4g}")


def run_worker(spec: SweepSpec, storage: BaseStorage, workdir: Path, experiment_id: str, parent_run_id: str,
               trial_fn: Trial, worker_index: int = 0, log: Callable[[str], None] | None = None) -> int:
    """Run trials until the study holds its target (see the module docstring); returns how many ran here."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    study = open_study(spec, storage, worker_index)
    retry = storage.get_heartbeat_stale_trial_callback() or RetryCallback(spec.study.max_retry)
    objective = Objective(spec, trial_fn, workdir, experiment_id, parent_run_id, retry, log)
    ran = duplicates_in_a_row = 0
    while True:
        fail_stale_trials(study)
        remove_failed_trial_dirs(study, workdir, spec.name)
        state = progress(study)
        if state.waiting == 0 and state.counted + state.running >= spec.study.n_trials:
            return ran
        study.optimize(objective, n_trials=1, gc_after_trial=False)
        ran += 1
        duplicates_in_a_row = duplicates_in_a_row + 1 if objective.last_was_duplicate else 0
        if duplicates_in_a_row > spec.grid_size:  # a safety stop; races yield one or two at most
            log(f"stopping: {duplicates_in_a_row} duplicate grid points in a row")
            return ran
