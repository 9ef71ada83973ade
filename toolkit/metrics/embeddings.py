"""Audio embedding models for FAD / density / coverage, selected by name.

`mel-stats` is computed by the toolkit itself (no weights), so it works offline; it is *not* VGGish and every
output names it as what it is. `vggish`, `panns-cnn14` and `clap` wrap the models the field uses and load
their weights from a local path the user supplies; without one they raise a `UserError` saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from toolkit.errors import UserError
from toolkit.utils.weights import load_state_dict_file

if TYPE_CHECKING:
    from torch import nn


class EmbeddingModel(Protocol):
    """What FAD needs from an embedding model: a name, its input rate, and windowed embeddings of a clip."""

    name: str
    sample_rate: int

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """Embeddings (n_windows, dim) of a mono clip sampled at `sample_rate`."""
        ...


class MelStatsEmbedding:
    """Mean and standard deviation of each log-mel band over ~1 s windows (2·n_mels dims per window).

    A transparent, weight-free stand-in for a learned embedding: it sees spectral balance and its short-term
    variation (timbre, register, loudness contour), not semantics.
    """

    name = "mel-stats"

    def __init__(self, sample_rate: int = 16000, n_mels: int = 64, window_s: float = 1.0, hop_s: float = 0.5):
        self.sample_rate, self.n_mels, self.window_s, self.hop_s = sample_rate, n_mels, window_s, hop_s
        self._frame_hop = 256

    def embed(self, audio: np.ndarray) -> np.ndarray:
        import librosa

        mel = librosa.feature.melspectrogram(
            y=np.asarray(audio, np.float32),
            sr=self.sample_rate,
            n_fft=1024,
            hop_length=self._frame_hop,
            n_mels=self.n_mels,
        )
        log_mel = np.log(mel + 1e-6)  # (n_mels, frames)
        frames_per_s = self.sample_rate / self._frame_hop
        width = max(1, int(round(self.window_s * frames_per_s)))
        step = max(1, int(round(self.hop_s * frames_per_s)))
        starts = range(0, max(1, log_mel.shape[1] - width + 1), step)
        windows = [log_mel[:, s : s + width] for s in starts]
        return np.stack([np.concatenate([w.mean(axis=1), w.std(axis=1)]) for w in windows])


class ClapEmbedding:
    """CLAP audio embeddings, one per `max_length_s` chunk, from a local `transformers` checkpoint folder."""

    name = "clap"
    sample_rate = 48000

    def __init__(self, weights: str | Path):
        from transformers import ClapFeatureExtractor, ClapModel

        path = self.path = _existing(weights, "clap")
        try:
            self.model = ClapModel.from_pretrained(path).eval()
            self.features = ClapFeatureExtractor.from_pretrained(path)
        except (OSError, ValueError) as err:
            raise UserError(f"{path}: not a CLAP checkpoint directory ({err})") from err
        self.sample_rate = int(self.features.sampling_rate)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One embedding per `max_length_s` chunk: chunks never exceed the extractor's window, so its random
        truncation never runs and the result is deterministic."""
        import torch

        audio = np.asarray(audio, np.float32)
        chunk = int(self.features.max_length_s * self.sample_rate)
        rows = []
        for start in range(0, max(1, audio.size), chunk):
            inputs = self.features(audio[start : start + chunk], sampling_rate=self.sample_rate, return_tensors="pt")
            with torch.no_grad():
                out = self.model.get_audio_features(**inputs)
            rows.append(getattr(out, "pooler_output", out).float().numpy().reshape(-1))
        return np.stack(rows)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """One embedding per text, with the checkpoint's own tokenizer (the CLAP score's text side)."""
        import torch
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path)
        except (OSError, ValueError) as err:
            raise UserError(f"{self.path}: the CLAP checkpoint has no tokenizer for the text side ({err})") from err
        inputs = tokenizer(list(texts), padding=True, return_tensors="pt")
        with torch.no_grad():
            out = self.model.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        return getattr(out, "pooler_output", out).float().numpy()


class PannsEmbedding:
    """PANNs CNN14 2048-d clip embeddings ("FD" in the field) via the `panns_inference` package."""

    name = "panns-cnn14"
    sample_rate = 32000

    def __init__(self, weights: str | Path):
        path = _existing(weights, "panns-cnn14")
        model_cls = _optional_import("panns_inference", "AudioTagging", "panns-cnn14")
        self.model = model_cls(checkpoint_path=str(path), device="cpu")

    def embed(self, audio: np.ndarray) -> np.ndarray:
        _, embedding = self.model.inference(np.asarray(audio, np.float32)[None, :])
        return np.asarray(embedding).reshape(1, -1)


class VggishEmbedding:
    """VGGish 128-d embeddings per 0.96 s frame (FAD's standard model) via the `torchvggish` package.

    By default the final ReLU of torchvggish's `embeddings` head is removed, as fadtk and
    `frechet_audio_distance` (`use_activation=False`, also what audioldm_eval uses) do, so FAD matches
    theirs; `activation=True` keeps it (the raw torchvggish output, clipped at 0).
    """

    name = "vggish"
    sample_rate = 16000

    def __init__(self, weights: str | Path, activation: bool = False):

        path = _existing(weights, "vggish")
        vggish_cls = _optional_import("torchvggish.vggish", "VGGish", "vggish")
        # pretrained=False: never download; the user's state dict is loaded instead. PCA postprocessing needs
        # its own downloaded parameters, so it is off (embeddings are the raw 128-d layer).
        self.model = vggish_cls(urls={}, pretrained=False, preprocess=True, postprocess=False).eval()
        self.model.load_state_dict(load_state_dict_file(path))
        if not activation:
            self.model.embeddings = without_final_relu(self.model.embeddings)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.model(np.asarray(audio, np.float32), self.sample_rate).reshape(-1, 128).numpy()


def without_final_relu(head: nn.Sequential) -> nn.Sequential:
    """`head` (a `torch.nn.Sequential`) without its last module, which must be a ReLU (parameter-free, so
    the state dict is unchanged)."""
    from torch import nn

    layers = list(head.children())
    if not layers or not isinstance(layers[-1], nn.ReLU):
        raise ValueError(f"expected an embedding head ending in ReLU, got {layers[-1:] or 'an empty head'}")
    return nn.Sequential(*layers[:-1])


_WEIGHTED = {"clap": ClapEmbedding, "panns-cnn14": PannsEmbedding, "vggish": VggishEmbedding}
EMBEDDING_NAMES = ("mel-stats", *_WEIGHTED)


def load_embedding_model(name: str, weights: str | Path | None = None) -> EmbeddingModel:
    """The embedding model called `name`; the weighted ones need `weights` (a local file or directory)."""
    if name == MelStatsEmbedding.name:
        return MelStatsEmbedding()
    if name not in _WEIGHTED:
        raise UserError(f"unknown embedding model {name!r}; choose one of {', '.join(EMBEDDING_NAMES)}")
    if weights is None:
        raise UserError(
            f"embedding {name!r} needs local weights (nothing is downloaded): pass their path, "
            "or use 'mel-stats', which the toolkit computes itself"
        )
    return _WEIGHTED[name](weights)


def _existing(weights: str | Path, name: str) -> Path:
    path = Path(weights).expanduser()
    if not path.exists():
        raise UserError(f"{path}: weights for embedding {name!r} not found")
    return path


def _optional_import(module: str, attr: str, name: str):
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except Exception as err:  # missing package, or one that tries to download at import time offline
        package = module.split(".")[0]
        raise UserError(f"embedding {name!r} needs the optional package {package!r} ({err})") from err
