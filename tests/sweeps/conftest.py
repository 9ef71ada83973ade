"""Sweep-test fixtures. Creating MLflow's SQLite schema takes several seconds, so one empty database is made
per session and copied into each test's working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated `mlflow.db` (made in a subprocess so this process's MLflow state stays clean)."""
    folder = tmp_path_factory.mktemp("mlflow-template")
    code = ("import logging, mlflow; logging.disable(logging.INFO); mlflow.set_tracking_uri('sqlite:///mlflow.db');"
            "mlflow.MlflowClient().search_experiments()")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, capture_output=True, env=env, timeout=300)
    return folder / "mlflow.db"
