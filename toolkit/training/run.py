"""Find a trained run's checkpoint from what a user types: a run folder, a checkpoint folder, or an MLflow run
id (whose `v2m.run_dir` tag names the local folder; otherwise its logged checkpoint artifact is fetched)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from toolkit.errors import UserError
from toolkit.training.checkpoint import CHECKPOINT, Checkpoint, is_checkpoint, load_checkpoint

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def find_checkpoint(ref: str | Path, what: str = "--run") -> Checkpoint:
    """The checkpoint of a run folder, a checkpoint folder, or an MLflow run id."""
    path = Path(ref).expanduser()
    if path.is_dir():
        for candidate in (path, path / CHECKPOINT):
            if is_checkpoint(candidate):
                return load_checkpoint(candidate)
        raise UserError(f"{what} {ref}: no checkpoint in this folder (expected {path / CHECKPOINT})")
    if RUN_ID.match(str(ref)):
        return load_checkpoint(_from_mlflow(str(ref), what))
    raise UserError(f"{what} {ref}: neither a run folder nor an MLflow run id")


def _from_mlflow(run_id: str, what: str) -> Path:
    import mlflow

    from toolkit.training.tracking import RUN_DIR_TAG
    from toolkit.utils.mlflow_store import tracking_uri
    from toolkit.utils.paths import cache_root

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise UserError(f"{what} {run_id}: no such MLflow run in {uri}") from None
    local = run.data.tags.get(RUN_DIR_TAG)
    if local and is_checkpoint(Path(local) / CHECKPOINT):
        return Path(local) / CHECKPOINT
    target = cache_root() / "runs" / run_id
    if not is_checkpoint(target / CHECKPOINT):
        try:
            mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=CHECKPOINT, dst_path=str(target))
        except Exception as err:  # MLflow raises several types for a missing artifact
            raise UserError(f"{what} {run_id}: the run has no checkpoint artifact ({type(err).__name__})") from None
    return target / CHECKPOINT


def checkpoint_config(checkpoint: Checkpoint, overrides: list[str] | None = None) -> Any:
    """The checkpoint's resolved config, checked against the experiment schema, with `key=value` overrides."""
    from toolkit.config import load_config

    return load_config(checkpoint.path / "config.yaml", overrides)


def load_run(ref: str | Path | Checkpoint, what: str = "--run") -> tuple[Any, Any, Any]:
    """`(cfg, attached, checkpoint)`: the run's backbone with its trained adapters loaded (eval mode). `ref`
    may be a `Checkpoint` already found (a caller that read its config first, e.g. for the thread count)."""
    from toolkit.training.model import attach_adapters, load_experiment_backbone

    checkpoint = ref if isinstance(ref, Checkpoint) else find_checkpoint(ref, what)
    cfg = checkpoint_config(checkpoint)
    attached = attach_adapters(cfg, load_experiment_backbone(cfg))
    checkpoint.load_into(attached)
    return cfg, attached.eval(), checkpoint
