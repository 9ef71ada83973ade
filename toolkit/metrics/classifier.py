"""Audio classifiers whose class probabilities feed KL and IS.

The field uses PaSST or PANNs (AudioSet classes); offline, the toolkit trains its own small CNN on the micro
world's style labels (`micro-style-cnn`) and caches it under the user cache, keyed by the world's manifest
and the training settings. It is a measuring instrument for the micro world, not a general tagger: its
held-out accuracy is stored with it (`classifier.val_accuracy`) so a reader can judge the KL/IS it produces.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.special import softmax

from toolkit.data.manifest import MANIFEST, read_manifest
from toolkit.errors import UserError
from toolkit.utils.build_lock import cached_dir
from toolkit.utils.paths import cache_root

MICRO_STYLE_CNN = "micro-style-cnn"
WEIGHTS, CARD, NORM_KEY = "model.safetensors", "card.json", "_norm"


class AudioClassifier(Protocol):
    """What KL/IS need: a name, the input rate, and class probabilities per clip."""

    name: str
    sample_rate: int

    def predict_proba(self, audios: list[np.ndarray]) -> np.ndarray:
        """(n_clips, n_classes) probabilities for mono clips at `sample_rate`."""
        ...


@dataclass
class StyleCnnSettings:
    """Training settings of the micro style classifier (part of its cache key)."""

    sample_rate: int = 16000
    n_mels: int = 64
    crop_s: float = 2.0
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    val_fraction: float = 0.2
    seed: int = 0


class StyleCnnClassifier:
    """A small log-mel CNN; predicts by averaging softmax over `crop_s` windows (hop crop_s/2)."""

    name = MICRO_STYLE_CNN

    def __init__(self, net, classes: list[str], settings: StyleCnnSettings, norm: np.ndarray, val_accuracy: float):
        self.net, self.classes, self.settings, self.norm = net.eval(), list(classes), settings, norm
        self.sample_rate = settings.sample_rate
        self.val_accuracy = val_accuracy

    def predict_proba(self, audios: list[np.ndarray]) -> np.ndarray:
        import torch

        out = []
        for audio in audios:
            crops = _sliding_crops(self._features(audio), self._crop_frames())
            with torch.no_grad():
                probs = torch.softmax(self.net(torch.from_numpy(crops)[:, None]), dim=-1)
            out.append(probs.mean(dim=0).numpy())
        return np.stack(out).astype(np.float64)

    def _features(self, audio: np.ndarray) -> np.ndarray:
        return (_log_mel(audio, self.settings) - self.norm[0][:, None]) / self.norm[1][:, None]

    def _crop_frames(self) -> int:
        return _crop_frames(self.settings)


def train_style_classifier(
    audios: list[np.ndarray], labels: list[str], settings: StyleCnnSettings | None = None
) -> StyleCnnClassifier:
    """Train the CNN on mono clips (at `settings.sample_rate`) with string labels; a stratified held-out
    fraction measures `val_accuracy` (NaN when there is too little data to hold any out)."""
    import torch

    settings = settings or StyleCnnSettings()
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise UserError(f"a style classifier needs at least 2 classes, got {classes}")
    targets = np.array([classes.index(label) for label in labels])
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    val_mask = _stratified_holdout(targets, settings.val_fraction, rng)
    features = [_log_mel(a, settings) for a in audios]
    train_stack = np.concatenate([f for f, v in zip(features, val_mask, strict=True) if not v], axis=1)
    norm = np.stack([train_stack.mean(axis=1), train_stack.std(axis=1) + 1e-5]).astype(np.float32)
    features = [(f - norm[0][:, None]) / norm[1][:, None] for f in features]
    train_idx = np.flatnonzero(~val_mask)
    width = _crop_frames(settings)

    net = _build_net(settings.n_mels, len(classes))
    optimiser = torch.optim.Adam(net.parameters(), lr=settings.lr)
    net.train()
    for _ in range(settings.steps):
        picks = rng.choice(train_idx, size=settings.batch_size)
        batch = np.stack([_random_crop(features[i], width, rng) for i in picks])
        loss = torch.nn.functional.cross_entropy(
            net(torch.from_numpy(batch)[:, None]), torch.from_numpy(targets[picks])
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    model = StyleCnnClassifier(net, classes, settings, norm, float("nan"))
    if val_mask.any():
        held_out = [a for a, v in zip(audios, val_mask, strict=True) if v]
        model.val_accuracy = float(np.mean(model.predict_proba(held_out).argmax(axis=1) == targets[val_mask]))
    return model


def micro_style_classifier(world: str | Path, settings: StyleCnnSettings | None = None) -> StyleCnnClassifier:
    """The style classifier of a world folder (`manifest.jsonl` with `style` and `audio` per clip), trained on
    first use and cached under `cache_root()/classifiers/`, keyed by the manifest's content and `settings`."""
    settings = settings or StyleCnnSettings()
    world = Path(world)
    manifest = world / MANIFEST
    if not manifest.is_file():
        raise UserError(f"{world}: no manifest.jsonl to train the style classifier on")
    key = hashlib.sha256(manifest.read_bytes() + json.dumps(asdict(settings), sort_keys=True).encode()).hexdigest()
    folder = cache_root() / "classifiers" / f"{MICRO_STYLE_CNN}-{key[:16]}"

    def build(tmp: Path) -> None:
        print(f"training {MICRO_STYLE_CNN} on {world} (once; cached in {folder})", file=sys.stderr)
        audios, labels = _world_clips(world, manifest, settings.sample_rate)
        _save(train_style_classifier(audios, labels, settings), tmp)

    # Sweep workers may ask at once: one trains, the others wait and load (a folder without weights is stale).
    return _load(cached_dir(folder, build, MICRO_STYLE_CNN, complete=lambda f: (f / WEIGHTS).is_file()))


