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
from toolkit.metrics import ground_truth

CLIPS, SECONDS, FPS, SR = 36, 8.0, 24.0, 32000  # six shuffled rounds of the six styles; a third storyboards


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_world(tmp_path_factory.mktemp("world") / "w", clips=CLIPS, seed=0, seconds=SECONDS, fps=FPS,
                       sample_rate=SR, workers=2, progress=False)


@pytest.fixture(scope="module")
def records(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "manifest.jsonl").read_text().splitlines()]


def test_manifest_fields_and_files(world: Path, records: list[dict]):
    assert [r["id"] for r in records] == [f"clip_{i:05d}" for i in range(CLIPS)]
    assert {r["style"] for r in records} == set(STYLES) and len(STYLES) >= 5
    for r in records:
        assert r["seconds"] == SECONDS and r["key"]
        assert -1 <= r["valence"] <= 1 and -1 <= r["arousal"] <= 1
        assert r["mode"] == ("major" if r["valence"] >= 0 else "minor")  # valence is heard in the mode
        assert r["drums"] == ("drums" in r["instruments"])
        assert set(r["downbeats"]) <= set(r["beats"]) and len(r["cuts_on_beat"]) == len(r["cuts"])
        assert str(r["tempo"]) in r["prompt"] and f"{r['key']} {r['mode']}" in r["prompt"]
        assert len(r["paraphrases"]) >= 2 and len(set(r["paraphrases"])) == len(r["paraphrases"])
        audio, sr = sf.read(world / r["audio"])
        assert sr == SR and len(audio) == int(SECONDS * SR) and np.abs(audio).max() > 0.1
        with av.open(str(world / r["video"])) as container:
            assert container.streams.audio[0].rate == SR
            assert container.streams.video[0].frames == int(SECONDS * FPS)
    prompts = [json.loads(line) for line in (world / "prompts.jsonl").read_text().splitlines()]
    assert [p["stem"] for p in prompts] == [r["id"] for r in records]
    attributes = ("style", "tempo", "key", "mode", "valence", "arousal", "instruments")
    assert prompts[3]["attributes"] == {k: records[3][k] for k in attributes}
    assert [s["caption"] for s in prompts[1]["shots"]] == [s["caption"] for s in records[1]["shots"]]
    params = json.loads((world / "world.json").read_text())
    assert params["version"] == FORMAT_VERSION == 2 and params["clips"] == CLIPS and params["seed"] == 0
    assert (params["storyboards"], params["offbeat_cuts"]) == (0.35, 0.3)
    assert (world / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in world.parent.iterdir() if p.name.startswith(".")]  # no temp dir left beside


def test_shots_cover_the_clip_and_meet_at_cuts(records: list[dict]):
    for r in records:
        shots = r["shots"]
        assert shots[0]["start"] == 0.0
        assert shots[-1]["start"] + shots[-1]["duration"] == pytest.approx(r["seconds"], abs=1e-6)
        assert all(a["start"] + a["duration"] == pytest.approx(b["start"], abs=1e-6)
                   for a, b in itertools.pairwise(shots))  # no gaps, no overlaps
        assert all(s["duration"] > 0 and s["style"] in STYLES and s["caption"] for s in shots)
        assert [s["start"] for s in shots[1:]] == r["cuts"]


def test_storyboards_change_style_at_every_cut(records: list[dict]):
    boards = [r for r in records if r["storyboard"]]
    plain = [r for r in records if not r["storyboard"]]
    assert 0.2 <= len(boards) / CLIPS <= 0.5 and {len(r["shots"]) for r in boards} == {2, 3}
    for r in boards:
        styles = [s["style"] for s in r["shots"]]
        assert len(set(styles)) == len(styles)  # a new style at each cut
        assert all(s["duration"] >= 2.0 - 1e-6 for s in r["shots"])  # the style classifier's window
        assert r["style"] == max(r["shots"], key=lambda s: s["duration"])["style"]  # the clip's: the longest
        for shot in r["shots"]:
            assert shot["caption"].split(" at ")[0] in r["prompt"]  # the prompt names every shot's style
    for r in plain:
        assert {s["style"] for s in r["shots"]} == {r["style"]} and len({s["tempo"] for s in r["shots"]}) == 1


def test_a_share_of_cuts_falls_between_beats(records: list[dict]):
    flags = [f for r in records for f in r["cuts_on_beat"]]
    assert 0.15 <= 1 - np.mean(flags) <= 0.45
    for r in records:
        beats = np.array(r["beats"])
        for cut, on_beat in zip(r["cuts"], r["cuts_on_beat"], strict=True):
            gap = np.abs(beats - cut).min()
            tempo = next(s["tempo"] for s in reversed(r["shots"]) if s["start"] <= cut + 1e-6)
            if on_beat:
                assert gap < 1e-5
            else:  # at least 30 % of a beat from any beat: far outside any beat-matching tolerance
                assert gap >= 0.3 * min(60.0 / tempo, 60.0 / r["tempo"]) - 1e-3, (r["id"], cut)


