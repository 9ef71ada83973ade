"""Read a sweep's trial runs back from MLflow (the source of every report)."""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.errors import UserError

EVALUATION_ARTIFACT = "evaluation.json"  # what the train-evaluate trial logs: the suite's result with per-clip values


@dataclass
class RunRecord:
    """One trial's MLflow run: its flattened config (as logged, text), final metrics and outcome."""

    trial: int
    params: dict[str, str]
    metrics: dict[str, float]
    state: str  # COMPLETE, PRUNED, FAIL, or "" for a run whose worker died mid-trial
    reason: str = ""
    label: str = ""  # the sampled parameters, "key=value, ..."
    tags: dict[str, str] = field(default_factory=dict)
    per_clip: dict[str, dict[str, float]] = field(default_factory=dict)  # metric → clip id → value


def sweep_runs(spec) -> list[RunRecord]:
    """Every trial run under the study run of `spec`, ordered by trial number."""
    from pathlib import Path

    from toolkit.utils import mlflow_store as store

    if store.user_tracking_uri() is None and not (Path.cwd() / "mlflow.db").is_file():
        raise UserError(f"{spec.path}: no mlflow.db in {Path.cwd()} (and MLFLOW_TRACKING_URI is unset); run "
                        f"`toolkit sweep {spec.path}` here first")
    mlflow = store.open_mlflow()
    experiment = store.experiment_id(spec.name, create=False)
    parent = store.find_study_run(experiment, spec.name) if experiment is not None else None
    if parent is None:
        raise UserError(f"{spec.path}: no MLflow runs of sweep {spec.name!r} at {store.tracking_uri()}; "
                        f"run `toolkit sweep {spec.path}` first")
    client = mlflow.MlflowClient()
    records, token = [], None
    while True:
        page = client.search_runs([experiment], filter_string=f"tags.mlflow.parentRunId = '{parent}'",
                                  max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            state = tags.get(store.STATE_TAG, "")
            records.append(RunRecord(
                trial=int(tags.get(store.TRIAL_TAG, -1)), params=dict(run.data.params),
                metrics=dict(run.data.metrics), state=state,
                reason=tags.get(store.REASON_TAG, ""), label=tags.get("v2m.params", ""), tags=dict(tags),
                per_clip=_per_clip(client, run.info) if state == "COMPLETE" else {},
            ))
        token = page.token
        if not token:
            break
    return sorted(records, key=lambda r: r.trial)


def _per_clip(client, info) -> dict[str, dict[str, float]]:
    """The per-clip values of a trial's `evaluation.json` artifact (the metrics suite's result); {} without it.
    A local artifact store is read in place; another is downloaded."""
    import json
    import tempfile
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    location = urlparse(info.artifact_uri)
    if location.scheme in ("", "file"):
        path = Path(unquote(location.path)) / EVALUATION_ARTIFACT
        text = path.read_text(encoding="utf-8") if path.is_file() else None
    elif EVALUATION_ARTIFACT in {a.path for a in client.list_artifacts(info.run_id)}:
        with tempfile.TemporaryDirectory() as tmp:
            text = Path(client.download_artifacts(info.run_id, EVALUATION_ARTIFACT, tmp)).read_text(encoding="utf-8")
    else:
        text = None
    per_clip = json.loads(text).get("per_clip", {}) if text else {}
    return {m: {c: float(v) for c, v in values.items() if v is not None} for m, values in per_clip.items()}
