"""MLflow logging of a sweep: one experiment per sweep, one parent run per study, one nested run per trial.

The tracking URI is `$MLFLOW_TRACKING_URI` when set, else `sqlite:///mlflow.db` in the working directory (what
a plain `mlflow ui` there reads); artifacts go under `./mlruns`. Trials are logged directly with
`mlflow.start_run(nested=True, parent_run_id=...)`, so worker processes can add runs under one parent.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit.errors import UserError

STUDY_TAG = "v2m.study"  # on the parent run: the Optuna study name
ROLE_TAG = "v2m.role"  # "study" (parent) or "trial"
TRIAL_TAG = "v2m.trial_number"
STATE_TAG = "v2m.trial_state"  # COMPLETE, PRUNED or FAIL
REASON_TAG = "v2m.fail_reason"


_ours: str | None = None  # the URI this process gave MLflow (which copies it into $MLFLOW_TRACKING_URI)


def user_tracking_uri() -> str | None:
    """`$MLFLOW_TRACKING_URI` when the user set it (not merely MLflow echoing our own choice)."""
    value = os.environ.get("MLFLOW_TRACKING_URI")
    return value if value and value != _ours else None


def tracking_uri() -> str:
    """The user's `$MLFLOW_TRACKING_URI`, or the SQLite file `mlflow.db` in the working directory (as an
    absolute URI so worker processes agree on it)."""
    return user_tracking_uri() or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _mlflow() -> Any:
    import logging

    import mlflow

    # MLflow announces database migrations and new experiments at INFO; a sweep prints its own progress.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    global _ours
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    _ours = uri
    return mlflow


def experiment_id(name: str, create: bool = True) -> str | None:
    """The MLflow experiment of sweep `name` (created with artifacts under `./mlruns` when missing)."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    if not create:
        return None
    try:
        return client.create_experiment(name, artifact_location=(Path.cwd() / "mlruns").resolve().as_uri())
    except mlflow.exceptions.MlflowException:  # another process created it meanwhile
        return client.get_experiment_by_name(name).experiment_id


def find_study_run(experiment: str, study_name: str) -> str | None:
    """The parent run of `study_name` in `experiment`, or None."""
    client = _mlflow().MlflowClient()
    runs = client.search_runs(
        [experiment], filter_string=f"tags.`{STUDY_TAG}` = '{study_name}' and tags.`{ROLE_TAG}` = 'study'",
        order_by=["attributes.start_time ASC"], max_results=1,
    )
    return runs[0].info.run_id if runs else None


def start_study_run(spec: Any, storage_label: str) -> str:
    """Find or create the parent run of the sweep's study and mark it running; returns its run id."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient()
    experiment = experiment_id(spec.name)
    run_id = find_study_run(experiment, spec.name)
    if run_id is None:
        run = client.create_run(experiment, run_name=f"study-{spec.name}",
                                tags={STUDY_TAG: spec.name, ROLE_TAG: "study", **source_tags()})
        run_id = run.info.run_id
        params = {"sweep_file": str(spec.path), "experiment_file": str(spec.experiment), "trial": spec.trial,
                  "objective": ",".join(spec.metrics), "directions": ",".join(spec.directions),
                  "sampler": spec.study.sampler.type, "pruner": spec.study.pruner.type, "storage": storage_label}
        client.log_batch(run_id, params=[mlflow.entities.Param(k, v) for k, v in params.items()])
        client.log_artifact(run_id, str(spec.path))
    client.update_run(run_id, status="RUNNING")
    client.set_tag(run_id, "v2m.n_trials_target", str(spec.study.n_trials))
    return run_id


def end_study_run(run_id: str, status: str = "FINISHED") -> None:
    _mlflow().MlflowClient().set_terminated(run_id, status)


def close_dead_runs(run_reasons: dict[str, str]) -> int:
    """End still-RUNNING trial runs whose worker died (run id → reason); returns how many were closed."""
    client = _mlflow().MlflowClient()
    closed = 0
    for run_id, reason in run_reasons.items():
        try:
            run = client.get_run(run_id)
        except Exception:  # the run may live in another tracking store
            continue
        if run.info.status == "RUNNING":
            client.set_tag(run_id, STATE_TAG, "FAIL")
            client.set_tag(run_id, REASON_TAG, reason)
            client.set_terminated(run_id, "FAILED")
            closed += 1
    return closed


@functools.lru_cache(maxsize=1)
def source_tags() -> dict[str, str]:
    """Git commit of the toolkit's source (if it is a git checkout) and the toolkit version."""
    from toolkit import __version__

    tags = {"v2m.toolkit_version": __version__}  # callers copy it into dicts, never mutate it
    source = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True,
                                timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=source,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return tags
    if commit.returncode == 0:
        tags["mlflow.source.git.commit"] = commit.stdout.strip()
        tags["v2m.git_dirty"] = str(bool(dirty.stdout.strip())).lower()
    return tags


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → {"a.b.c": value}; lists stay whole (logged as their text)."""
    if not isinstance(tree, dict):
        return {prefix.rstrip("."): tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return flat


def numeric_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of a metrics dict; `[lo, hi]` pairs (e.g. `fad_ci`) become `<name>_lo/_hi`."""
    out: dict[str, float] = {}
    for key, value in flatten(metrics).items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[key] = float(value)
        elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
        ):
            out[f"{key}_lo"], out[f"{key}_hi"] = float(value[0]), float(value[1])
    return out


