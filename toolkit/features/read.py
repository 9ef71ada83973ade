"""One video's features as an experiment names them: which extractor entry a dotted key belongs to, its
layout in time, whether it is derived from the music, and its values through the feature cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.pipeline import build_extractors, extract_features, specs_from_config
from toolkit.features.registry import Extractor


def _extractors(cfg: Any, keys: Sequence[str]) -> dict[str, Extractor]:
    specs = specs_from_config(cfg.features)
    entries = list(dict.fromkeys(k.split(".", 1)[0] for k in keys))
    missing = [e for e in entries if e not in specs]
    if missing:
        raise UserError(f"features.extractors: {missing} is read by a conditioner but not switched on")
    return build_extractors({e: specs[e] for e in entries})


def feature_kinds(cfg: Any, keys: Sequence[str]) -> dict[str, Feature]:
    """The declared `Feature` of each dotted key (`entry.output`)."""
    built = _extractors(cfg, keys)
    out = {}
    for key in keys:
        entry, _, output = key.partition(".")
        declared = built[entry].outputs()
        if output in declared:
            out[key] = declared[output]
        elif built[entry].kind == "video":
            out[key] = FRAMES
        else:
            raise UserError(f"features: {key!r} is not an output {entry} declares ({sorted(declared)})")
    return out


def music_derived(cfg: Any, keys: Sequence[str]) -> list[str]:
    """The keys among `keys` that an extractor computes from the music (audio extractors): training targets."""
    built = _extractors(cfg, keys)
    return [k for k in keys if built[k.split(".", 1)[0]].kind == "audio"]


def clip_features(video: Any, cfg: Any, keys: Sequence[str], cache: Any) -> dict[str, np.ndarray]:
    """The dotted feature `keys` of one video, through the feature pipeline (only the entries they name)."""
    if not keys:
        return {}
    found = extract_features(
        video, _extractors(cfg, keys), cache, fps=cfg.features.fps, max_side=cfg.features.max_side,
        sample_rate=cfg.data.sample_rate,
    )
    return {k: np.asarray(_read(found, k)) for k in keys}


def _read(found: Mapping[str, Any], key: str) -> Any:
    entry, _, output = key.partition(".")
    if entry not in found or output not in found[entry]:
        raise UserError(f"features: {key!r} was not extracted ({found.skipped.get(entry, 'unknown output')})")
    return found[entry][output]


def video_inputs(videos: Sequence[Any], cfg: Any, keys: Sequence[str], cache: Any) -> FeatureBatch | None:
    """The batched input features `keys` of `videos` (one row each), laid out by their declared kinds: what
    generation reads. None when there are no keys."""
    if not keys:
        return None
    kinds = feature_kinds(cfg, keys)
    return FeatureBatch.collate([clip_features(video, cfg, keys, cache) for video in videos], keys, kinds)
