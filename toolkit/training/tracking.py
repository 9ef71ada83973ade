"""One MLflow run per training run, in the experiment named after the config (`cfg.name`).

Logged: the flattened resolved config as params, trainable/total parameter counts, per-step metrics, the run
folder as a tag (so `--run RUN_ID` finds the checkpoint locally) and the final checkpoint as an artifact.
A resumed training run continues its MLflow run. The store is the toolkit's one (`toolkit.utils.mlflow_store`:
`sqlite:///mlflow.db` in the working directory unless `$MLFLOW_TRACKING_URI` is set), shared with sweeps.

Per-step metrics reach MLflow only once a checkpoint holds their step, so that what MLflow holds always
matches a checkpoint: a run killed between two checkpoints re-runs the steps after the last one when resumed,
and MLflow cannot delete the rows those steps logged before the kill. Until then each row waits in
`<run>/mlflow-pending.jsonl` (with its own timestamp), which survives the kill: a resumed run sends the rows
its checkpoint holds and drops the others. The price: MLflow's curves advance once per checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

RUN_DIR_TAG = "v2m.run_dir"
ROLE = "train"
PENDING = "mlflow-pending.jsonl"
BATCH = 1000  # MLflow takes at most 1000 metrics per log_batch


class TrainingRun:
    """An open MLflow run of a training run (created, or reopened on resume). `checkpoint`: the folder whose
    `state.json` step releases pending metrics (default `<run_dir>/checkpoint`)."""

    def __init__(self, experiment: str, run_dir: Path, run_id: str | None = None,
                 checkpoint: Path | None = None) -> None:
        import mlflow

        from toolkit.training.checkpoint import CHECKPOINT
        from toolkit.utils.mlflow_store import ROLE_TAG, experiment_id, source_tags

        experiment_key = experiment_id(experiment)  # also points MLflow at the toolkit's tracking URI
        self.client = mlflow.MlflowClient()
        self.pending_file = Path(run_dir) / PENDING
        self.checkpoint = Path(checkpoint) if checkpoint is not None else Path(run_dir) / CHECKPOINT
        self._state_seen: tuple[int, int] | None = None  # (inode, mtime) of the state.json last read
        self._checkpoint_step: int | None = None
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            self.run_id, self.resumed = run_id, True
            step = self.checkpoint_step()
            # rows past the checkpoint belong to steps the resumed run does again; the others are sent now.
            # Rewritten whole, so a line the kill cut short cannot run into the next one appended.
            self._pending = [m for m in self._read_pending() if step is not None and m.step <= step]
            self._write_pending()
            self._flush(step)
        else:
            tags = {ROLE_TAG: ROLE, RUN_DIR_TAG: str(Path(run_dir).resolve()), **source_tags()}
            run = self.client.create_run(experiment_key, run_name=Path(run_dir).name, tags=tags)
            self.run_id, self.resumed = run.info.run_id, False
            self._pending = []
            self.pending_file.unlink(missing_ok=True)  # left by another run in a reused folder

    def log_params(self, config: dict[str, Any], counts: dict[str, int]) -> None:
        """Flattened config and parameter counts (only once: a resumed run already has them)."""
        from mlflow.entities import Param

        from toolkit.utils.mlflow_store import flatten, param_text

        if self.resumed:
            return
        params = {k: param_text(v) for k, v in flatten(config).items()}
        params.update({k: str(v) for k, v in counts.items()})
        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        """Queue the metrics of `step`; sent with every queued row the latest checkpoint holds."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        rows = [Metric(k, float(v), now, int(step)) for k, v in metrics.items()]
        self.pending_file.parent.mkdir(parents=True, exist_ok=True)
        with self.pending_file.open("a") as file:
            file.write("".join(_row_text(m) for m in rows))
        self._pending.extend(rows)
        self._flush(self.checkpoint_step())

    def checkpoint_step(self) -> int | None:
        """The step of the checkpoint now on disk (None without one); re-read only when it was replaced."""
        from toolkit.training.checkpoint import STATE

        state = self.checkpoint / STATE
        try:
            stat = state.stat()
            seen = (stat.st_ino, stat.st_mtime_ns)
            if seen != self._state_seen:
                self._checkpoint_step = int(json.loads(state.read_text())["step"])
                self._state_seen = seen
        except (OSError, ValueError, KeyError, TypeError):
            pass  # none yet, or caught mid-replacement: the previous reading stands
        return self._checkpoint_step

    def log_checkpoint(self, checkpoint: Path) -> None:
        from toolkit.training.checkpoint import CHECKPOINT

        self.client.log_artifacts(self.run_id, str(checkpoint), artifact_path=CHECKPOINT)

    def end(self, status: str = "FINISHED", reason: str | None = None) -> None:
        """Close the run. A finished run sends every queued row; a failed or killed one only those its
        checkpoint holds (a resume re-runs the others)."""
        self._flush(math.inf if status == "FINISHED" else self.checkpoint_step())
        if reason:
            from toolkit.utils.mlflow_store import REASON_TAG

            self.client.set_tag(self.run_id, REASON_TAG, reason[:5000])
        self.client.set_terminated(self.run_id, status)

    # --- the pending rows --------------------------------------------------------------------------------
    def _flush(self, upto: float | None) -> None:
        if upto is None:
            return
        ready = [m for m in self._pending if m.step <= upto]
        if not ready:
            return
        for i in range(0, len(ready), BATCH):
            self.client.log_batch(self.run_id, metrics=ready[i : i + BATCH])
        # A kill right here re-sends these rows on resume: MLflow's SQL store ignores an identical row.
        self._pending = [m for m in self._pending if m.step > upto]
        self._write_pending()

    def _read_pending(self) -> list[Any]:
        from mlflow.entities import Metric

        try:
            lines = self.pending_file.read_text().splitlines()
        except FileNotFoundError:
            return []
        rows = []
        for line in lines:
            try:
                row = json.loads(line)
                rows.append(Metric(row["key"], float(row["value"]), int(row["timestamp"]), int(row["step"])))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by the kill
        return rows

    def _write_pending(self) -> None:
        from toolkit.utils.atomic import write_text_atomic

        if self._pending:
            write_text_atomic(self.pending_file, "".join(_row_text(m) for m in self._pending))
        else:
            self.pending_file.unlink(missing_ok=True)


def _row_text(metric: Any) -> str:
    return json.dumps({"key": metric.key, "value": metric.value, "timestamp": metric.timestamp,
                       "step": metric.step}) + "\n"
