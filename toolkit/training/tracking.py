"""One MLflow run per training run, in the experiment named after the config (`cfg.name`).

Logged: the flattened resolved config as params, trainable/total parameter counts, per-step metrics, the run
folder as a tag (so `--run RUN_ID` finds the checkpoint locally) and the final checkpoint as an artifact.
A resumed training run continues its MLflow run. The tracking URI is the sweeps' (`sqlite:///mlflow.db` in the
working directory unless `$MLFLOW_TRACKING_URI` is set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RUN_DIR_TAG = "v2m.run_dir"
ROLE = "train"


class TrainingRun:
    """An open MLflow run of a training run (created, or reopened on resume)."""

    def __init__(self, experiment: str, run_dir: Path, run_id: str | None = None) -> None:
        import mlflow

        from toolkit.sweeps.tracking import ROLE_TAG, experiment_id, source_tags

        experiment_key = experiment_id(experiment)  # also points MLflow at the toolkit's tracking URI
        self.client = mlflow.MlflowClient()
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            self.run_id, self.resumed = run_id, True
        else:
            tags = {ROLE_TAG: ROLE, RUN_DIR_TAG: str(Path(run_dir).resolve()), **source_tags()}
            run = self.client.create_run(experiment_key, run_name=Path(run_dir).name, tags=tags)
            self.run_id, self.resumed = run.info.run_id, False

    def log_params(self, config: dict[str, Any], counts: dict[str, int]) -> None:
        """Flattened config and parameter counts (only once: a resumed run already has them)."""
        from mlflow.entities import Param

        from toolkit.sweeps.tracking import flatten, param_text

        if self.resumed:
            return
        params = {k: param_text(v) for k, v in flatten(config).items()}
        params.update({k: str(v) for k, v in counts.items()})
        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, int(step)) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def log_checkpoint(self, checkpoint: Path) -> None:
        self.client.log_artifacts(self.run_id, str(checkpoint), artifact_path="checkpoint")

    def end(self, status: str = "FINISHED", reason: str | None = None) -> None:
        if reason:
            self.client.set_tag(self.run_id, "v2m.fail_reason", reason[:5000])
        self.client.set_terminated(self.run_id, status)
