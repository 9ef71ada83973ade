"""The backbone card: codec reconstruction and text adherence, measured on held-out world clips.

Conventions: onset F1 is `mir_eval.onset.f_measure` (±50 ms) between `librosa.onset.onset_detect` of the
input and of its codec reconstruction; chroma similarity is the mean frame-wise cosine between their
`chroma_stft` (frames where the input is silent are skipped). Tempo accuracy: `librosa.feature.tempo` of the
generated music within ±10% of the prompt's tempo (octave-tolerant variant beside it). Style accuracy: the
metrics' micro style CNN (trained on the world's real clips) agrees with the prompt's style.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def onset_f1(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """F-measure of estimate onsets against reference onsets (±50 ms); 1.0 when both have none."""
    import librosa
    import mir_eval

    ref = librosa.onset.onset_detect(y=reference, sr=sample_rate, units="time")
    est = librosa.onset.onset_detect(y=estimate, sr=sample_rate, units="time")
    if len(ref) == 0 and len(est) == 0:
        return 1.0
    if len(ref) == 0 or len(est) == 0:
        return 0.0
    return float(mir_eval.onset.f_measure(ref, est, window=0.05)[0])


def chroma_similarity(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Mean frame-wise cosine of chroma vectors over the reference's non-silent frames."""
    import librosa

    ref = librosa.feature.chroma_stft(y=reference, sr=sample_rate)
    est = librosa.feature.chroma_stft(y=estimate, sr=sample_rate)
    n = min(ref.shape[1], est.shape[1])
    ref, est = ref[:, :n], est[:, :n]
    rms = librosa.feature.rms(y=reference)[0][:n]
    keep = rms > 0.05 * rms.max() if rms.max() > 0 else np.ones(n, bool)
    cos = (ref * est).sum(0) / (np.linalg.norm(ref, axis=0) * np.linalg.norm(est, axis=0) + 1e-9)
    return float(cos[keep].mean())


def codec_scores(backbone, waves: np.ndarray) -> dict[str, float]:
    """Onset F1 and chroma similarity of `waves` (B,n) against their reconstructions through the codes."""
    import torch

    recon = backbone.decode_codes(backbone.encode_audio(torch.from_numpy(waves))).numpy()[:, : waves.shape[1]]
    sr = backbone.sample_rate
    return {
        "codec_onset_f1": float(np.mean([onset_f1(w, r, sr) for w, r in zip(waves, recon, strict=True)])),
        "codec_chroma_similarity": float(
            np.mean([chroma_similarity(w, r, sr) for w, r in zip(waves, recon, strict=True)])
        ),
    }


def adherence_scores(
    backbone,
    records: list[dict],
    world: Path,
    seconds: float,
    guidance: float = 3.0,
    reference: np.ndarray | None = None,
) -> dict:
    """Tempo and style accuracy of text-conditioned vs unconditional generations for held-out prompts.

    `reference` (the held-out clips themselves) gives the ceiling: how often the same tempo estimator
    and classifier are right on the real music.
    """
    from toolkit.generation import generate_music
    from toolkit.metrics.classifier import micro_style_classifier
    from toolkit.metrics.rhythm import estimate_tempo, tempo_accuracy

    classifier = micro_style_classifier(world)
    prompts = [r["prompt"] for r in records]
    tempos = [float(r["tempo"]) for r in records]
    styles = [r["style"] for r in records]
    scores = {}
    runs = [("text", prompts), ("uncond", [""] * len(prompts))] + (
        [("reference", None)] if reference is not None else []
    )
    for label, texts in runs:
        if texts is None:
            music = reference
        else:
            music = generate_music(backbone, texts, seconds, guidance=guidance, seed=0).numpy()
        estimates = [estimate_tempo(m, backbone.sample_rate) for m in music]
        predicted = classifier.predict_proba(list(music)).argmax(axis=1)
        scores[f"tempo_acc_{label}"] = tempo_accuracy(estimates, tempos)
        scores[f"tempo_acc_octave_{label}"] = tempo_accuracy(estimates, tempos, octave=True)
        scores[f"style_acc_{label}"] = float(
            np.mean([classifier.classes[p] == s for p, s in zip(predicted, styles, strict=True)])
        )
    scores["style_classifier_val_accuracy"] = float(classifier.val_accuracy)
    return scores


def format_card(card: dict) -> str:
    """The card as Markdown (what is printed and saved as `card.md`)."""
    lines = [f"# Backbone card: {card.get('name', 'micro')}", ""]
    if "description" in card:
        lines += [card["description"], ""]
    lines += ["| measure | value | target |", "|---|---|---|"]
    targets = {
        "codec_onset_f1": "≥ 0.8",
        "codec_chroma_similarity": "≥ 0.8",
        "tempo_acc_text": "uncond + 0.2",
        "style_acc_text": "> uncond",
    }
    for key, value in card["scores"].items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} | {targets.get(key, '')} |")
    lines += [
        "",
        f"held-out clips: {card.get('heldout', '?')} (tempo and style adherence on the "
        f"{card.get('heldout_plain', card.get('heldout', '?'))} plain ones); "
        f"build: {card.get('build_seconds', '?')} s wall, "
        f"{card.get('cpu_seconds', '?')} CPU s (user+sys) on {card.get('threads', '?')} threads",
    ]
    if "stage_cpu_seconds" in card:
        lines.append(
            "CPU seconds by stage: " + ", ".join(f"{k} {v}" for k, v in card["stage_cpu_seconds"].items())
        )
    return "\n".join(lines) + "\n"


def write_card(folder: str | Path, card: dict) -> str:
    """Write `card.json` and `card.md` into `folder`; return the Markdown."""
    folder = Path(folder)
    text = format_card(card)
    (folder / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (folder / "card.md").write_text(text)
    return text


def read_card(folder: str | Path) -> dict | None:
    """The card saved beside a backbone, if any."""
    path = Path(folder) / "card.json"
    return json.loads(path.read_text()) if path.is_file() else None
