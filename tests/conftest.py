"""Shared fixtures: every test runs offline with a private cache directory."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Before any test: one numba cache for the whole run (tests give each test its own user cache, and the
    commands they start must not each compile librosa), checked or built under the toolkit's lock, so two
    runs started at once share it safely."""
    from toolkit.utils.numba_cache import NUMBA_DIR_ENV, numba_cache_dir, prepare_numba_cache

    os.environ[NUMBA_DIR_ENV] = str(prepare_numba_cache(numba_cache_dir()))


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point the toolkit's user cache at a per-test directory so tests never share or pollute state."""
    cache = tmp_path_factory.mktemp("v2m-cache")
    monkeypatch.setenv("V2M_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def tiny_model():
    """`(model, tokenizer)`: a tiny random MusicGen with 4 decoder layers; its text encoder (width 24) feeds the
    32-wide decoder through `enc_to_dec_proj`, so the projection is exercised too."""
    from tests.tiny_backbone import tiny_musicgen

    return tiny_musicgen(text_width=24, layers=4, max_positions=128, random_codebooks=False)


@pytest.fixture
def backbone(tiny_model):
    """A fresh frozen `Backbone` per test (hooks and LoRA from one test never leak into the next)."""
    import copy

    from toolkit.backbone.frozen import Backbone

    model, tokenizer = tiny_model
    return Backbone(copy.deepcopy(model), tokenizer, source="tiny")


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test: the machine is shared, and oversubscribed threads make tiny models crawl.
    Folders of model-training tests switch it on for all their tests from their own conftest."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_on_tiny_world(tmp_path, monkeypatch, capsys, experiment: str, clips: int):
    """`toolkit train` on an experiment template (formatted with `world` and `backbone`) over a tiny world of
    `clips` 2 s clips and a tiny backbone, run in `tmp_path`. Returns the world, the MLflow run id and a client
    on the run's `mlflow.db`."""
    import mlflow

    from tests.tiny_backbone import build_tiny
    from toolkit.cli import main
    from toolkit.data.world.build import build_world

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    world = build_world(tmp_path / "world", clips=clips, seconds=2.0, size=32, progress=False)
    backbone = build_tiny(tmp_path / "tiny")
    (tmp_path / "exp.yaml").write_text(experiment.format(world=world, backbone=backbone))
    assert main(["train", "exp.yaml"]) == 0
    run_id = capsys.readouterr().out.split("mlflow run ")[1].split()[0]
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    return world, run_id, mlflow.MlflowClient()


def one_video_two_soundtracks(world, tmp_path, sample_rate: int) -> list:
    """The world's first clip muxed with the music of its second and of its third: two mp4 files with the same
    stem in separate folders (no same-stem audio beside them, so the muxed track is each one's music)."""
    from toolkit.data.audio import load_music
    from toolkit.data.mp4 import mux_audio

    clips = sorted((world / "clips").glob("*.mp4"))
    videos = []
    for i, source in enumerate(clips[1:3]):
        folder = tmp_path / f"soundtrack{i}"
        folder.mkdir()
        videos.append(mux_audio(clips[0], load_music(source, sample_rate), sample_rate, folder / clips[0].name))
    return videos


@pytest.fixture
def restore_threads():
    """Put torch's and the BLAS pools' thread counts back after a command changed them."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    with threadpool_limits(limits=None):  # restores every pool's original count on exit
        yield
    torch.set_num_threads(threads)
