"""`trial: train-evaluate` — a sweep trial: train the experiment's adapters, generate music for the test split
with them (video features + prompts, guidance over both), and evaluate against the reference music with
`toolkit.metrics.suite`. Keeps a few wavs, one spectrogram PNG and one mp4 as artifacts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from toolkit.sweeps.trial import Report, TrialResult, register_trial

KEPT_CLIPS = 3


@register_trial("train-evaluate")
def run_train_evaluate(cfg: Any, report: Report, workdir: Path) -> TrialResult:
    from toolkit.errors import UserError
    from toolkit.prepare import prepare
    from toolkit.training.run import load_run
    from toolkit.training.trainer import train

    workdir = Path(workdir)
    result = train(cfg, run_dir=workdir / "run", track=False, report=report)
    test = prepare(cfg, progress=False).split("test")
    if not test:
        raise UserError("data.splits.test: the test split is empty; nothing to evaluate")
    _, attached, _ = load_run(result.checkpoint, "trial")
    try:
        generated = _generate(cfg, attached, test, workdir / "generated")
    finally:
        attached.detach()
    metrics = _evaluate(cfg, test, generated)
    metrics.update({k: v for k, v in result.metrics.items() if k in ("loss", "val_loss")})
    metrics.update(result.counts)
    artifacts = [result.checkpoint, *sorted(generated.glob("*.wav"))[:KEPT_CLIPS]]
    artifacts += _previews(test[0], generated, workdir / "previews")
    curves = {k: v for k, v in result.history.items() if k in ("loss", "val_loss", "lr")}
    return TrialResult(metrics=metrics, artifacts=artifacts, step_metrics=curves)


def _generate(cfg: Any, attached: Any, items: list, out: Path) -> Path:
    """One wav per test clip (same stem, same duration) plus `timings.jsonl` for the speed metrics."""
    import soundfile

    from toolkit.conditioners import collate_features
    from toolkit.generation import generate_music
    from toolkit.prepare import feature_cache
    from toolkit.training.data import clip_features

    out.mkdir(parents=True, exist_ok=True)
    backbone, keys, cache = attached.backbone, attached.feature_keys, feature_cache(cfg)
    timings = []
    for item in items:
        started = time.perf_counter()
        features = collate_features([clip_features(item.video, cfg, keys, cache)], keys) if keys else None
        feature_seconds = time.perf_counter() - started
        audio = generate_music(
            backbone, [item.prompt or ""], item.duration, guidance=cfg.backbone.guidance,
            temperature=cfg.backbone.temperature, top_k=cfg.backbone.top_k, seed=int(cfg.seed),
            window_seconds=cfg.backbone.window_seconds, overlap_seconds=cfg.backbone.overlap_seconds,
            attached=attached, features=features, fps=float(cfg.features.fps),
        )[0]
        took = time.perf_counter() - started - feature_seconds
        soundfile.write(out / f"{item.stem}.wav", audio.numpy(), backbone.sample_rate)
        timings.append({"id": item.stem, "generation_seconds": took, "audio_seconds": item.duration,
                        "feature_seconds": feature_seconds, "batch_size": 1, "device": str(backbone.device)})
    (out / "timings.jsonl").write_text("".join(json.dumps(t) + "\n" for t in timings))
    return out


def _evaluate(cfg: Any, items: list, generated: Path) -> dict:
    """The metrics suite over (reference music, generated music) pairs of the test clips."""
    from omegaconf import OmegaConf

    from toolkit.config.sections.evaluation import EvalConfig
    from toolkit.metrics import suite

    pairs = [suite.Pair(i.stem, i.audio or i.video, generated / f"{i.stem}.wav") for i in items]
    reference_dir = items[0].video.parent
    notes = suite.read_annotations(reference_dir, generated, reference_dir, [p.id for p in pairs], lambda m: None)
    manifest = suite.find_manifest(reference_dir)
    world = manifest.parent if manifest is not None else None
    config = EvalConfig(**OmegaConf.to_container(cfg.evaluation, resolve=True))
    return suite.evaluate_pairs(pairs, config, notes, classifier_world=world, report=lambda m: None)


def _previews(item: Any, generated: Path, out: Path) -> list[Path]:
    """A mel spectrogram (reference above generated) and the first test video with its generated music."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from toolkit.data.audio import load_music
    from toolkit.data.mp4 import mux_audio

    out.mkdir(parents=True, exist_ok=True)
    wave, rate = librosa.load(generated / f"{item.stem}.wav", sr=None)
    reference = load_music(item.video, rate)
    figure, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for axis, (title, signal) in zip(axes, (("reference", reference), ("generated", wave)), strict=True):
        if signal is None:
            continue
        mel = librosa.power_to_db(librosa.feature.melspectrogram(y=signal, sr=rate, n_mels=64))
        axis.imshow(mel, origin="lower", aspect="auto", extent=(0, len(signal) / rate, 0, 64))
        axis.set_title(f"{item.stem}: {title}")
    axes[-1].set_xlabel("seconds")
    figure.tight_layout()
    png = out / f"{item.stem}_mel.png"
    figure.savefig(png, dpi=80)
    plt.close(figure)
    mp4 = out / f"{item.stem}_generated.mp4"
    mux_audio(item.video, wave, rate, mp4)
    return [png, mp4]
