"""The micro world: files and fields, determinism, and ground truth that real detectors agree with."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from toolkit.commands import world as world_command
from toolkit.data.world import FORMAT_VERSION, STYLES, build_world
from toolkit.data.world import build as build_module
from toolkit.errors import UserError

CLIPS, SECONDS, FPS, SR = 12, 4.0, 24.0, 32000  # 12 clips = two shuffled rounds of the six styles


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_world(tmp_path_factory.mktemp("world") / "w", clips=CLIPS, seed=0, seconds=SECONDS, fps=FPS,
                       sample_rate=SR, workers=2, progress=False)


@pytest.fixture(scope="module")
def records(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "manifest.jsonl").read_text().splitlines()]


def _frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_manifest_fields_and_files(world: Path, records: list[dict]):
    assert [r["id"] for r in records] == [f"clip_{i:05d}" for i in range(CLIPS)]
    assert {r["style"] for r in records} == set(STYLES) and len(STYLES) >= 5
    for r in records:
        assert r["seconds"] == SECONDS and r["mode"] in ("major", "minor") and r["key"]
        assert r["drums"] == ("drums" in r["instruments"])
        period = 60.0 / r["tempo"]
        assert np.allclose(np.diff(r["beats"]), period, atol=1e-5)  # beats sit on the tempo's grid
        assert set(r["downbeats"]) <= set(r["beats"]) and set(r["cuts"]) <= set(r["downbeats"])
        assert str(r["tempo"]) in r["prompt"] and f"{r['key']} {r['mode']}" in r["prompt"]
        assert len(r["paraphrases"]) >= 2 and len(set(r["paraphrases"])) == len(r["paraphrases"])
        audio, sr = sf.read(world / r["audio"])
        assert sr == SR and len(audio) == int(SECONDS * SR) and np.abs(audio).max() > 0.5
        with av.open(str(world / r["video"])) as container:
            assert container.streams.audio[0].rate == SR
            assert container.streams.video[0].frames == int(SECONDS * FPS)
    prompts = [json.loads(line) for line in (world / "prompts.jsonl").read_text().splitlines()]
    assert [p["stem"] for p in prompts] == [r["id"] for r in records]
    attributes = ("style", "tempo", "key", "mode", "instruments")
    assert prompts[3]["attributes"] == {k: records[3][k] for k in attributes}
    params = json.loads((world / "world.json").read_text())
    assert params["version"] == FORMAT_VERSION and params["clips"] == CLIPS and params["seed"] == 0
    assert (world / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in world.parent.iterdir() if p.name.startswith(".")]  # no temp dir left beside


def test_shots_cover_the_clip_and_meet_at_cuts(records: list[dict]):
    for r in records:
        shots = r["shots"]
        assert shots[0][0] == 0.0 and shots[-1][1] == r["seconds"]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(shots))  # no gaps, no overlaps
        assert all(end > start for start, end in shots)
        assert [s[0] for s in shots[1:]] == r["cuts"]


def test_same_seed_same_bytes_whatever_the_workers(world: Path, records: list[dict], tmp_path: Path):
    # A smaller world built by one worker holds the very same first clips as the 12-clip two-worker world.
    again = build_world(tmp_path / "again", clips=2, seed=0, seconds=SECONDS, fps=FPS, sample_rate=SR,
                        workers=1, progress=False)
    lines = (again / "manifest.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == records[:2]
    for r in records[:2]:
        assert (again / r["audio"]).read_bytes() == (world / r["audio"]).read_bytes()
        # Identical mp4 bytes too, so a rebuilt world hits a feature cache keyed by file content.
        assert (again / r["video"]).read_bytes() == (world / r["video"]).read_bytes()
    other = build_world(tmp_path / "other", clips=2, seed=1, seconds=SECONDS, fps=FPS, sample_rate=SR,
                        workers=1, progress=False)
    other_records = [json.loads(line) for line in (other / "manifest.jsonl").read_text().splitlines()]
    assert [r["tempo"] for r in other_records] != [r["tempo"] for r in records[:2]]
    for r in other_records:
        assert (other / r["audio"]).read_bytes() != (world / r["audio"]).read_bytes()


def test_detected_onsets_land_on_the_saved_beats(world: Path, records: list[dict]):
    """librosa's onsets hit >= 90% of saved beats within 50 ms; a grid shifted by a sixteenth does not."""
    import librosa

    drum_clips = [r for r in records if r["drums"]]
    assert len(drum_clips) >= 4
    hits, shifted_hits, total = 0, 0, 0
    for r in drum_clips:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        onsets = librosa.onset.onset_detect(y=audio, sr=sr, units="time", hop_length=256)
        # A beat in the last 50 ms has too little of its attack inside the clip to be detected.
        beats = np.array([b for b in r["beats"] if b < r["seconds"] - 0.05])
        sixteenth = 60.0 / r["tempo"] / 4
        hits += int((np.abs(beats[:, None] - onsets[None]).min(1) <= 0.05).sum())
        shifted_hits += int((np.abs(beats[:, None] + sixteenth - onsets[None]).min(1) <= 0.05).sum())
        total += len(beats)
    assert hits / total >= 0.9
    assert shifted_hits / total <= 0.3  # the check can fail: onsets are on the beats, not everywhere


