"""`trial: train-evaluate` — a sweep trial: train the experiment's adapters, generate music for the test split
with them (video features + prompts, guidance over both), and evaluate against the reference music with
`toolkit.metrics.suite`. Its metrics are the suite's numbers under their MLflow keys (`fad.mel-stats`); the
suite's whole result, per-clip values included (what paired reports read), is the artifact `evaluation.json`.
Keeps a few wavs, one spectrogram PNG and one mp4 as artifacts too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.metrics.suite import flat_metrics, to_json
from toolkit.reports.runs import EVALUATION_ARTIFACT, WINDOWS_ARTIFACT
from toolkit.sweeps.trial import Report, TrialResult, register_trial
from toolkit.utils.threads import use_threads

KEPT_CLIPS = 3


@register_trial("train-evaluate")
def run_train_evaluate(cfg: Any, report: Report, workdir: Path) -> TrialResult:
    from toolkit.config.sections.conditioners import adapter_specs
    from toolkit.errors import UserError
    from toolkit.prepare import prepare
    from toolkit.training.evaluation import evaluate_generated, generate_split
    from toolkit.training.model import attach_adapters, load_experiment_backbone, parameter_counts
    from toolkit.training.run import load_run
    from toolkit.training.trainer import train

    workdir = Path(workdir)
    # No conditioners and LoRA off: the bare backbone, an ablation's baseline. Nothing to train; evaluate it as
    # loaded, through the same generation and metrics as every other trial.
    result = None if not adapter_specs(cfg) else train(cfg, run_dir=workdir / "run", track=False, report=report)
    test = (result.prepared if result is not None else prepare(cfg, progress=False)).split("test")
    if not test:
        raise UserError("data.splits.test: the test split is empty; nothing to evaluate")
    if result is None:
        if cfg.train.threads:  # as `train` would have set it
            use_threads(int(cfg.train.threads))
        attached = attach_adapters(cfg, load_experiment_backbone(cfg)).eval()
        counts = parameter_counts(attached)
    else:
        _, attached, _ = load_run(result.checkpoint, "trial")
        counts = result.counts
    try:
        generated = generate_split(cfg, attached, test, workdir / "generated")
        evaluation = evaluate_generated(cfg, test, generated, attached, workdir / WINDOWS_ARTIFACT)
    finally:
        attached.detach()
    evaluation_file = workdir / EVALUATION_ARTIFACT
    evaluation_file.write_text(to_json(evaluation))
    metrics: dict[str, Any] = flat_metrics(evaluation)
    if result is not None:
        metrics.update({k: v for k, v in result.metrics.items() if k in ("loss", "val_loss")})
    metrics.update(counts)
    artifacts = [evaluation_file, workdir / WINDOWS_ARTIFACT] + ([] if result is None else [result.checkpoint])
    artifacts += sorted(generated.glob("*.wav"))[:KEPT_CLIPS]
    artifacts += _previews(test[0], generated, workdir / "previews")
    curves = {} if result is None else {k: v for k, v in result.history.items() if k in ("loss", "val_loss", "lr")}
    return TrialResult(metrics=metrics, artifacts=artifacts, step_metrics=curves)


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


def _build_shared(cfg: Any) -> None:
    """Before parallel workers start: build the world, cache its features, build (or load) the backbone and the
    metrics' style classifier, so workers share them instead of racing to build the same things."""
    from toolkit.data.manifest import find_manifest
    from toolkit.metrics.classifier import MICRO_STYLE_CNN, micro_style_classifier
    from toolkit.prepare import prepare
    from toolkit.training.model import load_experiment_backbone

    prepared = prepare(cfg)
    load_experiment_backbone(cfg)
    manifest = find_manifest(prepared.root)
    if cfg.evaluation.classifier == MICRO_STYLE_CNN and manifest is not None:
        micro_style_classifier(manifest.parent)


run_train_evaluate.setup = _build_shared  # type: ignore[attr-defined]
