"""Text → music for a duration, windows for long videos, and `toolkit generate` end to end (tiny model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolkit.generation import crossfade_into, generate_music, plan_windows


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from tests.tiny_backbone import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny-musicgen") / "model")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    from toolkit.backbone import load_backbone

    return load_backbone(str(tiny_dir))


def test_windows_cover_everything_with_the_overlap():
    assert plan_windows(10, 10, 2) == [(0, 10)]
    assert plan_windows(25, 10, 2) == [(0, 10), (8, 18), (16, 25)]
    with pytest.raises(ValueError):
        plan_windows(25, 4, 4)


def test_crossfade_is_linear_and_preserves_a_constant():
    out = torch.zeros(1, 10)
    crossfade_into(out, torch.ones(1, 6), 0, 0)
    crossfade_into(out, torch.ones(1, 6), 4, 2)  # same signal on both sides of the seam stays 1
    assert torch.allclose(out, torch.ones(1, 10))
    out = torch.zeros(1, 8)
    crossfade_into(out, torch.ones(1, 4), 0, 0)
    crossfade_into(out, torch.zeros(1, 6), 2, 2)
    assert torch.allclose(out[0], torch.tensor([1, 1, 2 / 3, 1 / 3, 0, 0, 0, 0]))


@pytest.mark.parametrize("seconds", [0.333, 1.0])  # one window; two (the tiny model holds 0.62 s)
def test_duration_is_exact(tiny, seconds):
    audio = generate_music(tiny, ["calm piano", ""], seconds, seed=0, overlap_seconds=0.1)
    assert audio.shape == (2, round(seconds * tiny.sample_rate))
    assert torch.isfinite(audio).all() and audio.abs().sum() > 0


@pytest.mark.slow
def test_seeded_generation_is_reproducible_across_windows(tiny):
    a = generate_music(tiny, ["strings"], 0.9, seed=3, overlap_seconds=0.1)
    b = generate_music(tiny, ["strings"], 0.9, seed=3, overlap_seconds=0.1)
    c = generate_music(tiny, ["strings"], 0.9, seed=4, overlap_seconds=0.1)
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.slow
def test_later_windows_continue_from_the_previous_tokens(tiny, monkeypatch):
    import toolkit.heads.tokens as tokens

    calls = []
    real = tokens.sample_codes

    def spy(model, memory, mask, num_frames, prompt_codes=None, **kwargs):
        codes = real(model, memory, mask, num_frames, prompt_codes=prompt_codes, **kwargs)
        calls.append((prompt_codes, codes))
        return codes

    monkeypatch.setattr(tokens, "sample_codes", spy)
    generate_music(tiny, ["strings"], 0.8, seed=0, overlap_seconds=0.1, window_seconds=0.3)
    assert len(calls) >= 3 and calls[0][0] is None
    for (_, before), (prompt, _) in zip(calls, calls[1:], strict=False):
        assert torch.equal(prompt, before[:, :, -prompt.shape[-1] :]) and prompt.shape[-1] == 10


def _video(path, seconds, fps=24):
    from toolkit.data.mp4 import write_mp4

    frames = np.zeros((round(seconds * fps), 32, 32, 3), dtype=np.uint8)
    frames[..., 0] = np.linspace(0, 255, len(frames), dtype=np.uint8)[:, None, None]
    return write_mp4(path, frames, fps)


def _audio_seconds(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [0.5, 1.0])  # one window; two (the tiny model holds 0.62 s)
def test_generate_command_writes_music_of_the_video_duration(tiny_dir, tmp_path, monkeypatch, seconds):
    import toolkit.data.mp4 as mp4
    from toolkit.cli import main
    from toolkit.data.video import probe_video

    muxed = []
    real_mux = mp4.mux_audio
    monkeypatch.setattr(
        mp4,
        "mux_audio",
        lambda video, audio, rate, out: muxed.append((audio, rate)) or real_mux(video, audio, rate, out),
    )
    video = _video(tmp_path / "in.mp4", seconds)
    out = tmp_path / "out" / "with_music.mp4"
    args = ["generate", str(video), "-o", str(out), "--prompt", "calm piano", "--backbone", str(tiny_dir)]
    assert main([*args, "--seed", "1", "--guidance", "2"]) == 0 and out.is_file()
    duration = probe_video(video).duration
    ((audio, rate),) = muxed
    assert abs(len(audio) / rate - duration) <= 1 / 100  # within one codec frame of the tiny codec (10 ms)
    assert np.abs(audio).max() > 0
    # AAC stores whole 1024-sample frames: the decoded track may run on by less than one of them
    assert probe_video(out).has_audio
    assert -1 / 100 <= _audio_seconds(out) - duration < 1024 / rate + 1 / 100


@pytest.mark.parametrize(
    "make_input, extra, message",
    [
        (lambda d: d / "missing.mp4", [], "no such file"),
        (
            lambda d: (d / "corrupt.mp4").write_bytes(b"not a video at all") and d / "corrupt.mp4",
            [],
            "corrupt.mp4",
        ),
        (lambda d: _video(d / "ok.mp4", 0.5), ["--guidance", "0"], "--guidance"),
    ],
)
def test_bad_input_exits_2_without_output(tiny_dir, tmp_path, capsys, make_input, extra, message):
    from toolkit.cli import main

    out = tmp_path / "out.mp4"
    code = main(["generate", str(make_input(tmp_path)), "-o", str(out), "--backbone", str(tiny_dir), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".out.mp4*"))


def test_output_must_be_mp4(tiny_dir, tmp_path, capsys):
    from toolkit.cli import main

    video = _video(tmp_path / "in.mp4", 0.5)
    assert main(["generate", str(video), "-o", str(tmp_path / "out.wav"), "--backbone", str(tiny_dir)]) == 2
    assert "out.wav" in capsys.readouterr().err and not (tmp_path / "out.wav").exists()


@pytest.fixture
def fake_generation(tmp_path, monkeypatch):
    """`toolkit generate` with the model work replaced: records the thread count generation runs with."""
    from types import SimpleNamespace

    import toolkit.data.mp4 as mp4
    import toolkit.generation as generation
    import toolkit.micro as backbone_module

    seen = {}

    def generate(backbone, prompts, seconds, **kwargs):
        seen["threads"] = torch.get_num_threads()
        return torch.zeros(1, 100)

    monkeypatch.setattr(backbone_module, "load_backbone", lambda name: SimpleNamespace(sample_rate=100))
    monkeypatch.setattr(generation, "generate_music", generate)
    monkeypatch.setattr(mp4, "mux_audio", lambda video, audio, rate, out: seen.setdefault("muxed", out))
    return _video(tmp_path / "in.mp4", 0.5), seen


@pytest.mark.parametrize("flag, expected", [(["--threads", "3"], 3), ([], None)])
def test_generate_computes_with_the_threads_asked_for(fake_generation, restore_threads, tmp_path, flag, expected):
    from toolkit.cli import main
    from toolkit.utils.threads import machine_cores

    video, seen = fake_generation
    torch.set_num_threads(1)
    assert main(["generate", str(video), "-o", str(tmp_path / "out.mp4"), *flag]) == 0
    assert seen["threads"] == (expected or machine_cores()) and "muxed" in seen


def test_generate_with_a_run_defaults_to_its_train_threads(fake_generation, restore_threads, tmp_path,
                                                           monkeypatch):
    from types import SimpleNamespace

    import toolkit.commands.generate as command
    import toolkit.training.run as run_module
    from toolkit.cli import main

    video, seen = fake_generation
    cfg = SimpleNamespace(train=SimpleNamespace(threads=3))
    monkeypatch.setattr(run_module, "find_checkpoint", lambda ref: "checkpoint")
    monkeypatch.setattr(run_module, "checkpoint_config", lambda checkpoint: cfg)
    monkeypatch.setattr(command, "_trained", lambda checkpoint, video: (SimpleNamespace(sample_rate=100), {}))
    torch.set_num_threads(1)
    assert main(["generate", str(video), "-o", str(tmp_path / "a.mp4"), "--run", "runs/x"]) == 0
    assert seen["threads"] == 3
    assert main(["generate", str(video), "-o", str(tmp_path / "b.mp4"), "--run", "runs/x", "--threads", "2"]) == 0
    assert seen["threads"] == 2


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_a_bad_thread_count_exits_2_with_one_line(fake_generation, tmp_path, capsys, threads):
    from toolkit.cli import main

    video, seen = fake_generation
    out = tmp_path / "out.mp4"
    assert main(["generate", str(video), "-o", str(out), "--threads", threads]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: --threads must be a whole number of at least 1, got {threads}"
    assert not seen and not out.exists()
