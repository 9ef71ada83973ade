"""The toolkit's MLflow store, shared by sweeps, training runs and reports: where it is, the tags its runs
carry, and how configs and metrics are written into it.

The tracking URI is `$MLFLOW_TRACKING_URI` when set, else `sqlite:///mlflow.db` in the working directory (what
a plain `mlflow ui` there reads); artifacts go under `./mlruns`. It sits in `utils` so that training and
reports reach the store without importing the sweep machinery (`toolkit.sweeps.tracking` logs studies and
trials through it).
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

# On a sweep's runs: the study's parent run and each trial's nested run (reports read them back).
STUDY_TAG = "v2m.study"  # on the parent run: the Optuna study name
ROLE_TAG = "v2m.role"  # "study" (parent) or "trial"; a training run's is "train"
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


def open_mlflow() -> Any:
    """The `mlflow` module, pointed at `tracking_uri()` (MLflow's INFO chatter silenced)."""
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
    """The MLflow experiment `name` (a sweep's or a training run's), created with artifacts under `./mlruns`
    when missing and `create`; None when missing and not `create`."""
    mlflow = open_mlflow()
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
    """The parent run of the sweep study `study_name` in `experiment`, or None."""
    client = open_mlflow().MlflowClient()
    runs = client.search_runs(
        [experiment], filter_string=f"tags.`{STUDY_TAG}` = '{study_name}' and tags.`{ROLE_TAG}` = 'study'",
        order_by=["attributes.start_time ASC"], max_results=1,
    )
    return runs[0].info.run_id if runs else None


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


def param_text(value: Any, limit: int = 6000) -> str:
    """A config value as an MLflow param string (lists and dicts as JSON), cut to MLflow's length limit."""
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
