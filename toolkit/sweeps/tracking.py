"""MLflow logging of a sweep: one experiment per sweep, one parent run per study, one nested run per trial.

The store (its URI, the runs' tags, how configs and metrics are written) is `toolkit.utils.mlflow_store`,
shared with training runs and reports. Trials are logged directly with
`mlflow.start_run(nested=True, parent_run_id=...)`, so worker processes can add runs under one parent.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit.errors import UserError
from toolkit.utils.mlflow_store import (
    REASON_TAG,
    ROLE_TAG,
    STATE_TAG,
    STUDY_TAG,
    TRIAL_TAG,
    experiment_id,
    find_study_run,
    flatten,
    numeric_metrics,
    open_mlflow,
    param_text,
    source_tags,
    tracking_uri,
)


def start_study_run(spec: Any, storage_label: str) -> str:
    """Find or create the parent run of the sweep's study and mark it running; returns its run id."""
    mlflow = open_mlflow()
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
    open_mlflow().MlflowClient().set_terminated(run_id, status)


def close_dead_runs(run_reasons: dict[str, str]) -> int:
    """End still-RUNNING trial runs whose worker died (run id → reason); returns how many were closed."""
    client = open_mlflow().MlflowClient()
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
    mlflow = open_mlflow()
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
