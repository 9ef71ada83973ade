"""Range checks on config values, run once when an experiment loads, so a bad value fails before any work."""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig, OmegaConf

from toolkit.errors import UserError

INF = math.inf

# key → (low, high, low inclusive, high inclusive). A key missing from the config (a section not in this schema)
# is skipped, so the table may name keys of every section.
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "data.sample_rate": (4000, 192000, True, True),
    "data.splits.val": (0, 1, True, False),
    "data.splits.test": (0, 1, True, False),
    "data.world.clips": (1, 100000, True, True),
    "data.world.seconds": (2, 600, True, True),
    "features.fps": (0, 120, False, True),
    "features.max_side": (16, 4096, True, True),
    "features.clip_image_size": (16, 1024, True, True),
    "features.clip_batch_size": (1, 4096, True, True),
    "features.rhythm_frame_rate": (0, 1000, False, True),
    "features.n_mels": (1, 512, True, True),
    "features.tempogram_bins": (1, 2048, True, True),
    "features.colour_bins": (1, 32, True, True),  # a joint RGB histogram: bins³ values per frame
    "features.shot_threshold": (0, 1, False, True),  # total-variation distance between histograms
    "backbone.guidance": (0, INF, True, False),
    "backbone.temperature": (0, INF, False, False),
    "backbone.top_k": (0, INF, True, False),
    "backbone.window_seconds": (0, INF, False, False),
    "backbone.overlap_seconds": (0, INF, True, False),
    "train.steps": (0, INF, True, False),
    "train.batch_size": (1, INF, True, False),
    "train.lr": (0, INF, False, False),
    "train.crop_seconds": (0, INF, False, False),
    "train.text_dropout": (0, 1, True, True),
    "train.video_dropout": (0, 1, True, True),
    "train.paraphrase_prob": (0, 1, True, True),
    "planner.patch_size": (1, 64, True, True),
    "planner.plan_dim": (1, 4096, True, True),
    "planner.rite_layers": (0, 64, True, True),
    "planner.dit_width": (1, 8192, True, True),
    "planner.dit_layers": (1, 64, True, True),
    "planner.euler_steps": (1, 10000, True, True),
    "planner.noise_samples": (1, 256, True, True),
    "evaluation.k": (1, INF, True, False),
    "evaluation.bootstrap_resamples": (1, INF, True, False),
    "evaluation.confidence": (0, 1, False, False),
    "evaluation.tb_tolerance_s": (0, INF, False, False),
    "evaluation.tempo_tolerance": (0, 1, False, False),
}


def validate(cfg: DictConfig) -> None:
    """Raise `UserError` naming the first key whose value is non-finite, out of range, or inconsistent."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    for key, value in _leaves(plain):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{key}: must be a finite number, got {value}")
    for key, (low, high, low_in, high_in) in RANGES.items():
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or isinstance(value, bool):
            continue
        above = value >= low if low_in else value > low
        below = value <= high if high_in else value < high
        if not (above and below):
            raise UserError(f"{key}: must be in {'[' if low_in else '('}{_num(low)}, {_num(high)}"
                            f"{']' if high_in else ')'}, got {value}")
    splits = OmegaConf.select(cfg, "data.splits", default=None)
    if splits is not None and splits.val + splits.test >= 1:
        raise UserError(f"data.splits: val + test must be below 1 (nothing left to train on), "
                        f"got {splits.val} + {splits.test}")
    levels = OmegaConf.select(cfg, "planner.fsq_levels", default=None)
    if levels is not None:
        from toolkit.planning.bottleneck import parse_levels

        parse_levels(levels)
    prediction = OmegaConf.select(cfg, "planner.prediction", default=None)
    if prediction is not None:
        from toolkit.planning.locdit import PREDICTIONS

        if prediction not in PREDICTIONS:
            raise UserError(f"planner.prediction: must be one of {PREDICTIONS}, got {prediction!r}")
    backbone = OmegaConf.select(cfg, "backbone", default=None)
    if backbone is not None and "overlap_seconds" in backbone and backbone.overlap_seconds >= backbone.window_seconds:
        raise UserError(f"backbone.overlap_seconds: must be below backbone.window_seconds "
                        f"({backbone.window_seconds}), got {backbone.overlap_seconds}")


def _leaves(tree: Any, prefix: str = ""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _leaves(value, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), tree


def _num(x: float) -> str:
    return "inf" if x == INF else f"{x:g}"
