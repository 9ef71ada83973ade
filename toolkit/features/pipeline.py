"""Run a set of extractors on one video through the feature cache, decoding only what a miss needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.data.cache import FeatureCache, canonical_json, file_hash
from toolkit.errors import MediaError, UserError
from toolkit.features.registry import Extractor, check_extractor, extractor_class


class ExtractedFeatures(dict):
    """Extractor entry name → its arrays; `skipped` maps entries that could not run to the reason."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: dict[str, str] = {}


class _NoMusic(Exception):
    """Raised inside an audio computation when the video has no music, so nothing is cached."""


def build_extractors(specs: Mapping[str, Mapping[str, Any] | Extractor]) -> dict[str, Extractor]:
    """Build extractors from `{entry: kwargs}`; the registered name is `kwargs["type"]`, else the entry.

    A required extractor (e.g. interframe's `clip`) not given in an entry's kwargs takes the kwargs of the
    entry of that name, so both share one cached computation. Built extractors pass through unchanged.
    """
    built = {}
    for entry, spec in specs.items():
        if isinstance(spec, Extractor):
            built[entry] = spec
            continue
        kwargs = dict(spec or {})
        name = kwargs.pop("type", entry)
        for required in extractor_class(name).requires:
            shared = specs.get(required)
            if required not in kwargs and isinstance(shared, Mapping):
                kwargs[required] = {k: v for k, v in shared.items() if k != "type"}
        built[entry] = check_extractor(name, kwargs, f"features.extractors.{entry}")(**kwargs)
    return built


def extract_features(
    video_path: str | Path,
    extractors: Mapping[str, Mapping[str, Any] | Extractor],
    cache: FeatureCache,
    fps: float,
    max_side: int,
    sample_rate: int,
    *,
    frame_reader: Callable[..., Any] | None = None,
    music_loader: Callable[..., np.ndarray | None] | None = None,
) -> ExtractedFeatures:
    """Features of one video: `{entry: {output: array}}`, each from the cache or computed and stored.

    The file is hashed once. Frames are decoded (at `fps`, longest side ≤ `max_side`) only if a video
    extractor misses; the music (the video's own track or a same-stem sibling, at `sample_rate`) is loaded
    only if an audio extractor misses. Without music, audio extractors are skipped and listed in `.skipped`.
    Keys hash the video's bytes (and, for audio, a same-stem music file's) plus the reader settings.
    `frame_reader`/`music_loader` replace the toolkit's readers (same signatures).
    """
    from toolkit.data.audio import music_hash

    path = Path(video_path)
    if not path.is_file():
        raise MediaError(f"{path}: no such video file")
    if frame_reader is None:
        from toolkit.data.video import read_frames as frame_reader
    if music_loader is None:
        from toolkit.data.audio import load_music as music_loader

    fps, max_side, sample_rate = float(fps), int(max_side), int(sample_rate)
    reader_config = {"video": {"fps": fps, "max_side": max_side}, "audio": {"sample_rate": sample_rate}}
    content = file_hash(path)
    source_hash = {"video": content, "audio": music_hash(path, content)}
    decoded: dict[str, Any] = {}

    def frames() -> Any:
        if "frames" not in decoded:
            decoded["frames"] = frame_reader(path, fps, max_side=max_side)
        return decoded["frames"]

    def music() -> tuple[np.ndarray, int]:
        if "music" not in decoded:
            decoded["music"] = music_loader(path, sample_rate)
        if decoded["music"] is None:
            raise _NoMusic
        return decoded["music"], sample_rate

    done: dict[str, dict[str, np.ndarray]] = {}  # per call: an extractor needed twice is fetched once

    def run(extractor: Extractor) -> dict[str, np.ndarray]:
        config = {"extractor": extractor.config(), "reader": reader_config[extractor.kind]}
        memo_key = f"{extractor.name}:{canonical_json(config)}"
        if memo_key not in done:

            def compute() -> dict[str, np.ndarray]:
                upstream = {name: run(dep) for name, dep in extractor.upstream().items()}
                if not extractor.reads_source:
                    return extractor(None, **upstream)
                return extractor(frames() if extractor.kind == "video" else music(), **upstream)

            done[memo_key] = cache.get_or_compute(source_hash[extractor.kind], extractor.name, config, compute)
        return done[memo_key]

    result = ExtractedFeatures()
    for entry, extractor in build_extractors(extractors).items():
        try:
            result[entry] = run(extractor)
        except _NoMusic:
            result.skipped[entry] = f"{path.name}: no music (no audio track or same-stem audio file)"
    return result


def specs_from_config(cfg: Any) -> dict[str, dict[str, Any]]:
    """The `{entry: kwargs}` of the extractors the `features` section (a `FeaturesConfig` or its OmegaConf
    form) switches on, checked without building any: each entry's name (or `type`) is registered, its class
    takes the kwargs and they pass its rules, so a typo fails at config load naming its key.

    A null entry is switched off (its name is still checked). A required extractor's kwargs (interframe's
    `clip`) that the entry does not give are copied from the entry of that name, so the entry runs on its own
    with the same settings and shares that entry's cached computation.
    """
    from omegaconf import OmegaConf

    entries = cfg.extractors
    if OmegaConf.is_config(entries):
        entries = OmegaConf.to_container(entries, resolve=True)
    if not isinstance(entries, Mapping):
        raise UserError(f"features.extractors: expected a mapping of entry name to options, got {entries!r}")
    specs: dict[str, dict[str, Any]] = {}
    for entry, given in entries.items():
        where = f"features.extractors.{entry}"
        if given is not None and not isinstance(given, Mapping):
            raise UserError(f"{where}: expected the extractor's options (a mapping, or null to switch it off), "
                            f"got {given!r}")
        options = dict(given or {})
        name = str(options.pop("type", entry))
        try:
            cls = extractor_class(name)
        except UserError as err:
            raise UserError(f"{where}{'.type' if name != entry else ''}: {err}") from None
        if given is None:
            continue
        for required in cls.requires:
            shared = entries.get(required)
            if required not in options and isinstance(shared, Mapping):
                options[required] = {k: v for k, v in shared.items() if k != "type"}
        check_extractor(name, options, where)
        specs[entry] = {"type": name, **options} if name != entry else options
    return specs
