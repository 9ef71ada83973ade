"""Crops line features up with codes; batches are seeded; codes are cached by content."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolkit.training.data import ClipSet

from .helpers import FPS, make_clips


def _set(crop_seconds=0.3, keys=("clip.global", "interframe.distance"), max_frames=None):
    return ClipSet(make_clips(3), 100.0, FPS, crop_seconds, list(keys), max_frames)


def test_crops_start_on_a_video_frame_and_its_codec_frame():
    clips = _set()
    assert clips.crop_frames == 30
    gen = torch.Generator().manual_seed(0)
    starts = set()
    for _ in range(40):
        batch = clips.batch([0, 1, 2], gen)
        assert batch.codes.shape == (3, 2, 30)
        assert batch.features["clip.global"].shape[1] == 9  # 0.3 s at 25 fps, plus one
        for row, index in enumerate([0, 1, 2]):
            first_frame = int(batch.features["clip.global"][row, 0, 0])  # channel 0 holds the frame number
            code_start = round(first_frame * 100.0 / FPS)
            assert torch.equal(batch.codes[row], clips.clips[index].codes[:, code_start : code_start + 30])
            starts.add(first_frame)
    assert min(starts) == 0 and max(starts) == 17  # every valid start is drawn: (100 - 30) / 4 = 17.5


def test_crop_is_limited_by_the_shortest_clip_and_the_decoder():
    assert _set(crop_seconds=5.0).crop_frames == 100
    assert _set(crop_seconds=5.0, max_frames=62).crop_frames == 62


def test_batches_are_reproducible_from_the_generator_and_validation_is_fixed():
    clips = _set()
    a = clips.sample(2, torch.Generator().manual_seed(3), paraphrase_prob=0.5)
    b = clips.sample(2, torch.Generator().manual_seed(3), paraphrase_prob=0.5)
    assert torch.equal(a.codes, b.codes) and a.prompts == b.prompts and a.stems == b.stems
    val = clips.validation_batches(2, 5)
    assert [v.stems for v in val] == [["clip0", "clip1"], ["clip2"]]
    assert val[0].prompts == ["prompt 0", "prompt 1"]
    assert torch.equal(val[0].codes[0], clips.clips[0].codes[:, :30])


def test_paraphrases_replace_prompts_at_the_configured_rate():
    clips = _set()
    gen = torch.Generator().manual_seed(0)
    prompts = [p for _ in range(300) for p in clips.batch([0], gen, paraphrase_prob=0.3).prompts]
    assert set(prompts) == {"prompt 0", "paraphrase 0"}
    assert abs(prompts.count("paraphrase 0") / len(prompts) - 0.3) < 0.07


def test_music_codes_come_from_the_codec_and_are_cached(backbone, tmp_path):
    import soundfile

    from toolkit.data.cache import FeatureCache
    from toolkit.data.mp4 import write_mp4
    from toolkit.training.data import music_codes

    video = write_mp4(tmp_path / "c.mp4", np.zeros((8, 16, 16, 3), np.uint8), 8)
    wave = (0.3 * np.sin(np.linspace(0, 400, backbone.sample_rate))).astype(np.float32)
    soundfile.write(tmp_path / "c.wav", wave, backbone.sample_rate)
    cache = FeatureCache(tmp_path / "cache")
    codes = music_codes(video, backbone, cache)
    expected = backbone.encode_audio(torch.from_numpy(wave)[None])[0]
    assert torch.equal(codes, expected) and cache.misses == 1
    assert torch.equal(music_codes(video, backbone, cache), codes) and cache.hits == 1


def test_a_video_without_music_is_a_clear_error(backbone, tmp_path):
    from toolkit.data.cache import FeatureCache
    from toolkit.data.mp4 import write_mp4
    from toolkit.errors import UserError
    from toolkit.training.data import music_codes

    video = write_mp4(tmp_path / "silent.mp4", np.zeros((8, 16, 16, 3), np.uint8), 8)
    with pytest.raises(UserError, match="silent.mp4: no music"):
        music_codes(video, backbone, FeatureCache(tmp_path / "cache"))
