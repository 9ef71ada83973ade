import json

import numpy as np
import pytest
import torch

from tests.tiny_backbone import build_tiny
from toolkit.backbone.micro import MicroSpec
from toolkit.micro import pretrain


def test_spec_key_is_stable_and_seed_dependent():
    assert MicroSpec().key() == MicroSpec().key()
    assert MicroSpec(seed=1).key() != MicroSpec().key()
    assert MicroSpec(lm_steps=1).key() != MicroSpec().key()
    assert MicroSpec(codec_power=0.5).key() != MicroSpec().key()  # codec settings change the weights too


def _fake_pretrain(calls):
    def fake(spec, world, out, progress=True):
        calls.append(spec)
        build_tiny(out)
        return {"name": "fake", "heldout": 0, "scores": {"codec_onset_f1": 0.5}}

    return fake


def test_build_is_cached_by_spec(tmp_path, monkeypatch, private_cache):
    calls = []
    monkeypatch.setattr(pretrain, "pretrain", _fake_pretrain(calls))
    first = pretrain.build_micro_backbone(world=tmp_path, progress=False)
    again = pretrain.build_micro_backbone(world=tmp_path, progress=False)
    other = pretrain.build_micro_backbone(world=tmp_path, progress=False, seed=5)
    assert first == again != other and len(calls) == 2
    assert first.parent == private_cache / "backbones"
    assert json.loads((first / "card.json").read_text())["scores"]["codec_onset_f1"] == 0.5
    assert "codec_onset_f1" in (first / "card.md").read_text()
    from toolkit.micro import load_backbone

    assert load_backbone("micro", world=tmp_path, progress=False).num_codebooks == 2


def test_a_failed_build_leaves_nothing(tmp_path, monkeypatch, private_cache):
    def broken(spec, world, out, progress=True):
        (out / "half-written").write_text("x")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(pretrain, "pretrain", broken)
    with pytest.raises(RuntimeError):
        pretrain.build_micro_backbone(world=tmp_path, progress=False)
    lock = f".{pretrain.backbone_dir(MicroSpec()).name}.lock"  # kept: empty, and never trusted as a build
    assert [p.name for p in (private_cache / "backbones").iterdir()] == [lock]


def test_card_scores_have_known_answers():
    from toolkit.micro.card import chroma_similarity, onset_f1

    sr = 16000
    t = np.arange(sr * 2) / sr
    clicks = np.zeros_like(t)
    clicks[:: sr // 4] = 1.0  # onsets every 250 ms
    tone_a = np.sin(2 * np.pi * 440 * t) * (1 + clicks.cumsum() % 2)
    assert onset_f1(clicks, clicks, sr) == 1.0
    assert onset_f1(clicks, np.zeros_like(clicks), sr) == 0.0
    assert chroma_similarity(tone_a, tone_a, sr) > 0.99
    tritone = np.sin(2 * np.pi * 440 * 2 ** (6 / 12) * t)
    assert chroma_similarity(tone_a, tritone, sr) < 0.5


def test_schedule_warms_up_then_decays_for_any_step_count():
    for steps in (1, 3, 10, 400):
        optimiser = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        schedule = pretrain.warmup_cosine(optimiser, steps)
        rates = []
        for _ in range(steps):
            rates.append(optimiser.param_groups[0]["lr"])
            optimiser.step()
            schedule.step()
        peak = rates.index(max(rates))
        assert max(rates) == pytest.approx(1.0) and all(0.05 - 1e-9 <= r <= 1.0 for r in rates)
        assert rates[peak:] == sorted(rates[peak:], reverse=True)  # never rises after the peak
        if steps >= 40:  # long enough for a warm-up of more than one step
            assert rates[0] < rates[peak] and rates[-1] < 0.1


def test_idle_cores_counts_other_load(monkeypatch):
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.9, 0.0, 0.0))
    assert pretrain.idle_cores() == 2  # only this process is busy
    monkeypatch.setattr(os, "getloadavg", lambda: (4.0, 0.0, 0.0))
    assert pretrain.idle_cores() == 1  # oversubscribed: one thread, never zero


def test_build_records_cost_and_restores_threads(tmp_path, monkeypatch, private_cache):
    monkeypatch.setattr(pretrain, "pretrain", _fake_pretrain([]))
    before = torch.get_num_threads()
    out = pretrain.build_micro_backbone(world=tmp_path, progress=False, threads=1)
    card = json.loads((out / "card.json").read_text())
    assert card["threads"] == 1 and card["cpu_seconds"] >= 0 and card["build_seconds"] >= 0
    assert torch.get_num_threads() == before
    assert "CPU s (user+sys) on 1 threads" in (out / "card.md").read_text()


def test_world_backbone_action_builds_then_prints_the_saved_card(tmp_path, monkeypatch, capsys):
    from toolkit.cli import main

    calls = []
    monkeypatch.setattr(pretrain, "pretrain", _fake_pretrain(calls))
    (tmp_path / "manifest.jsonl").write_text("{}\n")
    assert main(["world", "backbone", "--world", str(tmp_path), "--seed", "3", "--threads", "1"]) == 0
    assert main(["world", "backbone", "--world", str(tmp_path), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert len(calls) == 1 and calls[0].seed == 3  # the second call loads the cache
    assert printed.count("micro backbone: ") == 2 and "codec_onset_f1 | 0.500" in printed


def test_world_backbone_action_rejects_a_folder_without_manifest(tmp_path, capsys):
    from toolkit.cli import main

    assert main(["world", "backbone", "--world", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "manifest.jsonl" in err and "Traceback" not in err
