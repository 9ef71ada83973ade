"""Optional audio–visual alignment score (the field's "ImageBind score"): mean cosine similarity between a
video's and its music's embeddings in a shared space.

The toolkit ships no such model (no weights can be downloaded); users with weights plug one in through
`AlignmentModel`. `load_alignment_model` knows ImageBind via the `imagebind` package and a local checkpoint,
and fails with a clear message otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from toolkit.errors import UserError
from toolkit.utils.weights import load_state_dict_file


class AlignmentModel(Protocol):
    """A joint video/audio embedding model: both methods return vectors in the same space."""

    name: str

    def embed_video(self, video: str | Path) -> np.ndarray: ...

    def embed_audio(self, audio: np.ndarray, sample_rate: int) -> np.ndarray: ...


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def alignment_scores(
    model: AlignmentModel, videos: list[str | Path], audios: list[np.ndarray], sample_rate: int
) -> np.ndarray:
    """Per-pair cosine between each video and its music."""
    if len(videos) != len(audios):
        raise ValueError("need one audio clip per video")
    return np.array(
        [cosine(model.embed_video(v), model.embed_audio(a, sample_rate)) for v, a in zip(videos, audios, strict=True)]
    )


def load_alignment_model(name: str, weights: str | Path | None) -> AlignmentModel:
    """An alignment model by name; needs local weights and the model's own package."""
    if name != "imagebind":
        raise UserError(f"unknown alignment model {name!r}; supported: imagebind (bring your own weights)")
    if weights is None or not Path(weights).expanduser().exists():
        raise UserError(f"alignment model {name!r} needs a local checkpoint path (nothing is downloaded): {weights}")
    return _ImageBind(Path(weights).expanduser())


class _ImageBind:
    """ImageBind huge via the `imagebind` package, loaded from a local checkpoint."""

    name = "imagebind"

    def __init__(self, weights: Path):

        try:
            from imagebind.data import load_and_transform_audio_data, load_and_transform_video_data
            from imagebind.models import imagebind_model
            from imagebind.models.imagebind_model import ModalityType
        except ImportError as err:
            raise UserError(f"alignment model 'imagebind' needs the optional 'imagebind' package ({err})") from err
        self._load_audio, self._load_video, self._modality = (
            load_and_transform_audio_data,
            load_and_transform_video_data,
            ModalityType,
        )
        self.model = imagebind_model.imagebind_huge(pretrained=False).eval()
        self.model.load_state_dict(load_state_dict_file(weights))

    def embed_video(self, video: str | Path) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.model({self._modality.VISION: self._load_video([str(video)], "cpu")})
        return out[self._modality.VISION][0].numpy()

    def embed_audio(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        import tempfile

        import soundfile as sf
        import torch

        # ImageBind's loader reads files; hand it a temporary wav.
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, np.asarray(audio, np.float32), sample_rate)
            with torch.no_grad():
                out = self.model({self._modality.AUDIO: self._load_audio([tmp.name], "cpu")})
        return out[self._modality.AUDIO][0].numpy()
