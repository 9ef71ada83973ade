"""Generate music for a split's clips with a trained run's adapters, and score it against the reference music.

Shared by the `train-evaluate` sweep trial and `toolkit evaluate --run RUN_ID`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

# Spreads clip indices apart per run seed: seeds s and s' never give two clips the same sampling seed as long as a
# split has fewer clips than this (a prime, so neighbouring run seeds do not line up either).
SEED_STRIDE = 1_000_003


def clip_seed(seed: int, index: int) -> int:
    """The sampling seed of the `index`-th clip of a split generated under run seed `seed`.

    One seed per clip, not the run's seed for all: with an empty prompt and no video (the bare backbone, or
    `evaluation.prompts: none`) every clip would otherwise get the very same music, and a metric's spread over
    clips would be the spread of one sample. Deterministic, so a re-run and every arm of a comparison draw the
    same seeds for the same clips."""
    return int(seed) * SEED_STRIDE + int(index)


def generate_split(cfg: Any, attached: Any, items: list, out: Path) -> Path:
    """One wav per test clip (same stem, same duration) plus `timings.jsonl` for the speed metrics.

    Clip `n` is sampled with `clip_seed(cfg.seed, n)`, and with its own prompt or, under
    `evaluation.prompts: none`, an empty one."""
    import soundfile

    from toolkit.config.sections.evaluation import PromptSource, prompt_source
    from toolkit.features.read import video_inputs
    from toolkit.generation import generate_music
    from toolkit.metrics.speed import TIMINGS_FILE
    from toolkit.prepare import feature_cache

    out.mkdir(parents=True, exist_ok=True)
    backbone, keys, cache = attached.backbone, attached.input_keys, feature_cache(cfg)
    use_prompts = prompt_source(cfg.evaluation.prompts) is PromptSource.prompt
    timings = []
    for index, item in enumerate(items):
        started = time.perf_counter()
        features = video_inputs([item.video], cfg, keys, cache)  # the inputs only: no music-derived target
        feature_seconds = time.perf_counter() - started
        audio = generate_music(
            backbone, [(item.prompt or "") if use_prompts else ""], item.duration, guidance=cfg.backbone.guidance,
            temperature=cfg.backbone.temperature, top_k=cfg.backbone.top_k, seed=clip_seed(cfg.seed, index),
            window_seconds=cfg.backbone.window_seconds, overlap_seconds=cfg.backbone.overlap_seconds,
            attached=attached, features=features, fps=float(cfg.features.fps),
        )[0]
        took = time.perf_counter() - started - feature_seconds
        soundfile.write(out / f"{item.stem}.wav", audio.numpy(), backbone.sample_rate)
        timings.append({"id": item.stem, "generation_seconds": took, "audio_seconds": item.duration,
                        "feature_seconds": feature_seconds, "batch_size": 1, "device": str(backbone.device)})
    (out / TIMINGS_FILE).write_text("".join(json.dumps(t) + "\n" for t in timings))
    return out


def evaluate_generated(cfg: Any, items: list, generated: Path, attached: Any | None = None,
                       windows_file: Path | None = None) -> dict:
    """The metrics suite over (reference music, generated music) pairs of the test clips. Cuts come from the
    shots feature cache when the experiment extracts shots (no video is decoded again), else from shot
    detection; with `attached` (the model that generated), model metrics (`nll_gain`) are scored too;
    `windows_file` keeps the embedding windows (for paired set metrics in reports)."""
    from omegaconf import OmegaConf

    from toolkit.config.sections.evaluation import EvalConfig
    from toolkit.metrics import suite
    from toolkit.training.nll_gain import VideoNllScorer

    pairs = [suite.Pair(i.stem, i.audio or i.video, generated / f"{i.stem}.wav") for i in items]
    reference_dir = items[0].video.parent
    cuts, source = _cached_cuts(cfg, items)
    notes = suite.read_annotations(reference_dir, generated, reference_dir, [p.id for p in pairs], lambda m: None,
                                   cuts=cuts, cuts_source=source)
    options = EvalConfig(**OmegaConf.to_container(cfg.evaluation, resolve=True))
    scorer = VideoNllScorer(cfg, attached, items) if attached is not None else None
    return suite.evaluate_pairs(pairs, options, notes, report=lambda m: None, scorer=scorer, windows_file=windows_file)


def _cached_cuts(cfg: Any, items: list) -> tuple[dict[str, Any] | None, str]:
    """Each item's shot boundaries from the feature cache, when the experiment extracts shots."""
    from toolkit.features.pipeline import specs_from_config
    from toolkit.features.read import clip_features
    from toolkit.prepare import feature_cache

    if "shots" not in specs_from_config(cfg.features):
        return None, ""
    cache, key = feature_cache(cfg), "shots.boundaries"
    cuts = {i.stem: clip_features(i.video, cfg, [key], cache)[key] for i in items}
    return cuts, f"the shots feature cache (shot detection at {float(cfg.features.fps):g} fps)"


def evaluate_run(ref: str, out: Path | None = None, split: str = "test", threads: int | None = None) -> dict[str, Any]:
    """Load run `ref` (run folder, checkpoint folder or MLflow run id), generate its `split`, evaluate, and log
    the numbers to the run's MLflow run (when it has one). Returns the suite's result (`toolkit.metrics.suite`).

    Computes with `threads` CPU threads (default: the run's `train.threads` when set, else the machine's)."""
    from toolkit.errors import UserError
    from toolkit.metrics.suite import flat_metrics
    from toolkit.prepare import prepare
    from toolkit.training.run import checkpoint_config, find_checkpoint, load_run
    from toolkit.utils.threads import configured_threads, use_threads

    checkpoint = find_checkpoint(ref)
    use_threads(threads or configured_threads(checkpoint_config(checkpoint)))  # before the backbone loads
    cfg, attached, checkpoint = load_run(checkpoint)
    items = prepare(cfg, progress=False).split(split)
    if not items:
        raise UserError(f"data.splits.{split}: the {split} split of run {ref} is empty; nothing to evaluate")
    out = Path(out) if out is not None else checkpoint.path.parent / f"eval_{split}"
    try:
        generated = generate_split(cfg, attached, items, out / "generated")
        metrics = evaluate_generated(cfg, items, generated, attached)
    finally:
        attached.detach()
    run_id = checkpoint.state.get("mlflow_run_id")
    if run_id:
        from toolkit.training.tracking import TrainingRun

        tracked = TrainingRun(str(cfg.name), checkpoint.path.parent, run_id, checkpoint=checkpoint.path)
        tracked.log_metrics(checkpoint.step, {f"{split}/{k}": v for k, v in flat_metrics(metrics).items()})
        tracked.end()
        print(f"logged {split} metrics to MLflow run {run_id}", file=sys.stderr)
    return metrics
