"""extract_features: decode only on misses, keys include reader settings, missing music is skipped."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from toolkit.config.sections.features import FeaturesConfig
from toolkit.data.cache import FeatureCache
from toolkit.data.mp4 import write_mp4
from toolkit.errors import UserError
from toolkit.features.pipeline import build_extractors, extract_features, specs_from_config

SR = 16000
SPECS = {
    "clip": {"model": "tiny-random"},
    "interframe": {},
    "colour": {"bins": 4},
    "shots": {},
    "rhythm": {"frame_rate": 50},
}


class FakeReaders:
    """Stand-ins for read_frames/load_music that count how often each decodes."""

    def __init__(self, frames_of, music: bool = True):
        self.frames_of, self.music = frames_of, music
        self.frame_reads, self.music_reads = [], []

    def read_frames(self, path, fps, max_side=224):
        self.frame_reads.append((fps, max_side))
        colours = [(200, 30, 30)] * 6 + [(30, 30, 200)] * 6
        array = np.stack([np.full((24, 32, 3), c, dtype=np.uint8) for c in colours])
        array[:, 4:8, :4] = np.arange(12)[:, None, None, None] * 20  # a little motion
        return self.frames_of(array, fps)

    def load_music(self, path, sample_rate):
        self.music_reads.append(sample_rate)
        if not self.music:
            return None
        t = np.arange(2 * sample_rate) / sample_rate
        return (np.sin(2 * np.pi * 440 * t) * (t % 0.5 < 0.05)).astype(np.float32)

    def kwargs(self):
        return {"frame_reader": self.read_frames, "music_loader": self.load_music}


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"not decoded: the fake readers stand in for the real ones")
    return path


def test_second_run_is_all_hits_and_decodes_nothing(video, tmp_path, frames_of):
    readers, cache = FakeReaders(frames_of), FeatureCache(tmp_path / "cache")
    first = extract_features(video, SPECS, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    # clip is computed once and serves interframe too: 5 entries, 5 misses.
    assert (cache.hits, cache.misses) == (0, 5)
    assert readers.frame_reads == [(8.0, 224)] and readers.music_reads == [SR]
    assert set(first) == set(SPECS) and not first.skipped
    np.testing.assert_array_equal(first["shots"]["boundaries"], [6 / 8])
    assert first["interframe"]["distance"].shape == (12,)

    again = FeatureCache(tmp_path / "cache")
    second = extract_features(video, SPECS, again, fps=8.0, max_side=224, sample_rate=SR, **readers.kwargs())
    assert (again.hits, again.misses) == (5, 0)
    assert len(readers.frame_reads) == 1 and len(readers.music_reads) == 1
    for entry in SPECS:
        for key, value in first[entry].items():
            np.testing.assert_array_equal(second[entry][key], value)


def test_reader_settings_are_part_of_each_key(video, tmp_path, frames_of):
    readers, cache = FakeReaders(frames_of), FeatureCache(tmp_path)
    extract_features(video, SPECS, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    cache.hits = cache.misses = 0
    extract_features(video, SPECS, cache, fps=4, max_side=224, sample_rate=SR, **readers.kwargs())
    assert (cache.hits, cache.misses) == (1, 4)  # only rhythm (audio) is unaffected by fps
    assert readers.frame_reads[-1] == (4.0, 224) and len(readers.music_reads) == 1
    cache.hits = cache.misses = 0
    extract_features(video, SPECS, cache, fps=8, max_side=224, sample_rate=8000, **readers.kwargs())
    assert (cache.hits, cache.misses) == (4, 1) and len(readers.frame_reads) == 2
    cache.hits = cache.misses = 0
    extract_features(video, SPECS, cache, fps=8, max_side=112, sample_rate=SR, **readers.kwargs())
    assert (cache.hits, cache.misses) == (1, 4)


def test_interframe_alone_reuses_cached_clip_without_decoding(video, tmp_path, frames_of):
    readers, cache = FakeReaders(frames_of), FeatureCache(tmp_path)
    extract_features(video, {"clip": {}}, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    out = extract_features(video, {"interframe": {}}, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    assert len(readers.frame_reads) == 1 and (cache.hits, cache.misses) == (1, 2)
    assert out["interframe"]["distance"][6] > out["interframe"]["distance"][1:6].max()


def test_video_without_music_skips_audio_extractors(video, tmp_path, frames_of):
    readers, cache = FakeReaders(frames_of, music=False), FeatureCache(tmp_path)
    out = extract_features(video, SPECS, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    assert "rhythm" not in out and set(out) == set(SPECS) - {"rhythm"}
    assert out.skipped == {"rhythm": "clip.mp4: no music (no audio track or same-stem audio file)"}
    # no temporaries left (the feature cache's striped lock files live in `.locks/`)
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*") if p.name != ".locks" and p.suffix != ".lock")


def test_sibling_music_file_is_part_of_the_audio_key(video, tmp_path, frames_of):
    readers, cache = FakeReaders(frames_of), FeatureCache(tmp_path / "cache")
    specs = {"rhythm": {}, "colour": {}}
    extract_features(video, specs, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    video.with_suffix(".wav").write_bytes(b"a new master")  # the loader would now read this file
    cache.hits = cache.misses = 0
    extract_features(video, specs, cache, fps=8, max_side=224, sample_rate=SR, **readers.kwargs())
    assert (cache.hits, cache.misses) == (1, 1) and len(readers.music_reads) == 2


def test_missing_video_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such video file"):
        extract_features(tmp_path / "nope.mp4", SPECS, FeatureCache(tmp_path), 8, 224, SR)


# What `specs_from_config` gave for the default section when it was a flat dataclass (clip_model, n_mels, ...):
# the defaults must stay these kwargs, or every cached feature's key changes.
OLD_DEFAULT_SPECS = {
    "clip": {"model": "tiny-random", "image_size": 224, "batch_size": 32},
    "interframe": {"clip": {"model": "tiny-random", "image_size": 224, "batch_size": 32}},
    "rhythm": {"frame_rate": 50.0, "n_mels": 24, "tempogram_bins": 64},
    "colour": {"bins": 8},
    "shots": {"threshold": 0.4, "bins": 8},
}


def test_the_default_section_gives_the_old_extractor_kwargs():
    cfg = OmegaConf.structured(FeaturesConfig)
    specs = specs_from_config(cfg)
    assert specs == OLD_DEFAULT_SPECS and list(specs) == list(OLD_DEFAULT_SPECS)
    for entry, kwargs in specs.items():
        assert {k: type(v) for k, v in kwargs.items()} == {k: type(v) for k, v in OLD_DEFAULT_SPECS[entry].items()}
    assert specs_from_config(FeaturesConfig()) == OLD_DEFAULT_SPECS  # the dataclass itself, not only OmegaConf's


def test_config_section_drives_the_extractors():
    cfg = OmegaConf.structured(FeaturesConfig)
    built = build_extractors(specs_from_config(cfg))
    assert built["clip"].config() == built["interframe"].clip.config()
    assert built["rhythm"].frame_rate == 50 and cfg.fps == 8 and cfg.max_side == 224
    cfg = OmegaConf.merge(cfg, OmegaConf.create(
        {"extractors": {"clip": {"model": "tiny-random", "seed": 3}, "rhythm": None, "shots": None,
                        "coarse": {"type": "colour", "bins": 2}}}))
    specs = specs_from_config(cfg)
    assert list(specs) == ["clip", "interframe", "colour", "coarse"]  # null switches an entry off
    assert specs["interframe"]["clip"]["seed"] == 3  # runs alone (training reads one entry) with clip's settings
    assert specs["coarse"] == {"type": "colour", "bins": 2}
    cfg.extractors.shot = None  # a misspelt name fails even when switched off
    with pytest.raises(UserError, match=r"features.extractors.shot: unknown feature extractor 'shot' — did you mean"):
        specs_from_config(cfg)


@pytest.mark.parametrize(
    ("extractors", "message"),
    [
        ({"clip": {"modle": "x"}}, r"features.extractors.clip.modle: the clip extractor has no option 'modle' — did"),
        ({"big": {"type": "colour", "bins": 64}}, r"features.extractors.big.bins: must be in \[1, 32\], got 64"),
        ({"interframe": {"clip": {"image_size": 8}}}, r"features.extractors.interframe.clip.image_size: must be in"),
        ({"mine": {"type": "colr"}}, r"features.extractors.mine.type: unknown feature extractor 'colr'"),
        ({"shots": {"threshold": 1.0}}, r"features.extractors.shots.threshold: must be in \(0, 1\), got 1.0"),
        ({"rhythm": 3}, r"features.extractors.rhythm: expected the extractor's options"),
    ],
)
def test_bad_extractor_options_name_their_key(extractors, message):
    with pytest.raises(UserError, match=message):
        specs_from_config(FeaturesConfig(extractors={**FeaturesConfig().extractors, **extractors}))


def test_real_readers_on_an_mp4_with_music(tmp_path):
    pytest.importorskip("toolkit.data.video")
    fps, seconds = 8, 2
    frames = np.zeros((fps * seconds, 48, 64, 3), dtype=np.uint8)
    frames[:fps] = (220, 40, 40)
    frames[fps:] = (40, 40, 220)
    t = np.arange(seconds * SR) / SR
    clicks = (np.sin(2 * np.pi * 1000 * t) * ((t % 0.5) < 0.03)).astype(np.float32)
    path = write_mp4(tmp_path / "clip.mp4", frames, fps, audio=clicks, sample_rate=SR)
    cache = FeatureCache(tmp_path / "cache")
    specs = specs_from_config(OmegaConf.structured(FeaturesConfig))
    out = extract_features(path, specs, cache, fps=8, max_side=224, sample_rate=SR)
    assert not out.skipped and cache.misses == 5
    assert out["clip"]["local"].shape[0] == out["colour"]["histogram"].shape[0] == fps * seconds
    np.testing.assert_allclose(out["shots"]["boundaries"], [1.0])
    assert float(out["rhythm"]["tempo"]) == pytest.approx(120, rel=0.05)
    extract_features(path, specs, cache, fps=8, max_side=224, sample_rate=SR)
    assert cache.hits == 5