def _world_clips(world: Path, manifest: Path, sample_rate: int) -> tuple[list[np.ndarray], list[str]]:
    """Each clip's music with its style; a storyboard clip gives one stretch per shot, labelled by the shot."""
    from toolkit.data.audio import read_audio

    audios, labels = [], []
    for r in read_manifest(manifest, require=("audio", "style")).values():
        audio = read_audio(world / r["audio"], sample_rate)
        if not r.get("storyboard", False):
            audios.append(audio)
            labels.append(str(r["style"]))
            continue
        for shot in r["shots"]:
            start = round(shot["start"] * sample_rate)
            audios.append(audio[start : start + round(shot["duration"] * sample_rate)])
            labels.append(str(shot["style"]))
    return audios, labels


def _save(model: StyleCnnClassifier, folder: Path) -> None:
    """Weights and the normalisation as safetensors, everything else as JSON: no pickle to load back."""
    import torch
    from safetensors.torch import save_file

    norm = torch.from_numpy(np.ascontiguousarray(model.norm))  # safetensors stores tensors only
    save_file({**model.net.state_dict(), NORM_KEY: norm}, str(folder / WEIGHTS))
    card = {
        "name": model.name,
        "classes": model.classes,
        "val_accuracy": model.val_accuracy if np.isfinite(model.val_accuracy) else None,
        "settings": asdict(model.settings),
    }
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n")


def _load(folder: Path) -> StyleCnnClassifier:
    from safetensors.torch import load_file

    state = load_file(str(folder / WEIGHTS))
    card = json.loads((folder / CARD).read_text())
    norm = state.pop(NORM_KEY).numpy()
    settings = StyleCnnSettings(**card["settings"])
    net = _build_net(settings.n_mels, len(card["classes"]))
    net.load_state_dict(state)
    accuracy = card["val_accuracy"]
    return StyleCnnClassifier(net, card["classes"], settings, norm, math.nan if accuracy is None else accuracy)


def _build_net(n_mels: int, n_classes: int):
    from torch import nn

    def block(c_in: int, c_out: int) -> list:
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(
        *block(1, 16),
        *block(16, 32),
        *block(32, 64),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, n_classes),
    )


