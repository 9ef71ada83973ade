"""Dataset scanning: usable clips, skipped files with reasons, prompts, and clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from toolkit.data.dataset import scan_dataset
from toolkit.data.mp4 import write_mp4
from toolkit.errors import UserError

SR = 16000


def _clip(path: Path, audio: bool = True, seconds: float = 1.0) -> Path:
    frames = np.full((int(12 * seconds), 32, 32, 3), 100, np.uint8)
    tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(int(SR * seconds)) / SR) if audio else None
    return write_mp4(path, frames, 12, tone, SR if audio else None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _clip(tmp_path / "good.mp4")
    _clip(tmp_path / "silent.mp4", audio=False)
    _clip(tmp_path / "dubbed.mp4", audio=False)
    sf.write(tmp_path / "dubbed.wav", np.zeros(SR, np.float32), SR)  # music as a sibling file
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "prompts.jsonl").write_text(
        json.dumps({"stem": "good", "prompt": "a calm pad", "attributes": {"tempo": 72}}) + "\n"
    )
    return tmp_path


def test_scan_keeps_usable_clips_and_explains_each_skip(folder: Path) -> None:
    scan = scan_dataset(folder)
    assert sorted(item.stem for item in scan.items) == ["dubbed", "good"]
    assert scan.total == 5
    reasons = dict(scan.skipped)
    assert set(reasons) == {"silent.mp4", "corrupt.mp4", "empty.mp4"}
    assert reasons["silent.mp4"] == "no audio track and no sibling audio file"
    assert all("\n" not in r for r in reasons.values())
    by_stem = {item.stem: item for item in scan.items}
    assert by_stem["dubbed"].audio == folder / "dubbed.wav"
    assert by_stem["good"].audio is None  # music comes from the video's own track
    assert by_stem["good"].prompt == "a calm pad" and by_stem["good"].attributes == {"tempo": 72}
    assert by_stem["good"].duration == pytest.approx(1.0, abs=0.1)


def test_clips_without_music_are_kept_for_generation_input(folder: Path) -> None:
    stems = {item.stem for item in scan_dataset(folder, require_music=False).items}
    assert stems == {"good", "silent", "dubbed"}


def test_missing_folder_and_nothing_usable_fail(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        scan_dataset(tmp_path / "nope")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(UserError, match=r"no usable videos \(skipped 1 of 1; first: bad.mp4: "):
        scan_dataset(tmp_path)


def test_malformed_prompts_file_names_the_line(folder: Path) -> None:
    (folder / "prompts.jsonl").write_text('{"stem": "good", "prompt": "x"}\n{oops\n')
    with pytest.raises(UserError, match=r"prompts.jsonl:2:"):
        scan_dataset(folder)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"stem": "good", "prompt": "x", "paraphrases": 5}', "'paraphrases' must be a list of strings"),
        ('{"stem": "good", "prompt": "x", "paraphrases": "abc"}', "'paraphrases' must be a list of strings"),
        ('{"stem": "good", "prompt": "x", "attributes": [1, 2]}', "'attributes' must be an object"),
        ('{"stem": "good", "prompt": null}', "'prompt' must be a non-empty string"),
        ("[1, 2]", "expected a JSON object"),
        ('{"stem": "good", "prompt": "x", "shots": {"a": 1}}', "'shots' must be a list"),
        ('{"stem": "good", "prompt": "x", "shots": [{"start": 0, "duration": 2}]}', r"shots\[0\]: expected an object"),
        ('{"stem": "good", "prompt": "x", "shots": [{"start": "a", "duration": 2, "caption": "c"}]}',
         r"shots\[0\]: 'start' and 'duration' must be numbers"),
        ('{"stem": "good", "prompt": "x", "shots": [{"start": 1, "duration": 0, "caption": "c"}]}',
         r"shots\[0\]: needs start >= 0 and duration > 0"),
    ],
)
def test_prompt_fields_are_type_checked(folder: Path, line: str, message: str) -> None:
    (folder / "prompts.jsonl").write_text(line + "\n")
    with pytest.raises(UserError, match=f"prompts.jsonl:1: {message}"):
        scan_dataset(folder)


def test_per_shot_captions_reach_the_item(folder: Path) -> None:
    shots = [{"start": 0.0, "duration": 2.5, "caption": "a piano ballad"},
             {"start": 2.5, "duration": 1.5, "caption": "strings"}]
    (folder / "prompts.jsonl").write_text(json.dumps({"stem": "good", "prompt": "x", "shots": shots}) + "\n")
    item = next(i for i in scan_dataset(folder).items if i.stem == "good")
    assert [(s.start, s.duration, s.caption) for s in item.shots] == [(0.0, 2.5, "a piano ballad"),
                                                                       (2.5, 1.5, "strings")]
    assert all(i.shots == () for i in scan_dataset(folder).items if i.stem != "good")


def test_all_bad_folder_names_the_first_reason(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(UserError, match=r"skipped 1 of 1; first: empty.mp4: empty file \(0 bytes\)"):
        scan_dataset(tmp_path)