def test_beat_tracker_recovers_the_tempo(world: Path, records: list[dict]):
    import librosa

    for r in (r for r in records if r["drums"]):
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        tempo, _ = librosa.beat.beat_track(y=audio, sr=sr, hop_length=256)
        ratios = float(np.atleast_1d(tempo)[0]) / r["tempo"] * np.array([0.5, 1.0, 2.0])
        assert np.abs(ratios - 1).min() <= 0.05, (r["id"], tempo, r["tempo"])


def test_detected_video_cuts_match_saved_cuts_within_one_frame(world: Path, records: list[dict]):
    """A cut changes most pixels at once, a beat flash only the shapes: frame differences find the cuts."""
    for r in records:
        frames = _frames(world / r["video"]).astype(np.int32)
        changed = (np.abs(np.diff(frames, axis=0)).sum(-1) > 40).mean(axis=(1, 2))
        detected = (np.flatnonzero(changed > 0.5) + 1) / FPS  # time of the first frame of the new shot
        assert len(detected) == len(r["cuts"]), (r["id"], detected, r["cuts"])
        assert np.all(np.abs(detected - np.array(r["cuts"])) <= 1 / FPS + 1e-9)


def test_style_is_visible_in_the_video(world: Path, records: list[dict]):
    """Leave-one-out nearest style centroid on each clip's mean chromaticity names every clip's style."""
    features = []
    for r in records:
        mean = _frames(world / r["video"]).reshape(-1, 3).mean(0)
        features.append(mean / mean.sum())
    features = np.array(features)
    styles = np.array([r["style"] for r in records])
    for i, style in enumerate(styles):
        others = np.arange(len(records)) != i
        centroids = {s: features[others & (styles == s)].mean(0) for s in STYLES}
        guess = min(centroids, key=lambda s: np.linalg.norm(features[i] - centroids[s]))
        assert guess == style, (records[i]["id"], guess, style)


def test_beats_pulse_the_video(world: Path, records: list[dict]):
    """Frames right on a beat are brighter than frames just before it: the flash is the rhythm signal."""
    gains = []
    for r in records:
        brightness = _frames(world / r["video"]).astype(np.float32).mean(axis=(1, 2, 3))
        for beat in r["beats"]:
            on, before = int(np.ceil(beat * FPS - 1e-9)), int(np.ceil(beat * FPS - 1e-9)) - 2
            if before >= 0 and on < len(brightness) and not any(abs(beat - c) < 0.2 for c in r["cuts"]):
                gains.append(brightness[on] - brightness[before])
    assert np.mean(np.array(gains) > 0) >= 0.9


def test_bad_arguments_and_foreign_directories_are_refused(tmp_path: Path):
    with pytest.raises(UserError, match="clips must be at least 1"):
        build_world(tmp_path / "w", clips=0, progress=False)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me")
    with pytest.raises(UserError, match="not a world"):
        build_world(precious, clips=1, progress=False)
    assert (precious / "thesis.tex").read_text() == "keep me"
    assert not (tmp_path / "w").exists()


def test_a_failed_build_leaves_the_previous_world_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = build_world(tmp_path / "w", clips=1, seed=0, workers=1, progress=False)
    before = (out / "manifest.jsonl").read_text()
    real_make_clip = build_module.make_clip

    def crash_on_second_clip(job):
        if job.index == 1:
            raise RuntimeError("simulated crash")
        return real_make_clip(job)

    monkeypatch.setattr(build_module, "make_clip", crash_on_second_clip)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_world(out, clips=2, seed=1, workers=1, progress=False)
    assert (out / "manifest.jsonl").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # the half-built temp dir is gone


def test_cli_builds_and_rebuilds_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    parser = argparse.ArgumentParser(prog="toolkit")
    world_command.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli_world"
    argv = ["world", "build", "--out", str(out), "--clips", "1", "--seed", "3", "--workers", "1"]
    args = parser.parse_args(argv)
    assert world_command.run(args) == 0
    line = capsys.readouterr().out.strip()
    assert "1 clips" in line and "preview.png" in line and "\n" not in line
    first = (out / "manifest.jsonl").read_text()
    assert world_command.run(args) == 0  # an existing world is replaced as a whole
    assert (out / "manifest.jsonl").read_text() == first


def test_building_into_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    out = build_world(".", clips=1, workers=1, progress=False)
    assert out == here.resolve()
    assert (tmp_path / "here" / "manifest.jsonl").is_file()  # looked up afresh: the folder was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]  # no temp dir left beside it
