"""`generate_split`: one deterministic sampling seed per clip, and `evaluation.prompts` (each clip's prompt or
none), on a tiny random backbone without video features."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit.errors import UserError


@pytest.fixture(scope="module")
def codec_model():
    """A tiny MusicGen whose codec has random codebooks: the shared fixture's all-zero codebooks decode every
    code sequence to the same audio, which would hide whether the sampled codes differ."""
    from tests.tiny_backbone import tiny_musicgen

    return tiny_musicgen(layers=2, max_positions=64, random_codebooks=True)


@pytest.fixture
def backbone(codec_model):
    from toolkit.backbone.frozen import Backbone

    model, tokenizer = codec_model
    return Backbone(model, tokenizer, source="tiny")  # generation attaches nothing: no need for a copy


def _cfg(prompts: str = "prompt", seed: int = 0):
    from omegaconf import OmegaConf

    from toolkit.config.schema import ExperimentConfig

    cfg = OmegaConf.structured(ExperimentConfig)
    return OmegaConf.merge(cfg, {"seed": seed, "evaluation": {"prompts": prompts},
                                 "backbone": {"guidance": 3.0, "top_k": 0, "window_seconds": 8.0}})


def _items(prompts: list[str], seconds: float = 0.15):
    return [SimpleNamespace(stem=f"clip{n}", prompt=p, duration=seconds, video=Path(f"clip{n}.mp4"))
            for n, p in enumerate(prompts)]


def _generate(backbone, cfg, items, out: Path) -> list[np.ndarray]:
    import soundfile

    from toolkit.model.attach import attach
    from toolkit.training.evaluation import generate_split

    attached = attach(backbone, [], fps=8.0)
    try:
        generate_split(cfg, attached, items, out)
    finally:
        attached.detach()
    return [soundfile.read(out / f"{i.stem}.wav", dtype="float32")[0] for i in items]


def test_every_clip_gets_its_own_reproducible_seed(backbone, tmp_path):
    """Empty prompts and no video: the only thing that can tell clips apart is the sampling seed."""
    cfg = _cfg()
    first = _generate(backbone, cfg, _items(["", "", ""]), tmp_path / "a")
    again = _generate(backbone, cfg, _items(["", "", ""]), tmp_path / "b")
    for n, m in [(0, 1), (0, 2), (1, 2)]:
        assert not np.array_equal(first[n], first[m]), f"clips {n} and {m} got the same music"
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other_seed = _generate(backbone, _cfg(seed=1), _items([""]), tmp_path / "c")
    assert not np.array_equal(first[0], other_seed[0])


def test_clip_seeds_do_not_collide_across_run_seeds():
    from toolkit.training.evaluation import clip_seed

    seeds = {clip_seed(s, n) for s in range(5) for n in range(1000)}
    assert len(seeds) == 5000


@pytest.mark.parametrize("mode, expected", [("prompt", ["fast drums", "", "calm piano"]), ("none", ["", "", ""])])
def test_prompts_setting_chooses_the_text(backbone, tmp_path, monkeypatch, mode, expected):
    """What `generate_music` is asked for: each clip's prompt (a missing one as empty), or none at all."""
    import torch

    import toolkit.generation
    from toolkit.training.evaluation import clip_seed

    calls = []

    def spy(backbone, prompts, seconds, **kwargs):
        calls.append((list(prompts), kwargs["seed"]))
        return torch.zeros(len(prompts), round(seconds * backbone.sample_rate))

    monkeypatch.setattr(toolkit.generation, "generate_music", spy)
    _generate(backbone, _cfg(mode, seed=2), _items(["fast drums", None, "calm piano"]), tmp_path)
    assert calls == [([p], clip_seed(2, n)) for n, p in enumerate(expected)]


def test_prompts_value_is_checked_and_names_the_key(tmp_path):
    from toolkit.config import load_config
    from toolkit.config.sections.evaluation import EvalConfig, PromptSource

    experiment = tmp_path / "e.yaml"
    experiment.write_text("name: e\n")
    assert load_config(experiment, ["evaluation.prompts=none"]).evaluation.prompts is PromptSource.none
    assert str(PromptSource.none) == "none"  # as logged to MLflow
    with pytest.raises(UserError, match=r"evaluation\.prompts"):
        load_config(experiment, ["evaluation.prompts=silence"])
    with pytest.raises(UserError, match=r"evaluation\.prompts: must be 'prompt' or 'none', got 'silence'"):
        EvalConfig(prompts="silence")
    assert EvalConfig(prompts="none").prompts is PromptSource.none