def _log_mel(audio: np.ndarray, settings: StyleCnnSettings) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, np.float32),
        sr=settings.sample_rate,
        n_fft=1024,
        hop_length=256,
        n_mels=settings.n_mels,
    )
    return np.log(mel + 1e-6).astype(np.float32)


def _crop_frames(settings: StyleCnnSettings) -> int:
    return max(8, int(round(settings.crop_s * settings.sample_rate / 256)))


def _fit_width(features: np.ndarray, width: int) -> np.ndarray:
    """Pad short clips by wrapping, so every crop is exactly `width` frames."""
    if features.shape[1] >= width:
        return features
    return np.pad(features, ((0, 0), (0, width - features.shape[1])), mode="wrap")


def _random_crop(features: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
    features = _fit_width(features, width)
    start = int(rng.integers(0, features.shape[1] - width + 1))
    return features[:, start : start + width]


def _sliding_crops(features: np.ndarray, width: int) -> np.ndarray:
    features = _fit_width(features, width)
    starts = range(0, features.shape[1] - width + 1, max(1, width // 2))
    return np.stack([features[:, s : s + width] for s in starts]).astype(np.float32)


def _stratified_holdout(targets: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Hold out round(fraction·n) clips of each class, keeping at least one per class for training."""
    mask = np.zeros(targets.size, dtype=bool)
    for c in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == c))
        n_out = min(int(round(fraction * members.size)), members.size - 1)
        mask[members[:n_out]] = True
    return mask


class PannsClassifier:
    """PANNs CNN14 AudioSet tagger (527 classes) via `panns_inference`, read as audioldm_eval reads it.

    `predict_proba` is softmax over the tagger's logits (the input of its final sigmoid), which is what
    audioldm_eval's "KL" and IS use; `predict_logits` gives the logits themselves, for its "KL_Sigmoid"
    (`toolkit.metrics.kl.kl_from_logits(..., activation="sigmoid")`). The sigmoid outputs are never
    renormalised into a distribution: that matches neither of audioldm_eval's conventions.
    """

    name = "panns-cnn14"
    sample_rate = 32000

    def __init__(self, weights: str | Path):
        from toolkit.metrics.embeddings import PannsEmbedding

        self._tagger = PannsEmbedding(weights).model

    def predict_logits(self, audios: list[np.ndarray]) -> np.ndarray:
        """(n_clips, 527) logits, read off the tagger's `fc_audioset` layer (panns_inference returns only
        its sigmoid, whose inverse loses precision where the sigmoid saturates in float32)."""
        model = getattr(self._tagger.model, "module", self._tagger.model)  # unwrap DataParallel
        captured: list = []
        hook = model.fc_audioset.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
        try:
            for audio in audios:
                self._tagger.inference(np.asarray(audio, np.float32)[None, :])
        finally:
            hook.remove()
        if len(captured) != len(audios):
            raise RuntimeError(f"expected one fc_audioset call per clip, saw {len(captured)} for {len(audios)}")
        return np.stack([c.cpu().double().numpy().reshape(-1) for c in captured])

    def predict_proba(self, audios: list[np.ndarray]) -> np.ndarray:
        return softmax(self.predict_logits(audios), axis=1)


def load_classifier(name: str, weights: str | Path | None = None, world: str | Path | None = None) -> AudioClassifier:
    """`micro-style-cnn` (needs `world`, a folder with manifest.jsonl) or `panns-cnn14` (local weights)."""
    if name == MICRO_STYLE_CNN:
        if world is None:
            raise UserError(f"classifier {name!r} needs a world folder (manifest.jsonl with style labels) to train on")
        return micro_style_classifier(world)
    if name == PannsClassifier.name:
        if weights is None:
            raise UserError(f"classifier {name!r} needs local weights (nothing is downloaded)")
        return PannsClassifier(weights)
    raise UserError(f"unknown classifier {name!r}; choose {MICRO_STYLE_CNN} or {PannsClassifier.name}")