class TrialRun:
    """The nested MLflow run of one trial, open while the trial runs."""

    def __init__(self, mlflow: Any, run_id: str):
        self._mlflow, self.run_id = mlflow, run_id
        self._client = mlflow.MlflowClient()
        self.state: str | None = None

    def log_step(self, name: str, value: float, step: int) -> None:
        self._client.log_metric(self.run_id, name, float(value), step=int(step))

    def complete(self, result: Any, values: dict[str, Any]) -> None:
        """Log final metrics, per-step curves, the full metrics JSON and the trial's artifact files."""
        client = self._client
        for name, curve in result.step_metrics.items():
            for step, value in curve:
                client.log_metric(self.run_id, name, float(value), step=int(step))
        client.log_dict(self.run_id, _jsonable(result.metrics), "metrics.json")
        for name, value in numeric_metrics(result.metrics).items():
            client.log_metric(self.run_id, name, value)
        missing = []
        for path in map(Path, result.artifacts):
            if path.is_dir():
                client.log_artifacts(self.run_id, str(path), artifact_path=path.name)
            elif path.is_file():
                client.log_artifact(self.run_id, str(path))
            else:
                missing.append(str(path))
        if missing:
            client.set_tag(self.run_id, "v2m.missing_artifacts", ", ".join(missing)[:5000])
            print(f"warning: trial artifacts not found: {', '.join(missing)}", file=sys.stderr)
        client.set_tag(self.run_id, STATE_TAG, "COMPLETE")
        self.state = "COMPLETE"

    def stop(self, state: str, reason: str) -> None:
        """Mark a pruned or failed trial; its run ends KILLED (pruned) or FAILED."""
        self._client.set_tag(self.run_id, STATE_TAG, state)
        self.state = state
        self._client.set_tag(self.run_id, REASON_TAG, reason[:5000])


@contextmanager
def trial_run(experiment: str, parent_run_id: str, number: int, config: dict[str, Any],
              values: dict[str, Any]) -> Iterator[TrialRun]:
    """Open the nested run of trial `number`: tags, flattened config as params, resolved config artifact.

    The run ends FINISHED when the block exits normally, KILLED when its state tag says PRUNED, FAILED on
    an exception or a FAIL state."""
    mlflow = _mlflow()
    label = ", ".join(f"{k}={v}" for k, v in values.items())
    tags = {ROLE_TAG: "trial", TRIAL_TAG: str(number), "v2m.params": label[:5000], **source_tags()}
    try:
        active = mlflow.start_run(experiment_id=experiment, run_name=f"trial-{number:03d}", nested=True,
                                  parent_run_id=parent_run_id, tags=tags)
    except mlflow.exceptions.MlflowException as err:
        raise UserError(f"MLflow at {tracking_uri()}: {str(err).splitlines()[0]}") from None
    run = TrialRun(mlflow, active.info.run_id)
    status = "FAILED"
    try:
        params = {k: param_text(v) for k, v in flatten(config).items()}
        mlflow.log_params(params)
        mlflow.log_dict(config, "config.yaml")
        yield run
        status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(run.state or "", "FAILED")
    finally:
        mlflow.end_run(status)


def param_text(value: Any, limit: int = 6000) -> str:
    """A config value as an MLflow param string (lists and dicts as JSON), cut to MLflow's length limit."""
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
