"""Read a sweep's trial runs back from MLflow (the source of every report)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UserError
from toolkit.metrics.windows import load_windows

EVALUATION_ARTIFACT = "evaluation.json"  # what the train-evaluate trial logs: the suite's result with per-clip values
WINDOWS_ARTIFACT = "embedding_windows.npz"  # and each clip's embedding windows (set metrics paired across runs)


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
    windows: Windows | None = None  # the run's embedding windows (`WINDOWS_ARTIFACT`), if it logged them


def sweep_runs(spec) -> list[RunRecord]:
    """Every trial run under the study run of `spec`, ordered by trial number."""
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
                **(_evaluation(client, run.info) if state == "COMPLETE" else {}),
            ))
        token = page.token
        if not token:
            break
    return sorted(records, key=lambda r: r.trial)


@dataclass(frozen=True)
class Windows:
    """Each clip's embedding windows of one run, reference and generated (`toolkit.metrics.windows.save_windows`)."""

    embedding: str
    reference: dict[str, Any]
    generated: dict[str, Any]


def _evaluation(client, info) -> dict[str, Any]:
    """`per_clip` and `windows` of a trial run, from its `evaluation.json` and `embedding_windows.npz` artifacts
    (either may be missing: an older run, or a trial that does not log them)."""
    out: dict[str, Any] = {}
    with _artifacts(client, info, (EVALUATION_ARTIFACT, WINDOWS_ARTIFACT)) as found:
        if EVALUATION_ARTIFACT in found:
            per_clip = json.loads(found[EVALUATION_ARTIFACT].read_text(encoding="utf-8")).get("per_clip", {})
            out["per_clip"] = {m: {c: float(v) for c, v in values.items() if v is not None}
                               for m, values in per_clip.items()}
        if WINDOWS_ARTIFACT in found:
            out["windows"] = Windows(*load_windows(found[WINDOWS_ARTIFACT]))
    return out


@contextmanager
def _artifacts(client, info, wanted: tuple[str, ...]) -> Iterator[dict[str, Path]]:
    """The local paths of the `wanted` artifacts a run has: read in place from a local store, else downloaded
    into a temporary folder that lasts for the block."""
    import tempfile
    from urllib.parse import unquote, urlparse

    location = urlparse(info.artifact_uri)
    if location.scheme in ("", "file"):
        root = Path(unquote(location.path))
        yield {name: root / name for name in wanted if (root / name).is_file()}
        return
    present = {a.path for a in client.list_artifacts(info.run_id)}
    with tempfile.TemporaryDirectory() as tmp:
        yield {name: Path(client.download_artifacts(info.run_id, name, tmp)) for name in wanted if name in present}