def test_mood_words_follow_the_emotion_not_the_style(records: list[dict]):
    from toolkit.data.world.emotion import MOODS

    for r in records:
        quadrant = MOODS[(r["valence"] >= 0, r["arousal"] >= 0)]
        others = {w for words in MOODS.values() for w in words} - set(quadrant)
        words = set(r["prompt"].replace(",", " ").split())
        assert words & set(quadrant) and not words & others, (r["id"], r["prompt"])


def test_same_seed_same_bytes_whatever_the_workers(world: Path, records: list[dict], tmp_path: Path):
    # A smaller world built by one worker holds the very same first clips as the 36-clip two-worker world.
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
    """librosa's onsets hit >= 90% of saved beats (in drummed shots) within 50 ms; a grid shifted by a
    sixteenth does not."""
    found = ground_truth.beats_on_onsets(world, records)
    shifted = ground_truth.beats_on_onsets(world, records, shift_beats=0.25)
    assert found.total >= 60 and found.rate >= 0.9
    assert shifted.rate <= 0.3  # the check can fail: onsets are on the beats, not everywhere


def test_beat_tracker_recovers_the_tempo(world: Path, records: list[dict]):
    import librosa

    for r in (r for r in records if r["drums"] and not r["storyboard"]):
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        tempo, _ = librosa.beat.beat_track(y=audio, sr=sr, hop_length=256)
        ratios = float(np.atleast_1d(tempo)[0]) / r["tempo"] * np.array([0.5, 1.0, 2.0])
        assert np.abs(ratios - 1).min() <= 0.05, (r["id"], tempo, r["tempo"])


@pytest.mark.parametrize("on_beat", [True, False], ids=["on-beat", "off-beat"])
def test_detected_video_cuts_match_saved_cuts_within_one_frame(world: Path, records: list[dict], on_beat: bool):
    """A cut changes most pixels at once, a beat flash only the shapes: frame differences find the cuts, on
    the beat and off it alike (a spurious detection counts against the on-beat figure)."""
    agreement = ground_truth.cuts_detected(world, records, FPS, on_beat=on_beat)
    assert agreement.total >= 15 and agreement.rate >= 0.95, agreement


def test_each_shot_style_is_heard_in_its_stretch_of_music(world: Path, records: list[dict]):
    agreement = ground_truth.shot_styles_from_music(world, records)
    assert agreement.total >= 60 and agreement.rate >= 0.8, agreement  # chance: 1/6


def test_valence_is_heard_in_the_mode_and_seen_in_the_picture(world: Path, records: list[dict]):
    mode = ground_truth.mode_from_audio(world, records)
    assert mode.rate >= 0.75, mode  # chance: 0.5
    for measure, floor in ((ground_truth.brightness, 0.7), (ground_truth.saturation, 0.9)):
        agreement = ground_truth.within_style_order(measure.__name__, records, "valence", measure(world))
        assert agreement.total >= 15 and agreement.rate >= floor, agreement


def test_arousal_is_heard_in_density_and_loudness_and_seen_in_motion(world: Path, records: list[dict]):
    for measure, floor in ((ground_truth.onset_density, 0.65), (ground_truth.loudness, 0.9),
                           (ground_truth.motion, 0.9)):
        agreement = ground_truth.within_style_order(measure.__name__, records, "arousal", measure(world))
        assert agreement.total >= 15 and agreement.rate >= floor, agreement


def test_emotion_is_drawn_apart_from_style(records: list[dict]):
    """Every style meets both signs of valence and of arousal: a style does not give the emotion away."""
    for style in STYLES:
        mine = [r for r in records if r["style"] == style]
        assert {r["valence"] >= 0 for r in mine} == {True, False} or len(mine) < 4, style
        assert {r["arousal"] >= 0 for r in mine} == {True, False} or len(mine) < 4, style


def test_style_is_visible_in_the_video(world: Path, records: list[dict]):
    """Leave-one-out nearest style centroid on each plain clip's mean hue names its style: valence grades
    saturation and brightness, never hue."""
    plain = [r for r in records if not r["storyboard"]]
    features = []
    for r in plain:
        mean = ground_truth.frames_of(world / r["video"]).reshape(-1, 3).astype(np.float64).mean(0)
        opponent = np.array([mean[0] - mean[1], (mean[0] + mean[1]) / 2 - mean[2]])
        features.append(opponent / np.linalg.norm(opponent))
    features = np.array(features)
    styles = np.array([r["style"] for r in plain])
    wrong = []
    for i, style in enumerate(styles):
        others = np.arange(len(plain)) != i
        centroids = {s: features[others & (styles == s)].mean(0) for s in set(styles[others])}
        guess = min(centroids, key=lambda s: np.linalg.norm(features[i] - centroids[s]))
        wrong += [(plain[i]["id"], guess, style)] if guess != style else []
    assert not wrong


def test_beats_pulse_the_video(world: Path, records: list[dict]):
    """Frames right on a beat are brighter than frames just before it: the flash is the rhythm signal."""
    gains = []
    for r in records:
        brightness = ground_truth.frames_of(world / r["video"]).astype(np.float32).mean(axis=(1, 2, 3))
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
