"""`toolkit evaluate` on two tiny folders: flat JSON with every metric, problems reported, bad input → exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from toolkit.cli import main
from toolkit.metrics import classifier as classifier_module
from toolkit.metrics.classifier import StyleCnnSettings

from .metric_signals import SR, click_track, scale_and_chord

KEYS = [(0, "major", "C"), (9, "minor", "A"), (7, "major", "G"), (2, "minor", "D")]
TEMPI = [90, 120, 100, 140]


def clip(i: int, seconds: float = 2.0) -> np.ndarray:
    tonic, mode, _ = KEYS[i % 4]
    music = scale_and_chord(tonic, mode)[: int(SR * seconds)]
    music = np.pad(music, (0, int(SR * seconds) - music.size))
    return (0.5 * music + 0.5 * click_track(TEMPI[i % 4], seconds)).astype(np.float32)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """7 reference clips with a manifest (styles, targets, cuts); 6 generated matches, 1 orphan, 1 corrupt."""
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir()
    gen.mkdir()
    records = []
    for i in range(8):
        sf.write(ref / f"c{i}.wav", clip(i), SR)
        _, mode, letter = KEYS[i % 4]
        records.append(
            {
                "id": f"c{i}",
                "audio": f"c{i}.wav",
                "style": ["clicky", "tonal"][i % 2],
                "tempo": TEMPI[i % 4],
                "key": letter,
                "mode": mode,
                "cuts": [1.0, 2.0],
            }
        )
    (ref / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    for i in range(6):
        sf.write(gen / f"c{i}.wav", clip(i + 1), SR)  # a shuffled pairing: plausible music, wrong partner
    (gen / "c7.wav").write_bytes(b"RIFF....not really a wav")
    sf.write(gen / "orphan.wav", clip(0), SR)
    timings = [{"id": f"c{i}", "generation_seconds": 0.3, "audio_seconds": 3.0} for i in range(6)]
    (gen / "timings.jsonl").write_text("".join(json.dumps(t) + "\n" for t in timings))

    fast = StyleCnnSettings(steps=30, batch_size=8, crop_s=0.5)
    original = classifier_module.micro_style_classifier
    monkeypatch.setattr(classifier_module, "micro_style_classifier", lambda world: original(world, fast))
    return ref, gen


@pytest.mark.slow
def test_evaluate_names_each_number_with_its_convention_and_reports_problems(folders, tmp_path, capsys):
    ref, gen = folders
    out = tmp_path / "metrics.json"
    code = main(["evaluate", "--generated", str(gen), "--reference", str(ref), "--out", str(out), "--bootstrap", "50"])
    assert code == 0
    result = json.loads(out.read_text())
    metrics = result["metrics"]
    expected = {"fad[mel-stats]": "fad.mel-stats", "kl[micro-style-cnn]": "kl.micro-style-cnn",
                "is[micro-style-cnn]": "is.micro-style-cnn", "density[mel-stats,k5]": "density.mel-stats:k5",
                "coverage[mel-stats,k5]": "coverage.mel-stats:k5", "bhs[1s]": "bhs.1s", "bhs[0.2s]": "bhs.0.2s",
                "bcs[1s]": "bcs.1s", "tb_iou[0.1s]": "tb_iou.0.1s", "tempo_acc[8%]": "tempo_acc.8pct",
                "key_acc": "key_acc", "key_score[mirex]": "key_score.mirex", "rtf": "rtf", "fad_inf[mel-stats]":
                "fad_inf.mel-stats"}
    for name, key in expected.items():
        assert metrics[name]["key"] == key, name
    # Wilson for the 0/1 rates: never zero width, inside [0, 1], around the rate
    for name in ("tempo_acc[8%]", "key_acc"):
        entry = metrics[name]
        assert "Wilson" in entry["interval"] and 0 <= entry["low"] < entry["high"] <= 1, name
        assert entry["low"] <= entry["value"] <= entry["high"], name
    per_clip = result["per_clip"]["bhs[0.2s]"]
    assert sorted(per_clip) == [f"c{i}" for i in range(6)]
    assert metrics["bhs[0.2s]"]["value"] == pytest.approx(np.mean(list(per_clip.values())))
    assert metrics["fad[mel-stats]"]["scope"] == "set" and "population FD" in metrics["fad[mel-stats]"]["interval"]
    assert "2 x dims" in metrics["fad[mel-stats]"]["interval"]  # 6 clips of 2 s: far fewer windows than dims
    assert result["n_pairs"] == 6 and result["n_unmatched"] == 2 and result["n_unreadable"] == 1
    assert metrics["rtf"]["value"] == pytest.approx(0.1)
    assert metrics["fad[mel-stats]"]["value"] > 0 and metrics["kl[micro-style-cnn]"]["value"] > 0
    assert result["sources"]["targets"].endswith("manifest.jsonl")
    assert result["skipped"]["clap_score[clap]"].startswith("needs the prompts")  # the first need missing
    err = capsys.readouterr().err
    assert "orphan.wav: no reference file with stem 'orphan'" in err
    assert "c7.wav: no generated file" not in err  # c7 matched but is corrupt:
    assert "c7.wav: unreadable" in err
    assert "imagebind_score[imagebind]: skipped (needs the videos (--videos DIR))" in err


def test_no_pairs_exits_2(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sf.write(tmp_path / "a" / "x.wav", np.zeros(SR, np.float32), SR)
    sf.write(tmp_path / "b" / "y.wav", np.zeros(SR, np.float32), SR)
    assert main(["evaluate", "--generated", str(tmp_path / "a"), "--reference", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "no generated file" in err and "x.wav: no reference file" in err


def test_missing_folder_and_run_flag_exit_2(tmp_path, capsys):
    assert main(["evaluate", "--generated", str(tmp_path / "nope"), "--reference", str(tmp_path)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["evaluate", "--run", "abc123"]) == 2
    assert "--run abc123: neither a run folder nor an MLflow run id" in capsys.readouterr().err
    assert main(["evaluate"]) == 2


def test_evaluate_computes_with_the_threads_asked_for(tmp_path, monkeypatch, restore_threads):
    import torch

    import toolkit.metrics.suite as suite
    from toolkit.utils.threads import machine_cores

    seen = []
    monkeypatch.setattr(suite, "evaluate_dirs", lambda *args: seen.append(torch.get_num_threads()) or {})
    monkeypatch.setattr(suite, "to_json", lambda metrics: "{}\n")
    torch.set_num_threads(1)
    folders = ["--generated", str(tmp_path), "--reference", str(tmp_path)]
    assert main(["evaluate", *folders, "--threads", "3"]) == 0
    assert main(["evaluate", *folders]) == 0
    assert seen == [3, machine_cores()]


def test_evaluate_run_defaults_to_the_run_s_train_threads(monkeypatch, capsys, restore_threads):
    from types import SimpleNamespace

    import torch

    import toolkit.training.run as run_module
    from toolkit.errors import UserError

    seen = []

    def load_run(checkpoint):  # where the model work would start
        seen.append(torch.get_num_threads())
        raise UserError("stop here")

    monkeypatch.setattr(run_module, "find_checkpoint", lambda ref: "checkpoint")
    monkeypatch.setattr(run_module, "checkpoint_config", lambda c: SimpleNamespace(train=SimpleNamespace(threads=3)))
    monkeypatch.setattr(run_module, "load_run", load_run)
    torch.set_num_threads(1)
    assert main(["evaluate", "--run", "runs/x"]) == 2
    assert main(["evaluate", "--run", "runs/x", "--threads", "2"]) == 2
    assert seen == [3, 2]


@pytest.mark.parametrize("threads", ["0", "-1"])
def test_a_bad_thread_count_exits_2_with_one_line(tmp_path, capsys, threads):
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--run", str(tmp_path), "--threads", threads, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"error: --threads must be a whole number of at least 1, got {threads}"
    assert not out.exists()
